import GRDB
import StepwiseEngine
import StepwiseExpressions
import StepwiseRuntime

/// Pending operations (timers, waits, calls, child runs) and notifications, applied by `RunTransitions`.
extension SQLiteStore {
    public func completeOperation(_ message: PendingMessage, owner: String, entry: JournalEntry?, record: AttemptRecord?) async throws
        -> Bool
    {
        try await groupCommit.write { db in
            try SQLiteTransaction.transitions(db).completeOperation(message, owner: owner, entry: entry, record: record)
        }
    }

    public func fireTimer(_ message: PendingMessage, owner: String, leasingNext lease: NextLease?) async throws -> FiredTimer {
        try await groupCommit.write { db in
            let fired = try SQLiteTransaction.transitions(db).fireTimer(message, owner: owner, leasingNextUntil: lease?.until)
            let next = try fired.next.map { try Self.leased($0, db, journalFrom: lease?.journalFrom ?? 0) }
            return FiredTimer(completed: fired.completed, recorded: fired.recorded, next: next)
        }
    }

    public func fireSleepsAhead(after now: TimestampValue, dueBy horizon: TimestampValue, limit: Int, owner: String, leaseUntil: TimestampValue)
        async throws -> [SleepFiredAhead]
    {
        try await groupCommit.write { db in
            try SQLiteTransaction.transitions(db).fireSleepsAhead(after: now, dueBy: horizon, limit: limit, owner: owner, leaseUntil: leaseUntil)
        }
    }

    public func messagesHeld(_ messages: [PendingMessage], owner: String) async throws -> Set<Int64> {
        guard !messages.isEmpty else { return [] }
        // The ids go as one JSON array, however many there are (as the message log's filter does).
        let ids = try StoredJSON.text(messages.map(\.id))
        let tokens = try await pool.read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT id, lease_token FROM messages WHERE lease_owner = ? AND id IN (SELECT value FROM json_each(?))"),
                arguments: [owner, ids]
            ).map { ($0["id"] as Int64, $0["lease_token"] as Int64?) }
        }
        return PendingMessage.stillHeld(messages, tokens: Dictionary(tokens, uniquingKeysWith: { first, _ in first }))
    }

    public func operation(runId: String, stepName: String) async throws -> StepOperation? {
        try await pool.read { db in try SQLiteTransaction(db).operation(runId: runId, stepName: stepName) }
    }

    public func notify(event: String, data: Value, runId: String?, at time: TimestampValue) async throws -> NotifyResult {
        try await groupCommit.write { db in try SQLiteTransaction.transitions(db).notify(event: event, data: data, runId: runId, at: time) }
    }

    public func keepWebhookCall(runId: String, eventId: String, request: String, returned: Bool, at time: TimestampValue) async throws -> WebhookOutcome {
        try await groupCommit.write { db in
            try SQLiteTransaction.transitions(db).keepWebhookCall(runId: runId, eventId: eventId, request: request, returned: returned, at: time)
        }
    }

    public func waiters(event: String) async throws -> [Waiter] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT o.run_id, o.step_name, o.kind, o.payload, o.event_id, o.timeout_at, r.workflow FROM operations o JOIN runs r ON r.id = o.run_id
                    WHERE o.event_id = ? AND o.kind IN ('wait', 'endpoint-wait') ORDER BY o.created_at, o.run_id
                    """,
                arguments: [event]
            ).compactMap { row in
                SQLiteTime.timestamp(row["timeout_at"]).map { timeout in
                    Waiter(
                        runId: row["run_id"], workflow: row["workflow"], kind: row["kind"], stepKey: row["step_name"], payload: row["payload"],
                        event: row["event_id"], timeoutAt: timeout)
                }
            }
        }
    }
}
