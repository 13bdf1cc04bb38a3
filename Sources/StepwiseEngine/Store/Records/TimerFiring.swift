/// What a claim needs to fire the due timers it takes in its own commit (`Store.claimDueMessages`)
/// and hand over the deliveries they lease: a sleep that ends costs its run one commit before
/// the run goes on, not two.
public struct TimerFiring: Sendable {
    /// Where the runner's remembered state of a run ends (`WorkflowRunner.warmJournalCount`), so
    /// a delivery leased by a fired timer reads only the journal after it.
    public var journalFrom: @Sendable (String) -> Int

    /// Fires timers, reading each run's journal from `journalFrom(runId)`.
    public init(journalFrom: @escaping @Sendable (String) -> Int) {
        self.journalFrom = journalFrom
    }
}
