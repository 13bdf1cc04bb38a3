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
        try db.cachedStatement(
            sql: "DELETE FROM runs WHERE id IN (SELECT id FROM runs WHERE \(Self.endedAndIdle) AND created_at < ? AND updated_at < ? LIMIT ?)"
        ).execute(arguments: StatementArguments(RunStatus.finalValues + [cutoff, cutoff, limit] as [any DatabaseValueConvertible]))
        return db.changesCount
    }

    func deleteEndedRun(id: String) throws -> Bool {
        try db.cachedStatement(sql: "DELETE FROM runs WHERE id = ? AND \(Self.endedAndIdle)")
            .execute(arguments: StatementArguments([id] + RunStatus.finalValues))
        return db.changesCount > 0
    }

    /// The runs that may be deleted: ended, with no message left in either queue and no run
    /// they started still running (a failed SDK run's invoked runs go on, and report their end
    /// to its log). Its placeholders take `RunStatus.finalValues`.
    private static let endedAndIdle = """
        status IN (\(Array(repeating: "?", count: RunStatus.finalValues.count).joined(separator: ", ")))
            AND NOT EXISTS (SELECT 1 FROM queue WHERE queue.run_id = runs.id)
            AND NOT EXISTS (SELECT 1 FROM messages WHERE messages.run_id = runs.id)
            AND NOT EXISTS (SELECT 1 FROM runs started WHERE started.parent_run_id = runs.id AND started.status = 'running')
        """
}
