/// Reads a `text/event-stream` as it arrives in chunks: each event's name (`event:`, `message`
/// when absent) and its `data:` line, one event per blank-line-terminated block. Comment lines
/// (`:`) and other fields are skipped. Lines are split on bytes, so a character whose UTF-8 bytes
/// arrive in two chunks is read whole.
public struct ServerSentEventParser: Sendable {
    private var pending: [UInt8] = []
    private var name = "message"

    public init() {}

    /// The events completed by `chunk`, in order.
    public mutating func feed(_ chunk: some Sequence<UInt8>) -> [(name: String, data: String)] {
        pending += chunk
        var events: [(name: String, data: String)] = []
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            let line = String(decoding: pending[..<newline], as: UTF8.self)
            pending.removeSubrange(...newline)
            if line.hasPrefix("event: ") {
                name = String(line.dropFirst("event: ".count))
            } else if line.hasPrefix("data: ") {
                events.append((name, String(line.dropFirst("data: ".count))))
                name = "message"
            }
        }
        return events
    }
}
