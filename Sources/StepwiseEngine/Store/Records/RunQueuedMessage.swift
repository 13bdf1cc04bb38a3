import StepwiseExpressions

/// A queued message its run's end dropped (`StoreTransaction.clearPendingWork`), as the end found
/// it: the flow-control key it counted under, and until when a delivery of it held a lease.
public struct RunQueuedMessage: Sendable {
    /// Without its body; `nil` when its stored form cannot be read.
    public var message: QueuedMessage?
    public var flowKey: String?
    /// Unix milliseconds; `nil` when no delivery leased it.
    public var leasedUntil: Int64?

    public init(message: QueuedMessage?, flowKey: String?, leasedUntil: Int64?) {
        self.message = message
        self.flowKey = flowKey
        self.leasedUntil = leasedUntil
    }

    /// Whether a delivery of it was in flight at `now`: that attempt logs how it ended.
    public func isInFlight(at now: TimestampValue) -> Bool {
        leasedUntil.map { $0 >= now.millisecondsSinceEpoch } ?? false
    }
}
