import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// What follows one attempt to deliver a queued message, decided by `QueuedAttemptResolver` and
/// applied by the store in one transaction: the message is retried later or removed, messages it
/// causes are queued, log entries appended, its run may fail, and a plain message that gave up
/// is kept in the DLQ.
public struct AttemptFollowUp: Sendable {
    /// Try again at `dueAt` as attempt `attempt`; `nil` removes the message.
    public var retry: (attempt: Int, dueAt: TimestampValue)?
    /// Messages to queue (callbacks, failure callbacks), each with the log entry it delivers, if any.
    public var enqueue: [(message: QueuedMessage, logEntry: RawStep?)] = []
    /// The run to fail, with its error; the failed message is kept in the dead-letter queue so it
    /// can be delivered again on resume.
    public var failRun: (runId: String, error: StepError)?
    /// With `failRun`: the answer of the attempt that failed the run, which its DLQ entry shows.
    public var runFailureAnswer: AttemptAnswer?
    /// The attempt, for the run's history.
    public var record: AttemptRecord?
    /// What the attempt adds to QStash's message log.
    public var events: [MessageEvent] = []
    /// For a plain message that failed for good: the last answer, kept with the message in the
    /// plain messages' DLQ.
    public var deadLetter: AttemptAnswer?
    /// For a run's failure callback that was delivered or gave up: whether it was delivered, and
    /// the last answer, which its run's DLQ entry reports.
    public var failureCallbackEnd: (delivered: Bool, answer: AttemptAnswer)?
    /// When the attempt's outcome was decided: the time of what follows it.
    public var decidedAt: TimestampValue?

    /// What the attempt came to, as metrics count it: its record's outcome, else `retry`,
    /// `failed` (the message was given up: kept in the DLQ, its run failed, or a failure
    /// callback gave up) or `delivered`.
    public var outcome: String {
        if let record { return record.outcome }
        if retry != nil { return "retry" }
        let gaveUp = deadLetter != nil || failRun != nil || failureCallbackEnd?.delivered == false
        return gaveUp ? "failed" : "delivered"
    }

    /// A follow-up that removes the message and does nothing else, decided at `decidedAt`.
    public init(retry: (attempt: Int, dueAt: TimestampValue)? = nil, decidedAt: TimestampValue? = nil) {
        self.retry = retry
        self.decidedAt = decidedAt
    }
}
