import Foundation
import GRDB
import StepwiseEngine
import StepwiseExpressions
import StepwiseRuntime
import StepwiseSQLite
import StepwiseTesting
import Testing

/// What only the SQLite store promises beyond the `Store` suite (`StoreTests`): its file's
/// journal key against a second writer, durability across reopening, WAL mode.
@Suite("SQLiteStore", .timeLimit(.minutes(1)))
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
}
