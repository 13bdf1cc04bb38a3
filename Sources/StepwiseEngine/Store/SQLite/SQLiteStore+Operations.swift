import GRDB
import StepwiseExpressions
import StepwiseRuntime

/// Pending operations (timers, waits, calls, child runs), notifications and the end of runs.
extension SQLiteStore {
    public func completeOperation(_ message: PendingMessage, owner: String, entry: JournalEntry?, record: AttemptRecord?) async throws
        -> Bool
    {
        try await completions.write { db in try Self.completeOperation(db, message, owner: owner, entry: entry, record: record) }
    }

    public func completeOperation(
        _ message: PendingMessage, owner: String, entry: JournalEntry?, record: AttemptRecord?, leasingNextUntil leaseUntil: TimestampValue
    ) async throws -> (completed: Bool, next: PendingMessage?) {
        try await completions.write { db in
            let completed = try Self.completeOperation(db, message, owner: owner, entry: entry, record: record)
            guard completed else { return (false, nil) }
            let now = record?.finishedAt ?? message.dueAt
            return (true, try Self.leaseDelivery(db, runId: message.runId, owner: owner, until: leaseUntil, dueBy: now))
        }
    }

    /// Completes a claimed timer or call inside a transaction.
    private static func completeOperation(
        _ db: Database, _ message: PendingMessage, owner: String, entry: JournalEntry?, record: AttemptRecord?
    ) throws -> Bool {
        guard try take(db, message, owner: owner) != nil, let stepName = message.stepName else { return false }
        guard let run = try fetchRun(db, id: message.runId), run.status == .running else { return false }
        let now = SQLiteTime.milliseconds(record?.finishedAt ?? message.dueAt)
        try db.cachedStatement(sql: "DELETE FROM operations WHERE run_id = ? AND step_name = ?").execute(arguments: [run.id, stepName])
        if let entry { try append(db, runId: run.id, entry: entry, at: now) }
        if let record { try insert(db, record) }
        try deliver(db, runId: run.id, attempt: 0, dueAt: now, at: now)
        return true
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
            .flatMap { try? Value(json: $0) }.flatMap(StepOperation.init(json:))
        }
    }

    public func notify(event: String, data: Value, runId: String?, at time: TimestampValue) async throws -> NotifyResult {
        try await pool.write { db in
            let now = SQLiteTime.milliseconds(time)
            let woken = try Self.wake(db, event: event, data: data, runId: runId, at: now)
            guard let runId, woken.isEmpty, let run = try Self.fetchRun(db, id: runId), run.status == .running else {
                return NotifyResult(woken: woken, stored: false)
            }
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO events (run_id, event_id, data, created_at) VALUES (?, ?, ?, ?)").execute(
                arguments: [runId, event, data.jsonText(), now])
            return NotifyResult(woken: [], stored: true)
        }
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

    // MARK: Within transactions

    /// Deletes a claimed message if `owner` still holds it; whether an operation completed while
    /// it was in flight (the run must be delivered again), or `nil` when the lease was lost.
    static func take(_ db: Database, _ message: PendingMessage, owner: String) throws -> Bool? {
        try Row.fetchOne(
            db.cachedStatement(sql: "DELETE FROM messages WHERE id = ? AND lease_owner = ? RETURNING redeliver"),
            arguments: [message.id, owner]
        ).map { ($0["redeliver"] as Int) != 0 }
    }

    /// Makes sure the run has a delivery due by `dueAt`. If one is in flight, it is marked to be
    /// delivered again when it finishes, since it cannot see what changed.
    static func deliver(_ db: Database, runId: String, attempt: Int, dueAt: Int64, at time: Int64) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO messages (run_id, kind, attempt, due_at, created_at) VALUES (?, 'deliver', ?, ?, ?)
                ON CONFLICT(run_id) WHERE kind = 'deliver' DO UPDATE SET
                    due_at = MIN(due_at, excluded.due_at),
                    redeliver = CASE WHEN lease_owner IS NULL THEN redeliver ELSE 1 END
                """
        ).execute(arguments: [runId, attempt, dueAt, time])
    }

    /// Applies one submitted step; whether it appended an entry to the run's journal.
    static func apply(_ db: Database, _ submission: StepSubmission, of run: RunRecord, children: [String: RunRecord], at now: Int64) throws
        -> Bool
    {
        let operation: StepOperation
        switch submission {
        case .record(let entry):
            try append(db, runId: run.id, entry: entry, at: now)
            return true
        case .plan:
            // Only the protocol runner plans steps; in process there is nothing to record.
            return false
        case .park(let parked):
            operation = parked
        }
        let exists =
            try Bool.fetchOne(
                db.cachedStatement(sql: "SELECT 1 FROM operations WHERE run_id = ? AND step_name = ?"),
                arguments: [run.id, operation.stepName]) ?? false
        if exists { return false }
        switch operation.kind {
        case .sleep(let until):
            try insert(db, operation, of: run.id, timeoutAt: nil, at: now)
            try timer(db, operation, of: run.id, kind: .timer, dueAt: SQLiteTime.millisecondsRoundedUp(until), at: now)
        case .retry(let at, _):
            try insert(db, operation, of: run.id, timeoutAt: nil, at: now)
            try db.cachedStatement(
                sql: """
                    INSERT INTO step_failures (run_id, step_name, failures) VALUES (?, ?, 1)
                    ON CONFLICT(run_id, step_name) DO UPDATE SET failures = failures + 1
                    """
            ).execute(arguments: [run.id, operation.stepName])
            try timer(db, operation, of: run.id, kind: .timer, dueAt: SQLiteTime.millisecondsRoundedUp(at), at: now)
        case .wait(let event, let timeoutAt):
            if let stored = try String.fetchOne(
                db.cachedStatement(sql: "DELETE FROM events WHERE run_id = ? AND event_id = ? RETURNING data"), arguments: [run.id, event])
            {
                try append(
                    db, runId: run.id, entry: operation.entry(out: StepOperation.waitResult(data: (try? Value(json: stored)) ?? .null)),
                    at: now)
                return true
            }
            try insert(db, operation, of: run.id, timeoutAt: SQLiteTime.millisecondsRoundedUp(timeoutAt), event: event, at: now)
            try timer(db, operation, of: run.id, kind: .timer, dueAt: SQLiteTime.millisecondsRoundedUp(timeoutAt), at: now)
        case .call:
            try insert(db, operation, of: run.id, timeoutAt: nil, at: now)
            try timer(db, operation, of: run.id, kind: .call, dueAt: now, at: now)
        case .invoke:
            guard let child = children[operation.stepName] else {
                let failure = StepError(message: "no run could be started for this step", type: "InvokeError", step: operation.stepName)
                try append(db, runId: run.id, entry: operation.entry(out: nil, error: failure), at: now)
                return true
            }
            if let existing = try fetchRun(db, id: child.id) {
                guard existing.parent?.runId == run.id, existing.parent?.step == operation.stepName else {
                    let failure = StepError(
                        message: "run id '\(child.id)' already belongs to another run; the child was not started", type: "InvokeError",
                        step: operation.stepName)
                    try append(db, runId: run.id, entry: operation.entry(out: nil, error: failure), at: now)
                    return true
                }
            } else {
                try insertRun(db, child)
            }
            try insert(db, operation, of: run.id, timeoutAt: nil, child: child.id, at: now)
        case .notify(let event, let data):
            var woken = try wake(db, event: event, data: data, runId: nil, at: now)
            // SDK runs waiting on the event too, their results planned by `EndpointWake`.
            for wait in try endpointWaits(db, event: event, runId: nil) {
                let publication = try EndpointWake.publication(for: wait, data: data, defaults: try runDefaults(db, runId: wait.runId), now: SQLiteTime.timestamp(now) ?? .epoch)
                if try resolveEndpointWait(db, wait, with: publication, at: now) { woken.append(wait.runId) }
            }
            try append(db, runId: run.id, entry: operation.entry(out: ["waiters": .list(woken.map(Value.string))]), at: now)
            return true
        }
        return false
    }

    private static func insert(
        _ db: Database, _ operation: StepOperation, of runId: String, timeoutAt: Int64?, event: String? = nil, child: String? = nil,
        at now: Int64
    ) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO operations (run_id, step_name, kind, event_id, child_run_id, timeout_at, payload, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [runId, operation.stepName, operation.kindName, event, child, timeoutAt, operation.json.jsonText(), now])
    }

    private static func timer(
        _ db: Database, _ operation: StepOperation, of runId: String, kind: PendingMessage.Kind, dueAt: Int64, at now: Int64
    ) throws {
        try db.cachedStatement(sql: "INSERT INTO messages (run_id, kind, step_name, attempt, due_at, created_at) VALUES (?, ?, ?, 0, ?, ?)")
            .execute(arguments: [runId, kind.rawValue, operation.stepName, dueAt, now])
    }

    /// Completes the waits on `event` (of `runId` only, when given) with `data`; the runs woken.
    static func wake(_ db: Database, event: String, data: Value, runId: String?, at now: Int64) throws -> [String] {
        var sql =
            "SELECT o.run_id, o.payload FROM operations o JOIN runs r ON r.id = o.run_id WHERE o.event_id = ? AND o.kind = 'wait' AND r.status = 'running'"
        var arguments: StatementArguments = [event]
        if let runId {
            sql += " AND o.run_id = ?"
            arguments += [runId]
        }
        var woken: [String] = []
        for row in try Row.fetchAll(db, sql: sql + " ORDER BY o.created_at, o.run_id", arguments: arguments) {
            guard let operation = (try? Value(json: row["payload"] as String)).flatMap(StepOperation.init(json:)) else { continue }
            let waiter: String = row["run_id"]
            try resolve(db, runId: waiter, operation: operation, entry: operation.entry(out: StepOperation.waitResult(data: data)), at: now)
            woken.append(waiter)
        }
        return woken
    }

    /// Completes a pending operation from outside (an event, a child run's end): appends its
    /// entry, drops its timer, delivers the run.
    private static func resolve(_ db: Database, runId: String, operation: StepOperation, entry: JournalEntry, at now: Int64) throws {
        try db.cachedStatement(sql: "DELETE FROM operations WHERE run_id = ? AND step_name = ?").execute(arguments: [
            runId, operation.stepName,
        ])
        try db.cachedStatement(sql: "DELETE FROM messages WHERE run_id = ? AND kind != 'deliver' AND step_name = ?").execute(arguments: [
            runId, operation.stepName,
        ])
        try append(db, runId: runId, entry: entry, at: now)
        try deliver(db, runId: runId, attempt: 0, dueAt: now, at: now)
    }

    /// Ends a run that reached a final status: drops what it still had pending, cancels its
    /// children, completes the parent's `invoke`, and dead-letters it when it failed.
    static func finish(_ db: Database, runId: String, status: RunStatus, at now: Int64) throws {
        try db.cachedStatement(sql: "DELETE FROM messages WHERE run_id = ?").execute(arguments: [runId])
        try db.cachedStatement(sql: "DELETE FROM queue WHERE run_id = ?").execute(arguments: [runId])
        let children = try String.fetchAll(
            db.cachedStatement(sql: "SELECT child_run_id FROM operations WHERE run_id = ? AND child_run_id IS NOT NULL"), arguments: [runId]
        )
        try db.cachedStatement(sql: "DELETE FROM operations WHERE run_id = ?").execute(arguments: [runId])
        try db.cachedStatement(sql: "DELETE FROM step_failures WHERE run_id = ?").execute(arguments: [runId])
        try db.cachedStatement(sql: "DELETE FROM events WHERE run_id = ?").execute(arguments: [runId])
        for child in children { _ = try cancel(db, runId: child, at: now) }
        if status == .failed {
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO dead_letters (id, run_id, created_at) VALUES (?, ?, ?)").execute(
                arguments: ["dlq_" + runId, runId, now])
        }
        let invoked = try String.fetchAll(
            db.cachedStatement(sql: "SELECT id FROM runs WHERE parent_run_id = ? AND endpoint_invoker IS NOT NULL AND status = 'running'"),
            arguments: [runId])
        for child in invoked { _ = try cancel(db, runId: child, at: now) }
        guard let run = try fetchRun(db, id: runId) else { return }
        if let invoker = run.invoker { return try reportToInvoker(db, invoker, of: run, status: status, at: now) }
        guard let parent = run.parent,
            let payload = try String.fetchOne(
                db.cachedStatement(sql: "SELECT payload FROM operations WHERE run_id = ? AND step_name = ? AND child_run_id = ?"),
                arguments: [parent.runId, parent.step, runId]),
            let operation = (try? Value(json: payload)).flatMap(StepOperation.init(json:))
        else { return }
        var result = ValueMap([("status", .string(status.rawValue)), ("output", run.output ?? .null), ("run_id", .string(run.id))])
        if let error = run.error { result[.string("error")] = error.value }
        try resolve(db, runId: parent.runId, operation: operation, entry: operation.entry(out: .map(result)), at: now)
    }

    /// Cancels a running run (and, through `finish`, its children), keeping `reason` as its error.
    static func cancel(_ db: Database, runId: String, reason: StepError? = nil, at now: Int64) throws -> Bool {
        try db.cachedStatement(
            sql: "UPDATE runs SET status = 'canceled', error = COALESCE(?, error), updated_at = ? WHERE id = ? AND status = 'running'"
        ).execute(arguments: [reason?.value.jsonText(), now, runId])
        guard db.changesCount > 0 else { return false }
        if let run = try fetchRun(db, id: runId) { try releaseSlot(db, of: run) }
        try finish(db, runId: runId, status: .canceled, at: now)
        return true
    }
}

extension SQLiteStore {
    /// Publishes the end of an invoked SDK run to its parent's log (`EndpointInvoker`); nothing
    /// when the parent has ended meanwhile.
    static func reportToInvoker(_ db: Database, _ invoker: EndpointInvoker, of run: RunRecord, status: RunStatus, at now: Int64) throws {
        guard let time = SQLiteTime.timestamp(now),
            let publication = try? PublicationPlanner(now: time).plan(invoker.resolution(status: status, output: run.output, error: run.error))
        else { return }
        _ = try apply(db, publication, at: now)
    }
}
