import Foundation
import GRDB
import StepwiseExpressions
import StepwiseRuntime

/// The dead-letter queue: failed runs kept for resume (from the failed step) or restart.
extension SQLiteStore {
    public func deadLetters() async throws -> [DeadLetter] {
        try await pool.read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT id FROM dead_letters ORDER BY created_at, id")).compactMap { row in
                try Self.deadLetter(db, id: row["id"])
            }
        }
    }

    public func resume(deadLetter id: String, at time: TimestampValue) async throws -> RunRecord? {
        try await pool.write { db in
            guard let letter = try Self.deadLetter(db, id: id), let run = try Self.fetchRun(db, id: letter.runId), run.status == .failed
            else {
                return nil
            }
            let now = SQLiteTime.milliseconds(time)
            if run.endpoint != nil {
                return try Self.resumeEndpointRun(db, run, letter: id, at: now) ? try Self.fetchRun(db, id: run.id) : nil
            }
            let failurePosition =
                try Int.fetchOne(db.cachedStatement(sql: "SELECT failure_position FROM runs WHERE id = ?"), arguments: [run.id]) ?? Int.max
            // Keep every completed result; drop the failed step's entry and what on_failure did.
            let rows = try Row.fetchAll(
                db.cachedStatement(sql: "SELECT position, entry FROM journal WHERE run_id = ? ORDER BY position"), arguments: [run.id])
            for row in rows {
                let position: Int = row["position"]
                let entry = (try? Value(json: row["entry"] as String)).flatMap { try? JournalEntry(json: $0) }
                let failedHere = entry?.error != nil && entry?.stepName == letter.failedStep
                guard position >= failurePosition || failedHere else { continue }
                try db.cachedStatement(sql: "DELETE FROM journal WHERE run_id = ? AND position = ?").execute(arguments: [run.id, position])
            }
            try Self.renumberJournal(db, runId: run.id)
            try db.cachedStatement(
                sql: """
                    UPDATE runs SET status = 'running', phase = 'main', error = NULL, output = NULL, failure_position = NULL, updated_at = ?
                    WHERE id = ?
                    """
            ).execute(arguments: [now, run.id])
            try db.cachedStatement(sql: "DELETE FROM dead_letters WHERE id = ?").execute(arguments: [id])
            try Self.deliver(db, runId: run.id, attempt: 0, dueAt: now, at: now)
            return try Self.fetchRun(db, id: run.id)
        }
    }

    public func removeDeadLetter(_ id: String) async throws -> DeadLetter? {
        try await pool.write { db in
            guard let letter = try Self.deadLetter(db, id: id) else { return nil }
            try db.cachedStatement(sql: "DELETE FROM dead_letters WHERE id = ?").execute(arguments: [id])
            return letter
        }
    }

    /// Closes the gaps left by deleted entries, so positions stay 0, 1, 2, … as appends expect.
    private static func renumberJournal(_ db: Database, runId: String) throws {
        let positions = try Int.fetchAll(
            db.cachedStatement(sql: "SELECT position FROM journal WHERE run_id = ? ORDER BY position"), arguments: [runId])
        for (index, position) in positions.enumerated() where index != position {
            try db.cachedStatement(sql: "UPDATE journal SET position = ? WHERE run_id = ? AND position = ?").execute(arguments: [
                index, runId, position,
            ])
        }
    }

    private static func deadLetter(_ db: Database, id: String) throws -> DeadLetter? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM dead_letters WHERE id = ?"), arguments: [id]),
            let run = try fetchRun(db, id: row["run_id"]), let created = SQLiteTime.timestamp(row["created_at"])
        else { return nil }
        let message = (row["message"] as String?).flatMap { try? JSONDecoder().decode(QueuedMessage.self, from: Data($0.utf8)) }
        return DeadLetter(
            id: id, runId: run.id, workflow: run.workflow, failedStep: run.error?.step, error: run.error, createdAt: created,
            message: message)
    }
}
