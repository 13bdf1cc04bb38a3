import StepwiseExpressions

/// How a delivery of a run ends from the interpreter's point of view.
public enum RunResult: Sendable, Equatable {
    /// Every step ran; the run's output.
    case completed(Value)
    /// The run failed (a `fail` step, a step failing after its retries without `catch`, an
    /// expression error); `on_failure` runs next.
    case failed(StepError)
}

/// Internal control flow of the interpreter: a delivery ends with a new step, a `return`, or a failure.
enum ExecutionSignal: Error {
    case interrupted(StepInterruption)
    case returned(Value)
    case failed(StepError)
}
