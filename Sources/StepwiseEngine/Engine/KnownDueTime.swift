import StepwiseExpressions

/// What the engine knows of a next due time (a schedule's tick, a queued message) without asking
/// the store.
enum KnownDueTime: Sendable {
    /// Not read since what it depends on last changed.
    case unknown
    /// The earliest due time, or `nil` when nothing is due ever.
    case known(TimestampValue?)

    /// The due time, when it is known and there is one.
    var time: TimestampValue? {
        guard case .known(let due) = self else { return nil }
        return due
    }

    /// Whether something may be due at `now`: unknown, or known and reached.
    func mayBeDue(at now: TimestampValue) -> Bool {
        guard case .known(let due) = self else { return true }
        return due.map { $0 <= now } ?? false
    }
}
