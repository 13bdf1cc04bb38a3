import PostgresNIO
import StepwiseEngine
import StepwiseExpressions

/// Ended runs expired after the retention (`RunTransitions.expireEndedRuns`), in bounded
/// transactions; their rows go with them through the foreign keys.
extension PostgresStore {
    public func expireEndedRuns(before time: TimestampValue) async throws -> Int {
        try await write { transaction in try RunTransitions(transaction).expireEndedRuns(before: time) }
    }
}

extension PostgresTransaction {
    func deleteEndedRuns(before time: TimestampValue, limit: Int) throws -> Int {
        // Through runs_by_status: a run that ended before `time` was created before it. Indexing
        // the end itself would keep every step's update of `updated_at` from being a HOT update.
        // Runs another transaction holds (a resume from the DLQ) are skipped rather than waited
        // for; the lock re-reads the status, so a run resumed meanwhile is not taken.
        let cutoff = Self.at(time)
        let deleted: [String] = try session.values(
            """
            DELETE FROM runs WHERE id IN (
                SELECT id FROM runs WHERE \(Self.endedAndIdle) AND created_at < ? AND updated_at < ? LIMIT ? FOR UPDATE SKIP LOCKED)
            RETURNING id
            """, RunStatus.finalValues.map { $0 } + [cutoff, cutoff, Int64(limit)])
        return deleted.count
    }

    func deleteEndedRun(id: String) throws -> Bool {
        // The delete waits for a transaction holding the run (a resume from the DLQ) and reads
        // its status again, so a run resumed meanwhile is kept.
        try session.changes("DELETE FROM runs WHERE id = ? AND \(Self.endedAndIdle)", [id] + RunStatus.finalValues.map { $0 })
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
