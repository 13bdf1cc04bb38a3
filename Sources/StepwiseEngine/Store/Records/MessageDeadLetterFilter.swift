/// Which entries of the plain messages' DLQ a listing or a bulk retry takes (`/v2/dlq`'s query):
/// every condition set must hold.
public struct MessageDeadLetterFilter: Sendable, Equatable {
    /// The most entries one page holds, as QStash allows.
    public static let maximumPage = 100

    /// The message's id.
    public var messageId: String?
    /// The destination URL, exactly.
    public var url: String?
    /// The URL group the message was published to.
    public var urlGroup: String?
    /// The QStash queue it was enqueued to.
    public var queue: String?
    /// The QStash schedule whose tick queued it.
    public var scheduleId: String?
    /// The status of the last attempt's answer (0: none came).
    public var responseStatus: Int?
    /// The message's `Upstash-Label`.
    public var label: String?
    /// The earliest failure time taken, in milliseconds since the epoch (inclusive).
    public var failedFrom: Int64?
    /// The latest failure time taken, in milliseconds since the epoch (inclusive).
    public var failedUntil: Int64?

    /// A filter that takes every entry.
    public init() {}
}
