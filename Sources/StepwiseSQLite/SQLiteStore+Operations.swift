import GRDB
import StepwiseEngine
import StepwiseExpressions
import StepwiseRuntime

/// Pending operations (timers, waits, calls, child runs) and notifications, applied by `RunTransitions`.
extension SQLiteStore {
    public func completeOperation(_ message: PendingMessage, owner: String, entry: JournalEntry?, record: AttemptRecord?) async throws
        -> Bool
    {
        try await completions.write { db in
            try SQLiteTransaction.transitions(db).completeOperation(message, owner: owner, entry: entry, record: record)
        }
    }

    public func completeOperation(
        _ message: PendingMessage, owner: String, entry: JournalEntry?, record: AttemptRecord?, leasingNextUntil leaseUntil: TimestampValue
    ) async throws -> (completed: Bool, next: PendingMessage?) {
        try await completions.write { db in
            let completed = try SQLiteTransaction.transitions(db).completeOperation(message, owner: owner, entry: entry, record: record)
            guard completed else { return (false, nil) }
            let now = record?.finishedAt ?? message.dueAt
            return (true, try Self.leaseDelivery(db, runId: message.runId, owner: owner, until: leaseUntil, dueBy: now))
        }
    }

    /// Leases the run's delivery to `owner` until `leaseUntil` when it is due by `dueBy`, no one
    /// holds it and the run has no flow control (whose limits only the claim applies).
    static func leaseDelivery(_ db: Database, runId: String, owner: String, until leaseUntil: TimestampValue, dueBy: TimestampValue) throws
        -> PendingMessage?
    {
        // The run's status and flow-control keys only: decoding the whole run (its input) is not needed.
        guard
            try Bool.fetchOne(
                db.cachedStatement(
                    sql: "SELECT 1 FROM runs WHERE id = ? AND status = 'running' AND concurrency_key IS NULL AND rate_key IS NULL"),
                arguments: [runId]) ?? false
        else { return nil }
        let leased = try Row.fetchOne(
            db.cachedStatement(
                sql: """
                    UPDATE messages SET lease_owner = ?, lease_until = ?, redeliver = 0
                    WHERE run_id = ? AND kind = 'deliver' AND lease_owner IS NULL AND waiting_for_slot = 0 AND due_at <= ?
                    RETURNING *
                    """),
            arguments: [owner, SQLiteTime.milliseconds(leaseUntil), runId, SQLiteTime.milliseconds(dueBy)])
        guard var next = leased.flatMap(message) else { return nil }
        next.claimedAt = dueBy
        return next
    }

    public func operation(runId: String, stepName: String) async throws -> StepOperation? {
        try await pool.read { db in
            try String.fetchOne(
                db.cachedStatement(sql: "SELECT payload FROM operations WHERE run_id = ? AND step_name = ?"), arguments: [runId, stepName]
            )
            .flatMap(StoredJSON.operation)
        }
    }

    public func notify(event: String, data: Value, runId: String?, at time: TimestampValue) async throws -> NotifyResult {
        try await pool.write { db in try SQLiteTransaction.transitions(db).notify(event: event, data: data, runId: runId, at: time) }
    }

    public func waiters(event: String) async throws -> [Waiter] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT o.run_id, o.step_name, o.event_id, o.timeout_at, r.workflow FROM operations o JOIN runs r ON r.id = o.run_id
                    WHERE o.event_id = ? AND o.kind IN ('wait', 'endpoint-wait') ORDER BY o.created_at, o.run_id
                    """,
                arguments: [event]
            ).compactMap { row in
                SQLiteTime.timestamp(row["timeout_at"]).map { timeout in
                    Waiter(
                        runId: row["run_id"], workflow: row["workflow"], step: row["step_name"], event: row["event_id"], timeoutAt: timeout)
                }
            }
        }
    }
}
