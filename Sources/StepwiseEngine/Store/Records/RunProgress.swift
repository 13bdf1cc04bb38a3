import StepwiseExpressions
import StepwiseRuntime

/// What a delivery is handed besides the journal: the steps the engine is still completing and
/// the failed tries of steps being retried.
public struct RunProgress: Sendable, Equatable {
    public var journal: [JournalEntry]
    public var pending: Set<String>
    public var failures: [String: Int]
}
