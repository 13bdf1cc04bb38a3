import StepwiseExpressions

/// One delivery of a run to the runner: the journal so far and how often this delivery was tried.
public struct Delivery: Sendable, Equatable {
    public var runId: String
    public var workflow: String
    /// The SHA-256 of the definition the run is pinned to.
    public var definitionHash: String
    /// Entry 0 is the input; the rest are step results in order.
    public var journal: [JournalEntry]
    public var startedAt: TimestampValue
    /// 0 on the first try of this delivery, then 1, 2, … on retries.
    public var attempt: Int
    /// Set when the run has failed and `on_failure` is to run, with why the run failed.
    public var failure: StepError?

    public init(
        runId: String, workflow: String, definitionHash: String, journal: [JournalEntry], startedAt: TimestampValue,
        attempt: Int = 0, failure: StepError? = nil
    ) {
        self.runId = runId
        self.workflow = workflow
        self.definitionHash = definitionHash
        self.journal = journal
        self.startedAt = startedAt
        self.attempt = attempt
        self.failure = failure
    }
}

/// What the runner answers to a delivery.
public enum DeliveryOutcome: Sendable, Equatable {
    /// A new durable step: append its entry, then deliver again (now or at the resume time).
    case submitted(StepSubmission)
    /// A step failed and may be tried again: deliver the same journal again after `after`.
    case retry(after: DurationValue, error: StepError)
    /// The run finished with this output.
    case completed(Value)
    /// The run failed; the engine runs `on_failure` (a delivery with `failure` set) unless it just did.
    case failed(StepError)
    /// The delivery cannot succeed however often it is tried (unknown definition, replay mismatch).
    case rejected(String)
}
