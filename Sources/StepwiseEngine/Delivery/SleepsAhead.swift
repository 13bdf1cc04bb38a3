import StepwiseExpressions

/// The sleeps this node fired ahead of their end (`RunTransitions.fireSleepsAhead`) and whose
/// runs' deliveries it holds until then, and when to fire the next ones. Firing ahead takes the
/// timer's transaction and the run's read out of the moment many sleeps end together: at that
/// moment only the deliveries are left to make.
struct SleepsAhead: Sendable {
    /// A run's delivery, held until its sleep ends.
    struct Held: Sendable {
        /// The timer that ended the sleep.
        var timer: PendingMessage
        /// The run's delivery, due when the sleep ends, with the run read ahead when it could be.
        var delivery: LeasedDelivery
    }

    /// The held deliveries, latest due first, so that the next to start is the last.
    private var held: [Held] = []
    /// Sleeps ending by this time were fired already (or looked for): only a later due time, or
    /// a sleep parked since, can be a sleep to fire ahead.
    private var firedThrough: TimestampValue?
    /// Whether a transaction firing sleeps ahead is under way.
    private(set) var firing = false
    /// Counts the sleeps this node parked, so that a firing that overlapped one does not count
    /// its time as looked at.
    private var parkedSleeps = 0
    /// The store's earliest due time of an unleased message, as last read.
    var storeNextDue: TimestampValue?

    /// A run parked on a sleep: it may end before `firedThrough`, so that time is looked at again.
    mutating func sleepParked() {
        parkedSleeps += 1
        firedThrough = nil
    }

    /// A firing begins: the value to hand to `firingEnded`.
    mutating func firingBegins() -> Int {
        firing = true
        return parkedSleeps
    }

    /// The firing that began with `token` ended, having looked at every sleep ending by `through`
    /// (`nil`: nothing can be told), unless sleeps were parked meanwhile.
    mutating func firingEnded(_ token: Int, lookedThrough through: TimestampValue?) {
        firing = false
        firedThrough = token == parkedSleeps ? through : nil
    }

    /// Holds `sleeps` until their ends.
    mutating func hold(_ sleeps: [Held]) {
        held += sleeps
        held.sort { $0.delivery.message.dueAt > $1.delivery.message.dueAt }
    }

    /// Removes and returns up to `limit` held deliveries whose sleep ended by `now`, earliest first.
    mutating func takeEnded(at now: TimestampValue, limit: Int) -> [Held] {
        var ended: [Held] = []
        while ended.count < limit, let next = held.last, next.delivery.message.dueAt <= now {
            ended.append(held.removeLast())
        }
        return ended
    }

    /// Removes and returns every held delivery (the engine stops).
    mutating func takeAll() -> [Held] {
        defer { held = [] }
        return held.reversed()
    }

    /// How far ahead to fire sleeps now, or `nil`: only when the store's next due message comes
    /// within `lookahead`, no firing is under way, and that time was not looked at before.
    func horizon(at now: TimestampValue, lookahead: Duration) -> TimestampValue? {
        guard lookahead > .zero, !firing, let next = storeNextDue else { return nil }
        let horizon = now.movedForward(by: lookahead)
        guard next <= horizon, firedThrough.map({ next > $0 }) ?? true else { return nil }
        return horizon
    }

    /// When the delivery loop must look again for these sleeps: the next held delivery's due
    /// time, or `lookahead` before the store's next due message that was not looked at yet.
    func nextWake(lookahead: Duration) -> TimestampValue? {
        var candidates = [held.last?.delivery.message.dueAt]
        if lookahead > .zero, !firing, let next = storeNextDue, firedThrough.map({ next > $0 }) ?? true {
            candidates.append(next.movedBack(by: lookahead))
        }
        return candidates.compactMap { $0 }.min()
    }
}
