import ArgumentParser
import Foundation
import NIOCore
import StepwiseEngine

/// The `--port` of a server command: a TCP port, or 0 for a free one. Anything else is refused,
/// since the socket layer would take it modulo 65536 and listen somewhere nobody asked for.
enum ListenPort {
    /// Throws a usage error naming `port` unless it is from 0 to 65535.
    static func check(_ port: Int) throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be a number from 0 to 65535 (0 picks a free one), not \(port)") }
    }

    /// Runs `serve`, a server on `host`:`port`, turning a failure to listen into a usage error
    /// that names the address and the system's reason (the socket layer's own text names neither).
    static func serving(host: String, port: Int, _ serve: () async throws -> Void) async throws {
        do {
            try await serve()
        } catch let error as IOError {
            let hint = error.errnoCode == EADDRINUSE ? " (another server there? choose another --port)" : ""
            throw CommandFailure.usage("cannot listen on \(host):\(port): \(TransportErrorText.describe(error))\(hint)")
        }
    }
}
