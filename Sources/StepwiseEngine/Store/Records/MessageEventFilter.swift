/// Which events of QStash's message log a listing takes (`/v2/events`'s query): every condition
/// set must hold.
public struct MessageEventFilter: Sendable, Equatable {
    /// The most events one page holds, as QStash allows.
    public static let maximumPage = 1_000

    /// Events of these messages only (none: of every message).
    public var messageIds: [String] = []
    /// Events of the messages of this workflow run only.
    public var runId: String?
    /// Events in one of these states only (none: in any state).
    public var states: [MessageEvent.State] = []
    /// The message's destination, group, queue, schedule and labels.
    public var match = MessageMatch()
    /// The earliest time taken, in milliseconds since the epoch (inclusive).
    public var from: Int64?
    /// The latest time taken, in milliseconds since the epoch (inclusive).
    public var until: Int64?

    /// A filter that takes every event.
    public init() {}
}
