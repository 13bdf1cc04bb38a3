import DequeModule
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
        /// The run's delivery, due when the sleep ends, with the run once it was read ahead.
        var delivery: LeasedDelivery
    }

    /// The held deliveries, latest due first, so that the next to end is the last.
    private var held: [Held] = []
    /// Deliveries whose sleep ended and whose messages a read showed still held, in the order
    /// the reads answered, waiting for free slots. A deque: a burst of a thousand ends is taken
    /// a slot at a time from the front.
    private var ready: Deque<Held> = []
    /// Deliveries whose sleep ended, being checked by a read (`Store.messagesHeld`).
    private var checking = 0
    /// Sleeps ending by this time were fired already (or looked for): only a later due time, or
    /// a sleep parked since that ends by then, can be a sleep to fire ahead.
    private var firedThrough: TimestampValue?
    /// The horizon of the firing under way, if one is.
    private var firingThrough: TimestampValue?
    /// Counts the sleeps parked during a firing that end by its horizon, so that the firing does
    /// not count that time as looked at.
    private var parkedSleeps = 0
    /// The store's next due time as last read: of an unleased message, or of a lease's end.
    var storeNextDue: TimestampValue?

    /// How many deliveries are held (those being checked and ready ones included).
    var count: Int { held.count + checking + ready.count }

    /// Whether a transaction firing sleeps ahead is under way.
    var firing: Bool { firingThrough != nil }

    /// A run parked on a sleep ending at `end`: a time already looked at, or being looked at, is
    /// looked at again.
    mutating func sleepParked(endingAt end: TimestampValue) {
        if let firedThrough, end <= firedThrough { self.firedThrough = nil }
        if let firingThrough, end <= firingThrough { parkedSleeps += 1 }
    }

    /// A firing through `horizon` begins: the value to hand to `firingEnded`.
    mutating func firingBegins(through horizon: TimestampValue) -> Int {
        firingThrough = horizon
        return parkedSleeps
    }

    /// The firing that began with `token` ended, having looked at every sleep ending by `through`
    /// (`nil`: nothing can be told), unless sleeps ending by then were parked meanwhile.
    mutating func firingEnded(_ token: Int, lookedThrough through: TimestampValue?) {
        firingThrough = nil
        firedThrough = token == parkedSleeps ? through : nil
    }

    /// Holds `sleeps` until their ends.
    mutating func hold(_ sleeps: [Held]) {
        held += sleeps
        held.sort { $0.delivery.message.dueAt > $1.delivery.message.dueAt }
    }

    /// Gives the held delivery of message `id` the run state read ahead, if it is still held.
    mutating func attach(_ read: LeasedDelivery.RunState, toDeliveryOf id: Int64) {
        guard let index = held.firstIndex(where: { $0.delivery.message.id == id }) else { return }
        held[index].delivery.read = read
    }

    /// Removes and returns, to be checked, the held deliveries whose sleep ended by `now`,
    /// earliest first, at most `limit`.
    mutating func takeEnded(at now: TimestampValue, limit: Int) -> [Held] {
        var ended: [Held] = []
        while ended.count < limit, let next = held.last, next.delivery.message.dueAt <= now {
            ended.append(held.removeLast())
        }
        checking += ended.count
        return ended
    }

    /// The check of `checked` deliveries ended: `ready` (those still held) wait for free slots.
    mutating func makeReady(_ ready: [Held], checked: Int) {
        checking -= checked
        self.ready += ready
    }

    /// Removes and returns the held and ready deliveries of `runIds` (their runs were canceled).
    mutating func remove(runIds: Set<String>) -> [Held] {
        let canceled = { (sleep: Held) in runIds.contains(sleep.delivery.message.runId) }
        let removed = held.filter(canceled) + ready.filter(canceled)
        guard !removed.isEmpty else { return [] }
        held.removeAll(where: canceled)
        ready.removeAll(where: canceled)
        return removed
    }

    /// Removes and returns up to `limit` ready deliveries, earliest queued first.
    mutating func takeReady(limit: Int) -> [Held] {
        let taken = Array(ready.prefix(max(0, limit)))
        ready.removeFirst(taken.count)
        return taken
    }

    /// Removes and returns every held delivery, ready or not (the engine stops).
    mutating func takeAll() -> [Held] {
        defer {
            held = []
            ready = []
        }
        return Array(ready) + held.reversed()
    }

    /// How far ahead to fire sleeps now, or `nil`: only when the store's next due time comes
    /// within `lookahead`, no firing is under way, and that time was not looked at before.
    func horizon(at now: TimestampValue, lookahead: Duration) -> TimestampValue? {
        guard lookahead > .zero, !firing, let next = storeNextDue else { return nil }
        let horizon = now.movedForward(by: lookahead)
        guard next <= horizon, firedThrough.map({ next > $0 }) ?? true else { return nil }
        return horizon
    }

    /// When the delivery loop must look again for these sleeps: the next held delivery's due
    /// time, or `lookahead` before the store's next due time that was not looked at yet, when
    /// the node may fire now (`mayFire`; otherwise a freed slot wakes the loop).
    func nextWake(lookahead: Duration, mayFire: Bool) -> TimestampValue? {
        var candidates = [held.last?.delivery.message.dueAt]
        if mayFire, lookahead > .zero, !firing, let next = storeNextDue, firedThrough.map({ next > $0 }) ?? true {
            candidates.append(next.movedBack(by: lookahead))
        }
        return candidates.compactMap { $0 }.min()
    }
}
