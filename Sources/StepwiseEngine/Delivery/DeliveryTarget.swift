import StepwiseExpressions
import StepwiseProtocol

/// Where the engine delivers one attempt of a queued message: an HTTP endpoint that speaks the
/// Upstash protocol (`HTTPDeliveryTarget`), or a stand-in in tests. It returns what came back,
/// and the engine alone decides what follows (`QueuedAttemptResolver`).
public protocol DeliveryTarget: Sendable {
    /// Sends attempt `message.attempt` of `message` with `body`, signed with `key`.
    func deliver(_ message: QueuedMessage, body: [UInt8], runCreatedAt: TimestampValue?, key: SigningKey) async -> AttemptResult
}

/// What one delivery attempt produced.
public enum AttemptResult: Sendable {
    /// The destination answered.
    case answered(status: Int, headers: HeaderFields, body: [UInt8])
    /// No answer: the connection failed or the attempt timed out.
    case noAnswer(String)
}
