/// Which events of QStash's message log a listing takes (`/v2/events`'s query): every condition
/// set must hold.
public struct MessageEventFilter: Sendable, Equatable {
    /// The most events one page holds, as QStash allows.
    public static let maximumPage = 1_000

    /// Events of these messages only (none: of every message).
    public var messageIds: [String] = []
    /// Events of this state only.
    public var state: MessageEvent.State?
    /// The destination URL, exactly.
    public var url: String?
    /// The URL group the message was published to.
    public var urlGroup: String?
    /// The QStash queue it was enqueued to.
    public var queue: String?
    /// The QStash schedule whose tick queued it.
    public var scheduleId: String?
    /// The message's `Upstash-Label`.
    public var label: String?
    /// The earliest time taken, in milliseconds since the epoch (inclusive).
    public var from: Int64?
    /// The latest time taken, in milliseconds since the epoch (inclusive).
    public var until: Int64?

    /// A filter that takes every event.
    public init() {}
}
