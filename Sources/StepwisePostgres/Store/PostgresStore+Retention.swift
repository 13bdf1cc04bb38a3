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
        let statuses = RunStatus.finalValues
        let deleted: [String] = try session.values(
            """
            DELETE FROM runs WHERE id IN (
                SELECT id FROM runs WHERE status IN (\(Array(repeating: "?", count: statuses.count).joined(separator: ", "))) AND created_at < ? AND updated_at < ?
                    AND NOT EXISTS (SELECT 1 FROM queue WHERE queue.run_id = runs.id)
                    AND NOT EXISTS (SELECT 1 FROM messages WHERE messages.run_id = runs.id)
                LIMIT ? FOR UPDATE SKIP LOCKED)
            RETURNING id
            """, statuses.map { $0 } + [cutoff, cutoff, Int64(limit)])
        return deleted.count
    }
}
