import StepwiseExpressions
import StepwiseRuntime

/// A failed run kept for resume or restart.
public struct DeadLetter: Sendable, Equatable {
    public var id: String
    public var runId: String
    public var workflow: String
    public var failedStep: String?
    public var error: StepError?
    public var createdAt: TimestampValue
    /// For an SDK run: the delivery that failed, delivered again on resume.
    public var message: QueuedMessage?

    /// An entry of the dead-letter queue as a store read it.
    public init(
        id: String, runId: String, workflow: String, failedStep: String? = nil, error: StepError? = nil, createdAt: TimestampValue,
        message: QueuedMessage? = nil
    ) {
        self.id = id
        self.runId = runId
        self.workflow = workflow
        self.failedStep = failedStep
        self.error = error
        self.createdAt = createdAt
        self.message = message
    }
}
