import Foundation
import GRDB
import Synchronization
import StepwiseEngine
import StepwiseExpressions
import StepwiseRuntime

/// The embedded `Store`: one SQLite file in WAL mode with `synchronous = FULL`, so that every
/// acknowledged change survives a crash or power loss. One transaction per state change.
public final class SQLiteStore: Store {
    let pool: DatabasePool
    /// The writes of the delivery path (starts, claims, completions, notifies, publications),
    /// which concurrent callers commit together.
    let groupCommit: CommitBatcher
    /// Refuses commits once the store's files were deleted or replaced under the server.
    let fileGuard: StoreFileGuard
    /// Tells `/ready` when the store's disk is full.
    let diskSpace: StoreDiskSpace

    /// Opens (creating if needed) the database at `path` and migrates it to the current schema.
    /// An error names the file and what is wrong with it.
    public convenience init(path: String) throws {
        let opened: (pool: DatabasePool, fileGuard: StoreFileGuard)
        do {
            opened = try Self.open(path: path)
        } catch let error as SQLiteSchemaError {
            throw error
        } catch {
            throw SQLiteOpenFailure(path: path, error: error)
        }
        let folder = (path as NSString).deletingLastPathComponent
        self.init(pool: opened.pool, fileGuard: opened.fileGuard, diskSpace: StoreDiskSpace(folder: folder.isEmpty ? "." : folder))
    }

    private init(pool: DatabasePool, fileGuard: StoreFileGuard, diskSpace: StoreDiskSpace) {
        self.pool = pool
        groupCommit = CommitBatcher(pool: pool)
        self.fileGuard = fileGuard
        self.diskSpace = diskSpace
    }

    /// The size the write-ahead log is cut back to when a checkpoint starts it over (bytes).
    static let walSizeLimit = 64 << 20

    private static func open(path: String) throws -> (pool: DatabasePool, fileGuard: StoreFileGuard) {
        try StoreFilePermissions.createPrivately(path: path)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        // The guard exists once the store is migrated; from then on a connection the pool opens
        // (a reader, lazily) must find the file it guards, or it would read another database.
        let openedGuard = Mutex<StoreFileGuard?>(nil)
        configuration.prepareDatabase { db in
            try openedGuard.withLock { $0 }?.checkDatabaseFile()
            try db.cachedStatement(sql: "PRAGMA foreign_keys = ON").execute()
            // Statement journals and `RETURNING` buffers are SQLite's temporary files, by default
            // in /var/tmp: written through the file system on most commits. In memory they take
            // what a statement changes, which the paged deletes and the indexed queries keep small.
            try db.cachedStatement(sql: "PRAGMA temp_store = MEMORY").execute()
            DestinationFunctions.add(to: db)
        }
        let pool = try DatabasePool(path: path, configuration: configuration)
        // DatabasePool sets synchronous = NORMAL after the setup hook; durability needs FULL. A
        // write-ahead log that grew while long reads held checkpoints back (a burst of due runs
        // beside a slow listing: 189 MB once) is cut back to 64 MiB by the next checkpoint that
        // starts it over, rather than kept at its peak until the server stops.
        try pool.writeWithoutTransaction { db in
            try db.cachedStatement(sql: "PRAGMA synchronous = FULL").execute()
            try db.cachedStatement(sql: "PRAGMA journal_size_limit = \(Self.walSizeLimit)").execute()
        }
        try SQLiteSchema.migrate(pool)
        // After the migrations, which create the write-ahead log.
        let fileGuard = try StoreFileGuard(path: path)
        openedGuard.withLock { $0 = fileGuard }
        pool.writeWithoutTransaction { db in db.add(transactionObserver: fileGuard, extent: .databaseLifetime) }
        return (pool, fileGuard)
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
            try Row.fetchAll(db.cachedStatement(sql: "SELECT hash, workflow, source FROM definitions ORDER BY created_at")).map(Self.storedDefinition)
        }
    }

    public func definition(hash: String) async throws -> StoredDefinition? {
        try await pool.read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT hash, workflow, source FROM definitions WHERE hash = ?"), arguments: [hash]).map(Self.storedDefinition)
        }
    }

    private static func storedDefinition(_ row: Row) -> StoredDefinition {
        StoredDefinition(hash: row["hash"], workflow: row["workflow"], source: row["source"])
    }

    public func createRun(_ run: RunRecord) async throws -> (run: RunRecord, created: Bool) {
        try await groupCommit.write { db in try SQLiteTransaction.transitions(db).createRun(run) }
    }

    public func nextWakeTime() async throws -> TimestampValue? {
        try await pool.read { db in
            let due = try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT MIN(due_at) FROM messages WHERE lease_until IS NULL AND waiting_for_slot = 0"))
            let leaseExpiry = try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT MIN(lease_until) FROM messages WHERE lease_until IS NOT NULL"))
            // A delivery waiting for a slot is due at its run's deadline, when it fails the run.
            let deadline = try Int64.fetchOne(
                db.cachedStatement(
                    sql: "SELECT MIN(r.deadline_at) FROM messages m JOIN runs r ON r.id = m.run_id WHERE m.waiting_for_slot = 1 AND r.phase = 'main'"))
            return [due, leaseExpiry, deadline].compactMap { $0 }.min().flatMap(SQLiteTime.timestamp)
        }
    }

    public func complete(_ message: PendingMessage, owner: String, with resolution: DeliveryResolution) async throws -> Bool {
        try await groupCommit.write { db in try SQLiteTransaction.transitions(db).complete(message, owner: owner, with: resolution) }
    }

    public func complete(_ message: PendingMessage, owner: String, with resolution: DeliveryResolution, leasingNext lease: NextLease) async throws
        -> (completed: Bool, next: LeasedDelivery?)
    {
        try await groupCommit.write { db in
            let (completed, next) = try SQLiteTransaction.transitions(db).complete(message, owner: owner, with: resolution, leasingNextUntil: lease.until)
            return (completed, try next.map { try Self.leased($0, db, journalFrom: lease.journalFrom) })
        }
    }

    /// A delivery leased in the transaction of `db`, with its run's progress read there.
    static func leased(_ taken: TakenDelivery, _ db: Database, journalFrom position: Int) throws -> LeasedDelivery {
        LeasedDelivery(message: taken.message, read: .init(run: taken.run, progress: try fetchProgress(db, runId: taken.run.id, from: position)))
    }

    public func extendLease(_ message: PendingMessage, owner: String, until: TimestampValue) async throws -> Bool {
        try await pool.write { db in
            try db.cachedStatement(sql: "UPDATE messages SET lease_until = MAX(COALESCE(lease_until, 0), ?) WHERE id = ? AND lease_owner = ? AND lease_token IS ?").execute(
                arguments: [SQLiteTime.milliseconds(until), message.id, owner, message.lease])
            return db.changesCount > 0
        }
    }

    public func progress(runId: String, from position: Int) async throws -> RunProgress {
        try await pool.read { db in try Self.fetchProgress(db, runId: runId, from: position) }
    }

    public func runProgress(runId: String, from position: Int) async throws -> LeasedDelivery.RunState? {
        try await pool.read { db in
            guard let run = try Self.fetchRun(db, id: runId) else { return nil }
            return LeasedDelivery.RunState(run: run, progress: try Self.fetchProgress(db, runId: runId, from: position))
        }
    }

    public func reschedule(_ message: PendingMessage, owner: String, attempt: Int, at dueAt: TimestampValue, record: AttemptRecord?) async throws {
        try await pool.write { db in
            if let record { try SQLiteTransaction(db).record(record) }
            try db.cachedStatement(
                sql: """
                    UPDATE messages SET lease_owner = NULL, lease_until = NULL, lease_token = NULL, due_at = ?, attempt = ?
                    WHERE id = ? AND lease_owner = ? AND lease_token IS ?
                    """
            ).execute(arguments: [SQLiteTime.millisecondsRoundedUp(dueAt), attempt, message.id, owner, message.lease])
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

    public func checkAvailable() async throws {
        try fileGuard.check()
        try diskSpace.check()
        _ = try await pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
        // Reads go on while another process holds the write lock (`BEGIN EXCLUSIVE` in a
        // `sqlite3` shell): take it and give it back, which writes nothing, so that such a lock
        // makes the store unready (busy, 503) as it makes every commit wait.
        try await pool.writeWithoutTransaction { db in try db.inTransaction(.immediate) { .rollback } }
    }

    public func releaseLeases(owners: [String]) async throws {
        try await pool.write { db in
            for owner in owners {
                try db.cachedStatement(sql: "UPDATE messages SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?").execute(
                    arguments: [owner])
                try db.cachedStatement(sql: "UPDATE queue SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?").execute(
                    arguments: [owner])
            }
            try SQLiteTransaction(db).freeAllSlots()
        }
    }

    public func renewLeases(owner: String, messages: [Int64], queued: [String], until: TimestampValue) async throws {
        let until = SQLiteTime.milliseconds(until)
        try await pool.write { db in
            // A call's lease may already reach further (its timeout): renewing never shortens one.
            for id in messages {
                try db.cachedStatement(sql: "UPDATE messages SET lease_until = MAX(COALESCE(lease_until, 0), ?) WHERE id = ? AND lease_owner = ?")
                    .execute(arguments: [until, id, owner])
            }
            for id in queued {
                try db.cachedStatement(sql: "UPDATE queue SET lease_until = MAX(COALESCE(lease_until, 0), ?) WHERE id = ? AND lease_owner = ?")
                    .execute(arguments: [until, id, owner])
            }
        }
    }

    public func run(id: String) async throws -> RunRecord? {
        try await pool.read { db in try Self.fetchRun(db, id: id) }
    }

    public func runs(_ filter: RunFilter) async throws -> [RunRecord] {
        try await pool.read { db in
            let listing = try filter.labelQuery(jsonValues: "SELECT value FROM json_each(?)")
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let workflow = filter.workflow {
                conditions.append("runs.workflow = ?")
                arguments += [workflow]
            }
            if let status = filter.status {
                conditions.append("runs.status = ?")
                arguments += [status.rawValue]
            }
            if let from = filter.createdFrom {
                conditions.append("\(listing.time) >= ?")
                arguments += [SQLiteTime.milliseconds(from)]
            }
            if let before = filter.createdBefore {
                conditions.append("\(listing.time) < ?")
                arguments += [SQLiteTime.milliseconds(before)]
            }
            if let ids = try StoredJSON.list(filter.runIds) {
                conditions.append("runs.id IN (SELECT value FROM json_each(?))")
                arguments += [ids]
            }
            if let urls = try StoredJSON.list(filter.endpoints) {
                conditions.append("runs.endpoint_url IN (SELECT value FROM json_each(?))")
                arguments += [urls]
            }
            if let prefixes = try StoredJSON.list(filter.endpointPrefixes) {
                conditions.append("EXISTS (SELECT 1 FROM json_each(?) AS prefix WHERE substr(runs.endpoint_url, 1, length(prefix.value)) = prefix.value)")
                arguments += [prefixes]
            }
            if let condition = listing.condition {
                conditions.append(condition.sql)
                arguments += [condition.argument]
            }
            if let keys = try StoredJSON.list(filter.flowControlKeys) {
                conditions.append("\(RunFilter.flowKeyColumn(of: "runs")) IN (SELECT value FROM json_each(?))")
                arguments += [keys]
            }
            if let callers = try StoredJSON.list(filter.callerIps) {
                conditions.append("runs.caller_ip IN (SELECT value FROM json_each(?))")
                arguments += [callers]
            }
            if let after = filter.after {
                // Newest first, ties by id: the next page starts just past the cursor in that order
                // (the first bound lets the walk seek to it rather than scan from the newest).
                conditions.append("\(listing.time) <= ? AND (\(listing.time) < ? OR (\(listing.time) = ? AND \(listing.id) > ?))")
                arguments += [after.milliseconds, after.milliseconds, after.milliseconds, after.id]
            }
            arguments += [filter.limit]
            let clause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            return try Self.decodeRows(
                db.cachedStatement(sql: "SELECT runs.* FROM \(listing.source) \(clause) ORDER BY \(listing.order) LIMIT ?"), arguments, Self.runRecord)
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

    public func cancel(runId: String, reason: StepError?, failureURLs: [String: String], at time: TimestampValue) async throws -> Bool {
        try await pool.write { db in try SQLiteTransaction.transitions(db).cancel(runId: runId, reason: reason, failureURLs: failureURLs, at: time) }
    }

    public func cancel(workflow: String, failureURLs: [String: String], at time: TimestampValue) async throws -> [String] {
        try await pool.write { db in
            let ids = try String.fetchAll(
                db.cachedStatement(sql: "SELECT id FROM runs WHERE workflow = ? AND status = 'running'"), arguments: [workflow])
            return try SQLiteTransaction.transitions(db).cancel(runIds: ids, failureURLs: failureURLs, at: time)
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
            return try SQLiteTransaction.transitions(db).cancel(runIds: ids, at: time)
        }
    }

    // MARK: Rows

    static func fetchProgress(_ db: Database, runId: String, from position: Int) throws -> RunProgress {
        let pending = try String.fetchAll(db.cachedStatement(sql: "SELECT step_name FROM operations WHERE run_id = ?"), arguments: [runId])
        let failures = try decodeRows(
            db.cachedStatement(sql: "SELECT step_name, failures FROM step_failures WHERE run_id = ?"), [runId]
        ) { row in (row["step_name"] as String, row["failures"] as Int) }
        return RunProgress(
            journal: try fetchJournal(db, runId: runId, from: position), journalBase: position, pending: Set(pending),
            failures: Dictionary(failures, uniquingKeysWith: { first, _ in first }))
    }

    /// Decodes the rows of `statement` while each is current: GRDB finds a current row's columns by
    /// name in a dictionary, where a copied row (`Row.fetchAll`) compares every name lowercased.
    static func decodeRows<T>(_ statement: Statement, _ arguments: StatementArguments, _ decode: (Row) throws -> T?) throws -> [T] {
        let rows = try Row.fetchCursor(statement, arguments: arguments)
        var decoded: [T] = []
        while let row = try rows.next() {
            if let value = try decode(row) { decoded.append(value) }
        }
        return decoded
    }

    static func fetchJournal(_ db: Database, runId: String, from position: Int = 0) throws -> [JournalEntry] {
        try String.fetchAll(
            db.cachedStatement(sql: "SELECT entry FROM journal WHERE run_id = ? AND position >= ? ORDER BY position"),
            arguments: [runId, position]
        )
        .compactMap { text in (try? Value(json: text)).flatMap { try? JournalEntry(json: $0) } }
    }

    static func fetchRun(_ db: Database, id: String) throws -> RunRecord? {
        try decodeRows(db.cachedStatement(sql: "SELECT * FROM runs WHERE id = ?"), [id], runRecord).first
    }

    /// The run of a row with every column of `runs`; `nil` when it cannot be read.
    static func runRecord(_ row: Row) -> RunRecord? {
        guard let status = RunStatus(rawValue: row["status"]), let phase = RunPhase(rawValue: row["phase"]),
            let created = SQLiteTime.timestamp(row["created_at"]), let updated = SQLiteTime.timestamp(row["updated_at"]),
            let input = row["input"] as String?
        else { return nil }
        let output = (row["output"] as String?).flatMap { try? Value(json: $0) }
        let error = (row["error"] as String?).flatMap { try? Value(json: $0) }.flatMap(StepError.init(value:))
        let parent = (row["parent_run_id"] as String?).map { ($0, row["parent_step"] as String? ?? "") }
        var run = RunRecord(
            id: row["id"], workflow: row["workflow"], definitionHash: row["definition_hash"] ?? "", input: .null, status: status,
            phase: phase, createdAt: created, updatedAt: updated, output: output, error: error, parent: parent,
            flowControl: Self.flowControl(row), endpoint: row["endpoint_url"],
            defaults: StoredJSON.decode(RunDefaults.self, from: row["endpoint_defaults"]),
            invoker: StoredJSON.decode(EndpointInvoker.self, from: row["endpoint_invoker"]),
            label: row["label"], flowControlKey: row["flow_key"])
        run.callerIp = row["caller_ip"]
        run.deadline = SQLiteTime.timestamp(row["deadline_at"])
        run.setInput(json: input)
        return run
    }

    static func message(_ row: Row) -> PendingMessage? {
        guard let due = SQLiteTime.timestamp(row["due_at"]), let kind = PendingMessage.Kind(rawValue: row["kind"]) else { return nil }
        var message = PendingMessage(
            id: row["id"], runId: row["run_id"], kind: kind, stepName: row["step_name"], attempt: row["attempt"], dueAt: due)
        message.lease = row["lease_token"]
        return message
    }
}
