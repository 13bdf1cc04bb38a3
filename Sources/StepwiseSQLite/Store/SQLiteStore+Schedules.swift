import GRDB
import StepwiseEngine
import StepwiseExpressions
import StepwiseRuntime

/// Cron schedules and their next fire times.
extension SQLiteStore {
    public func saveSchedules(_ schedules: [ScheduleRecord], served: Set<String>, node: String) async throws {
        try await pool.write { db in
            let existing = try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM schedules")).compactMap(Self.schedule)
            let replacement = ScheduleReplacement.plan(schedules, over: existing, served: served, node: node)
            for stale in replacement.deletions {
                try db.cachedStatement(sql: "DELETE FROM schedules WHERE workflow = ? AND position = ?").execute(arguments: [stale.workflow, stale.position])
            }
            for schedule in replacement.writes {
                try db.cachedStatement(
                    sql: """
                        INSERT OR REPLACE INTO schedules (workflow, position, cron, timezone, input, next_fire_at, last_fire_at, written_by)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """
                ).execute(arguments: [
                    schedule.workflow, schedule.position, schedule.cron, schedule.timeZone, schedule.input.jsonText(),
                    schedule.nextFireAt.map(SQLiteTime.milliseconds), schedule.lastFireAt.map(SQLiteTime.milliseconds), schedule.writtenBy,
                ])
            }
        }
    }

    public func schedules() async throws -> [ScheduleRecord] {
        try await pool.read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM schedules ORDER BY workflow, position")).compactMap(Self.schedule)
        }
    }

    public func fireSchedule(_ schedule: ScheduleRecord, expected: TimestampValue, next: TimestampValue?, run: RunRecord?, skipsOverlaps: Bool)
        async throws -> ScheduleFiring
    {
        try await pool.write { db in
            try SQLiteTransaction.transitions(db).fireSchedule(schedule, expected: expected, next: next, run: run, skipsOverlaps: skipsOverlaps)
        }
    }

    private static func schedule(_ row: Row) -> ScheduleRecord? {
        guard let input = try? Value(json: row["input"] as String) else { return nil }
        return ScheduleRecord(
            workflow: row["workflow"], position: row["position"], cron: row["cron"], timeZone: row["timezone"], input: input,
            nextFireAt: SQLiteTime.timestamp(row["next_fire_at"]), lastFireAt: SQLiteTime.timestamp(row["last_fire_at"]),
            writtenBy: row["written_by"])
    }
}
