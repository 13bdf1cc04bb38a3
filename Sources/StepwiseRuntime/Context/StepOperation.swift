import StepwiseExpressions

/// A durable step the engine completes on the run's behalf while the run holds no compute:
/// the step's journal entry is appended when the operation completes.
public struct StepOperation: Sendable, Equatable {
    /// What the engine has to do.
    public enum Kind: Sendable, Equatable {
        /// Append `{until}` at `until`.
        case sleep(until: TimestampValue)
        /// Nothing to append: the step failed and is tried again at `at` (its failure count grows).
        case retry(at: TimestampValue, error: StepError)
        /// Park until `event` is notified (`{received: true, data}`) or `timeoutAt` passes
        /// (`{received: false, timed_out: true}`).
        case wait(event: String, timeoutAt: TimestampValue)
        /// Perform the request and append `{status, headers, body}`.
        case call(CallRequest)
        /// Start a run of `workflow` with `input` and append `{status, output}` when it ends.
        case invoke(workflow: String, input: Value)
        /// Wake the runs waiting on `event` with `data` and append `{waiters}`.
        case notify(event: String, data: Value)
    }

    public var stepName: String
    public var stepType: StepType
    public var kind: Kind

    public init(stepName: String, stepType: StepType, kind: Kind) {
        self.stepName = stepName
        self.stepType = stepType
        self.kind = kind
    }

    /// The journal entry recording the operation's result (positions are assigned when appended).
    public func entry(out: Value?, error: StepError? = nil) -> JournalEntry {
        var entry = JournalEntry(stepId: 0, stepName: stepName, stepType: stepType, out: out, error: error)
        if case .sleep(let until) = kind { entry.sleepUntil = until.secondsSinceEpoch }
        return entry
    }

    /// The result of a wait: the event arrived with `data`, or (`data == nil`) the timeout won.
    public static func waitResult(data: Value?) -> Value {
        guard let data else { return ["received": false, "timed_out": true, "data": .null] }
        return ["received": true, "timed_out": false, "data": data]
    }
}
