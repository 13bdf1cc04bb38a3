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
    /// limits an operator pinned on its keys, and `inQueueOrder` (a QStash queue's message) only
    /// after the messages queued before it; when it may not (over a limit, a key paused, an
    /// earlier message not started), it is held back (waiting for a slot, or due later) and its
    /// lease dropped. A queue's message that `holdsSlot` (it started before: this is a retry)
    /// had its turn and keeps its slot: only a pause or a rate holds it back.
    public func admit(_ flow: FlowControl?, _ held: HeldMessage, now: Int64, inQueueOrder: Bool = false, holdsSlot: Bool = false) throws -> Bool {
        guard let flow else { return true }
        // Keys are locked in one order on every node: runs with the same two keys in either role
        // never wait for each other's locks.
        let keys = flow.keys
        for key in keys.sorted() { try rows.lockFlowKey(key) }
        var limits = flow
        for key in keys {
            guard let state = try rows.flowKeyState(key) else { continue }
            if state.paused {
                try rows.waitForSlot(held)
                return false
            }
            limits = state.pinning(limits, for: key)
        }
        if !holdsSlot, let key = limits.concurrencyKey, let limit = limits.concurrencyLimit, try rows.inFlight(key: key, at: now) >= limit {
            try rows.waitForSlot(held)
            return false
        }
        // A queue's messages start in the order they were queued, even when a claim that read its
        // candidates before a slot was freed comes to admit a later one.
        if inQueueOrder, !holdsSlot, let key = limits.concurrencyKey, case .queued(let id) = held,
            try rows.hasEarlierUnstarted(id: id, key: key, at: now)
        {
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
        try rows.recordStart(key: key, at: now, period: period, limit: limit)
        return true
    }
}

extension FlowAdmission {
    /// How long a rate-limit start is kept at least: QStash's longest period. An admission counts
    /// a start under the key's current period when that is longer than the start's own (a key
    /// whose period grew): a start counts so for a week, or for its own period when longer.
    public static var startsKeptAtLeast: Int64 { 7 * 86_400_000 }

    /// The most starts one expiry deletes, so that no transaction grows with a backlog.
    public static var startsExpiredPerTransaction: Int { 1_000 }

    /// Deletes up to `startsExpiredPerTransaction` starts older than `startsKeptAtLeast` and than
    /// their own period: no admission counts them any more. An admission forgets only its own
    /// key's old starts, so a key used once would keep its starts for ever. Returns how many it
    /// deleted.
    public func expireStarts(at now: Int64) throws -> Int {
        try rows.deleteStarts(before: now - Self.startsKeptAtLeast, windowEndedBy: now, limit: Self.startsExpiredPerTransaction)
    }

    /// A lease that expired belonged to a node that died: the slots it held are free again, so
    /// every message waiting for one may try again. Done at the start of each claim.
    public func freeSlotsOfExpiredLeases(now: Int64) throws {
        if try rows.anyExpiredLease(at: now) { try rows.freeAllSlots() }
    }
}

extension FlowAdmission where Rows: StoreTransaction {
    /// Whether queued `message` (row `id`) may start at `now`, as `admit` decides, except that a
    /// delivery serving a run that has ended passes without a slot or a rate start: its attempt
    /// only drops it (a run's end keeps its delivery in flight, and a node that stopped leaves it
    /// to be claimed again), and held back behind a paused key it would keep the run's id reserved.
    public func admit(queued message: QueuedMessage, id: String, now: Int64, holdsSlot: Bool) throws -> Bool {
        if message.flowControl != nil, message.servesItsRun, let runId = message.runId, try rows.run(id: runId)?.status != .running {
            return true
        }
        return try admit(message.flowControl, .queued(id), now: now, inQueueOrder: message.queue != nil, holdsSlot: holdsSlot)
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
    /// The deliveries counted under `key`: those whose lease runs at `now`, and the queued
    /// messages that hold a slot of a QStash queue (`QueuedMessage.heldQueueSlot`) until they end.
    func inFlight(key: String, at now: Int64) throws -> Int
    /// Holds `held` until a slot of its key frees, without a lease.
    func waitForSlot(_ held: HeldMessage) throws
    /// Forgets the starts under `key` whose window (their own period, at least `period`) ended by `now`.
    func deleteExpiredStarts(key: String, period: Int64, now: Int64) throws
    /// The start times under `key` after `time`, oldest first.
    func starts(key: String, after time: Int64) throws -> [Int64]
    /// Makes `held` due at `due`, without a lease.
    func postpone(_ held: HeldMessage, to due: Int64) throws
    /// Whether a message queued under `key` before queued message `id` has not started at `now`:
    /// it holds no queue slot yet and is unleased, or its lease expired.
    func hasEarlierUnstarted(id: String, key: String, at now: Int64) throws -> Bool
    /// Records a start under `key` at `time` for a window of `period`, admitted under `limit`.
    func recordStart(key: String, at time: Int64, period: Int64, limit: Int) throws
    /// The period and limit of the newest start under `key` whose window is still open at `now`.
    func liveWindow(key: String, at now: Int64) throws -> (period: Int64, limit: Int?)?
    /// Whether a lease that may hold a slot ended before `now` (its node died).
    func anyExpiredLease(at now: Int64) throws -> Bool
    /// Lets every message waiting for a slot try again.
    func freeAllSlots() throws
    /// What an operator set on `key`; `nil` when nothing is set.
    func flowKeyState(_ key: String) throws -> FlowKeyState?
    /// Keeps `state` for `key`, or forgets the key's state when `state` is `nil`.
    func saveFlowKeyState(_ key: String, _ state: FlowKeyState?) throws
    /// The limits `key`'s newest queued message carries, else those of its newest running run;
    /// `nil` when nothing counts under it.
    func lastLimits(key: String) throws -> FlowLimits?
    /// Every key in use (by a queued message, a running run or a rate window's starts) or with a
    /// state, in order.
    func flowKeys() throws -> [String]
    /// The messages of `key` (a run's delivery under either of its keys, or a queued message)
    /// waiting for a slot or for the key's resume.
    func waitlistSize(key: String) throws -> Int
    /// A delivery counted under `key` ended, or the key was resumed or its limits changed: the
    /// messages waiting under it (a run's under either of its keys) try again.
    func releaseSlot(key: String) throws
    /// Forgets every start counted under `key`.
    func forgetStarts(key: String) throws
    /// Deletes up to `limit` starts, of any key, made before `time` whose own window ended by
    /// `now`; how many it deleted.
    func deleteStarts(before time: Int64, windowEndedBy now: Int64, limit: Int) throws -> Int
}
