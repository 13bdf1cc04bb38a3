/// A sleep fired ahead of its end (`RunTransitions.fireSleepsAhead`): the timer that ended it,
/// and its run's next delivery, due at the sleep's end and leased to the node that fired it.
public struct SleepFiredAhead: Sendable, Equatable {
    /// The sleep's timer, as leased when it fired.
    public var timer: PendingMessage
    /// The run's delivery, due when the sleep ends; `nil` when the timer found its run no longer
    /// running (nothing was recorded then).
    public var delivery: PendingMessage?

    /// A fired sleep and the delivery it made.
    public init(timer: PendingMessage, delivery: PendingMessage?) {
        self.timer = timer
        self.delivery = delivery
    }
}
