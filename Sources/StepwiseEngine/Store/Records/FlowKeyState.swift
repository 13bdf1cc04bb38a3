/// What is kept of a flow-control key: whether an operator paused it and which limits they
/// pinned over those its messages carry (QStash's flow-control API, §10.1 of the protocol notes),
/// and the limits its messages carried last, which the API reports when nothing is pinned.
public struct FlowKeyState: Sendable, Equatable {
    public var paused: Bool
    public var pinned: FlowLimits
    public var seen: FlowLimits

    /// A key's state; the default is a key never paused nor pinned, with nothing seen.
    public init(paused: Bool = false, pinned: FlowLimits = FlowLimits(), seen: FlowLimits = FlowLimits()) {
        self.paused = paused
        self.pinned = pinned
        self.seen = seen
    }

    /// Whether the rate or its period is pinned.
    public var isRatePinned: Bool { pinned.rate != nil || pinned.period != nil }

    /// This state after a message with `flow` was admitted under `key`: its limits for the key
    /// are the last seen.
    func noting(_ flow: FlowControl, for key: String) -> FlowKeyState {
        var noted = self
        if flow.concurrencyKey == key { noted.seen.parallelism = flow.concurrencyLimit }
        if flow.rateKey == key {
            noted.seen.rate = flow.rateLimit
            noted.seen.period = flow.ratePeriod
        }
        return noted
    }

    /// `flow` with this key's pinned limits in place of the message's own.
    public func pinning(_ flow: FlowControl, for key: String) -> FlowControl {
        var limits = flow
        // A run's concurrency and rate may be counted under different keys: a key's pins replace
        // only the limits counted under it.
        if let parallelism = pinned.parallelism, flow.concurrencyKey == nil || flow.concurrencyKey == key {
            limits.concurrencyKey = key
            limits.concurrencyLimit = parallelism
        }
        guard isRatePinned, flow.rateKey == nil || flow.rateKey == key, let rate = pinned.rate ?? (flow.rateKey == key ? flow.rateLimit : nil) else {
            return limits
        }
        limits.rateKey = key
        limits.rateLimit = rate
        limits.ratePeriod = pinned.period ?? (flow.rateKey == key ? flow.ratePeriod : nil) ?? FlowControl.defaultRatePeriod
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
