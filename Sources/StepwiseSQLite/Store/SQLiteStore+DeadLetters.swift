import Foundation
import GRDB
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// The dead-letter queue: failed runs kept for resume (from the failed step) or restart.
extension SQLiteStore {
    public func deadLetters(matching filter: DeadLetterFilter, after cursor: PageCursor?, count: Int) async throws -> (
        letters: [DeadLetter], next: PageCursor?
    ) {
        try await pool.read { db in try SQLiteTransaction.transitions(db).deadLetters(matching: filter, after: cursor, count: count) }
    }

    public func deadLetter(id: String) async throws -> DeadLetter? {
        try await pool.read { db in try SQLiteTransaction(db).deadLetter(id: id) }
    }

    public func resume(deadLetter id: String, options: ResumeOptions, at time: TimestampValue) async throws -> RunRecord? {
        try await pool.write { db in try SQLiteTransaction.transitions(db).resume(deadLetter: id, options: options, at: time) }
    }

    public func restart(deadLetter id: String, failedAt: TimestampValue, as restarted: RestartedRun, at time: TimestampValue) async throws -> Bool {
        try await pool.write { db in try SQLiteTransaction.transitions(db).restart(deadLetter: id, failedAt: failedAt, as: restarted, at: time) }
    }

    public func retryFailureCallback(deadLetter id: String, at time: TimestampValue) async throws -> FailureCallbackRetry {
        try await pool.write { db in try SQLiteTransaction.transitions(db).retryFailureCallback(deadLetter: id, at: time) }
    }

    public func removeDeadLetter(_ id: String) async throws -> DeadLetter? {
        try await pool.write { db in try SQLiteTransaction.transitions(db).removeDeadLetter(id: id) }
    }
}
