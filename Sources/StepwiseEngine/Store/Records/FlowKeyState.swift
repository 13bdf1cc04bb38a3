/// What an operator set on a flow-control key through QStash's flow-control API (§10.1 of the
/// protocol notes): whether its deliveries are paused, and the limits pinned over those its
/// messages and runs carry. A key with neither keeps no state.
public struct FlowKeyState: Sendable, Equatable {
    /// New deliveries of the key wait until it is resumed.
    public var paused: Bool
    /// Limits that replace the deliveries' own.
    public var pinned: FlowLimits

    /// A key's state; the default is a key never paused nor pinned.
    public init(paused: Bool = false, pinned: FlowLimits = FlowLimits()) {
        self.paused = paused
        self.pinned = pinned
    }

    /// Whether the rate or its period is pinned.
    public var isRatePinned: Bool { pinned.rate != nil || pinned.period != nil }

    /// `flow` with this key's pinned limits in place of its own where it counts under `key`: a
    /// pinned parallelism where `key` is its concurrency key, a pinned rate where it is its rate
    /// key (a QStash message counts both under its one key; a run may have two keys).
    public func pinning(_ flow: FlowControl, for key: String) -> FlowControl {
        var limits = flow
        if let parallelism = pinned.parallelism, flow.concurrencyKey == key { limits.concurrencyLimit = parallelism }
        guard isRatePinned, flow.rateKey == key, let rate = pinned.rate ?? flow.rateLimit else { return limits }
        limits.rateLimit = rate
        limits.ratePeriod = pinned.period ?? flow.ratePeriod ?? FlowControl.defaultRatePeriod
        return limits
    }

    /// This state after an operator's `change`.
    func changed(by change: FlowKeyChange) -> FlowKeyState {
        var changed = self
        switch change {
        case .pause: changed.paused = true
        case .resume: changed.paused = false
        case .pin(let limits):
            changed.pinned.parallelism = limits.parallelism ?? pinned.parallelism
            changed.pinned.rate = limits.rate ?? pinned.rate
            changed.pinned.period = limits.period ?? pinned.period
        case .unpin(let parallelism, let rate):
            if parallelism { changed.pinned.parallelism = nil }
            if rate {
                changed.pinned.rate = nil
                changed.pinned.period = nil
            }
        case .resetRate: break
        }
        return changed
    }
}
