import StepwiseExpressions

/// One delivery of a run to the runner: the journal so far and how often this delivery was tried.
public struct Delivery: Sendable, Equatable {
    public var runId: String
    public var workflow: String
    /// The SHA-256 of the definition the run is pinned to.
    public var definitionHash: String
    /// The journal from entry `journalBase` on; entry 0 is the input, the rest are step results
    /// in order.
    public var journal: [JournalEntry]
    /// The position of `journal`'s first entry: 0 for the whole journal, or the length of the
    /// journal a warm runner already holds (`WorkflowRunner.warmJournalCount`), so a delivery
    /// carries only what is new.
    public var journalBase: Int
    public var startedAt: TimestampValue
    /// Steps whose operation the engine has not completed yet (a sleep, a wait, a call, a child run).
    public var pending: Set<String>
    /// Failed tries so far of steps being retried, by path.
    public var failures: [String: Int]
    /// Failed tries so far of whichever new step this delivery executes, for steps `failures`
    /// does not name: what an orchestrator that knows no step names counts (`Upstash-Retried`).
    public var retried: Int
    /// Set when the run has failed and `on_failure` is to run, with why the run failed.
    public var failure: StepError?
    /// Set for deliveries of the Upstash protocol: which group steps are planned and which one
    /// this delivery runs. `nil` in process, where groups run all their branches' next steps at once.
    public var plans: ParallelPlans?
    /// When the run's `timeout` ends, if it has one and is not in `on_failure`: requests are cut
    /// off then rather than let run past it.
    public var deadline: TimestampValue?

    /// A delivery of run `runId`; the defaults are those of a first, in-process delivery.
    public init(
        runId: String, workflow: String, definitionHash: String, journal: [JournalEntry], journalBase: Int = 0, startedAt: TimestampValue,
        pending: Set<String> = [], failures: [String: Int] = [:], retried: Int = 0, failure: StepError? = nil, plans: ParallelPlans? = nil
    ) {
        self.runId = runId
        self.workflow = workflow
        self.definitionHash = definitionHash
        self.journal = journal
        self.journalBase = journalBase
        self.startedAt = startedAt
        self.pending = pending
        self.failures = failures
        self.retried = retried
        self.failure = failure
        self.plans = plans
    }
}

/// What the runner answers to a delivery.
public enum DeliveryOutcome: Sendable, Equatable {
    /// New durable steps: append the recorded ones, start the operations, deliver again when
    /// anything was appended.
    case submitted([StepSubmission])
    /// The run's last step and its end: append the recorded steps and finish the run with this
    /// output, in one commit. Only in process (`plans == nil`); the protocol ends a run in a
    /// delivery of its own.
    case finished([StepSubmission], output: Value)
    /// Nothing to do until the engine completes one of the run's pending operations.
    case blocked
    /// The run finished with this output.
    case completed(Value)
    /// The run failed; the engine runs `on_failure` (a delivery with `failure` set) unless it just did.
    case failed(StepError)
    /// The workflow canceled itself (by its `cancel` step at `step`).
    case canceled(reason: String?, step: String?)
    /// The delivery cannot succeed however often it is tried (unknown definition, replay mismatch).
    case rejected(String)
    /// The delivery carried only the end of the journal, but the runner no longer holds the rest
    /// (its warm state was evicted meanwhile): deliver again with the whole journal.
    case needsWholeJournal
}
