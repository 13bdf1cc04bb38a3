import GRDB
import StepwiseEngine
import StepwiseExpressions
import StepwiseRuntime

/// Claiming due messages under flow control: per-key concurrency and rate limits, shared by the
/// deliveries of YAML runs (`messages`) and QStash messages (`queue`).
extension SQLiteStore {
    public func claimDueMessages(now: TimestampValue, limit: Int, owner: String, leaseUntil: TimestampValue, firing timers: TimerFiring)
        async throws -> ClaimedMessages
    {
        let nowMilliseconds = SQLiteTime.milliseconds(now)
        return try await groupCommit.write { db in
            try FlowAdmission(SQLiteTransaction(db)).freeSlotsOfExpiredLeases(now: nowMilliseconds)
            let candidates = try Self.decodeRows(
                db.cachedStatement(
                    sql: """
                        SELECT m.*, r.concurrency_key, r.concurrency_limit, r.rate_key, r.rate_limit, r.rate_period
                        FROM messages m JOIN runs r ON r.id = m.run_id
                        WHERE m.due_at <= ? AND (m.lease_until IS NULL OR m.lease_until < ?) AND m.waiting_for_slot = 0
                        ORDER BY m.due_at, m.id LIMIT ?
                        """),
                [nowMilliseconds, nowMilliseconds, limit * 4]
            ) { row in Self.message(row).map { ($0, Self.flowControl(row)) } }
            var claimed = ClaimedMessages(messages: [], fired: [])
            for (candidate, flow) in candidates where claimed.messages.count + claimed.fired.count < limit {
                if candidate.kind == .deliver, try !Self.admit(db, flow, .message(candidate.id), now: nowMilliseconds) {
                    continue
                }
                // A timer fired earlier in this claim may have leased this delivery already.
                guard let message = try Self.lease(db, candidate, at: now, owner: owner, until: leaseUntil) else { continue }
                guard message.kind == .timer else {
                    claimed.messages.append(message)
                    continue
                }
                claimed.fired.append(try Self.fire(message, db, owner: owner, until: leaseUntil, journalFrom: timers.journalFrom(message.runId)))
            }
            return claimed
        }
    }

    /// Fires the timer `message` the claim just leased (`RunTransitions.fireTimer`), leasing its
    /// run's delivery until `until` and reading its journal from `journalFrom` when it does.
    private static func fire(_ message: PendingMessage, _ db: Database, owner: String, until: TimestampValue, journalFrom: Int) throws -> FiredTimer {
        let fired = try SQLiteTransaction.transitions(db).fireTimer(message, owner: owner, leasingNextUntil: until)
        let next = try fired.next.map { try leased($0, db, journalFrom: journalFrom) }
        return FiredTimer(timer: message, completed: fired.completed, recorded: fired.recorded, next: next)
    }

    /// Leases the due message `message` to `owner` until `until` with a new lease token, unless
    /// it was leased since it was read; `nil` then.
    private static func lease(_ db: Database, _ message: PendingMessage, at now: TimestampValue, owner: String, until: TimestampValue) throws
        -> PendingMessage?
    {
        var leased = message
        leased.claimedAt = now
        leased.lease = PendingMessage.newLease()
        try db.cachedStatement(
            sql: """
                UPDATE messages SET lease_owner = ?, lease_until = ?, lease_token = ?, redeliver = 0
                WHERE id = ? AND (lease_until IS NULL OR lease_until < ?)
                """
        ).execute(arguments: [owner, SQLiteTime.milliseconds(until), leased.lease, leased.id, SQLiteTime.milliseconds(now)])
        return db.changesCount > 0 ? leased : nil
    }

    /// Whether a delivery may start now under `flow` (`FlowAdmission`).
    static func admit(_ db: Database, _ flow: FlowControl?, _ held: HeldMessage, now: Int64) throws -> Bool {
        try FlowAdmission(SQLiteTransaction(db)).admit(flow, held, now: now)
    }

    /// A delivery of `run` ended: the deliveries waiting for a slot of its key may try again.
    static func releaseSlot(_ db: Database, of run: RunRecord) throws {
        guard let key = run.flowControl?.concurrencyKey else { return }
        try releaseSlot(db, key: key)
    }

    /// A delivery counted under `key` ended: what waits for a slot of it may try again.
    static func releaseSlot(_ db: Database, key: String) throws {
        try db.cachedStatement(
            sql: """
                UPDATE messages SET waiting_for_slot = 0
                WHERE waiting_for_slot = 1 AND run_id IN (SELECT id FROM runs WHERE concurrency_key = ?)
                """
        ).execute(arguments: [key])
        try db.cachedStatement(sql: "UPDATE queue SET waiting_for_slot = 0 WHERE waiting_for_slot = 1 AND flow_key = ?").execute(arguments: [key])
    }

    /// The flow control of a row of `runs` (or joined with it).
    static func flowControl(_ row: Row) -> FlowControl? {
        let flow = FlowControl(
            concurrencyKey: row["concurrency_key"], concurrencyLimit: row["concurrency_limit"], rateKey: row["rate_key"],
            rateLimit: row["rate_limit"], ratePeriod: row["rate_period"])
        return flow == FlowControl() ? nil : flow
    }
}
