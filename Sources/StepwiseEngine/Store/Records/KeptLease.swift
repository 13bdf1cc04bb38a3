import StepwiseExpressions

/// How a step keeps its run's next delivery (`StoreTransaction.redeliver`): the lease its node
/// holds is pushed to `until` when it ends before `renewBefore`, halfway there (or when the row
/// is written anyway, for a new attempt number or a redelivery flag). The node renews every
/// lease it holds each quarter of a lease, so most steps write no lease (nor its index), and a
/// chain of steps whose renewals are late still never outlives its lease.
public struct KeptLease: Sendable, Equatable {
    public var until: TimestampValue
    public var renewBefore: TimestampValue

    /// A lease kept until `until`, renewed when less than half of it is left at `now`.
    public init(until: TimestampValue, at now: TimestampValue) {
        self.until = until
        let halfway = (now.nanosecondsSinceEpoch + until.nanosecondsSinceEpoch) / 2
        // Halfway between two valid times is a valid time; `until` (renew always) is the safe side.
        renewBefore = (try? TimestampValue(nanosecondsSinceEpoch: halfway)) ?? until
    }
}
