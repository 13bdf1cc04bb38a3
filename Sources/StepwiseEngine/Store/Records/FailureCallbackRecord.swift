import Foundation
import StepwiseExpressions

/// The failure callback of a failed SDK run, kept with its DLQ entry: how it went (Upstash's
/// `failureCallbackInfo`) and the callback as first queued, which a retry sends again (`POST
/// /v2/workflows/dlq/callback/{id}`, the JS SDK's `client.dlq.retryFailureFunction`).
public struct FailureCallbackRecord: Sendable, Codable, Equatable {
    /// How the callback went, in Upstash's words.
    public enum State: String, Sendable, Codable, CaseIterable {
        case inProgress = "CALLBACK_INPROGRESS"
        case succeeded = "CALLBACK_SUCCESS"
        case failed = "CALLBACK_FAIL"
    }

    /// How the callback went.
    public var state: State
    /// The answer of its last attempt; `nil` until one has ended.
    public var answer: AttemptAnswer?
    /// The callback as queued, first attempt, without its body; its id is the attempt in flight.
    public var message: QueuedMessage
    /// The callback's body: the failure it reports.
    public var body: [UInt8]

    /// The record of `callback`, just queued.
    public init(queued callback: QueuedMessage) {
        state = .inProgress
        message = callback
        message.body = nil
        body = callback.body ?? []
    }

    /// This record once the attempt of message `id` ended with `answer`, delivered or given up;
    /// `nil` when `id` is not the callback this record waits for (one sent before a retry).
    public func ended(messageId id: String, delivered: Bool, answer: AttemptAnswer) -> Self? {
        guard id == message.id, state == .inProgress else { return nil }
        var ended = self
        ended.state = delivered ? .succeeded : .failed
        ended.answer = answer
        return ended
    }

    /// The callback sent again at `now` with a fresh id, and this record waiting for it; `nil`
    /// unless the callback has failed (one in flight or delivered is not sent twice).
    public func retried(at now: TimestampValue) -> (record: Self, callback: QueuedMessage)? {
        guard state == .failed else { return nil }
        var callback = message
        callback.id = QueuedMessage.freshId()
        callback.attempt = 0
        callback.dueAt = now
        callback.body = body
        var record = Self(queued: callback)
        record.answer = answer
        return (record, callback)
    }

    private enum CodingKeys: String, CodingKey {
        case state, answer, message, body
    }

    /// Reads the stored form, whose body is base64 text.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        state = try container.decode(State.self, forKey: .state)
        answer = try container.decodeIfPresent(AttemptAnswer.self, forKey: .answer)
        message = try container.decode(QueuedMessage.self, forKey: .message)
        body = Array(try container.decode(Data.self, forKey: .body))
    }

    /// Writes the stored form, the body as base64 text rather than a list of numbers.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(state, forKey: .state)
        try container.encodeIfPresent(answer, forKey: .answer)
        try container.encode(message, forKey: .message)
        try container.encode(Data(body), forKey: .body)
    }
}
