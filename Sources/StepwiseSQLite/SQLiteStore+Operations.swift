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
        try await pool.read { db in
            var held: Set<Int64> = []
            // In chunks: SQLite binds at most 32,766 values to a statement.
            for chunk in stride(from: 0, to: messages.count, by: 500).map({ messages[$0..<min($0 + 500, messages.count)] }) {
                let placeholders = Array(repeating: "?", count: chunk.count).joined(separator: ", ")
                let rows = try Row.fetchAll(
                    db, sql: "SELECT id, lease_token FROM messages WHERE lease_owner = ? AND id IN (\(placeholders))",
                    arguments: StatementArguments([owner] + chunk.map { $0.id as any DatabaseValueConvertible }))
                let tokens = Dictionary(rows.map { ($0["id"] as Int64, $0["lease_token"] as Int64?) }, uniquingKeysWith: { first, _ in first })
                held.formUnion(chunk.filter { tokens[$0.id] == .some($0.lease) }.map(\.id))
            }
            return held
        }
    }

    public func operation(runId: String, stepName: String) async throws -> StepOperation? {
        try await pool.read { db in try SQLiteTransaction(db).operation(runId: runId, stepName: stepName) }
    }

    public func notify(event: String, data: Value, runId: String?, at time: TimestampValue) async throws -> NotifyResult {
        try await groupCommit.write { db in try SQLiteTransaction.transitions(db).notify(event: event, data: data, runId: runId, at: time) }
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
