/// Reads a `text/event-stream` as it arrives in chunks: each event's name (`event:`, `message`
/// when absent) and its `data:` line, one event per blank-line-terminated block. Comment lines
/// (`:`) and other fields are skipped.
public struct ServerSentEventParser: Sendable {
    private var pending = ""
    private var name = "message"

    public init() {}

    /// The events completed by `chunk`, in order.
    public mutating func feed(_ chunk: String) -> [(name: String, data: String)] {
        pending += chunk
        var events: [(name: String, data: String)] = []
        while let newline = pending.firstIndex(of: "\n") {
            let line = String(pending[..<newline])
            pending = String(pending[pending.index(after: newline)...])
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
