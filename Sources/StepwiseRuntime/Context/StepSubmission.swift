import StepwiseExpressions

/// A new durable step a delivery produced: the journal entry to append, and what the engine
/// must do before the run continues.
public struct StepSubmission: Sendable, Equatable {
    /// What the engine does with a submitted step.
    public enum Action: Sendable, Equatable {
        /// Append the entry and deliver the run again right away.
        case record
        /// Append the entry and deliver the run again at `until` (a sleep).
        case resume(at: TimestampValue)
    }

    public var entry: JournalEntry
    public var action: Action

    public init(entry: JournalEntry, action: Action) {
        self.entry = entry
        self.action = action
    }
}

/// Ends a delivery early: a new durable step to submit, a step to try again later, or a journal
/// that does not fit the definition.
public enum StepInterruption: Error, Sendable, Equatable {
    case submit(StepSubmission)
    /// The step failed and its retry policy allows another attempt after `delay`.
    case retry(after: DurationValue, error: StepError)
    /// The journal entry at `position` does not match the step the definition reaches there.
    case replayMismatch(String)
    /// Only replay was asked for (to rebuild state before `on_failure`) and the journal ended.
    case journalExhausted
}
