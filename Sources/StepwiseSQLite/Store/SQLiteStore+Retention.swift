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
        // Through runs_by_status: a run that ended before `time` was created before it, so no
        // index of the end time is needed (on PostgreSQL one would cost every step's update).
        let cutoff = SQLiteTime.milliseconds(time)
        let statuses = RunStatus.finalValues
        try db.cachedStatement(
            sql: """
                DELETE FROM runs WHERE id IN (
                    SELECT id FROM runs WHERE status IN (\(Array(repeating: "?", count: statuses.count).joined(separator: ", "))) AND created_at < ? AND updated_at < ?
                        AND NOT EXISTS (SELECT 1 FROM queue WHERE queue.run_id = runs.id)
                        AND NOT EXISTS (SELECT 1 FROM messages WHERE messages.run_id = runs.id)
                    LIMIT ?)
                """
        ).execute(arguments: StatementArguments(statuses + [cutoff, cutoff, limit] as [any DatabaseValueConvertible]))
        return db.changesCount
    }
}
