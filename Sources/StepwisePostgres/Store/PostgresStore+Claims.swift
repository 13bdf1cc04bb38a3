import PostgresNIO
import StepwiseEngine
import StepwiseExpressions

/// Claiming due messages: rows other nodes are claiming are skipped (`FOR UPDATE SKIP LOCKED`),
/// and flow-control admission holds each key's lock until the claim commits, so no two nodes
/// admit past a limit.
extension PostgresStore {
    public func claimDueMessages(now: TimestampValue, limit: Int, owner: String, leaseUntil: TimestampValue, delivering: Set<Int64>) async throws
        -> [PendingMessage]
    {
        let current = PostgresTransaction.at(now)
        return try await write { transaction in
            try FlowAdmission(transaction).freeSlotsOfExpiredLeases(now: current)
            // A delivery waiting for a slot is taken once its run is past its deadline
            // (`RunRecord.deadline`): it only fails the run, so it is let through without one.
            let candidates = try transaction.session.rows(
                """
                SELECT m.*, r.concurrency_key, r.concurrency_limit, r.rate_key, r.rate_limit, r.rate_period,
                    COALESCE(r.phase = 'main' AND r.deadline_at <= ?, FALSE) AS overdue
                FROM messages m JOIN runs r ON r.id = m.run_id
                WHERE m.due_at <= ? AND (m.lease_until IS NULL OR m.lease_until < ?)
                    AND (m.waiting_for_slot = 0 OR (r.phase = 'main' AND r.deadline_at <= ?))
                ORDER BY m.due_at, m.id LIMIT ? FOR UPDATE OF m SKIP LOCKED
                """, [current, current, current, current, limit * 4])
            var claimed: [PendingMessage] = []
            for row in candidates where claimed.count < limit {
                guard var message = PostgresRecords.message(row), !delivering.contains(message.id) else { continue }
                message.claimedAt = now
                let overdue = (try? row("overdue", as: Bool.self)) ?? false
                if message.kind == .deliver, !overdue,
                    try !FlowAdmission(transaction).admit(PostgresRecords.flowControl(row), .message(message.id), now: current)
                {
                    continue
                }
                message.lease = PendingMessage.newLease()
                try transaction.session.execute(
                    "UPDATE messages SET lease_owner = ?, lease_until = ?, lease_token = ?, redeliver = 0, waiting_for_slot = 0 WHERE id = ?",
                    [owner, PostgresTransaction.at(leaseUntil), message.lease, message.id])
                claimed.append(message)
            }
            return claimed
        }
    }

    public func claimDueQueued(now: TimestampValue, limit: Int, owner: String, leaseUntil: TimestampValue, delivering: Set<String>) async throws
        -> [QueuedMessage]
    {
        let current = PostgresTransaction.at(now)
        return try await write { transaction in
            try FlowAdmission(transaction).freeSlotsOfExpiredLeases(now: current)
            let rows = try transaction.session.rows(
                """
                SELECT * FROM queue WHERE due_at <= ? AND (lease_until IS NULL OR lease_until < ?) AND waiting_for_slot = 0
                ORDER BY due_at, seq LIMIT ? FOR UPDATE SKIP LOCKED
                """, [current, current, limit * 4])
            var claimed: [QueuedMessage] = []
            for row in rows where claimed.count < limit {
                let id: String = try row("id")
                guard !delivering.contains(id) else { continue }
                let message = PostgresRecords.queuedMessage(row)
                let holdsSlot: Bool = try row("holds_slot")
                if let message, try !FlowAdmission(transaction).admit(queued: message, id: id, now: current, holdsSlot: holdsSlot) { continue }
                // A queue's message keeps its slot from its first attempt to its end (QStash's FIFO).
                try transaction.session.execute(
                    "UPDATE queue SET lease_owner = ?, lease_until = ?, holds_slot = ? WHERE id = ?",
                    [owner, PostgresTransaction.at(leaseUntil), holdsSlot || message?.queue != nil, id])
                if let message { claimed.append(message) }
            }
            return claimed
        }
    }

    public func nextWakeTime() async throws -> TimestampValue? {
        try await session { session in
            try session.value(
                """
                SELECT LEAST((SELECT MIN(due_at) FROM messages WHERE lease_until IS NULL AND waiting_for_slot = 0),
                    (SELECT MIN(lease_until) FROM messages WHERE lease_until IS NOT NULL),
                    (SELECT MIN(r.deadline_at) FROM messages m JOIN runs r ON r.id = m.run_id WHERE m.waiting_for_slot = 1 AND r.phase = 'main'))
                """, as: Int64.self
            ).flatMap(PostgresTransaction.timestamp)
        }
    }

    public func nextQueuedTime() async throws -> TimestampValue? {
        try await session { session in
            // A message waiting for a flow-control slot is due when a slot frees, not at its due time.
            try session.value(
                "SELECT MIN(CASE WHEN lease_until IS NOT NULL THEN lease_until WHEN waiting_for_slot = 0 THEN due_at END) FROM queue",
                as: Int64.self
            ).flatMap(PostgresTransaction.timestamp)
        }
    }

}

/// Flow-control admission's rows; a transaction-scoped advisory lock per key makes the
/// admissions of one key on every node take turns.
extension PostgresTransaction: FlowControlRows {
    func lockFlowKey(_ key: String) throws {
        try session.execute("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", ["stepwise-flow:" + key])
    }

    func inFlight(key: String, at now: Int64) throws -> Int {
        let runs = try session.value(
            """
            SELECT COUNT(*) FROM messages m JOIN runs r ON r.id = m.run_id
            WHERE r.concurrency_key = ? AND m.kind = 'deliver' AND m.lease_until >= ?
            """, [key, now], as: Int.self) ?? 0
        let queued = try session.value(
            "SELECT COUNT(*) FROM queue WHERE flow_key = ? AND (lease_until >= ? OR holds_slot)", [key, now], as: Int.self) ?? 0
        return runs + queued
    }

    func waitForSlot(_ held: HeldMessage) throws {
        // A held-back message may still carry the expired lease of a node that died: it is nobody's now.
        try held.update(session, "waiting_for_slot = 1, lease_owner = NULL, lease_until = NULL", [])
    }

    func deleteExpiredStarts(key: String, period: Int64, now: Int64) throws {
        try session.execute("DELETE FROM rate_starts WHERE key = ? AND started_at + GREATEST(period, ?) <= ?", [key, period, now])
    }

    func starts(key: String, after time: Int64) throws -> [Int64] {
        try session.values("SELECT started_at FROM rate_starts WHERE key = ? AND started_at > ? ORDER BY started_at", [key, time])
    }

    func postpone(_ held: HeldMessage, to due: Int64) throws {
        try held.update(session, "due_at = ?, lease_owner = NULL, lease_until = NULL", [due])
        madeDue.otherWork()
    }

    func hasEarlierUnstarted(id: String, key: String, at now: Int64) throws -> Bool {
        try session.value(
            """
            SELECT EXISTS (SELECT 1 FROM queue o WHERE o.flow_key = ? AND o.seq < (SELECT seq FROM queue WHERE id = ?)
                AND NOT o.holds_slot AND (o.lease_until IS NULL OR o.lease_until < ?))
            """, [key, id, now], as: Bool.self) ?? false
    }

    func recordStart(key: String, at time: Int64, period: Int64, limit: Int) throws {
        try session.execute("INSERT INTO rate_starts (key, started_at, period, rate_limit) VALUES (?, ?, ?, ?)", [key, time, period, Int64(limit)])
    }

    func liveWindow(key: String, at now: Int64) throws -> (period: Int64, limit: Int?)? {
        try session.row(
            "SELECT period, rate_limit FROM rate_starts WHERE key = ? AND started_at + period > ? ORDER BY started_at DESC LIMIT 1", [key, now]
        ).map { row in (try row("period", as: Int64.self), try row("rate_limit", as: Int64?.self).map { Int(clamping: $0) }) }
    }

    func anyExpiredLease(at now: Int64) throws -> Bool {
        try session.value(
            """
            SELECT EXISTS (SELECT 1 FROM messages WHERE lease_until < ?)
                OR EXISTS (SELECT 1 FROM queue WHERE lease_until < ? AND flow_key IS NOT NULL)
            """, [now, now], as: Bool.self) ?? false
    }

    func freeAllSlots() throws {
        try session.execute("UPDATE messages SET waiting_for_slot = 0 WHERE waiting_for_slot = 1")
        try session.execute("UPDATE queue SET waiting_for_slot = 0 WHERE waiting_for_slot = 1")
    }

    func forgetStarts(key: String) throws {
        try session.execute("DELETE FROM rate_starts WHERE key = ?", [key])
    }

    func deleteStarts(before time: Int64, windowEndedBy now: Int64, limit: Int) throws -> Int {
        // Rows another transaction is deleting are skipped rather than waited for.
        let deleted: [Int64] = try session.values(
            """
            DELETE FROM rate_starts WHERE ctid IN (
                SELECT ctid FROM rate_starts WHERE started_at < ? AND started_at + period <= ? LIMIT ? FOR UPDATE SKIP LOCKED)
            RETURNING started_at
            """, [time, now, Int64(limit)])
        return deleted.count
    }
}

extension HeldMessage {
    /// Sets `assignments` on the held message's row.
    fileprivate func update(_ session: PostgresSession, _ assignments: String, _ values: [(any PostgresThrowingDynamicTypeEncodable)?]) throws {
        switch self {
        case .message(let id): try session.execute("UPDATE messages SET \(assignments) WHERE id = ?", values + [id])
        case .queued(let id): try session.execute("UPDATE queue SET \(assignments) WHERE id = ?", values + [id])
        }
    }
}
