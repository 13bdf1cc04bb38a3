/// What the flow-control API reports of a key at one moment.
public struct FlowKeyReport: Sendable, Equatable {
    /// The key.
    public var key: String
    /// What an operator set on it.
    public var state: FlowKeyState
    /// The limits the key's newest queued message carries, else its newest running run's; a rate
    /// and period also from the newest start of an open window.
    public var seen: FlowLimits
    /// Messages of the key waiting for a slot or for the key's resume.
    public var waitlistSize: Int
    /// Deliveries of the key in flight.
    public var parallelismCount: Int
    /// Starts counted in the current rate window.
    public var rateCount: Int
    /// The oldest start of the current window (milliseconds since the epoch), if any.
    public var ratePeriodStart: Int64?

    /// A report of `key` with its `state`, the limits `seen` and the counts read at one moment.
    public init(key: String, state: FlowKeyState, seen: FlowLimits, waitlistSize: Int, parallelismCount: Int, rateCount: Int, ratePeriodStart: Int64?) {
        self.key = key
        self.state = state
        self.seen = seen
        self.waitlistSize = waitlistSize
        self.parallelismCount = parallelismCount
        self.rateCount = rateCount
        self.ratePeriodStart = ratePeriodStart
    }

    /// The limits in force: pinned, else seen; a rate's period defaults to QStash's.
    public var limits: FlowLimits {
        let rate = state.pinned.rate ?? seen.rate
        return FlowLimits(
            parallelism: state.pinned.parallelism ?? seen.parallelism, rate: rate,
            period: state.pinned.period ?? seen.period ?? rate.map { _ in FlowControl.defaultRatePeriod })
    }
}
