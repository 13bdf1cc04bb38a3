import StepwiseExpressions

/// Ends a delivery early: new durable steps to submit, nothing to do until the engine completes
/// a pending operation, or a journal that does not fit the definition.
public enum StepInterruption: Error, Sendable, Equatable {
    /// New durable steps (one per branch that reached one, in walk order).
    case submit([StepSubmission])
    /// Every active branch waits for an operation the engine has not completed yet.
    case blocked
    /// The journal entry at a position does not match the step the definition reaches there.
    case replayMismatch(String)
    /// The workflow canceled itself (a `cancel` step, at `step`, or `context.cancel`).
    case canceled(reason: String?, step: String?)
    /// Only replay was asked for (to rebuild state before `on_failure`) and the journal ended.
    case journalExhausted
}
