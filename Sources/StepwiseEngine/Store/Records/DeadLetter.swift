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
    /// When the run started.
    public var runCreatedAt: TimestampValue?
    /// An SDK run's endpoint URL (`nil` for a YAML run).
    public var endpoint: String?
    /// The run's label.
    public var label: String?
    /// The run's flow-control key (`RunRecord.flowControlKey`).
    public var flowControlKey: String?
    /// The address of the client that started the run (`RunRecord.callerIp`).
    public var callerIp: String?
    /// For an SDK run: the answer of the attempt that failed it.
    public var response: AttemptAnswer?
    /// An SDK run's failure callback, if it has one, and how it went.
    public var failureCallback: FailureCallbackRecord?

    /// The id of the entry of run `runId`: a run has at most one.
    public static func id(ofRun runId: String) -> String {
        "dlq_" + runId
    }

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

    /// The entry of failed `run`, made at `createdAt`, with what it tells of the run.
    public init(id: String, of run: RunRecord, createdAt: TimestampValue, message: QueuedMessage?) {
        self.init(id: id, runId: run.id, workflow: run.workflow, failedStep: run.error?.step, error: run.error, createdAt: createdAt, message: message)
        runCreatedAt = run.createdAt
        endpoint = run.endpoint
        label = run.label
        flowControlKey = run.flowControlKey
        callerIp = run.callerIp
    }
}
