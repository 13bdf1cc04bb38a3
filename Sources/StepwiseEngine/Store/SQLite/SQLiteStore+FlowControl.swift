import GRDB
import StepwiseExpressions
import StepwiseRuntime

/// Claiming due messages under flow control: per-key concurrency and rate limits.
extension SQLiteStore {
    public func claimDueMessages(now: TimestampValue, limit: Int, owner: String, leaseUntil: TimestampValue) async throws
        -> [PendingMessage]
    {
        let nowMilliseconds = SQLiteTime.milliseconds(now)
        return try await pool.write { db in
            // A lease that expired belonged to a node that died: the slots it held are free again.
            if try Bool.fetchOne(
                db.cachedStatement(sql: "SELECT 1 FROM messages WHERE lease_until < ? LIMIT 1"), arguments: [nowMilliseconds]) ?? false
            {
                try db.cachedStatement(sql: "UPDATE messages SET waiting_for_slot = 0 WHERE waiting_for_slot = 1").execute()
            }
            let candidates = try Row.fetchAll(
                db,
                sql: """
                    SELECT m.*, r.concurrency_key, r.concurrency_limit, r.rate_key, r.rate_limit, r.rate_period
                    FROM messages m JOIN runs r ON r.id = m.run_id
                    WHERE m.due_at <= ? AND (m.lease_until IS NULL OR m.lease_until < ?) AND m.waiting_for_slot = 0
                    ORDER BY m.due_at, m.id LIMIT ?
                    """,
                arguments: [nowMilliseconds, nowMilliseconds, limit * 4])
            var claimed: [PendingMessage] = []
            for row in candidates where claimed.count < limit {
                guard var message = Self.message(row) else { continue }
                message.claimedAt = now
                if message.kind == .deliver, try !Self.admit(db, row, message, now: nowMilliseconds) { continue }
                try db.cachedStatement(sql: "UPDATE messages SET lease_owner = ?, lease_until = ?, redeliver = 0 WHERE id = ?").execute(
                    arguments: [owner, SQLiteTime.milliseconds(leaseUntil), message.id])
                claimed.append(message)
            }
            return claimed
        }
    }

    /// Whether a delivery may start now under its run's flow control. One that may not waits for
    /// a concurrency slot or is moved to when the rate window allows it; it is never dropped.
    private static func admit(_ db: Database, _ row: Row, _ message: PendingMessage, now: Int64) throws -> Bool {
        if let key = row["concurrency_key"] as String?, let limit = row["concurrency_limit"] as Int? {
            let inFlight =
                try Int.fetchOne(
                    db,
                    sql: """
                        SELECT COUNT(*) FROM messages m JOIN runs r ON r.id = m.run_id
                        WHERE r.concurrency_key = ? AND m.kind = 'deliver' AND m.lease_until >= ?
                        """,
                    arguments: [key, now]) ?? 0
            if inFlight >= limit {
                try db.cachedStatement(sql: "UPDATE messages SET waiting_for_slot = 1 WHERE id = ?").execute(arguments: [message.id])
                return false
            }
        }
        if let key = row["rate_key"] as String?, let limit = row["rate_limit"] as Int?, let period = row["rate_period"] as Int64? {
            try db.cachedStatement(sql: "DELETE FROM rate_starts WHERE key = ? AND started_at <= ?").execute(arguments: [key, now - period])
            let starts = try Int64.fetchAll(
                db.cachedStatement(sql: "SELECT started_at FROM rate_starts WHERE key = ? ORDER BY started_at"), arguments: [key])
            if starts.count >= limit {
                let slot = starts[starts.count - limit] + period
                try db.cachedStatement(sql: "UPDATE messages SET due_at = ? WHERE id = ?").execute(arguments: [
                    max(slot, now + 1), message.id,
                ])
                return false
            }
            try db.cachedStatement(sql: "INSERT INTO rate_starts (key, started_at) VALUES (?, ?)").execute(arguments: [key, now])
        }
        return true
    }

    /// A delivery of `run` ended: the deliveries waiting for a slot of its key may try again.
    static func releaseSlot(_ db: Database, of run: RunRecord) throws {
        guard let key = run.flowControl?.concurrencyKey else { return }
        try db.cachedStatement(
            sql: """
                UPDATE messages SET waiting_for_slot = 0
                WHERE waiting_for_slot = 1 AND run_id IN (SELECT id FROM runs WHERE concurrency_key = ?)
                """
        ).execute(arguments: [key])
    }
}
