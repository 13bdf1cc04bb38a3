/// Which entries of the plain messages' DLQ a listing or a bulk retry takes (`/v2/dlq`'s query):
/// every condition set must hold.
public struct MessageDeadLetterFilter: Sendable, Equatable {
    /// The most entries one page holds, as QStash allows.
    public static let maximumPage = 100

    /// The message's id.
    public var messageId: String?
    /// The message's destination, group, queue, schedule and labels.
    public var match = MessageMatch()
    /// The status of the last attempt's answer (0: none came).
    public var responseStatus: Int?
    /// The earliest failure time taken, in milliseconds since the epoch (inclusive).
    public var failedFrom: Int64?
    /// The latest failure time taken, in milliseconds since the epoch (inclusive).
    public var failedUntil: Int64?

    /// A filter that takes every entry.
    public init() {}
}
