/// A flow-control key's limits: deliveries in flight at once, and starts per period.
public struct FlowLimits: Sendable, Equatable {
    public var parallelism: Int?
    public var rate: Int?
    /// Milliseconds.
    public var period: Int64?

    /// Limits; `nil` where none is set.
    public init(parallelism: Int? = nil, rate: Int? = nil, period: Int64? = nil) {
        self.parallelism = parallelism
        self.rate = rate
        self.period = period
    }
}
