import Foundation
import GRDB
@testable import StepwiseSQLite
import StepwiseTesting
import Testing

@testable import StepwiseEngine

/// Group commit: concurrent writes share transactions, each keeps its own result, and one that
/// fails is rolled back alone.
@Suite("Commit batcher")
struct CommitBatcherTests {
    @Test("concurrent writes are all committed with their own results, in fewer transactions than writes; a failing one alone is rolled back")
    func batchesAndIsolates() async throws {
        let directory = try TemporaryDirectory()
        let (pool, batcher, commits) = try await Self.counted(directory.path("batch.db"), table: "items (id INTEGER PRIMARY KEY, value TEXT NOT NULL)")
        struct Refused: Error {}
        let results = try await withThrowingTaskGroup(of: (Int, Result<Int, any Error>).self) { group in
            for index in 0..<200 {
                group.addTask {
                    do {
                        let value = try await batcher.write { db -> Int in
                            try db.execute(sql: "INSERT INTO items (id, value) VALUES (?, ?)", arguments: [index, "item-\(index)"])
                            if index == 77 { throw Refused() }
                            return index * 2
                        }
                        return (index, .success(value))
                    } catch {
                        return (index, .failure(error))
                    }
                }
            }
            var results: [Int: Result<Int, any Error>] = [:]
            for try await (index, result) in group { results[index] = result }
            return results
        }
        for index in 0..<200 where index != 77 { #expect((try? results[index]?.get()) == index * 2) }
        #expect((try? results[77]?.get()) == nil, "the failing write reports its error")
        let stored = try await pool.read { db in try Int.fetchAll(db, sql: "SELECT id FROM items ORDER BY id") }
        #expect(stored == Array(0..<200).filter { $0 != 77 }, "everything but the failing write is stored")
        #expect((1..<200).contains(commits.value), "writes arriving during a commit share the next one (\(commits.value) commits)")
    }
}

extension CommitBatcherTests {
    @Test("a write alone in its commit that fails rolls back and reports its own error")
    func loneFailureRollsBack() async throws {
        let directory = try TemporaryDirectory()
        let pool = try DatabasePool(path: directory.path("lone.db"))
        try await pool.write { db in try db.execute(sql: "CREATE TABLE items (id INTEGER PRIMARY KEY)") }
        let batcher = CommitBatcher(pool: pool)
        struct Refused: Error {}
        await #expect(throws: Refused.self) {
            try await batcher.write { db in
                try db.execute(sql: "INSERT INTO items (id) VALUES (1)")
                throw Refused()
            }
        }
        #expect(try await batcher.write { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM items") } == 0)
    }
}

extension CommitBatcherTests {
    @Test("writes arriving while another writer holds the database wait for it and are all committed, in fewer transactions than writes")
    func waitsForAnotherWriter() async throws {
        let directory = try TemporaryDirectory()
        let (pool, batcher, commits) = try await Self.counted(directory.path("held.db"), table: "items (id INTEGER PRIMARY KEY)")
        let (entered, holding) = AsyncStream<Void>.makeStream()
        let submitted = Counter()
        let held = Task {
            // Should the write fail before it holds, the wait below ends and `held.value` says why.
            defer { holding.finish() }
            try await pool.write { db in
                try db.execute(sql: "INSERT INTO items (id) VALUES (0)")
                holding.yield()
                // Held until every write below has been handed to the batcher, and a moment more: on
                // a loaded machine they took longer than a fixed 0.3 s to start (a CI dry run, session 36).
                let deadline = Date().addingTimeInterval(60)
                while submitted.value < 20, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
                Thread.sleep(forTimeInterval: 0.2)
            }
        }
        for await _ in entered { break }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 1...20 {
                group.addTask {
                    submitted.increment()
                    try await batcher.write { db in try db.execute(sql: "INSERT INTO items (id) VALUES (?)", arguments: [index]) }
                }
            }
            try await group.waitForAll()
        }
        try await held.value
        #expect(try await pool.read { db in try Int.fetchAll(db, sql: "SELECT id FROM items ORDER BY id") } == Array(0...20))
        #expect(commits.value < 21, "the writes that waited share commits (\(commits.value) commits)")
    }
}

extension CommitBatcherTests {
    /// A database at `path` with the one table `table` (its definition), a batcher writing to it
    /// and the count of its commits.
    static func counted(_ path: String, table: String) async throws -> (DatabasePool, CommitBatcher, Counter) {
        let pool = try DatabasePool(path: path)
        try await pool.write { db in try db.execute(sql: "CREATE TABLE " + table) }
        let commits = Counter()
        pool.add(transactionObserver: CommitCounter(commits: commits), extent: .databaseLifetime)
        return (pool, CommitBatcher(pool: pool), commits)
    }
}

/// A count shared with a transaction observer.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func increment() { lock.withLock { count += 1 } }
}

/// Counts the commits of a database.
final class CommitCounter: TransactionObserver {
    let commits: Counter
    init(commits: Counter) { self.commits = commits }
    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { true }
    func databaseDidChange(with event: DatabaseEvent) {}
    func databaseDidCommit(_ db: Database) { commits.increment() }
    func databaseDidRollback(_ db: Database) {}
}
