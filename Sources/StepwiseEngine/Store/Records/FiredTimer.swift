/// What firing a due timer did (`RunTransitions.fireTimer`).
public struct FiredTimer: Sendable, Equatable {
    /// False when the lease was lost or the run no longer runs: nothing changed.
    public var completed: Bool
    /// Whether a journal entry was recorded (a sleep's end, a wait's timeout), for the change feed.
    public var recorded: Bool
    /// The run's delivery, leased in the same commit when asked for.
    public var next: LeasedDelivery?

    /// A timer's outcome.
    public init(completed: Bool, recorded: Bool, next: LeasedDelivery?) {
        self.completed = completed
        self.recorded = recorded
        self.next = next
    }
}
