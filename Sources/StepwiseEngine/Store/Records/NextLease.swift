import StepwiseExpressions

/// How a commit that makes a run's next delivery due also takes it (group commit): one it takes
/// anew is leased until `until`, one it already holds keeps its lease, pushed to `until` when
/// less than half is left (`KeptLease`), and the run with its progress from journal entry
/// `journalFrom` is read in the same transaction, so the delivery starts without a claim or a
/// read of its own.
public struct NextLease: Sendable, Equatable {
    public var until: TimestampValue
    /// Where the runner's remembered state of the run ends (`WorkflowRunner.warmJournalCount`).
    public var journalFrom: Int

    /// A lease until `until`, reading the journal from `journalFrom`.
    public init(until: TimestampValue, journalFrom: Int) {
        self.until = until
        self.journalFrom = journalFrom
    }
}
