import StepwiseExpressions
import StepwiseRuntime

/// the failed tries of steps being retried.
public struct RunProgress: Sendable, Equatable {
    public var journal: [JournalEntry]
    public var pending: Set<String>
    public var failures: [String: Int]
}
