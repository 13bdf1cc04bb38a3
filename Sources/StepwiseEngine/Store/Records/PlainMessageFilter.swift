/// Which plain queued messages a bulk cancel takes (QStash's `DELETE /v2/messages` filters):
/// every condition set must hold. The empty filter takes every plain message.
public struct PlainMessageFilter: Sendable, Equatable {
    /// Their destination, group, queue, schedule and labels.
    public var match = MessageMatch()
    /// The earliest time they were queued, in milliseconds since the epoch (inclusive).
    public var createdFrom: Int64?
    /// The latest time they were queued, in milliseconds since the epoch (inclusive).
    public var createdUntil: Int64?
    /// At most this many, oldest first; `nil` for every match.
    public var count: Int?

    /// A filter that takes every plain message.
    public init() {}

    /// Whether `message`, queued at `createdAt` (milliseconds), is one the filter takes.
    func matches(_ message: QueuedMessage, createdAt: Int64) -> Bool {
        match.matches(message) && createdAt >= createdFrom ?? Int64.min && createdAt <= createdUntil ?? Int64.max
    }
}
