import StepwiseExpressions

/// A queued message of a run, as the run's end finds it: the flow-control key it counts under,
/// and until when a delivery of it holds a lease.
public struct RunQueuedMessage: Sendable, Equatable {
    public var id: String
    public var flowKey: String?
    /// Unix milliseconds; `nil` when no delivery leased it.
    public var leasedUntil: Int64?

    public init(id: String, flowKey: String?, leasedUntil: Int64?) {
        self.id = id
        self.flowKey = flowKey
        self.leasedUntil = leasedUntil
    }

    /// Whether a delivery of it is in flight at `now`: its attempt then logs how it ended.
    public func isInFlight(at now: TimestampValue) -> Bool {
        leasedUntil.map { $0 >= now.millisecondsSinceEpoch } ?? false
    }
}
