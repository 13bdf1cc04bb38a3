import GRDB
import Synchronization

/// Group commit for concurrent writers: write transactions that arrive while another commit is
/// in progress wait and then run together in one transaction, each in a savepoint of its own,
/// so many steps of many runs cost one fsync. Every caller returns only after the commit that
/// holds its changes, so an acknowledged change is as durable as with a transaction of its own;
/// a writer that throws rolls back its savepoint alone.
final class CommitBatcher: Sendable {
    /// One waiting write: runs inside the shared transaction, and is told the outcome after it.
    /// Sharing it with others, it runs in a savepoint and keeps its error to itself; alone, its
    /// error rolls back the transaction (a savepoint would only cost two more statements).
    private struct Job: Sendable {
        let run: @Sendable (Database, _ shared: Bool) throws -> Void
        let finish: @Sendable ((any Error)?) -> Void
    }

    private struct State {
        var waiting: [Job] = []
        var committing = false
    }

    private let pool: DatabasePool
    private let state = Mutex(State())

    /// A batcher writing to `pool`.
    init(pool: DatabasePool) {
        self.pool = pool
    }

    /// Runs `body` in a savepoint of the next group commit and returns its result once committed.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let outcome = Mutex<Result<T, any Error>?>(nil)
            let job = Job(
                run: { db, shared in
                    guard shared else {
                        let value = try body(db)
                        outcome.withLock { $0 = .success(value) }
                        return
                    }
                    do {
                        let value = try Self.inSavepoint(db) { try body(db) }
                        outcome.withLock { $0 = .success(value) }
                    } catch {
                        outcome.withLock { $0 = .failure(error) }
                    }
                },
                finish: { commitError in
                    if let commitError { return continuation.resume(throwing: commitError) }
                    let result = outcome.withLock { $0 } ?? .failure(DatabaseError(message: "a batched write produced no result"))
                    continuation.resume(with: result)
                })
            let startsBatch = state.withLock { state in
                state.waiting.append(job)
                guard !state.committing else { return false }
                state.committing = true
                return true
            }
            if startsBatch { drain() }
        }
    }

    /// Commits the waiting writes, batch after batch, until none is left. Each batch is handed to
    /// the writer's queue, and the next one is taken from there once the commit is done: no task
    /// or thread switch between batches. A commit never runs on the caller's thread: that would
    /// block a thread of Swift's small cooperative pool behind every other writer of the
    /// database (measured and not kept, BENCHMARKS.md).
    private func drain() {
        let jobs = state.withLock { state -> [Job] in
            let jobs = state.waiting
            state.waiting = []
            if jobs.isEmpty { state.committing = false }
            return jobs
        }
        guard !jobs.isEmpty else { return }
        pool.asyncWriteWithoutTransaction { db in
            let error = Self.inTransaction(db) {
                for job in jobs {
                    try job.run(db, jobs.count > 1)
                    // After some errors (a full disk, an I/O error) SQLite rolls the whole transaction
                    // back by itself: the jobs after it must not run outside a transaction.
                    guard db.isInsideTransaction else {
                        throw DatabaseError(resultCode: .SQLITE_ABORT, message: "SQLite rolled back the group commit")
                    }
                }
            }
            for job in jobs { job.finish(error) }
            self.drain()
        }
    }

    // Transactions and savepoints go through cached statements: GRDB's own compile their SQL
    // again each time, which costs more than a step's other statements.

    /// Runs `body` in an immediate transaction, committed when it returns and rolled back when it
    /// throws; the error, if any.
    private static func inTransaction(_ db: Database, _ body: () throws -> Void) -> (any Error)? {
        do {
            try db.cachedStatement(sql: "BEGIN IMMEDIATE").execute()
        } catch {
            return error
        }
        do {
            try body()
            try db.cachedStatement(sql: "COMMIT").execute()
            return nil
        } catch {
            // SQLite rolls back by itself after some errors (a full disk, an I/O error).
            if db.isInsideTransaction { try? db.cachedStatement(sql: "ROLLBACK").execute() }
            return error
        }
    }

    /// Runs `body` in a savepoint of the transaction, whose changes are undone when it throws.
    private static func inSavepoint<T>(_ db: Database, _ body: () throws -> T) throws -> T {
        try db.cachedStatement(sql: "SAVEPOINT job").execute()
        do {
            let value = try body()
            try db.cachedStatement(sql: "RELEASE job").execute()
            return value
        } catch {
            try? db.cachedStatement(sql: "ROLLBACK TO job").execute()
            try? db.cachedStatement(sql: "RELEASE job").execute()
            throw error
        }
    }
}
