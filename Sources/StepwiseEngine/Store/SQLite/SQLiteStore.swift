import Foundation
import GRDB
import StepwiseExpressions
import StepwiseRuntime

/// The embedded `Store`: one SQLite file in WAL mode with `synchronous = FULL`, so that every
/// acknowledged change survives a crash or power loss. One transaction per state change.
public final class SQLiteStore: Store {
    private let pool: DatabasePool

    /// Opens (creating if needed) the database at `path` and migrates it to the current schema.
    public init(path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA foreign_keys = ON") }
        pool = try DatabasePool(path: path, configuration: configuration)
        // DatabasePool sets synchronous = NORMAL after the setup hook; durability needs FULL.
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        try SQLiteSchema.migrator.migrate(pool)
    }

    public func saveDefinition(_ definition: StoredDefinition) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO definitions (hash, workflow, source, created_at) VALUES (?, ?, ?, ?) ON CONFLICT(hash) DO NOTHING",
                arguments: [definition.hash, definition.workflow, definition.source, SQLiteTime.milliseconds(Date())])
        }
    }

    public func definitions() async throws -> [StoredDefinition] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT hash, workflow, source FROM definitions ORDER BY created_at").map { row in
                StoredDefinition(hash: row["hash"], workflow: row["workflow"], source: row["source"])
            }
        }
    }

    public func createRun(_ run: RunRecord) async throws -> (run: RunRecord, created: Bool) {
        try await pool.write { db in
            if let existing = try Self.fetchRun(db, id: run.id) { return (existing, false) }
            let created = SQLiteTime.milliseconds(run.createdAt)
            try db.execute(
                sql: """
                    INSERT INTO runs (id, workflow, definition_hash, input, status, phase, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [run.id, run.workflow, run.definitionHash, run.input.jsonText(), run.status.rawValue, run.phase.rawValue, created, created])
            try Self.append(db, runId: run.id, position: 0, entry: .initial(run.input), at: created)
            try db.execute(
                sql: "INSERT INTO messages (run_id, attempt, due_at, created_at) VALUES (?, 0, ?, ?)",
                arguments: [run.id, created, created])
            return (run, true)
        }
    }

    public func claimDueMessages(now: TimestampValue, limit: Int, owner: String, leaseUntil: TimestampValue) async throws -> [PendingMessage] {
        let nowMilliseconds = SQLiteTime.milliseconds(now)
        return try await pool.write { db in
            try Row.fetchAll(
                db,
                sql: """
                    UPDATE messages SET lease_owner = ?, lease_until = ?
                    WHERE id IN (
                        SELECT id FROM messages
                        WHERE due_at <= ? AND (lease_until IS NULL OR lease_until < ?)
                        ORDER BY due_at, id LIMIT ?)
                    RETURNING id, run_id, attempt, due_at
                    """,
                arguments: [owner, SQLiteTime.milliseconds(leaseUntil), nowMilliseconds, nowMilliseconds, limit]
            ).compactMap(Self.message)
        }
    }

    public func nextWakeTime() async throws -> TimestampValue? {
        try await pool.read { db in
            let due = try Int64.fetchOne(db, sql: "SELECT MIN(due_at) FROM messages WHERE lease_until IS NULL")
            let leaseExpiry = try Int64.fetchOne(db, sql: "SELECT MIN(lease_until) FROM messages WHERE lease_until IS NOT NULL")
            return [due, leaseExpiry].compactMap { $0 }.min().flatMap(SQLiteTime.timestamp)
        }
    }

    public func complete(_ message: PendingMessage, owner: String, with resolution: DeliveryResolution) async throws -> Bool {
        try await pool.write { db in
            let deleted = try Row.fetchOne(
                db, sql: "DELETE FROM messages WHERE id = ? AND lease_owner = ? RETURNING id", arguments: [message.id, owner])
            guard deleted != nil else { return false }
            guard let run = try Self.fetchRun(db, id: message.runId), run.status == .running else { return false }
            let now = SQLiteTime.milliseconds(resolution.record.finishedAt)
            if let entry = resolution.entry {
                let position = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM journal WHERE run_id = ?", arguments: [run.id]) ?? 0
                try Self.append(db, runId: run.id, position: position, entry: entry, at: now)
            }
            if let next = resolution.next {
                try db.execute(
                    sql: "INSERT INTO messages (run_id, attempt, due_at, created_at) VALUES (?, ?, ?, ?)",
                    arguments: [run.id, next.attempt, SQLiteTime.millisecondsRoundedUp(next.dueAt), now])
            }
            try db.execute(
                sql: "UPDATE runs SET status = ?, phase = ?, output = COALESCE(?, output), error = COALESCE(?, error), updated_at = ? WHERE id = ?",
                arguments: [
                    resolution.status.rawValue, resolution.phase.rawValue, resolution.output?.jsonText(),
                    resolution.error.map { $0.value.jsonText() }, now, run.id,
                ])
            try Self.insert(db, resolution.record)
            return true
        }
    }

    public func reschedule(_ message: PendingMessage, owner: String, at dueAt: TimestampValue) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE messages SET lease_owner = NULL, lease_until = NULL, due_at = ? WHERE id = ? AND lease_owner = ?",
                arguments: [SQLiteTime.millisecondsRoundedUp(dueAt), message.id, owner])
        }
    }

    public func releaseLeases(owner: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE messages SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?", arguments: [owner])
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
            arguments += [filter.limit]
            let clause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            return try Row.fetchAll(db, sql: "SELECT * FROM runs \(clause) ORDER BY created_at DESC, id LIMIT ?", arguments: arguments)
                .compactMap(Self.runRecord)
        }
    }

    public func journal(runId: String) async throws -> [JournalEntry] {
        try await pool.read { db in
            try String.fetchAll(db, sql: "SELECT entry FROM journal WHERE run_id = ? ORDER BY position", arguments: [runId])
                .compactMap { text in (try? Value(json: text)).flatMap { try? JournalEntry(json: $0) } }
        }
    }

    public func attempts(runId: String) async throws -> [AttemptRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM attempts WHERE run_id = ? ORDER BY id", arguments: [runId]).compactMap { row in
                guard let started = SQLiteTime.timestamp(row["started_at"]), let finished = SQLiteTime.timestamp(row["finished_at"]) else {
                    return nil
                }
                return AttemptRecord(
                    runId: row["run_id"], position: row["position"], attempt: row["attempt"], startedAt: started,
                    finishedAt: finished, outcome: row["outcome"], detail: row["detail"])
            }
        }
    }

    public func cancel(runId: String, at time: TimestampValue) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE runs SET status = 'canceled', updated_at = ? WHERE id = ? AND status = 'running'",
                arguments: [SQLiteTime.milliseconds(time), runId])
            guard db.changesCount > 0 else { return false }
            try db.execute(sql: "DELETE FROM messages WHERE run_id = ?", arguments: [runId])
            return true
        }
    }

    // MARK: Rows

    private static func append(_ db: Database, runId: String, position: Int, entry: JournalEntry, at time: Int64) throws {
        // The primary key (run_id, position) makes recording a step's result twice impossible.
        try db.execute(
            sql: "INSERT INTO journal (run_id, position, entry, recorded_at) VALUES (?, ?, ?, ?)",
            arguments: [runId, position, entry.json.jsonText(), time])
    }

    private static func insert(_ db: Database, _ record: AttemptRecord) throws {
        try db.execute(
            sql: """
                INSERT INTO attempts (run_id, position, attempt, started_at, finished_at, outcome, detail)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                record.runId, record.position, record.attempt, SQLiteTime.milliseconds(record.startedAt),
                SQLiteTime.milliseconds(record.finishedAt), record.outcome, record.detail,
            ])
    }

    private static func fetchRun(_ db: Database, id: String) throws -> RunRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [id]).flatMap(runRecord)
    }

    private static func runRecord(_ row: Row) -> RunRecord? {
        guard let status = RunStatus(rawValue: row["status"]), let phase = RunPhase(rawValue: row["phase"]),
            let created = SQLiteTime.timestamp(row["created_at"]), let updated = SQLiteTime.timestamp(row["updated_at"]),
            let input = try? Value(json: row["input"] as String)
        else { return nil }
        let output = (row["output"] as String?).flatMap { try? Value(json: $0) }
        let error = (row["error"] as String?).flatMap { try? Value(json: $0) }.flatMap(StepError.init(value:))
        return RunRecord(
            id: row["id"], workflow: row["workflow"], definitionHash: row["definition_hash"], input: input, status: status,
            phase: phase, createdAt: created, updatedAt: updated, output: output, error: error)
    }

    private static func message(_ row: Row) -> PendingMessage? {
        SQLiteTime.timestamp(row["due_at"]).map { due in
            PendingMessage(id: row["id"], runId: row["run_id"], attempt: row["attempt"], dueAt: due)
        }
    }
}
