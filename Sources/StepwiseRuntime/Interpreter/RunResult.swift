import StepwiseExpressions

/// How a delivery of a run ends from the interpreter's point of view.
public enum RunResult: Sendable, Equatable {
    /// Every step ran; the run's output.
    case completed(Value)
    /// The run failed (a `fail` step, a step failing after its retries without `catch`, an
    /// expression error); `on_failure` runs next.
    case failed(StepError)
}

/// Internal control flow of the interpreter: a walk ends with new durable steps, an interruption
/// (waiting, a replay error, a cancel), a `return`, or a failure.
enum ExecutionSignal: Error {
    /// New durable steps were reached (several inside parallel groups).
    case frontier([FrontierStep])
    case interrupted(StepInterruption)
    case returned(Value)
    case failed(StepError)
}

/// A new durable step reached by the walk: ready to submit, or an `http` request to send first
/// (requests of parallel branches are sent concurrently once the walk has ended).
enum FrontierStep {
    case submission(StepSubmission)
    case request(HTTPStepExecutor, OutgoingRequest, attempt: Int)
}
