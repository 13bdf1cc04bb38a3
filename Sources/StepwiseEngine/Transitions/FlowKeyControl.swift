/// The operator's side of flow control, QStash's `/v2/flowControl` API (§10.1 of the protocol
/// notes), decided once for every store: what a key reports, and what pausing, resuming, pinning,
/// unpinning and resetting its rate change. Runs inside one transaction of the store's.
public struct FlowKeyControl<Rows: FlowControlRows> {
    let rows: Rows

    /// Control applied through `rows`.
    public init(_ rows: Rows) {
        self.rows = rows
    }

    /// Applies `change` to `key` (kept even for a key no message used yet, so a key can be paused
    /// before its first message). After a resume, pin or unpin the key's waiting messages try
    /// again under the new limits; a pin and a reset start the rate window afresh.
    public func apply(_ change: FlowKeyChange, to key: String) throws {
        try rows.lockFlowKey(key)
        let state = try rows.flowKeyState(key) ?? FlowKeyState()
        let changed = state.changed(by: change)
        if changed != state { try rows.saveFlowKeyState(key, changed) }
        switch change {
        case .pause: break
        case .resume, .unpin: try rows.releaseWaiting(key: key)
        case .pin:
            try rows.forgetStarts(key: key)
            try rows.releaseWaiting(key: key)
        case .resetRate: try rows.forgetStarts(key: key)
        }
    }

    /// What `key` reports at `now` (milliseconds since the epoch); `nil` for a key never
    /// admitted nor set.
    public func report(_ key: String, now: Int64) throws -> FlowKeyReport? {
        guard let state = try rows.flowKeyState(key) else { return nil }
        var report = FlowKeyReport(
            key: key, state: state, waitlistSize: try rows.waitlistSize(key: key), parallelismCount: try rows.inFlight(key: key, at: now),
            rateCount: 0, ratePeriodStart: nil)
        if let period = report.limits.period {
            let starts = try rows.starts(key: key, after: now - period)
            report.rateCount = starts.count
            report.ratePeriodStart = starts.first
        }
        return report
    }

    /// What every kept key reports at `now`, by key.
    public func reports(now: Int64) throws -> [FlowKeyReport] {
        try rows.flowKeys().compactMap { try report($0, now: now) }
    }
}
