import StepwiseExpressions
import StepwiseRuntime

/// What a delivery is handed besides the journal: the steps the engine is still completing and
/// the failed tries of steps being retried.
public struct RunProgress: Sendable, Equatable {
    /// The journal from entry `journalBase` on (all of it when 0).
    public var journal: [JournalEntry]
    /// The position of `journal`'s first entry.
    public var journalBase: Int = 0
    public var pending: Set<String>
    public var failures: [String: Int]

    /// What a store read for a delivery.
    public init(journal: [JournalEntry], journalBase: Int = 0, pending: Set<String>, failures: [String: Int]) {
        self.journal = journal
        self.journalBase = journalBase
        self.pending = pending
        self.failures = failures
    }
}
