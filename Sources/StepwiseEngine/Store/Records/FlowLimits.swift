/// A flow-control key's limits: deliveries in flight at once, and starts per period.
public struct FlowLimits: Sendable, Equatable {
    /// Deliveries in flight at once.
    public var parallelism: Int?
    /// Deliveries started per `period`.
    public var rate: Int?
    /// Milliseconds.
    public var period: Int64?

    /// The limits `flow` counts under `key`: its parallelism where `key` is its concurrency key,
    /// its rate and period where `key` is its rate key.
    public init(_ flow: FlowControl?, key: String) {
        self.init(
            parallelism: flow?.concurrencyKey == key ? flow?.concurrencyLimit : nil, rate: flow?.rateKey == key ? flow?.rateLimit : nil,
            period: flow?.rateKey == key ? flow?.ratePeriod : nil)
    }

    /// Limits; `nil` where none is set.
    public init(parallelism: Int? = nil, rate: Int? = nil, period: Int64? = nil) {
        self.parallelism = parallelism
        self.rate = rate
        self.period = period
    }
}
