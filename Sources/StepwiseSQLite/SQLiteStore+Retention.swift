import GRDB
import StepwiseEngine
import StepwiseExpressions

/// Ended runs expired after the retention (`RunTransitions.expireEndedRuns`), in bounded
/// transactions; their rows go with them through the foreign keys.
extension SQLiteStore {
    public func expireEndedRuns(before time: TimestampValue) async throws -> Int {
        try await groupCommit.write { db in try SQLiteTransaction.transitions(db).expireEndedRuns(before: time) }
    }
}

extension SQLiteTransaction {
    func deleteEndedRuns(before time: TimestampValue, limit: Int) throws -> Int {
        // `status <> 'running'` as written in runs_by_end, so that the partial index serves it.
        try db.cachedStatement(
            sql: """
                DELETE FROM runs WHERE id IN (
                    SELECT id FROM runs WHERE status <> 'running' AND updated_at < ?
                        AND NOT EXISTS (SELECT 1 FROM queue WHERE queue.run_id = runs.id)
                        AND NOT EXISTS (SELECT 1 FROM messages WHERE messages.run_id = runs.id)
                    ORDER BY updated_at LIMIT ?)
                """
        ).execute(arguments: [SQLiteTime.milliseconds(time), limit])
        return db.changesCount
    }
}
