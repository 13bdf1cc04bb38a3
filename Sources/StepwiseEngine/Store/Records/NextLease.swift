import StepwiseExpressions

/// How a commit that makes a run's next delivery due also takes it (group commit): a delivery
/// the node already holds stays leased as it is (the node renews its leases), one it takes anew
/// is leased until `until`, and the run with its progress from journal entry `journalFrom` is
/// read in the same transaction, so the delivery starts without a claim or a read of its own.
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
