import Foundation
import GRDB
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// `StoreTransaction` over one GRDB transaction: the row operations of the SQLite schema, with
/// times as milliseconds since the epoch (due times rounded up).
struct SQLiteTransaction: StoreTransaction {
    let db: Database

    init(_ db: Database) {
        self.db = db
    }

    /// `RunTransitions` applied in this transaction.
    static func transitions(_ db: Database) -> RunTransitions<SQLiteTransaction> {
        RunTransitions(SQLiteTransaction(db))
    }

    private func execute(_ sql: String, _ arguments: StatementArguments = []) throws {
        try db.cachedStatement(sql: sql).execute(arguments: arguments)
    }

    /// Runs `sql` and tells whether it changed any row.
    private func changes(_ sql: String, _ arguments: StatementArguments) throws -> Bool {
        try execute(sql, arguments)
        return db.changesCount > 0
    }

    private static func at(_ time: TimestampValue) -> Int64 { SQLiteTime.milliseconds(time) }
    private static func due(_ time: TimestampValue) -> Int64 { SQLiteTime.millisecondsRoundedUp(time) }

    // MARK: Runs

    func run(id: String) throws -> RunRecord? {
        try SQLiteStore.fetchRun(db, id: id)
    }

    func insertRun(_ run: RunRecord) throws {
        let created = Self.at(run.createdAt)
        let flow = run.flowControl
        try execute(
            """
            INSERT INTO runs (id, workflow, definition_hash, input, status, phase, created_at, updated_at, parent_run_id, parent_step,
                concurrency_key, concurrency_limit, rate_key, rate_limit, rate_period, endpoint_url, endpoint_defaults, endpoint_invoker, label,
                flow_key, caller_ip, deadline_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                run.id, run.workflow, run.endpoint == nil ? run.definitionHash : nil, run.input.jsonText(), run.status.rawValue,
                run.phase.rawValue, created, created,
                run.parent?.runId, run.parent?.step, flow?.concurrencyKey, flow?.concurrencyLimit, flow?.rateKey, flow?.rateLimit,
                flow?.ratePeriod, run.endpoint, try run.defaults.map(StoredJSON.text), try run.invoker.map(StoredJSON.text), run.label, run.flowControlKey,
                run.callerIp, run.deadline.map(Self.due),
            ])
        try insertLabels(runId: run.id, label: run.label)
    }

    /// Gives run `runId` a row for each label `label` names, with the run's start, in one
    /// statement; nothing for a run without a label (every YAML start goes past here).
    private func insertLabels(runId: String, label: String?) throws {
        guard let label, let labels = try StoredJSON.list(CommaList.items(label)) else { return }
        try db.cachedStatement(sql: "INSERT INTO run_labels (run_id, label, created_at) SELECT runs.id, labels.value, runs.created_at FROM runs, json_each(?) AS labels WHERE runs.id = ?")
            .execute(arguments: [labels, runId])
    }

    func updateRun(id: String, status: RunStatus?, phase: RunPhase?, output: Value?, error: StepError?, at time: TimestampValue) throws {
        let output = output?.jsonText()
        let error = error.map { $0.value.jsonText() }
        // SQLite rewrites the index of every column a SET names, changed or not: a step that leaves
        // the status as it was does not name it.
        guard status != nil || phase != nil else {
            return try execute(
                "UPDATE runs SET output = COALESCE(?, output), error = COALESCE(?, error), updated_at = ? WHERE id = ?", [output, error, Self.at(time), id])
        }
        try execute(
            """
            UPDATE runs SET status = COALESCE(?, status), phase = COALESCE(?, phase), output = COALESCE(?, output), error = COALESCE(?, error),
                updated_at = ? WHERE id = ?
            """,
            [status?.rawValue, phase?.rawValue, output, error, Self.at(time), id])
    }

    func endRun(id: String, status: RunStatus, output: Value?, error: StepError?, at time: TimestampValue) throws -> Bool {
        try changes(
            """
            UPDATE runs SET status = ?, output = COALESCE(?, output), error = COALESCE(?, error), updated_at = ?
            WHERE id = ? AND status = 'running'
            """,
            [status.rawValue, output?.jsonText(), error.map { $0.value.jsonText() }, Self.at(time), id])
    }

    func reopenRun(id: String, at time: TimestampValue) throws {
        try execute(
            """
            UPDATE runs SET status = 'running', phase = 'main', error = NULL, output = NULL, failure_position = NULL, updated_at = ?,
                deadline_at = ? + deadline_at - created_at
            WHERE id = ?
            """, [Self.at(time), Self.at(time), id])
        try execute("UPDATE messages SET lease_owner = NULL, lease_token = NULL WHERE run_id = ? AND kind = 'deliver'", [id])
    }

    func setRunOptions(id: String, label: String?, defaults: RunDefaults?, flowControlKey: String?) throws {
        try execute("UPDATE runs SET label = ?, endpoint_defaults = ?, flow_key = ? WHERE id = ?", [label, try defaults.map(StoredJSON.text), flowControlKey, id])
        try execute("DELETE FROM run_labels WHERE run_id = ?", [id])
        try insertLabels(runId: id, label: label)
    }

    func markFailurePosition(runId: String) throws {
        try execute(
            "UPDATE runs SET failure_position = COALESCE(failure_position, (SELECT COUNT(*) FROM journal WHERE run_id = ?)) WHERE id = ?",
            [runId, runId])
    }

    func failurePosition(runId: String) throws -> Int? {
        try Int.fetchOne(db.cachedStatement(sql: "SELECT failure_position FROM runs WHERE id = ?"), arguments: [runId])
    }

    func childRunIds(of runId: String) throws -> [String] {
        try String.fetchAll(
            db.cachedStatement(sql: "SELECT child_run_id FROM operations WHERE run_id = ? AND child_run_id IS NOT NULL"), arguments: [runId])
    }

    func runningInvokedRuns(of runId: String) throws -> [String] {
        try String.fetchAll(
            db.cachedStatement(sql: "SELECT id FROM runs WHERE parent_run_id = ? AND endpoint_invoker IS NOT NULL AND status = 'running'"),
            arguments: [runId])
    }

    func runDefaults(runId: String) throws -> RunDefaults? {
        try SQLiteStore.runDefaults(db, runId: runId)
    }

    // MARK: Journal and deliveries

    func append(runId: String, entry: JournalEntry, at time: TimestampValue) throws {
        // MAX over the primary key is one index lookup; COUNT(*) would walk the run's whole journal.
        let position =
            try Int.fetchOne(db.cachedStatement(sql: "SELECT MAX(position) + 1 FROM journal WHERE run_id = ?"), arguments: [runId]) ?? 0
        var numbered = entry
        numbered.stepId = position
        // The primary key (run_id, position) makes recording two results at one position impossible.
        try execute(
            "INSERT INTO journal (run_id, position, entry, recorded_at) VALUES (?, ?, ?, ?)",
            [runId, position, numbered.json.jsonText(), Self.at(time)])
    }

    func journalRows(runId: String) throws -> [(position: Int, entry: JournalEntry?)] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT position, entry FROM journal WHERE run_id = ? ORDER BY position"), arguments: [runId])
            .map { row in (row["position"], (try? Value(json: row["entry"] as String)).flatMap { try? JournalEntry(json: $0) }) }
    }

    func removeJournalEntries(runId: String, positions: [Int]) throws {
        for position in positions { try execute("DELETE FROM journal WHERE run_id = ? AND position = ?", [runId, position]) }
        // Close the gaps, so positions stay 0, 1, 2, … as appends expect.
        let kept = try Int.fetchAll(
            db.cachedStatement(sql: "SELECT position FROM journal WHERE run_id = ? ORDER BY position"), arguments: [runId])
        for (index, position) in kept.enumerated() where index != position {
            try execute("UPDATE journal SET position = ? WHERE run_id = ? AND position = ?", [index, runId, position])
        }
    }

    func deliver(runId: String, attempt: Int, dueAt: TimestampValue, at time: TimestampValue) throws {
        try execute(
            """
            INSERT INTO messages (run_id, kind, attempt, due_at, created_at) VALUES (?, 'deliver', ?, ?, ?)
            ON CONFLICT(run_id) WHERE kind = 'deliver' DO UPDATE SET
                due_at = MIN(due_at, excluded.due_at),
                redeliver = CASE WHEN lease_owner IS NULL THEN redeliver ELSE 1 END
            """, [runId, attempt, Self.due(dueAt), Self.at(time)])
    }

    func deliverLeased(runId: String, attempt: Int, dueAt: TimestampValue, at time: TimestampValue, owner: String, until leaseUntil: TimestampValue)
        throws -> PendingMessage?
    {
        // Who holds the run's delivery is read first: a lease is taken only from no one. (Telling
        // from an upsert's result whether it took the lease would mistake another holder of the
        // same owner and lease end for this one.)
        let existing = try SQLiteStore.decodeRows(
            db.cachedStatement(sql: "SELECT * FROM messages WHERE run_id = ? AND kind = 'deliver'"), [runId]
        ) { row in SQLiteStore.message(row).map { (message: $0, free: (row["lease_owner"] as String?) == nil && (row["waiting_for_slot"] as Int) == 0) } }.first
        let due = dueAt.roundedUpToMillisecond
        guard let existing else {
            let lease = PendingMessage.newLease()
            let id = try Int64.fetchOne(
                db.cachedStatement(
                    sql: """
                        INSERT INTO messages (run_id, kind, attempt, due_at, created_at, lease_owner, lease_until, lease_token)
                        VALUES (?, 'deliver', ?, ?, ?, ?, ?, ?)
                        RETURNING id
                        """),
                arguments: [runId, attempt, Self.due(dueAt), Self.at(time), owner, Self.at(leaseUntil), lease])
            return id.map { id in
                var message = PendingMessage(id: id, runId: runId, kind: .deliver, attempt: attempt, dueAt: due)
                message.lease = lease
                return message
            }
        }
        guard existing.free else {
            try deliver(runId: runId, attempt: attempt, dueAt: dueAt, at: time)
            return nil
        }
        var leased = existing.message
        leased.dueAt = min(leased.dueAt, due)
        leased.lease = PendingMessage.newLease()
        try execute(
            "UPDATE messages SET due_at = ?, redeliver = 0, lease_owner = ?, lease_until = ?, lease_token = ? WHERE id = ?",
            [SQLiteTime.milliseconds(leased.dueAt), owner, Self.at(leaseUntil), leased.lease, leased.id])
        return leased
    }

    func hold(_ message: PendingMessage, owner: String) throws -> Bool? {
        try Int.fetchOne(
            db.cachedStatement(sql: "SELECT redeliver FROM messages WHERE id = ? AND lease_owner = ? AND lease_token IS ?"),
            arguments: [message.id, owner, message.lease]
        ).map { $0 != 0 }
    }

    func redeliver(_ message: PendingMessage, attempt: Int, dueAt: TimestampValue, at now: TimestampValue, kept: KeptLease?) throws
        -> PendingMessage?
    {
        guard let kept else {
            try execute(
                """
                UPDATE messages SET attempt = ?, due_at = CASE WHEN redeliver = 1 THEN MIN(?, ?) ELSE ? END, redeliver = 0,
                    lease_owner = NULL, lease_until = NULL
                WHERE id = ?
                """, [attempt, Self.due(now), Self.due(dueAt), Self.due(dueAt), message.id])
            return nil
        }
        // SQLite rewrites the indexes of the columns a SET names only in the rows the WHERE matches,
        // and most steps change nothing in the row: it is matched only to change something.
        try execute(
            """
            UPDATE messages SET attempt = ?, redeliver = 0, lease_until = MAX(COALESCE(lease_until, 0), ?)
            WHERE id = ? AND (attempt <> ? OR redeliver <> 0 OR lease_until < ?)
            """, [attempt, Self.at(kept.until), message.id, attempt, Self.at(kept.renewBefore)])
        var next = message
        next.attempt = attempt
        next.dueAt = dueAt.roundedUpToMillisecond
        return next
    }

    func drop(_ message: PendingMessage) throws {
        try execute("DELETE FROM messages WHERE id = ?", [message.id])
    }

    func leaseLoneSleepTimers(after now: TimestampValue, dueBy horizon: TimestampValue, limit: Int, owner: String, until leaseUntil: TimestampValue)
        throws -> [PendingMessage]
    {
        let timers = try SQLiteStore.decodeRows(
            db.cachedStatement(
                sql: """
                    SELECT m.* FROM messages m JOIN operations o ON o.run_id = m.run_id AND o.step_name = m.step_name AND o.kind = 'sleep'
                    JOIN runs r ON r.id = m.run_id AND r.concurrency_key IS NULL AND r.rate_key IS NULL
                    WHERE m.kind = 'timer' AND m.due_at > ? AND m.due_at <= ? AND m.lease_until IS NULL
                    AND NOT EXISTS (SELECT 1 FROM operations p WHERE p.run_id = m.run_id AND p.step_name <> m.step_name)
                    AND NOT EXISTS (SELECT 1 FROM messages d WHERE d.run_id = m.run_id AND d.id <> m.id)
                    ORDER BY m.due_at, m.id LIMIT ?
                    """),
            [Self.at(now), Self.due(horizon), limit], SQLiteStore.message)
        guard !timers.isEmpty else { return [] }
        // One statement and one token for the batch: a token tells a message's leases apart, not messages.
        let lease = PendingMessage.newLease()
        try execute(
            "UPDATE messages SET lease_owner = ?, lease_until = ?, lease_token = ? WHERE id IN (SELECT value FROM json_each(?))",
            [owner, Self.at(leaseUntil), lease, try StoredJSON.text(timers.map(\.id))])
        return timers.map { timer in
            var leased = timer
            leased.lease = lease
            return leased
        }
    }

    func take(_ message: PendingMessage, owner: String) throws -> Bool? {
        try Int.fetchOne(
            db.cachedStatement(sql: "DELETE FROM messages WHERE id = ? AND lease_owner = ? AND lease_token IS ? RETURNING redeliver"),
            arguments: [message.id, owner, message.lease]
        ).map { $0 != 0 }
    }

    func record(_ attempt: AttemptRecord) throws {
        try execute(
            "INSERT INTO attempts (run_id, position, attempt, started_at, finished_at, outcome, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                attempt.runId, attempt.position, attempt.attempt, Self.at(attempt.startedAt), Self.at(attempt.finishedAt), attempt.outcome,
                attempt.detail,
            ])
    }

    func clearPendingWork(runId: String, keepingDeliveryLeasedAt time: TimestampValue?) throws -> [RunQueuedMessage] {
        // Two statements for messages, each using its index: a run's delivery, its timers and calls.
        try execute(
            "DELETE FROM messages WHERE run_id = ? AND kind = 'deliver' AND (? IS NULL OR lease_until IS NULL OR lease_until < ? OR due_at > ?)",
            [runId, time.map(Self.at), time.map(Self.at), time.map(Self.at)])
        try execute("DELETE FROM messages WHERE run_id = ? AND kind <> 'deliver'", [runId])
        for table in ["operations", "step_failures", "events"] {
            try execute("DELETE FROM \(table) WHERE run_id = ?", [runId])
        }
        // RETURNING gives its rows in no set order: they are put back in the queue's.
        let kept = "(? IS NOT NULL AND lease_until IS NOT NULL AND lease_until >= ?)"
        let dropped = try SQLiteStore.decodeRows(
            db.cachedStatement(sql: "DELETE FROM queue WHERE run_id = ? AND NOT \(kept) RETURNING rowid AS queue_order, \(Self.runQueuedColumns)"),
            [runId, time.map(Self.at), time.map(Self.at)]
        ) { row in (order: row["queue_order"] as Int64, Self.runQueued(row)) }
        return dropped.sorted { $0.order < $1.order }.map(\.1)
    }

    func queuedMessages(runId: String) throws -> [RunQueuedMessage] {
        try SQLiteStore.decodeRows(
            db.cachedStatement(sql: "SELECT \(Self.runQueuedColumns) FROM queue WHERE run_id = ? ORDER BY rowid"), [runId], Self.runQueued)
    }

    /// What a `RunQueuedMessage` is read from: the bodies stay behind (a NULL for the row decoder).
    private static let runQueuedColumns = "spec, NULL AS body, attempt, due_at, flow_key, lease_until"

    private static func runQueued(_ row: Row) -> RunQueuedMessage {
        RunQueuedMessage(message: SQLiteStore.queuedMessage(row), flowKey: row["flow_key"], leasedUntil: row["lease_until"])
    }

    func releaseSlot(key: String) throws {
        try SQLiteStore.releaseSlot(db, key: key)
    }

    // MARK: Operations

    func hasOperation(runId: String, stepName: String) throws -> Bool {
        try Bool.fetchOne(
            db.cachedStatement(sql: "SELECT 1 FROM operations WHERE run_id = ? AND step_name = ?"), arguments: [runId, stepName]) ?? false
    }

    func operation(runId: String, stepName: String) throws -> StepOperation? {
        try String.fetchOne(
            db.cachedStatement(sql: "SELECT payload FROM operations WHERE run_id = ? AND step_name = ?"), arguments: [runId, stepName]
        ).flatMap(StoredJSON.operation)
    }

    func insertOperation(
        _ operation: StepOperation, runId: String, timeoutAt: TimestampValue?, event: String?, child: String?, at time: TimestampValue
    ) throws {
        try execute(
            """
            INSERT INTO operations (run_id, step_name, kind, event_id, child_run_id, timeout_at, payload, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [runId, operation.stepName, operation.kindName, event, child, timeoutAt.map(Self.due), operation.json.jsonText(), Self.at(time)])
    }

    func addTimer(runId: String, stepName: String, kind: PendingMessage.Kind, dueAt: TimestampValue, at time: TimestampValue) throws {
        try execute(
            "INSERT INTO messages (run_id, kind, step_name, attempt, due_at, created_at) VALUES (?, ?, ?, 0, ?, ?)",
            [runId, kind.rawValue, stepName, Self.due(dueAt), Self.at(time)])
    }

    func countFailure(runId: String, stepName: String) throws {
        try execute(
            """
            INSERT INTO step_failures (run_id, step_name, failures) VALUES (?, ?, 1)
            ON CONFLICT(run_id, step_name) DO UPDATE SET failures = failures + 1
            """, [runId, stepName])
    }

    func deleteOperation(runId: String, stepName: String) throws -> Bool {
        try changes("DELETE FROM operations WHERE run_id = ? AND step_name = ?", [runId, stepName])
    }

    func deleteStepMessages(runId: String, stepName: String) throws {
        try execute("DELETE FROM messages WHERE run_id = ? AND kind <> 'deliver' AND step_name = ?", [runId, stepName])
    }

    func invokeOperation(runId: String, stepName: String, child: String) throws -> StepOperation? {
        try String.fetchOne(
            db.cachedStatement(sql: "SELECT payload FROM operations WHERE run_id = ? AND step_name = ? AND child_run_id = ?"),
            arguments: [runId, stepName, child]
        ).flatMap(StoredJSON.operation)
    }

    func waitingOperations(event: String, runId: String?) throws -> [(runId: String, operation: StepOperation)] {
        try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT o.run_id, o.payload FROM operations o JOIN runs r ON r.id = o.run_id
                    WHERE o.event_id = ? AND o.kind = 'wait' AND r.status = 'running' AND (? IS NULL OR o.run_id = ?)
                    ORDER BY o.created_at, o.run_id
                    """),
            arguments: [event, runId, runId]
        ).compactMap { row in StoredJSON.operation(row["payload"]).map { (row["run_id"], $0) } }
    }

    func takeEvent(runId: String, event: String) throws -> Value? {
        try String.fetchOne(
            db.cachedStatement(sql: "DELETE FROM events WHERE run_id = ? AND event_id = ? RETURNING data"), arguments: [runId, event]
        ).map { (try? Value(json: $0)) ?? .null }
    }

    func keepEvent(runId: String, event: String, data: Value, at time: TimestampValue) throws {
        try execute(
            "INSERT OR REPLACE INTO events (run_id, event_id, data, created_at) VALUES (?, ?, ?, ?)", [runId, event, data.jsonText(), Self.at(time)])
    }

    func keptEventCount(runId: String, prefix: String) throws -> Int {
        try Int.fetchOne(
            db.cachedStatement(sql: "SELECT count(*) FROM events WHERE run_id = ? AND substr(event_id, 1, length(?)) = ?"),
            arguments: [runId, prefix, prefix]) ?? 0
    }

    func takeFirstEvent(runId: String, prefix: String) throws -> Value? {
        guard
            let key = try String.fetchOne(
                db.cachedStatement(sql: "SELECT event_id FROM events WHERE run_id = ? AND substr(event_id, 1, length(?)) = ? ORDER BY event_id LIMIT 1"),
                arguments: [runId, prefix, prefix])
        else { return nil }
        return try takeEvent(runId: runId, event: key)
    }

}
