/// What the flow-control API reports of a key at one moment.
public struct FlowKeyReport: Sendable, Equatable {
    public var key: String
    public var state: FlowKeyState
    /// Messages of the key waiting for a slot or for the key's resume.
    public var waitlistSize: Int
    /// Deliveries of the key in flight.
    public var parallelismCount: Int
    /// Starts counted in the current rate window.
    public var rateCount: Int
    /// The oldest start of the current window (milliseconds since the epoch), if any.
    public var ratePeriodStart: Int64?

    /// A report of `key` with its `state` and the counts read at one moment.
    public init(key: String, state: FlowKeyState, waitlistSize: Int, parallelismCount: Int, rateCount: Int, ratePeriodStart: Int64?) {
        self.key = key
        self.state = state
        self.waitlistSize = waitlistSize
        self.parallelismCount = parallelismCount
        self.rateCount = rateCount
        self.ratePeriodStart = ratePeriodStart
    }

    /// The limits in force: pinned, else the last seen.
    public var limits: FlowLimits {
        FlowLimits(
            parallelism: state.pinned.parallelism ?? state.seen.parallelism, rate: state.pinned.rate ?? state.seen.rate,
            period: state.pinned.period ?? state.seen.period ?? ((state.pinned.rate ?? state.seen.rate) == nil ? nil : FlowControl.defaultRatePeriod))
    }
}
