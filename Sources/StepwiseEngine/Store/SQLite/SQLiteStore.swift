import Foundation
import GRDB
import StepwiseExpressions
import StepwiseRuntime

/// The embedded `Store`: one SQLite file in WAL mode with `synchronous = FULL`, so that every
/// acknowledged change survives a crash or power loss. One transaction per state change.
public final class SQLiteStore: Store {
    let pool: DatabasePool
    /// The writes of step completions, which concurrent deliveries commit together.
    let completions: CommitBatcher

    /// Opens (creating if needed) the database at `path` and migrates it to the current schema.
    public init(path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in try db.cachedStatement(sql: "PRAGMA foreign_keys = ON").execute() }
        pool = try DatabasePool(path: path, configuration: configuration)
        completions = CommitBatcher(pool: pool)
        // DatabasePool sets synchronous = NORMAL after the setup hook; durability needs FULL.
        try pool.writeWithoutTransaction { db in try db.cachedStatement(sql: "PRAGMA synchronous = FULL").execute() }
        try SQLiteSchema.migrator.migrate(pool)
    }

    public func saveDefinition(_ definition: StoredDefinition) async throws {
        try await pool.write { db in
            try db.cachedStatement(
                sql: "INSERT INTO definitions (hash, workflow, source, created_at) VALUES (?, ?, ?, ?) ON CONFLICT(hash) DO NOTHING"
            ).execute(arguments: [definition.hash, definition.workflow, definition.source, SQLiteTime.milliseconds(Date())])
        }
    }

    public func definitions() async throws -> [StoredDefinition] {
        try await pool.read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT hash, workflow, source FROM definitions ORDER BY created_at")).map { row in
                StoredDefinition(hash: row["hash"], workflow: row["workflow"], source: row["source"])
            }
        }
    }

    public func createRun(_ run: RunRecord) async throws -> (run: RunRecord, created: Bool) {
        try await pool.write { db in
            if let existing = try Self.fetchRun(db, id: run.id) { return (existing, false) }
            try Self.insertRun(db, run)
            return (run, true)
        }
    }

    public func nextWakeTime() async throws -> TimestampValue? {
        try await pool.read { db in
            let due = try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT MIN(due_at) FROM messages WHERE lease_until IS NULL AND waiting_for_slot = 0"))
            let leaseExpiry = try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT MIN(lease_until) FROM messages WHERE lease_until IS NOT NULL"))
            return [due, leaseExpiry].compactMap { $0 }.min().flatMap(SQLiteTime.timestamp)
        }
    }

    public func complete(_ message: PendingMessage, owner: String, with resolution: DeliveryResolution) async throws -> Bool {
        try await completions.write { db in try Self.complete(db, message, owner: owner, with: resolution) }
    }

    public func complete(
        _ message: PendingMessage, owner: String, with resolution: DeliveryResolution, leasingNextUntil leaseUntil: TimestampValue
    ) async throws -> (completed: Bool, next: PendingMessage?) {
        try await completions.write { db in
            let completed = try Self.complete(db, message, owner: owner, with: resolution)
            guard completed, !resolution.status.isFinal else { return (completed, nil) }
            return (true, try Self.leaseDelivery(db, runId: message.runId, owner: owner, until: leaseUntil, dueBy: resolution.record.finishedAt))
        }
    }

    /// Applies `resolution` to the run of the claimed `message` inside a transaction.
    private static func complete(_ db: Database, _ message: PendingMessage, owner: String, with resolution: DeliveryResolution) throws
        -> Bool
    {
        guard let redeliver = try Self.take(db, message, owner: owner) else { return false }
        guard let run = try Self.fetchRun(db, id: message.runId), run.status == .running else { return false }
        let now = SQLiteTime.milliseconds(resolution.record.finishedAt)
        try Self.releaseSlot(db, of: run)
        var appended = false
        for submission in resolution.submissions {
            appended = try Self.apply(db, submission, of: run, children: resolution.children, at: now) || appended
        }
        if resolution.error != nil, run.phase == .main {
            try db.cachedStatement(
                sql:
                    "UPDATE runs SET failure_position = COALESCE(failure_position, (SELECT COUNT(*) FROM journal WHERE run_id = ?)) WHERE id = ?"
            ).execute(arguments: [run.id, run.id])
        }
        try db.cachedStatement(
            sql:
                "UPDATE runs SET status = ?, phase = ?, output = COALESCE(?, output), error = COALESCE(?, error), updated_at = ? WHERE id = ?"
        ).execute(arguments: [
            resolution.status.rawValue, resolution.phase.rawValue, resolution.output?.jsonText(),
            resolution.error.map { $0.value.jsonText() }, now, run.id,
        ])
        try Self.insert(db, resolution.record)
        if resolution.status.isFinal {
            try Self.finish(db, runId: run.id, status: resolution.status, at: now)
            for notice in resolution.notices { try Self.insertQueued(db, notice, at: now) }
        } else if appended || redeliver {
            try Self.deliver(db, runId: run.id, attempt: 0, dueAt: now, at: now)
        } else if let next = resolution.next {
            try Self.deliver(db, runId: run.id, attempt: next.attempt, dueAt: SQLiteTime.millisecondsRoundedUp(next.dueAt), at: now)
        }
        return true
    }

    public func extendLease(_ message: PendingMessage, owner: String, until: TimestampValue) async throws -> Bool {
        try await pool.write { db in
            try db.cachedStatement(sql: "UPDATE messages SET lease_until = ? WHERE id = ? AND lease_owner = ?").execute(arguments: [
                SQLiteTime.milliseconds(until), message.id, owner,
            ])
            return db.changesCount > 0
        }
    }

    public func progress(runId: String, from position: Int) async throws -> RunProgress {
        try await pool.read { db in
            let pending = try String.fetchAll(
                db.cachedStatement(sql: "SELECT step_name FROM operations WHERE run_id = ?"), arguments: [runId])
            let failures = try Row.fetchAll(
                db.cachedStatement(sql: "SELECT step_name, failures FROM step_failures WHERE run_id = ?"), arguments: [runId])
            return RunProgress(
                journal: try Self.fetchJournal(db, runId: runId, from: position), journalBase: position, pending: Set(pending),
                failures: Dictionary(
                    failures.map { ($0["step_name"] as String, $0["failures"] as Int) }, uniquingKeysWith: { first, _ in first }))
        }
    }

    public func reschedule(_ message: PendingMessage, owner: String, attempt: Int, at dueAt: TimestampValue) async throws {
        try await pool.write { db in
            try db.cachedStatement(
                sql: "UPDATE messages SET lease_owner = NULL, lease_until = NULL, due_at = ?, attempt = ? WHERE id = ? AND lease_owner = ?"
            ).execute(arguments: [SQLiteTime.millisecondsRoundedUp(dueAt), attempt, message.id, owner])
            if message.kind == .deliver, let run = try Self.fetchRun(db, id: message.runId) { try Self.releaseSlot(db, of: run) }
        }
    }

    public func leaseOwners() async throws -> Set<String> {
        try await pool.read { db in
            Set(
                try String.fetchAll(
                    db,
                    sql: """
                        SELECT DISTINCT lease_owner FROM messages WHERE lease_owner IS NOT NULL
                        UNION SELECT DISTINCT lease_owner FROM queue WHERE lease_owner IS NOT NULL
                        """))
        }
    }

    public func releaseLeases(owners: [String]) async throws {
        try await pool.write { db in
            for owner in owners {
                try db.cachedStatement(sql: "UPDATE messages SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?").execute(
                    arguments: [owner])
                try db.cachedStatement(sql: "UPDATE queue SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?").execute(
                    arguments: [owner])
            }
            try Self.freeAllSlots(db)
        }
    }

    public func renewLeases(owner: String, messages: [Int64], queued: [String], until: TimestampValue) async throws {
        let until = SQLiteTime.milliseconds(until)
        try await pool.write { db in
            // A call's lease may already reach further (its timeout): renewing never shortens one.
            for id in messages {
                try db.cachedStatement(sql: "UPDATE messages SET lease_until = MAX(lease_until, ?) WHERE id = ? AND lease_owner = ?")
                    .execute(arguments: [until, id, owner])
            }
            for id in queued {
                try db.cachedStatement(sql: "UPDATE queue SET lease_until = MAX(lease_until, ?) WHERE id = ? AND lease_owner = ?")
                    .execute(arguments: [until, id, owner])
            }
        }
    }

    public func run(id: String) async throws -> RunRecord? {
        try await pool.read { db in try Self.fetchRun(db, id: id) }
    }

    public func runs(_ filter: RunFilter) async throws -> [RunRecord] {
        try await pool.read { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let workflow = filter.workflow {
                conditions.append("workflow = ?")
                arguments += [workflow]
            }
            if let status = filter.status {
                conditions.append("status = ?")
                arguments += [status.rawValue]
            }
            if let after = filter.after {
                // Newest first, ties by id: the next page starts just past the cursor in that order.
                conditions.append("(created_at < ? OR (created_at = ? AND id > ?))")
                arguments += [after.createdAtMilliseconds, after.createdAtMilliseconds, after.runId]
            }
            arguments += [filter.limit]
            let clause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            return try Row.fetchAll(db, sql: "SELECT * FROM runs \(clause) ORDER BY created_at DESC, id LIMIT ?", arguments: arguments)
                .compactMap(Self.runRecord)
        }
    }

    public func journal(runId: String) async throws -> [JournalEntry] {
        try await pool.read { db in try Self.fetchJournal(db, runId: runId) }
    }

    public func attempts(runId: String, from position: Int) async throws -> [AttemptRecord] {
        try await pool.read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM attempts WHERE run_id = ? AND position >= ? ORDER BY id"),
                arguments: [runId, position]
            ).compactMap { row in
                guard let started = SQLiteTime.timestamp(row["started_at"]), let finished = SQLiteTime.timestamp(row["finished_at"]) else {
                    return nil
                }
                return AttemptRecord(
                    runId: row["run_id"], position: row["position"], attempt: row["attempt"], startedAt: started,
                    finishedAt: finished, outcome: row["outcome"], detail: row["detail"])
            }
        }
    }

    public func cancel(runId: String, reason: StepError?, at time: TimestampValue) async throws -> Bool {
        try await pool.write { db in try Self.cancel(db, runId: runId, reason: reason, at: SQLiteTime.milliseconds(time)) }
    }

    public func cancel(workflow: String, at time: TimestampValue) async throws -> [String] {
        try await pool.write { db in
            let ids = try String.fetchAll(
                db.cachedStatement(sql: "SELECT id FROM runs WHERE workflow = ? AND status = 'running'"), arguments: [workflow])
            var canceled: [String] = []
            for id in ids where try Self.cancel(db, runId: id, at: SQLiteTime.milliseconds(time)) { canceled.append(id) }
            return canceled
        }
    }

    public func cancel(endpoint url: String, exactly: Bool, at time: TimestampValue) async throws -> [String] {
        try await pool.write { db in
            let ids = try String.fetchAll(
                db,
                sql: """
                    SELECT id FROM runs WHERE status = 'running' AND endpoint_url IS NOT NULL
                    AND (endpoint_url = ? OR (? = 0 AND substr(endpoint_url, 1, length(?)) = ?))
                    """,
                arguments: [url, exactly, url, url])
            return try ids.filter { try Self.cancel(db, runId: $0, at: SQLiteTime.milliseconds(time)) }
        }
    }

    // MARK: Rows

    /// Appends `entry` at the end of the run's journal, numbered by its position.
    static func append(_ db: Database, runId: String, entry: JournalEntry, at time: Int64) throws {
        // MAX over the primary key is one index lookup; COUNT(*) would walk the run's whole journal.
        let position =
            try Int.fetchOne(db.cachedStatement(sql: "SELECT MAX(position) + 1 FROM journal WHERE run_id = ?"), arguments: [runId]) ?? 0
        var numbered = entry
        numbered.stepId = position
        // The primary key (run_id, position) makes recording two results at one position impossible.
        try db.cachedStatement(sql: "INSERT INTO journal (run_id, position, entry, recorded_at) VALUES (?, ?, ?, ?)").execute(arguments: [
            runId, position, numbered.json.jsonText(), time,
        ])
    }

    static func fetchJournal(_ db: Database, runId: String, from position: Int = 0) throws -> [JournalEntry] {
        try String.fetchAll(
            db.cachedStatement(sql: "SELECT entry FROM journal WHERE run_id = ? AND position >= ? ORDER BY position"),
            arguments: [runId, position]
        )
        .compactMap { text in (try? Value(json: text)).flatMap { try? JournalEntry(json: $0) } }
    }

    /// Inserts a new run with its initial entry and first delivery.
    static func insertRun(_ db: Database, _ run: RunRecord) throws {
        let created = SQLiteTime.milliseconds(run.createdAt)
        let flow = run.flowControl
        try db.cachedStatement(
            sql: """
                INSERT INTO runs (id, workflow, definition_hash, input, status, phase, created_at, updated_at, parent_run_id, parent_step,
                    concurrency_key, concurrency_limit, rate_key, rate_limit, rate_period, endpoint_url, endpoint_defaults, endpoint_invoker)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            run.id, run.workflow, run.endpoint == nil ? run.definitionHash : nil, run.input.jsonText(), run.status.rawValue,
            run.phase.rawValue, created, created,
            run.parent?.runId, run.parent?.step, flow?.concurrencyKey, flow?.concurrencyLimit, flow?.rateKey, flow?.rateLimit,
            flow?.ratePeriod, run.endpoint, try run.defaults.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) },
            try run.invoker.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) },
        ])
        // An SDK run's log and first delivery come from its trigger message (`SQLiteStore+Queue`).
        guard run.endpoint == nil else { return }
        try append(db, runId: run.id, entry: .initial(run.input), at: created)
        try deliver(db, runId: run.id, attempt: 0, dueAt: created, at: created)
    }

    static func insert(_ db: Database, _ record: AttemptRecord) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO attempts (run_id, position, attempt, started_at, finished_at, outcome, detail)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            record.runId, record.position, record.attempt, SQLiteTime.milliseconds(record.startedAt),
            SQLiteTime.milliseconds(record.finishedAt), record.outcome, record.detail,
        ])
    }

    static func fetchRun(_ db: Database, id: String) throws -> RunRecord? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM runs WHERE id = ?"), arguments: [id]).flatMap(runRecord)
    }

    private static func runRecord(_ row: Row) -> RunRecord? {
        guard let status = RunStatus(rawValue: row["status"]), let phase = RunPhase(rawValue: row["phase"]),
            let created = SQLiteTime.timestamp(row["created_at"]), let updated = SQLiteTime.timestamp(row["updated_at"]),
            let input = try? Value(json: row["input"] as String)
        else { return nil }
        let output = (row["output"] as String?).flatMap { try? Value(json: $0) }
        let error = (row["error"] as String?).flatMap { try? Value(json: $0) }.flatMap(StepError.init(value:))
        let parent = (row["parent_run_id"] as String?).map { ($0, row["parent_step"] as String? ?? "") }
        return RunRecord(
            id: row["id"], workflow: row["workflow"], definitionHash: row["definition_hash"] ?? "", input: input, status: status,
            phase: phase, createdAt: created, updatedAt: updated, output: output, error: error, parent: parent,
            flowControl: Self.flowControl(row), endpoint: row["endpoint_url"],
            defaults: Self.runDefaults(row["endpoint_defaults"]),
            invoker: (row["endpoint_invoker"] as String?).flatMap { try? JSONDecoder().decode(EndpointInvoker.self, from: Data($0.utf8)) })
    }

    static func message(_ row: Row) -> PendingMessage? {
        guard let due = SQLiteTime.timestamp(row["due_at"]), let kind = PendingMessage.Kind(rawValue: row["kind"]) else { return nil }
        return PendingMessage(
            id: row["id"], runId: row["run_id"], kind: kind, stepName: row["step_name"], attempt: row["attempt"], dueAt: due)
    }
}
