import StepwiseExpressions

/// A new durable step a delivery produced: a result to append to the journal now, or an
/// operation the engine completes later (a timer, a wait, a call, a child run), appending the
/// step's result when it does.
public enum StepSubmission: Sendable, Equatable {
    /// The step finished in this delivery: append the entry.
    case record(JournalEntry)
    /// The step is handed to the engine, which appends its entry when the operation completes.
    case park(StepOperation)
    /// A step of a parallel group to run in a delivery of its own (`ParallelPlans`): only the
    /// protocol runner plans steps; the in-process engine never receives this.
    case plan(stepName: String, stepType: StepType)

    /// The structural path of the step.
    public var stepName: String {
        switch self {
        case .record(let entry): entry.stepName
        case .park(let operation): operation.stepName
        case .plan(let name, _): name
        }
    }
}
