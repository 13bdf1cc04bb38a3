import ArgumentParser

/// The `--port` of a server command: a TCP port, or 0 for a free one. Anything else is refused,
/// since the socket layer would take it modulo 65536 and listen somewhere nobody asked for.
enum ListenPort {
    /// Throws a usage error naming `port` unless it is from 0 to 65535.
    static func check(_ port: Int) throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be a number from 0 to 65535 (0 picks a free one), not \(port)") }
    }
}
