import StepwiseExpressions
import StepwiseRuntime

/// One try of one delivery, for `stepwise logs` and debugging.
public struct AttemptRecord: Sendable, Equatable {
    public var runId: String
    /// The journal length when the delivery was made (the position of the step it tried), or
    /// `callPosition` for an attempt of a `call` step's request.
    public var position: Int
    public var attempt: Int
    public var startedAt: TimestampValue
    public var finishedAt: TimestampValue
    /// `submitted`, `retry`, `completed`, `failed`, `rejected`, `error`. A `completed` delivery
    /// may also have recorded the run's last step (`detail` names it).
    public var outcome: String
    public var detail: String?

    /// The position of the attempts of `call` requests, which the engine makes between deliveries.
    public static let callPosition = -1

    public init(runId: String, position: Int, attempt: Int, startedAt: TimestampValue, finishedAt: TimestampValue, outcome: String, detail: String?) {
        self.runId = runId
        self.position = position
        self.attempt = attempt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.outcome = outcome
        self.detail = detail
    }
}
