/// What a claim's firing of a due timer did (`Store.claimDueMessages`).
public struct FiredTimer: Sendable, Equatable {
    /// The timer that fired.
    public var timer: PendingMessage
    /// False when the run no longer runs: the timer was dropped, nothing else changed.
    public var completed: Bool
    /// Whether a journal entry was recorded (a sleep's end, a wait's timeout), for the change feed.
    public var recorded: Bool
    /// The run's delivery, leased in the same commit when asked for.
    public var next: LeasedDelivery?

    /// A timer's outcome.
    public init(timer: PendingMessage, completed: Bool, recorded: Bool, next: LeasedDelivery?) {
        self.timer = timer
        self.completed = completed
        self.recorded = recorded
        self.next = next
    }
}
