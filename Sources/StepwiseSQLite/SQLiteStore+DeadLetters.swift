import Foundation
import GRDB
import StepwiseEngine
import StepwiseExpressions
import StepwiseRuntime

/// The dead-letter queue: failed runs kept for resume (from the failed step) or restart.
extension SQLiteStore {
    public func deadLetters() async throws -> [DeadLetter] {
        try await pool.read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT id FROM dead_letters ORDER BY created_at, id")).compactMap { row in
                try SQLiteTransaction(db).deadLetter(id: row["id"])
            }
        }
    }

    public func resume(deadLetter id: String, at time: TimestampValue) async throws -> RunRecord? {
        try await pool.write { db in try SQLiteTransaction.transitions(db).resume(deadLetter: id, at: time) }
    }

    public func removeDeadLetter(_ id: String) async throws -> DeadLetter? {
        try await pool.write { db in
            let transaction = SQLiteTransaction(db)
            guard let letter = try transaction.deadLetter(id: id) else { return nil }
            try transaction.removeDeadLetter(id: id)
            return letter
        }
    }
}
