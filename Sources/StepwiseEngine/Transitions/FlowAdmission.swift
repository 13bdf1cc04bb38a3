/// Whether a claimed delivery may start under its flow control, decided once for every store: a
/// delivery over its key's concurrency waits for a slot, one over its rate is moved to when the
/// window allows; none is ever dropped. Runs inside the claim's transaction.
public struct FlowAdmission<Rows: FlowControlRows> {
    let rows: Rows

    /// Admission applied through `rows`.
    public init(_ rows: Rows) {
        self.rows = rows
    }

    /// Whether `held` may start at `now` (milliseconds since the epoch) under `flow`, with the
    /// limits an operator pinned on its keys; when it may not (over a limit, or a key is paused),
    /// it is held back (waiting for a slot, or due later) and its lease dropped.
    public func admit(_ flow: FlowControl?, _ held: HeldMessage, now: Int64) throws -> Bool {
        guard let flow else { return true }
        var limits = flow
        for key in flow.keys {
            try rows.lockFlowKey(key)
            let state = try rows.flowKeyState(key) ?? FlowKeyState()
            let noted = state.noting(flow, for: key)
            if noted != state { try rows.saveFlowKeyState(key, noted) }
            if state.paused {
                try rows.waitForSlot(held)
                return false
            }
            limits = state.pinning(limits, for: key)
        }
        if let key = limits.concurrencyKey, let limit = limits.concurrencyLimit, try rows.inFlight(key: key, at: now) >= limit {
            try rows.waitForSlot(held)
            return false
        }
        guard let key = limits.rateKey, let limit = limits.rateLimit, let period = limits.ratePeriod else { return true }
        // Each start is kept for its own window: messages of one key may name different periods.
        try rows.deleteExpiredStarts(key: key, period: period, now: now)
        let starts = try rows.starts(key: key, after: now - period)
        if starts.count >= limit {
            try rows.postpone(held, to: max(starts[starts.count - limit] + period, now + 1))
            return false
        }
        try rows.recordStart(key: key, at: now, period: period)
        return true
    }
}

extension FlowAdmission {
    /// A lease that expired belonged to a node that died: the slots it held are free again, so
    /// every message waiting for one may try again. Done at the start of each claim.
    public func freeSlotsOfExpiredLeases(now: Int64) throws {
        if try rows.anyExpiredLease(at: now) { try rows.freeAllSlots() }
    }
}

/// A message held back by flow control: a YAML run's delivery or a queued message.
public enum HeldMessage: Sendable {
    case message(Int64)
    case queued(String)
}

/// The rows flow-control admission reads and writes inside a claim's transaction.
public protocol FlowControlRows {
    /// Makes admissions under `key` take turns until the transaction ends (a lock per key where
    /// several nodes claim at once; nothing where the store has a single writer).
    func lockFlowKey(_ key: String) throws
    /// The deliveries counted under `key` whose lease runs at `now`.
    func inFlight(key: String, at now: Int64) throws -> Int
    /// Holds `held` until a slot of its key frees, without a lease.
    func waitForSlot(_ held: HeldMessage) throws
    /// Forgets the starts under `key` whose window (their own period, at least `period`) ended by `now`.
    func deleteExpiredStarts(key: String, period: Int64, now: Int64) throws
    /// The start times under `key` after `time`, oldest first.
    func starts(key: String, after time: Int64) throws -> [Int64]
    /// Makes `held` due at `due`, without a lease.
    func postpone(_ held: HeldMessage, to due: Int64) throws
    /// Records a start under `key` at `time` for a window of `period`.
    func recordStart(key: String, at time: Int64, period: Int64) throws
    /// Whether a lease that may hold a slot ended before `now` (its node died).
    func anyExpiredLease(at now: Int64) throws -> Bool
    /// Lets every message waiting for a slot try again.
    func freeAllSlots() throws
    /// What is kept of `key`; `nil` for a key never admitted nor set.
    func flowKeyState(_ key: String) throws -> FlowKeyState?
    /// Keeps `state` for `key`.
    func saveFlowKeyState(_ key: String, _ state: FlowKeyState) throws
    /// Every key with a kept state, in order.
    func flowKeys() throws -> [String]
    /// The messages of `key` (a run's delivery under either of its keys, or a queued message)
    /// waiting for a slot or for the key's resume.
    func waitlistSize(key: String) throws -> Int
    /// Lets the messages of `key` waiting for a slot try again.
    func releaseWaiting(key: String) throws
    /// Forgets every start counted under `key`.
    func forgetStarts(key: String) throws
}
