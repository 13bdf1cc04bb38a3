import Foundation
import PostgresNIO
import StepwiseEngine
import StepwiseExpressions
import StepwiseRuntime

/// `StoreTransaction` over one PostgreSQL transaction: the row operations of the PostgreSQL
/// schema, times as milliseconds since the epoch (due times rounded up). Reading a run locks its
/// row, so the transitions of one run on several nodes take turns.
struct PostgresTransaction: StoreTransaction {
    let session: PostgresSession
    /// The work the transaction made due: other nodes are told at commit.
    let madeDue = DueWork()

    init(_ session: PostgresSession) {
        self.session = session
    }

    /// The work a transaction made due, noted from its worker thread only. A run's delivery that
    /// the committing node leases itself in the same transaction is nobody else's business.
    final class DueWork {
        private var deliveries: Set<String> = []
        private var other = false

        /// Whether other nodes should be told.
        var concernsOthers: Bool { other || !deliveries.isEmpty }

        func delivery(of runId: String) { deliveries.insert(runId) }
        func leased(runId: String) { deliveries.remove(runId) }
        /// Timers, queued messages, freed slots: due at some time, for whichever node.
        func otherWork() { other = true }
    }

    static func at(_ time: TimestampValue) -> Int64 { time.millisecondsSinceEpoch }
    static func due(_ time: TimestampValue) -> Int64 { time.millisecondsRoundedUp }

    static func timestamp(_ milliseconds: Int64?) -> TimestampValue? {
        milliseconds.flatMap(TimestampValue.init(millisecondsSinceEpoch:))
    }


    // MARK: Runs

    func run(id: String) throws -> RunRecord? {
        try session.row("SELECT * FROM runs WHERE id = ? FOR UPDATE", [id]).flatMap(PostgresRecords.run)
    }

    func insertRun(_ run: RunRecord) throws {
        let created = Self.at(run.createdAt)
        let flow = run.flowControl
        try session.execute(
            """
            INSERT INTO runs (id, workflow, definition_hash, input, status, phase, created_at, updated_at, parent_run_id, parent_step,
                concurrency_key, concurrency_limit, rate_key, rate_limit, rate_period, endpoint_url, endpoint_defaults, endpoint_invoker, label,
                flow_key, caller_ip, deadline_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                run.id, run.workflow, run.endpoint == nil ? run.definitionHash : nil, run.input.jsonText(), run.status.rawValue,
                run.phase.rawValue, created, created, run.parent?.runId, run.parent?.step, flow?.concurrencyKey,
                flow?.concurrencyLimit, flow?.rateKey, flow?.rateLimit, flow?.ratePeriod, run.endpoint,
                try run.defaults.map(StoredJSON.text), try run.invoker.map(StoredJSON.text), run.label, run.flowControlKey,
                run.callerIp, run.deadline.map(Self.due),
            ])
    }

    func updateRun(id: String, status: RunStatus?, phase: RunPhase?, output: Value?, error: StepError?, at time: TimestampValue) throws {
        try session.execute(
            """
            UPDATE runs SET status = COALESCE(?, status), phase = COALESCE(?, phase), output = COALESCE(?, output), error = COALESCE(?, error),
                updated_at = ? WHERE id = ?
            """,
            [status?.rawValue, phase?.rawValue, output?.jsonText(), error.map { $0.value.jsonText() }, Self.at(time), id])
    }

    func endRun(id: String, status: RunStatus, output: Value?, error: StepError?, at time: TimestampValue) throws -> Bool {
        try session.changes(
            """
            UPDATE runs SET status = ?, output = COALESCE(?, output), error = COALESCE(?, error), updated_at = ?
            WHERE id = ? AND status = 'running'
            """,
            [status.rawValue, output?.jsonText(), error.map { $0.value.jsonText() }, Self.at(time), id])
    }

    func reopenRun(id: String, at time: TimestampValue) throws {
        try session.execute(
            """
            UPDATE runs SET status = 'running', phase = 'main', error = NULL, output = NULL, failure_position = NULL, updated_at = ?,
                deadline_at = ?::BIGINT + deadline_at - created_at
            WHERE id = ?
            """, [Self.at(time), Self.at(time), id])
        try session.execute("UPDATE messages SET lease_owner = NULL, lease_token = NULL WHERE run_id = ? AND kind = 'deliver'", [id])
    }

    func setRunOptions(id: String, label: String?, defaults: RunDefaults?, flowControlKey: String?) throws {
        // The run's label rows follow through the trigger of migration v10.
        try session.execute("UPDATE runs SET label = ?, endpoint_defaults = ?, flow_key = ? WHERE id = ?", [label, try defaults.map(StoredJSON.text), flowControlKey, id])
    }

    func markFailurePosition(runId: String) throws {
        try session.execute(
            "UPDATE runs SET failure_position = COALESCE(failure_position, (SELECT COUNT(*) FROM journal WHERE run_id = ?)) WHERE id = ?",
            [runId, runId])
    }

    func failurePosition(runId: String) throws -> Int? {
        try session.value("SELECT failure_position FROM runs WHERE id = ?", [runId], as: Int.self)
    }

    func childRunIds(of runId: String) throws -> [String] {
        try session.values("SELECT child_run_id FROM operations WHERE run_id = ? AND child_run_id IS NOT NULL", [runId])
    }

    func runningInvokedRuns(of runId: String) throws -> [String] {
        try session.values("SELECT id FROM runs WHERE parent_run_id = ? AND endpoint_invoker IS NOT NULL AND status = 'running'", [runId])
    }

    func runDefaults(runId: String) throws -> RunDefaults? {
        StoredJSON.decode(RunDefaults.self, from: try session.value("SELECT endpoint_defaults FROM runs WHERE id = ?", [runId], as: String.self))
    }

    // MARK: Journal and deliveries

    func append(runId: String, entry: JournalEntry, at time: TimestampValue) throws {
        let position = try session.value("SELECT MAX(position) + 1 FROM journal WHERE run_id = ?", [runId], as: Int.self) ?? 0
        var numbered = entry
        numbered.stepId = position
        try session.execute(
            "INSERT INTO journal (run_id, position, entry, recorded_at) VALUES (?, ?, ?, ?)",
            [runId, position, numbered.json.jsonText(), Self.at(time)])
    }

    func journalRows(runId: String) throws -> [(position: Int, entry: JournalEntry?)] {
        try session.rows("SELECT position, entry FROM journal WHERE run_id = ? ORDER BY position", [runId]).map { row in
            (try row("position"), (try? Value(json: try row("entry", as: String.self))).flatMap { try? JournalEntry(json: $0) })
        }
    }

    func removeJournalEntries(runId: String, positions: [Int]) throws {
        for position in positions { try session.execute("DELETE FROM journal WHERE run_id = ? AND position = ?", [runId, position]) }
        let kept: [Int] = try session.values("SELECT position FROM journal WHERE run_id = ? ORDER BY position", [runId])
        for (index, position) in kept.enumerated() where index != position {
            try session.execute("UPDATE journal SET position = ? WHERE run_id = ? AND position = ?", [index, runId, position])
        }
    }

    func deliver(runId: String, attempt: Int, dueAt: TimestampValue, at time: TimestampValue) throws {
        try session.execute(
            """
            INSERT INTO messages (run_id, kind, attempt, due_at, created_at) VALUES (?, 'deliver', ?, ?, ?)
            ON CONFLICT (run_id) WHERE kind = 'deliver' DO UPDATE SET
                due_at = LEAST(messages.due_at, excluded.due_at),
                redeliver = CASE WHEN messages.lease_owner IS NULL THEN messages.redeliver ELSE 1 END
            """, [runId, attempt, Self.due(dueAt), Self.at(time)])
        madeDue.delivery(of: runId)
    }

    func deliverLeased(runId: String, attempt: Int, dueAt: TimestampValue, at time: TimestampValue, owner: String, until leaseUntil: TimestampValue)
        throws -> PendingMessage?
    {
        // Who holds the run's delivery is read first (and locked): a lease is taken only from no
        // one. A delivery another transaction inserts meanwhile makes the insert fail; the
        // transaction is then run again.
        let existing = try session.row("SELECT * FROM messages WHERE run_id = ? AND kind = 'deliver' FOR UPDATE", [runId])
        let due = dueAt.roundedUpToMillisecond
        guard let existing else {
            let lease = PendingMessage.newLease()
            let id = try session.value(
                """
                INSERT INTO messages (run_id, kind, attempt, due_at, created_at, lease_owner, lease_until, lease_token)
                VALUES (?, 'deliver', ?, ?, ?, ?, ?, ?)
                RETURNING id
                """, [runId, attempt, Self.due(dueAt), Self.at(time), owner, Self.at(leaseUntil), lease], as: Int64.self)
            madeDue.leased(runId: runId)
            return id.map { id in
                var message = PendingMessage(id: id, runId: runId, kind: .deliver, attempt: attempt, dueAt: due)
                message.lease = lease
                return message
            }
        }
        let free = ((try? existing("lease_owner", as: String?.self)) ?? nil) == nil && (try? existing("waiting_for_slot", as: Int.self)) == 0
        guard free, var leased = PostgresRecords.message(existing) else {
            try deliver(runId: runId, attempt: attempt, dueAt: dueAt, at: time)
            return nil
        }
        leased.dueAt = min(leased.dueAt, due)
        leased.lease = PendingMessage.newLease()
        try session.execute(
            "UPDATE messages SET due_at = ?, redeliver = 0, lease_owner = ?, lease_until = ?, lease_token = ? WHERE id = ?",
            [Self.at(leased.dueAt), owner, Self.at(leaseUntil), leased.lease, leased.id])
        madeDue.leased(runId: runId)
        return leased
    }

    func hold(_ message: PendingMessage, owner: String) throws -> Bool? {
        try session.row(
            "SELECT redeliver FROM messages WHERE id = ? AND lease_owner = ? AND lease_token IS NOT DISTINCT FROM ? FOR UPDATE",
            [message.id, owner, message.lease]
        ).map { row in
            try row("redeliver", as: Int.self) != 0
        }
    }

    func redeliver(_ message: PendingMessage, attempt: Int, dueAt: TimestampValue, at now: TimestampValue, kept: KeptLease?) throws
        -> PendingMessage?
    {
        guard let kept else {
            try session.execute(
                """
                UPDATE messages SET attempt = ?, due_at = CASE WHEN redeliver = 1 THEN LEAST(?::bigint, ?::bigint) ELSE ?::bigint END, redeliver = 0,
                    lease_owner = NULL, lease_until = NULL
                WHERE id = ?
                """, [attempt, Self.due(now), Self.due(dueAt), Self.due(dueAt), message.id])
            madeDue.delivery(of: message.runId)
            return nil
        }
        // Most steps change nothing in the row, and the WHERE matches it only to change something.
        try session.execute(
            """
            UPDATE messages SET attempt = ?, redeliver = 0, lease_until = GREATEST(lease_until, ?)
            WHERE id = ? AND (attempt <> ? OR redeliver <> 0 OR lease_until < ?)
            """, [attempt, Self.at(kept.until), message.id, attempt, Self.at(kept.renewBefore)])
        madeDue.leased(runId: message.runId)
        var next = message
        next.attempt = attempt
        next.dueAt = dueAt.roundedUpToMillisecond
        return next
    }

    func drop(_ message: PendingMessage) throws {
        try session.execute("DELETE FROM messages WHERE id = ?", [message.id])
    }

    func leaseLoneSleepTimers(after now: TimestampValue, dueBy horizon: TimestampValue, limit: Int, owner: String, until leaseUntil: TimestampValue)
        throws -> [PendingMessage]
    {
        let timers = try session.rows(
            """
            SELECT m.* FROM messages m JOIN operations o ON o.run_id = m.run_id AND o.step_name = m.step_name AND o.kind = 'sleep'
            JOIN runs r ON r.id = m.run_id AND r.concurrency_key IS NULL AND r.rate_key IS NULL
            WHERE m.kind = 'timer' AND m.due_at > ? AND m.due_at <= ? AND m.lease_until IS NULL
            AND NOT EXISTS (SELECT 1 FROM operations p WHERE p.run_id = m.run_id AND p.step_name <> m.step_name)
            AND NOT EXISTS (SELECT 1 FROM messages d WHERE d.run_id = m.run_id AND d.id <> m.id)
            ORDER BY m.due_at, m.id LIMIT ? FOR UPDATE OF m SKIP LOCKED
            """, [Self.at(now), Self.due(horizon), limit]
        ).compactMap(PostgresRecords.message)
        guard !timers.isEmpty else { return [] }
        // One round trip and one token for the batch: a token tells a message's leases apart, not messages.
        let lease = PendingMessage.newLease()
        try session.execute(
            "UPDATE messages SET lease_owner = ?, lease_until = ?, lease_token = ? WHERE id = ANY(?)",
            [owner, Self.at(leaseUntil), lease, timers.map(\.id)])
        return timers.map { timer in
            var leased = timer
            leased.lease = lease
            return leased
        }
    }

    func take(_ message: PendingMessage, owner: String) throws -> Bool? {
        try session.row(
            "DELETE FROM messages WHERE id = ? AND lease_owner = ? AND lease_token IS NOT DISTINCT FROM ? RETURNING redeliver",
            [message.id, owner, message.lease]
        ).map { row in
            try row("redeliver", as: Int.self) != 0
        }
    }

    func record(_ attempt: AttemptRecord) throws {
        try session.execute(
            "INSERT INTO attempts (run_id, position, attempt, started_at, finished_at, outcome, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                attempt.runId, attempt.position, attempt.attempt, Self.at(attempt.startedAt), Self.at(attempt.finishedAt), attempt.outcome,
                attempt.detail,
            ])
    }

    func clearPendingWork(runId: String, keepingDeliveryLeasedAt time: TimestampValue?) throws -> [RunQueuedMessage] {
        try session.execute(
            "DELETE FROM messages WHERE run_id = ? AND (kind <> 'deliver' OR ?::BIGINT IS NULL OR lease_until IS NULL OR lease_until < ? OR due_at > ?)",
            [runId, time.map(Self.at), time.map(Self.at), time.map(Self.at)])
        for table in ["operations", "step_failures", "events"] {
            try session.execute("DELETE FROM \(table) WHERE run_id = ?", [runId])
        }
        // A claim that leased a message first is waited for: its lease keeps the message in flight,
        // or is what the delete returns.
        let kept = "(?::BIGINT IS NOT NULL AND lease_until IS NOT NULL AND lease_until >= ?)"
        let dropped = try session.rows(
            "DELETE FROM queue WHERE run_id = ? AND NOT \(kept) RETURNING seq, \(Self.runQueuedColumns)", [runId, time.map(Self.at), time.map(Self.at)]
        ).map { row in (order: try row("seq", as: Int64.self), try Self.runQueued(row)) }
        return dropped.sorted { $0.order < $1.order }.map(\.1)
    }

    func queuedMessages(runId: String) throws -> [RunQueuedMessage] {
        try session.rows("SELECT \(Self.runQueuedColumns) FROM queue WHERE run_id = ? ORDER BY seq FOR UPDATE", [runId]).map(Self.runQueued)
    }

    /// What a `RunQueuedMessage` is read from: the bodies stay behind (a NULL for the row decoder).
    private static let runQueuedColumns = "spec, NULL::bytea AS body, attempt, due_at, flow_key, lease_until"

    private static func runQueued(_ row: PostgresRowReader) throws -> RunQueuedMessage {
        RunQueuedMessage(
            message: PostgresRecords.queuedMessage(row), flowKey: try row("flow_key", as: String?.self), leasedUntil: try row("lease_until", as: Int64?.self))
    }

    func releaseSlot(key: String) throws {
        // After admissions of the key in flight commit: one that saw this delivery's lease and
        // held a message back must be seen here, or that message would wait for a slot forever.
        try lockFlowKey(key)
        try session.execute(
            """
            UPDATE messages SET waiting_for_slot = 0
            WHERE waiting_for_slot = 1 AND run_id IN (SELECT id FROM runs WHERE concurrency_key = ? OR rate_key = ?)
            """, [key, key])
        try session.execute("UPDATE queue SET waiting_for_slot = 0 WHERE waiting_for_slot = 1 AND flow_key = ?", [key])
        madeDue.otherWork()
    }

    // MARK: Operations

    func hasOperation(runId: String, stepName: String) throws -> Bool {
        try session.row("SELECT 1 FROM operations WHERE run_id = ? AND step_name = ?", [runId, stepName]) != nil
    }

    func operation(runId: String, stepName: String) throws -> StepOperation? {
        try session.value("SELECT payload FROM operations WHERE run_id = ? AND step_name = ?", [runId, stepName], as: String.self)
            .flatMap(StoredJSON.operation)
    }

    func insertOperation(
        _ operation: StepOperation, runId: String, timeoutAt: TimestampValue?, event: String?, child: String?, at time: TimestampValue
    ) throws {
        try session.execute(
            """
            INSERT INTO operations (run_id, step_name, kind, event_id, child_run_id, timeout_at, payload, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [runId, operation.stepName, operation.kindName, event, child, timeoutAt.map(Self.due), operation.json.jsonText(), Self.at(time)])
    }

    func addTimer(runId: String, stepName: String, kind: PendingMessage.Kind, dueAt: TimestampValue, at time: TimestampValue) throws {
        try session.execute(
            "INSERT INTO messages (run_id, kind, step_name, attempt, due_at, created_at) VALUES (?, ?, ?, 0, ?, ?)",
            [runId, kind.rawValue, stepName, Self.due(dueAt), Self.at(time)])
        madeDue.otherWork()
    }

    func countFailure(runId: String, stepName: String) throws {
        try session.execute(
            """
            INSERT INTO step_failures (run_id, step_name, failures) VALUES (?, ?, 1)
            ON CONFLICT (run_id, step_name) DO UPDATE SET failures = step_failures.failures + 1
            """, [runId, stepName])
    }

    func deleteOperation(runId: String, stepName: String) throws -> Bool {
        try session.changes("DELETE FROM operations WHERE run_id = ? AND step_name = ?", [runId, stepName])
    }

    func deleteStepMessages(runId: String, stepName: String) throws {
        try session.execute("DELETE FROM messages WHERE run_id = ? AND kind != 'deliver' AND step_name = ?", [runId, stepName])
    }

    func invokeOperation(runId: String, stepName: String, child: String) throws -> StepOperation? {
        try session.value(
            "SELECT payload FROM operations WHERE run_id = ? AND step_name = ? AND child_run_id = ?", [runId, stepName, child], as: String.self
        ).flatMap(StoredJSON.operation)
    }

    func waitingOperations(event: String, runId: String?) throws -> [(runId: String, operation: StepOperation)] {
        try session.rows(
            """
            SELECT o.run_id, o.payload FROM operations o JOIN runs r ON r.id = o.run_id
            WHERE o.event_id = ? AND o.kind = 'wait' AND r.status = 'running' AND (?::text IS NULL OR o.run_id = ?)
            ORDER BY o.created_at, o.run_id
            """, [event, runId, runId]
        ).compactMap { row in
            let runId: String = try row("run_id")
            return StoredJSON.operation(try row("payload")).map { (runId, $0) }
        }
    }

    func takeEvent(runId: String, event: String) throws -> Value? {
        try session.value("DELETE FROM events WHERE run_id = ? AND event_id = ? RETURNING data", [runId, event], as: String.self)
            .map { (try? Value(json: $0)) ?? .null }
    }

    func keepEvent(runId: String, event: String, data: Value, at time: TimestampValue) throws {
        try session.execute(
            """
            INSERT INTO events (run_id, event_id, data, created_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (run_id, event_id) DO UPDATE SET data = excluded.data, created_at = excluded.created_at
            """, [runId, event, data.jsonText(), Self.at(time)])
    }

    func keptEventCount(runId: String, prefix: String) throws -> Int {
        Int(try session.value("SELECT count(*) FROM events WHERE run_id = ? AND left(event_id, length(?)) = ?", [runId, prefix, prefix], as: Int64.self) ?? 0)
    }

    func takeFirstEvent(runId: String, prefix: String) throws -> Value? {
        try session.value(
            """
            DELETE FROM events WHERE run_id = ? AND event_id = (
                SELECT event_id FROM events WHERE run_id = ? AND left(event_id, length(?)) = ? ORDER BY event_id LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING data
            """, [runId, runId, prefix, prefix], as: String.self
        ).map { (try? Value(json: $0)) ?? .null }
    }
}
