import Foundation
import GRDB
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime
@testable import StepwiseSQLite
import StepwiseTesting
import Testing

/// What only the SQLite store promises beyond the `Store` suite (`StoreTests`): its file's
/// journal key against a second writer, durability across reopening, WAL mode.
@Suite("SQLiteStore", .timeLimit(.minutes(3)))
struct SQLiteStoreTests {
    @Test("the journal's primary key forbids recording a position twice")
    func journalKeyForbidsDuplicates() async throws {
        try await StoreFixture.with(.sqlite) { s in
            _ = try await s.store.createRun(s.newRun("run-1", at: 0))
            let message = try #require(try await s.claim("node-a", at: 0).first)
            #expect(try await s.store.complete(
                message, owner: "node-a",
                with: s.resolution(message, entry: s.fetched, next: (0, s.at(1)), finishedAt: s.at(1), outcome: "submitted")))
            // A second writer (another process on the same file) trying to record position 1 again.
            let other = try DatabaseQueue(path: s.directory.path("store.db"))
            for position in [0, 1] {
                let error = #expect(throws: DatabaseError.self) {
                    try other.write { db in
                        try db.execute(
                            sql: "INSERT INTO journal (run_id, position, entry, recorded_at) VALUES ('run-1', ?, '{}', 0)",
                            arguments: [position])
                    }
                }
                #expect(error?.resultCode == .SQLITE_CONSTRAINT)
            }
            #expect(try await s.store.journal(runId: "run-1") == [.initial([:]), s.fetched])
        }
    }

    @Test("a deduplication key is held within the window and taken over after it, even when no cleanup deleted it")
    func expiredDeduplicationKeyIsTakenOver() async throws {
        try await StoreFixture.with(.sqlite) { s in
            let pool = try DatabasePool(path: s.directory.path("store.db"))
            let claims = try await pool.write { db in
                let transaction = SQLiteTransaction(db)
                return try [("m1", 0.0), ("m2", 599), ("m3", 601), ("m4", 700)].map { messageId, seconds in
                    try transaction.claimDeduplication(key: "k", messageId: messageId, at: s.at(seconds), since: s.at(seconds - 600))
                }
            }
            #expect(claims == [nil, "m1", nil, "m3"])
        }
    }

    @Test("a store written before schema v9 keeps its journals and attempts, in order, and goes on recording after them")
    func upgradeFromV8KeepsJournalsAndAttempts() async throws {
        try await StoreFixture.with(.sqlite) { s in
            let path = s.directory.path("v8.db")
            let v8 = SQLiteSchema.migrator.migrations[7]
            try #require(v8.hasPrefix("v8:"))
            do {
                let old = try DatabaseQueue(path: path)
                try SQLiteSchema.migrator.migrate(old, upTo: v8)
                try await old.write { db in
                    let millis = { (seconds: Double) throws -> Int64 in SQLiteTime.milliseconds(try s.at(seconds)) }
                    try db.execute(
                        sql: "INSERT INTO definitions (hash, workflow, source, created_at) VALUES (?, ?, ?, 0)",
                        arguments: [s.definition.hash, s.definition.workflow, s.definition.source])
                    for run in ["run-1", "run-2"] {
                        try db.execute(
                            sql: """
                                INSERT INTO runs (id, workflow, definition_hash, input, status, phase, created_at, updated_at)
                                VALUES (?, 'orders', ?, '{"order":"A-7"}', 'running', 'main', ?, ?)
                                """,
                            arguments: [run, s.definition.hash, try millis(0), try millis(0)])
                        for (position, entry) in [JournalEntry.initial(["order": "A-7"]), s.fetched].enumerated() {
                            try db.execute(
                                sql: "INSERT INTO journal (run_id, position, entry, recorded_at) VALUES (?, ?, ?, ?)",
                                arguments: [run, position, entry.json.jsonText(), try millis(1)])
                        }
                        for attempt in 0..<2 {
                            try db.execute(
                                sql: """
                                    INSERT INTO attempts (run_id, position, attempt, started_at, finished_at, outcome, detail)
                                    VALUES (?, 1, ?, ?, ?, ?, NULL)
                                    """,
                                arguments: [run, attempt, try millis(1), try millis(1), attempt == 0 ? "retried" : "submitted"])
                        }
                    }
                    try db.execute(
                        sql: "INSERT INTO messages (run_id, attempt, due_at, created_at) VALUES ('run-1', 0, ?, ?)",
                        arguments: [try millis(2), try millis(1)])
                }
            }
            let store = try SQLiteStore(path: path)
            for run in ["run-1", "run-2"] {
                #expect(try await store.journal(runId: run) == [.initial(["order": "A-7"]), s.fetched])
                #expect(try await store.attempts(runId: run, from: 0).map(\.outcome) == ["retried", "submitted"])
            }
            let message = try #require(
                try await store.claimDueMessages(now: s.at(2), limit: 1, owner: "node-a", leaseUntil: s.at(60)).first)
            #expect(try await store.complete(
                message, owner: "node-a", with: s.resolution(message, entry: s.charged, finishedAt: s.at(3), outcome: "charged")))
            #expect(try await store.journal(runId: "run-1") == [.initial(["order": "A-7"]), s.fetched, s.charged])
            #expect(try await store.attempts(runId: "run-1", from: 0).map(\.outcome) == ["retried", "submitted", "charged"])
            #expect(try await store.journal(runId: "run-2") == [.initial(["order": "A-7"]), s.fetched])
            // The rebuilt attempts table keeps its index and its cascade, and no longer counts in sqlite_sequence.
            let reader = try DatabaseQueue(path: path)
            let (indexes, keys, sequences) = try await reader.read { db in
                (
                    try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'attempts'"),
                    try Row.fetchAll(db, sql: "PRAGMA foreign_key_list(attempts)").map { row -> [String] in [row["table"], row["on_delete"]] },
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sqlite_sequence WHERE name = 'attempts'")
                )
            }
            #expect(indexes == ["attempts_by_position"])
            #expect(keys == [["runs", "CASCADE"]])
            #expect(sequences == 0)
        }
    }

    @Test("a store migrated by cf9642a, whose v15 had another name and no DLQ index, opens: it gets the index alone and the migrations after")
    func upgradeFromRetiredV15() async throws {
        try await StoreFixture.with(.sqlite) { s in
            let path = s.directory.path("cf9642a.db")
            do {
                let old = try DatabaseQueue(path: path)
                try SQLiteSchema.migrator.migrate(old, upTo: SQLiteSchema.migrator.migrations[13])
                try await old.write { db in
                    try db.execute(sql: "CREATE INDEX messages_by_run ON messages(run_id)")
                    try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES (?)", arguments: [SQLiteSchema.retiredV15])
                }
            }
            let store = try SQLiteStore(path: path)
            #expect(try await store.runs(RunFilter()).isEmpty)
            let old = try DatabaseQueue(path: path)
            let (indexes, applied) = try await old.read { db in
                (try String.fetchSet(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index'"), try SQLiteSchema.migrator.appliedIdentifiers(db))
            }
            #expect(indexes.isSuperset(of: ["messages_by_run", "dead_letters_by_failure"]))
            #expect(applied == Set(SQLiteSchema.migrator.migrations), "the retired name is replaced by the current one")
        }
    }

    @Test("a store a newer Stepwise migrated is refused, naming its migration, before anything changes")
    func newerStoreRefused() async throws {
        try await StoreFixture.with(.sqlite) { s in
            let path = s.directory.path("newer.db")
            do {
                let newer = try DatabaseQueue(path: path)
                try SQLiteSchema.migrator.migrate(newer)
                try await newer.write { db in
                    try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99: from a later build')")
                }
            }
            #expect {
                _ = try SQLiteStore(path: path)
            } throws: { error in
                "\(error)" == "this store was migrated by a newer Stepwise (its migration 'v99: from a later build' is unknown here): run that version or a newer one"
            }
        }
    }

    @Test("an upgrade from v16 gives each labeled run a row per label it names, so the runs labeled 'a, b' are found by either")
    func upgradeFromV16SplitsLabels() async throws {
        try await StoreFixture.with(.sqlite) { s in
            let path = s.directory.path("v16.db")
            let v16 = SQLiteSchema.migrator.migrations[15]
            try #require(v16.hasPrefix("v16:"))
            do {
                let old = try DatabaseQueue(path: path)
                try SQLiteSchema.migrator.migrate(old, upTo: v16)
                try await old.write { db in
                    for (index, label) in ["a, b", "b", nil, " , ", "c,c"].enumerated() {
                        try db.execute(
                            sql: """
                                INSERT INTO runs (id, workflow, definition_hash, input, status, phase, created_at, updated_at, endpoint_url, label)
                                VALUES (?, 'http://127.0.0.1:9/wf', NULL, '{}', 'failed', 'main', ?, ?, 'http://127.0.0.1:9/wf', ?)
                                """,
                            arguments: ["run-\(index)", index, index, label])
                    }
                }
            }
            let store = try SQLiteStore(path: path)
            let found = { (labels: [String]) in try await store.runs(RunFilter(labels: labels)).map(\.id).sorted() }
            #expect(try await found(["a"]) == ["run-0"])
            #expect(try await found(["b"]) == ["run-0", "run-1"])
            #expect(try await found(["c"]) == ["run-4"], "a label named twice is one")
            #expect(try await store.runs(RunFilter(labels: [" , ", ""])).isEmpty, "a label of nothing but commas and spaces names none")
        }
    }

    @Test("an upgrade from v17 gives each run, logged and dead-lettered message the flow-control key it has, every event of a message")
    func upgradeFromV17KeysLoggedMessages() async throws {
        try await StoreFixture.with(.sqlite) { s in
            let path = s.directory.path("v17.db")
            let v17 = SQLiteSchema.migrator.migrations[16]
            try #require(v17.hasPrefix("v17:"))
            let upgrade = FlowKeyUpgrade()
            do {
                let old = try DatabaseQueue(path: path)
                try SQLiteSchema.migrator.migrate(old, upTo: v17)
                try await old.write { db in
                    for (message, state, spec) in try upgrade.events {
                        try db.execute(
                            sql: "INSERT INTO message_events (time, state, message_id, url, queue_name, spec) VALUES (1, ?, ?, ?, ?, ?)",
                            arguments: [state, message.id, message.destination, message.queue, spec])
                    }
                    for statement in FlowKeyUpgrade.runs { try db.execute(sql: statement) }
                    for message in upgrade.letters {
                        try db.execute(
                            sql: """
                                INSERT INTO message_dead_letters (id, message_id, spec, due_at, url, queue_name, response_status, response_headers,
                                    response_body, created_at, failed_at)
                                VALUES (?, ?, ?, 0, ?, ?, 500, '[]', X'', 1, 1)
                                """,
                            arguments: ["dlq_" + message.id, message.id, try StoredJSON.text(message), message.destination, message.queue])
                    }
                }
            }
            try await upgrade.expectUpgraded(try SQLiteStore(path: path))
            let yamlKey = try await DatabaseQueue(path: path).read { db in try String.fetchOne(db, sql: "SELECT flow_key FROM runs WHERE id = 'yaml-run'") }
            #expect(yamlKey == "tenant", "the column itself, which the filter's fallback would hide")
        }
    }

    @Test("a resume of an SDK run's entry that keeps no failed delivery (a row from before they were kept) is refused, and the entry stays")
    func sdkEntryWithoutItsDelivery() async throws {
        try await StoreFixture.with(.sqlite) { s in
            try await s.endRun("old-sdk", .failed, at: 1)
            // The run as an SDK run's row: an endpoint and no definition; its entry has no message.
            let older = try DatabaseQueue(path: s.directory.path("store.db"))
            try await older.write { db in
                try db.execute(sql: "UPDATE runs SET endpoint_url = 'http://127.0.0.1:9/wf', definition_hash = NULL WHERE id = 'old-sdk'")
            }
            let letter = try #require(try await s.store.deadLetter(id: DeadLetter.id(ofRun: "old-sdk")))
            #expect(letter.message == nil && letter.endpoint == "http://127.0.0.1:9/wf")
            await #expect(throws: ResumeRefusal.self) {
                _ = try await s.store.resume(deadLetter: letter.id, options: ResumeOptions(), at: try s.at(2))
            }
            #expect(try await s.store.deadLetter(id: letter.id) != nil, "the refused resume took nothing")
            #expect(try await s.store.run(id: "old-sdk")?.status == .failed)
        }
    }

    @Test("an entry of either DLQ that this version cannot read (a newer node's row) is left out, and the listing goes on past it")
    func unreadableDeadLetters() async throws {
        try await StoreFixture.with(.sqlite) { s in
            var plain: [String] = []
            for (body, seconds) in [("one", 1.0), ("two", 2.0), ("three", 3.0)] { plain.append(try await s.failPlainMessage(body, at: try s.at(seconds))) }
            for (id, seconds) in [("r1", 1.0), ("r2", 2.0), ("r3", 3.0)] { try await s.endRun(id, .failed, at: seconds) }
            let newer = try DatabaseQueue(path: s.directory.path("store.db"))
            let unreadable = plain[1]
            try await newer.write { db in
                try db.execute(sql: #"UPDATE message_dead_letters SET spec = '{"future": true}' WHERE id = ?"#, arguments: [unreadable])
                try db.execute(sql: "UPDATE runs SET status = 'paused' WHERE id = 'r2'")
            }
            var messages: [String] = []
            var runs: [String] = []
            var cursors: (PageCursor?, PageCursor?) = (nil, nil)
            repeat {
                let page = try await s.store.messageDeadLetters(matching: MessageDeadLetterFilter(), after: cursors.0, count: 1)
                messages += page.letters.map(\.id)
                cursors.0 = page.next
            } while cursors.0 != nil
            repeat {
                let page = try await s.store.deadLetters(matching: DeadLetterFilter(), after: cursors.1, count: 1)
                runs += page.letters.map(\.runId)
                cursors.1 = page.next
            } while cursors.1 != nil
            #expect(messages == [plain[2], plain[0]])
            #expect(runs == ["r3", "r1"])
        }
    }

    @Test("a store whose file or write-ahead log is deleted or replaced under the server commits nothing more and is unavailable, as long as that lasts", arguments: ["", "-wal"])
    func deletedStoreFilesRefuseCommits(suffix: String) async throws {
        try await StoreFixture.with(.sqlite) { s in
            let path = s.directory.path("guarded.db")
            let store = try SQLiteStore(path: path)
            try await store.saveDefinition(s.definition)
            _ = try await store.createRun(s.newRun("before", at: 0))
            let moved = s.directory.path("moved" + suffix)
            try FileManager.default.moveItem(atPath: path + suffix, toPath: moved)
            func refused(_ what: String, _ body: () async throws -> Void) async {
                await #expect(throws: StoreUnavailable.self, "\(what) with \(path + suffix) gone") { try await body() }
            }
            await refused("a run's start") { _ = try await store.createRun(s.newRun("lost", at: 1)) }
            await refused("a claim") { _ = try await store.claimDueMessages(now: s.at(0), limit: 1, owner: "node-a", leaseUntil: s.at(900)) }
            await refused("the readiness check") { try await store.checkAvailable() }
            // Another file at the path is not the one opened either.
            _ = FileManager.default.createFile(atPath: path + suffix, contents: Data())
            await refused("a run's start") { _ = try await store.createRun(s.newRun("lost", at: 1)) }
            // Reads at once make the pool open readers, which would read the empty file ("no
            // such table"): each reads the store opened, or is refused.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<12 {
                    group.addTask {
                        do {
                            #expect(try await store.run(id: "before") != nil)
                        } catch {
                            #expect(StoreUnavailable.meant(by: error) != nil, "a read with \(path + suffix) replaced: \(error)")
                        }
                    }
                }
                try await group.waitForAll()
            }
            try FileManager.default.removeItem(atPath: path + suffix)
            try FileManager.default.moveItem(atPath: moved, toPath: path + suffix)
            _ = try await store.createRun(s.newRun("after", at: 2))
            try await store.checkAvailable()
            #expect(try await store.run(id: "lost") == nil)
            #expect(try await store.run(id: "after") != nil)
        }
    }

    @Test("a store that cannot grow (a full disk: SQLite's max_page_count reached) answers 503 with Retry-After, not 500, and goes on once it can")
    func fullStoreIsUnavailable() async throws {
        let hello = try definition("workflow: hello\nsteps:\n  - id: done\n    return: 1\n")
        try await RunningServer.with([hello], store: .sqlite) { server in
            let sqlite = try #require(server.store as? SQLiteStore)
            let pages = try await sqlite.pool.read { db in try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0 }
            try await sqlite.pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA max_page_count = \(pages)") }
            var refused: (status: Int, retryAfter: String?)?
            for attempt in 0..<200 where refused == nil {
                let answer = try await send(.POST, server.url("/workflows/hello"), body: #"{"padding": "\#(String(repeating: "x", count: 4_000 + attempt))"}"#)
                if answer.status != 200 { refused = (answer.status, answer.retryAfter) }
            }
            #expect(refused?.status == 503 && refused?.retryAfter == "5", "a full store is unavailable for now: \(String(describing: refused))")
            try await sqlite.pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA max_page_count = 1073741823") }
            #expect(try await send(.POST, server.url("/workflows/hello"), body: "{}").status == 200)
        }
        // /ready reads, which a full disk allows: it looks at the free space too.
        let folder = try TemporaryDirectory()
        #expect(throws: StoreUnavailable.self) { try StoreDiskSpace(folder: folder.url.path, minimumFreeBytes: .max).check() }
        try StoreDiskSpace(folder: folder.url.path, minimumFreeBytes: 0).check()
    }

    @Test("/ready is 503 while another process holds the store's write lock (a sqlite3 shell's BEGIN EXCLUSIVE), and ready once it lets go")
    func lockedStoreIsNotReady() async throws {
        let hello = try definition("workflow: hello\nsteps:\n  - id: done\n    return: 1\n")
        try await RunningServer.with([hello], store: .sqlite) { server in
            let sqlite = try #require(server.store as? SQLiteStore)
            let path = try await sqlite.pool.read { db in try String.fetchOne(db, sql: "SELECT file FROM pragma_database_list WHERE name = 'main'") ?? "" }
            #expect(try await send(.GET, server.url("/ready"), token: nil).status == 200)
            let shell = try DatabaseQueue(path: path)
            let held = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
            // The shell's lock is held on a thread of its own until the test lets it go.
            DispatchQueue.global().async {
                try? shell.inDatabase { db in
                    try db.inTransaction(.exclusive) {
                        held.signal()
                        release.wait()
                        return .rollback
                    }
                }
            }
            held.wait()
            // The store waits its busy timeout (10 s) for the lock before it answers.
            let locked = try await send(.GET, server.url("/ready"), token: nil)
            release.signal()
            #expect(locked.status == 503 && locked.retryAfter == "5", "\(locked.status) \(locked.body)")
            #expect(try await send(.GET, server.url("/ready"), token: nil).status == 200)
        }
    }

    @Test("SQLite's errors of a store that cannot write for now are unavailability (503); a broken rule or statement is not", arguments: [
        (ResultCode.SQLITE_FULL, true), (.SQLITE_BUSY, true), (.SQLITE_LOCKED, true), (.SQLITE_IOERR, true), (.SQLITE_CANTOPEN, true),
        (.SQLITE_CONSTRAINT, false), (.SQLITE_ERROR, false), (.SQLITE_MISUSE, false),
    ])
    func unavailabilityOfSQLiteErrors(code: ResultCode, unavailable: Bool) {
        let meant = StoreUnavailable.meant(by: DatabaseError(resultCode: code, message: "from the test"))
        #expect((meant != nil) == unavailable)
        #expect(meant.map { $0.reason.contains("from the test") } ?? true, "the reason keeps SQLite's message for the log")
    }

    @Test("a store file that cannot be opened is refused naming the file and what is wrong, and left as it is", arguments: [
        ("garbage", "it is not a SQLite database"), ("folder", "the file cannot be opened: is it a folder"), ("parent", "parent"),
    ])
    func unusableStoreFiles(kind: String, problem: String) async throws {
        try await StoreFixture.with(.sqlite) { s in
            let path = kind == "parent" ? s.directory.path("taken/unusable.db") : s.directory.path("unusable.db")
            switch kind {
            case "garbage": #expect(FileManager.default.createFile(atPath: path, contents: Data((0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 7919) })))
            case "folder": try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            default: #expect(FileManager.default.createFile(atPath: s.directory.path("taken"), contents: Data("a file".utf8)))
            }
            let before = FileManager.default.contents(atPath: path)
            #expect {
                _ = try SQLiteStore(path: path)
            } throws: { error in
                let text = "\(error)"
                return text.hasPrefix("cannot open the store \(path): ") && (kind == "parent" || text.contains(problem))
            }
            #expect(FileManager.default.contents(atPath: path) == before)
        }
    }

    @Test("everything survives closing and reopening the file; the file is in WAL mode")
    func survivesReopening() async throws {
        try await StoreFixture.with(.sqlite) { s in
            let reopenedPath = s.directory.path("nested/folder/durable.db")
            do {
                let first = try SQLiteStore(path: reopenedPath)
                try await first.saveDefinition(s.definition)
                _ = try await first.createRun(s.newRun("run-1", input: ["order": "A-7"], at: 0))
                _ = try await first.createRun(s.newRun("run-2", at: 1))
                let message = try #require(
                    try await first.claimDueMessages(now: s.at(0), limit: 1, owner: "node-a", leaseUntil: s.at(900)).first)
                #expect(try await first.complete(
                    message, owner: "node-a", with: s.resolution(message, sleep: s.at(60), finishedAt: s.at(2), outcome: "submitted")))
                #expect(try await first.cancel(runId: "run-2", at: s.at(3)))
            }
            let reopened = try SQLiteStore(path: reopenedPath)
            #expect(try await reopened.definitions() == [s.definition])
            let run = try #require(try await reopened.run(id: "run-1"))
            #expect(run.input == ["order": "A-7"])
            #expect(run.status == .running)
            #expect(try await reopened.run(id: "run-2")?.status == .canceled)
            #expect(try await reopened.journal(runId: "run-1") == [.initial(["order": "A-7"])])
            #expect(try await reopened.progress(runId: "run-1").pending == ["nap"])
            #expect(try await reopened.attempts(runId: "run-1").map(\.outcome) == ["submitted"])
            #expect(try await reopened.nextWakeTime() == s.at(60))
            let next = try await reopened.claimDueMessages(now: s.at(60), limit: 10, owner: "node-b", leaseUntil: s.at(90))
            #expect(next.map(\.runId) == ["run-1"])
            #expect(next.map(\.kind) == [.timer])

            let raw = try DatabaseQueue(path: reopenedPath)
            let mode = try await raw.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
            #expect(mode == "wal")
        }
    }

    @Test("every statement of a run's steps finds its rows through an index: none scans a table")
    func stepStatementsUseIndexes() async throws {
        try await StoreFixture.with(.sqlite) { s in
            let sqlite = try #require(s.store as? SQLiteStore)
            let executed = StatementLog()
            try await sqlite.pool.writeWithoutTransaction { db in
                db.trace { event in
                    if case .statement(let statement) = event { executed.add(statement.sql) }
                }
            }
            // A run that records a step, sleeps, wakes, waits for an event and ends.
            _ = try await s.store.createRun(s.newRun("run-1", at: 0))
            let first = try #require(try await s.claim("node-a", at: 0).first)
            let (_, leased) = try await s.store.complete(
                first, owner: "node-a", with: s.resolution(first, entry: s.fetched, finishedAt: s.at(1), outcome: "submitted"),
                leasingNext: s.lease(until: 30))
            let second = try #require(leased?.message)
            #expect(try await s.store.complete(second, owner: "node-a", with: s.resolution(second, sleep: s.at(60), finishedAt: s.at(2), outcome: "submitted")))
            let timer = try #require(try await s.claim("node-a", at: 60).first)
            let third = try #require(try await s.store.fireTimer(timer, owner: "node-a", leasingNext: s.lease(until: 90)).next?.message)
            let wait = StepOperation(stepName: "approval", stepType: .wait, kind: .wait(event: "go", timeoutAt: try s.at(3_600)))
            #expect(try await s.store.complete(third, owner: "node-a", with: s.resolution(third, park: [wait], finishedAt: s.at(61), outcome: "submitted")))
            _ = try await s.store.notify(event: "go", data: ["ok": true], runId: nil, at: s.at(62))
            let last = try #require(try await s.claim("node-a", at: 62).first)
            let finished = try s.resolution(last, next: nil, status: .succeeded, output: 1, finishedAt: s.at(63), outcome: "completed")
            #expect(try await s.store.complete(last, owner: "node-a", with: finished))
            try await sqlite.pool.writeWithoutTransaction { db in db.trace(nil) }

            let statements = executed.distinct.filter { sql in
                !["BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA"].contains { sql.uppercased().hasPrefix($0) }
            }
            #expect(statements.count > 10, "the steps ran their statements: \(statements)")
            let reader = try DatabaseQueue(path: s.directory.path("store.db"))
            for sql in statements {
                // The plan does not depend on the values: every parameter is bound to NULL.
                let parameters = StatementArguments([DatabaseValue](repeating: .null, count: sql.filter { $0 == "?" }.count))
                let plan = try await reader.read { db in
                    try String.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: parameters, adapter: SuffixRowAdapter(fromIndex: 3))
                }
                let scans = plan.filter { $0.hasPrefix("SCAN ") && $0 != "SCAN CONSTANT ROW" }
                #expect(scans.isEmpty, "\(sql) scans: \(scans)")
            }
        }
    }
}

/// The SQL of the statements a connection ran, collected by its trace hook.
final class StatementLog: @unchecked Sendable {
    private let lock = NSLock()
    private var statements: [String] = []

    func add(_ sql: String) { lock.withLock { statements.append(sql) } }

    var distinct: [String] { lock.withLock { Array(Set(statements)).sorted() } }
}
