/// The operator's side of flow control, QStash's `/v2/flowControl` API (§10.1 of the protocol
/// notes), decided once for every store: what a key reports, and what pausing, resuming, pinning,
/// unpinning and resetting its rate change. Runs inside one transaction of the store's.
public struct FlowKeyControl<Rows: FlowControlRows> {
    let rows: Rows

    /// Control applied through `rows`.
    public init(_ rows: Rows) {
        self.rows = rows
    }

    /// Applies `changes` to `key` in order, as one change: one write of its state, one release
    /// (kept even for a key no message used yet, so a key can be paused before its first message;
    /// a key left neither paused nor pinned keeps no state). After a resume, pin or unpin, the
    /// waiting messages of a key not left paused try again under the new limits; a pin and a
    /// reset start the rate window afresh.
    public func apply(_ changes: FlowKeyChange..., to key: String) throws {
        try rows.lockFlowKey(key)
        let state = try rows.flowKeyState(key) ?? FlowKeyState()
        let changed = changes.reduce(state) { $0.changed(by: $1) }
        if changed != state { try rows.saveFlowKeyState(key, changed == FlowKeyState() ? nil : changed) }
        if changes.contains(where: \.startsRateWindow) { try rows.forgetStarts(key: key) }
        // A key left paused would only put its released messages back to wait, and its waitlist
        // would read empty until they were.
        if changes.contains(where: \.releasesWaiting), !changed.paused { try rows.releaseSlot(key: key) }
    }

    /// What `key` reports at `now` (milliseconds since the epoch); a key nothing counts under and
    /// no operator set reports nothing set, waiting or counted.
    public func report(_ key: String, now: Int64) throws -> FlowKeyReport {
        try report(key, now: now, evenUnused: true) ?? FlowKeyReport(
            key: key, state: FlowKeyState(), seen: FlowLimits(), waitlistSize: 0, parallelismCount: 0, rateCount: 0, ratePeriodStart: nil)
    }

    /// What `key` reports at `now`; `nil` for a key nothing counts under (no queued message,
    /// running run or open rate window) and no operator set, unless `evenUnused`.
    private func report(_ key: String, now: Int64, evenUnused: Bool) throws -> FlowKeyReport? {
        let state = try rows.flowKeyState(key)
        let messages = try rows.lastLimits(key: key)
        let window = try rows.liveWindow(key: key, at: now)
        guard evenUnused || state != nil || messages != nil || window != nil else { return nil }
        // The rate's limits outlive the messages that carried them while their window is open.
        var seen = messages ?? FlowLimits()
        if seen.rate == nil, let window {
            seen.rate = window.limit
            seen.period = window.period
        }
        var report = FlowKeyReport(
            key: key, state: state ?? FlowKeyState(), seen: seen, waitlistSize: try rows.waitlistSize(key: key),
            parallelismCount: try rows.inFlight(key: key, at: now), rateCount: 0, ratePeriodStart: nil)
        if let period = report.limits.period {
            let starts = try rows.starts(key: key, after: now - period)
            report.rateCount = starts.count
            report.ratePeriodStart = starts.first
        }
        return report
    }

    /// What every key in use or set reports at `now`, by key; `search` keeps the keys that
    /// contain it.
    public func reports(now: Int64, search: String? = nil) throws -> [FlowKeyReport] {
        try rows.flowKeys().filter { key in search.map { key.contains($0) } ?? true }.compactMap { try report($0, now: now, evenUnused: false) }
    }
}
