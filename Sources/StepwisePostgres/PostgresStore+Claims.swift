import PostgresNIO
import StepwiseEngine
import StepwiseExpressions

/// Claiming due messages: rows other nodes are claiming are skipped (`FOR UPDATE SKIP LOCKED`),
/// and flow-control admission holds each key's lock until the claim commits, so no two nodes
/// admit past a limit.
extension PostgresStore {
    public func claimDueMessages(now: TimestampValue, limit: Int, owner: String, leaseUntil: TimestampValue, firing timers: TimerFiring)
        async throws -> ClaimedMessages
    {
        let current = PostgresTransaction.at(now)
        return try await write { transaction in
            try FlowAdmission(transaction).freeSlotsOfExpiredLeases(now: current)
            let candidates = try transaction.session.rows(
                """
                SELECT m.*, r.concurrency_key, r.concurrency_limit, r.rate_key, r.rate_limit, r.rate_period
                FROM messages m JOIN runs r ON r.id = m.run_id
                WHERE m.due_at <= ? AND (m.lease_until IS NULL OR m.lease_until < ?) AND m.waiting_for_slot = 0
                ORDER BY m.due_at, m.id LIMIT ? FOR UPDATE OF m SKIP LOCKED
                """, [current, current, limit * 4])
            var claimed = ClaimedMessages(messages: [], fired: [])
            for row in candidates where claimed.messages.count + claimed.fired.count < limit {
                guard let candidate = PostgresRecords.message(row) else { continue }
                if candidate.kind == .deliver,
                    try !FlowAdmission(transaction).admit(PostgresRecords.flowControl(row), .message(candidate.id), now: current)
                {
                    continue
                }
                // A timer fired earlier in this claim may have leased this delivery already.
                guard let message = try Self.lease(transaction, candidate, at: now, owner: owner, until: leaseUntil) else { continue }
                guard message.kind == .timer else {
                    claimed.messages.append(message)
                    continue
                }
                claimed.fired.append(
                    try Self.fire(message, transaction, owner: owner, until: leaseUntil, journalFrom: timers.journalFrom(message.runId)))
            }
            return claimed
        }
    }

    /// Fires the timer `message` the claim just leased (`RunTransitions.fireTimer`), leasing its
    /// run's delivery until `until` and reading its journal from `journalFrom` when it does.
    private static func fire(_ message: PendingMessage, _ transaction: PostgresTransaction, owner: String, until: TimestampValue, journalFrom: Int)
        throws -> FiredTimer
    {
        let fired = try RunTransitions(transaction).fireTimer(message, owner: owner, leasingNextUntil: until)
        let next = try fired.next.map { try leased($0, transaction.session, journalFrom: journalFrom) }
        return FiredTimer(timer: message, completed: fired.completed, recorded: fired.recorded, next: next)
    }

    /// Leases the due message `message` to `owner` until `until` with a new lease token, unless
    /// it was leased since it was read; `nil` then.
    private static func lease(_ transaction: PostgresTransaction, _ message: PendingMessage, at now: TimestampValue, owner: String, until: TimestampValue)
        throws -> PendingMessage?
    {
        var leased = message
        leased.claimedAt = now
        leased.lease = PendingMessage.newLease()
        let changed = try transaction.session.changes(
            """
            UPDATE messages SET lease_owner = ?, lease_until = ?, lease_token = ?, redeliver = 0
            WHERE id = ? AND (lease_until IS NULL OR lease_until < ?)
            """, [owner, PostgresTransaction.at(until), leased.lease, leased.id, PostgresTransaction.at(now)])
        return changed ? leased : nil
    }

    public func claimDueQueued(now: TimestampValue, limit: Int, owner: String, leaseUntil: TimestampValue) async throws -> [QueuedMessage] {
        let current = PostgresTransaction.at(now)
        return try await write { transaction in
            try FlowAdmission(transaction).freeSlotsOfExpiredLeases(now: current)
            let rows = try transaction.session.rows(
                """
                SELECT * FROM queue WHERE due_at <= ? AND (lease_until IS NULL OR lease_until < ?) AND waiting_for_slot = 0
                ORDER BY due_at, id LIMIT ? FOR UPDATE SKIP LOCKED
                """, [current, current, limit * 4])
            var claimed: [QueuedMessage] = []
            for row in rows where claimed.count < limit {
                let id: String = try row("id")
                let message = PostgresRecords.queuedMessage(row)
                if try !FlowAdmission(transaction).admit(message?.flowControl, .queued(id), now: current) { continue }
                try transaction.session.execute(
                    "UPDATE queue SET lease_owner = ?, lease_until = ? WHERE id = ?", [owner, PostgresTransaction.at(leaseUntil), id])
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
                    (SELECT MIN(lease_until) FROM messages WHERE lease_until IS NOT NULL))
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
        let queued = try session.value("SELECT COUNT(*) FROM queue WHERE flow_key = ? AND lease_until >= ?", [key, now], as: Int.self) ?? 0
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

    func recordStart(key: String, at time: Int64, period: Int64) throws {
        try session.execute("INSERT INTO rate_starts (key, started_at, period) VALUES (?, ?, ?)", [key, time, period])
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
