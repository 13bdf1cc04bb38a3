/// A plain QStash message that failed for good, kept in the DLQ (`/v2/dlq`) with the answer of
/// its last attempt until it is retried or deleted.
public struct MessageDeadLetter: Sendable, Equatable {
    /// How long an entry is kept, as QStash keeps its DLQ for a limited time: 30 days.
    public static let retentionMilliseconds: Int64 = 30 * 24 * 3_600_000

    /// `dlq_` and the message's id.
    public var id: String
    /// The message as it was last tried, with its body.
    public var message: QueuedMessage
    /// The answer of its last attempt.
    public var response: AttemptAnswer
    /// When the message was published, in milliseconds since the epoch.
    public var createdAt: Int64
    /// When its last attempt failed, in milliseconds since the epoch.
    public var failedAt: Int64

    /// An entry for `message`, named after it.
    public init(message: QueuedMessage, response: AttemptAnswer, createdAt: Int64, failedAt: Int64) {
        self.id = Self.id(of: message.id)
        self.message = message
        self.response = response
        self.createdAt = createdAt
        self.failedAt = failedAt
    }

    /// The DLQ id of message `messageId`: a retry queues a message with a new id, so a message
    /// is dead-lettered at most once.
    public static func id(of messageId: String) -> String {
        "dlq_" + messageId
    }
}
