import GRDB
import StepwiseEngine
import StepwiseExpressions
import StepwiseRuntime

/// Claiming due messages under flow control: per-key concurrency and rate limits, shared by the
/// deliveries of YAML runs (`messages`) and QStash messages (`queue`); the flow-control API and
/// QStash's queues, which act through the same keys.
extension SQLiteStore {
    public func claimDueMessages(now: TimestampValue, limit: Int, owner: String, leaseUntil: TimestampValue, delivering: Set<Int64>) async throws
        -> [PendingMessage]
    {
        let nowMilliseconds = SQLiteTime.milliseconds(now)
        return try await groupCommit.write { db in
            try FlowAdmission(SQLiteTransaction(db)).freeSlotsOfExpiredLeases(now: nowMilliseconds)
            // A delivery waiting for a slot is taken once its run is past its deadline
            // (`RunRecord.deadline`): it only fails the run, so it is let through without one.
            let candidates = try Self.decodeRows(
                db.cachedStatement(
                    sql: """
                        SELECT m.*, r.concurrency_key, r.concurrency_limit, r.rate_key, r.rate_limit, r.rate_period,
                            r.phase = 'main' AND r.deadline_at <= ? AS overdue
                        FROM messages m JOIN runs r ON r.id = m.run_id
                        WHERE m.due_at <= ? AND (m.lease_until IS NULL OR m.lease_until < ?)
                            AND (m.waiting_for_slot = 0 OR (r.phase = 'main' AND r.deadline_at <= ?))
                        ORDER BY m.due_at, m.id LIMIT ?
                        """),
                [nowMilliseconds, nowMilliseconds, nowMilliseconds, nowMilliseconds, limit * 4]
            ) { row in Self.message(row).map { ($0, Self.flowControl(row), (row["overdue"] as Bool?) ?? false) } }
            var claimed: [PendingMessage] = []
            for (candidate, flow, overdue) in candidates where claimed.count < limit && !delivering.contains(candidate.id) {
                var message = candidate
                message.claimedAt = now
                if message.kind == .deliver, !overdue, try !Self.admit(db, flow, .message(message.id), now: nowMilliseconds) {
                    continue
                }
                message.lease = PendingMessage.newLease()
                try db.cachedStatement(
                    sql: "UPDATE messages SET lease_owner = ?, lease_until = ?, lease_token = ?, redeliver = 0, waiting_for_slot = 0 WHERE id = ?"
                ).execute(
                    arguments: [owner, SQLiteTime.milliseconds(leaseUntil), message.lease, message.id])
                claimed.append(message)
            }
            return claimed
        }
    }

    public func expireRateStarts(at now: TimestampValue) async throws -> Int {
        try await groupCommit.write { db in try FlowAdmission(SQLiteTransaction(db)).expireStarts(at: SQLiteTime.milliseconds(now)) }
    }

    public func flowKeyReports(now: TimestampValue, search: String?) async throws -> [FlowKeyReport] {
        try await pool.read { db in try FlowKeyControl(SQLiteTransaction(db)).reports(now: SQLiteTime.milliseconds(now), search: search) }
    }

    public func flowKeyReport(_ key: String, now: TimestampValue) async throws -> FlowKeyReport {
        try await pool.read { db in try FlowKeyControl(SQLiteTransaction(db)).report(key, now: SQLiteTime.milliseconds(now)) }
    }

    public func changeFlowKey(_ key: String, _ change: FlowKeyChange) async throws {
        try await groupCommit.write { db in try FlowKeyControl(SQLiteTransaction(db)).apply(change, to: key) }
    }

    public func upsertNamedQueue(_ name: String, parallelism: Int, paused: Bool, at time: TimestampValue) async throws {
        try await groupCommit.write { db in
            try NamedQueues(SQLiteTransaction(db)).upsert(name, parallelism: parallelism, paused: paused, at: SQLiteTime.milliseconds(time))
        }
    }

    public func setNamedQueuePaused(_ name: String, paused: Bool, at time: TimestampValue) async throws -> Bool {
        try await groupCommit.write { db in try NamedQueues(SQLiteTransaction(db)).setPaused(name, paused, at: SQLiteTime.milliseconds(time)) }
    }

    public func deleteNamedQueue(_ name: String) async throws -> Bool {
        try await groupCommit.write { db in try NamedQueues(SQLiteTransaction(db)).delete(name) }
    }

    public func namedQueue(_ name: String) async throws -> NamedQueue? {
        try await pool.read { db in try NamedQueues(SQLiteTransaction(db)).queue(name) }
    }

    public func namedQueues() async throws -> [NamedQueue] {
        try await pool.read { db in try NamedQueues(SQLiteTransaction(db)).queues() }
    }

    /// Whether a delivery may start now under `flow` (`FlowAdmission`).
    static func admit(_ db: Database, _ flow: FlowControl?, _ held: HeldMessage, now: Int64, inQueueOrder: Bool = false, holdsSlot: Bool = false) throws -> Bool {
        try FlowAdmission(SQLiteTransaction(db)).admit(flow, held, now: now, inQueueOrder: inQueueOrder, holdsSlot: holdsSlot)
    }

    /// A delivery of `run` ended: the deliveries waiting for a slot of its key may try again.
    static func releaseSlot(_ db: Database, of run: RunRecord) throws {
        guard let key = run.flowControl?.concurrencyKey else { return }
        try releaseSlot(db, key: key)
    }

    /// A delivery counted under `key` ended, or the key was resumed or its limits changed: what
    /// waits under it (a run's delivery under either of its keys) may try again.
    static func releaseSlot(_ db: Database, key: String) throws {
        try db.cachedStatement(
            sql: """
                UPDATE messages SET waiting_for_slot = 0
                WHERE waiting_for_slot = 1 AND run_id IN (SELECT id FROM runs WHERE concurrency_key = ? OR rate_key = ?)
                """
        ).execute(arguments: [key, key])
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
