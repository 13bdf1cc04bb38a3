import Foundation
import GRDB
import StepwiseEngine
import StepwiseExpressions
import StepwiseRuntime

/// QStash schedules: the message each tick publishes and the next tick, fired by a
/// compare-and-set on the next fire time in the transaction that queues the tick's message.
extension SQLiteStore {
    /// A replaced schedule keeps its creation time, its pause and, when its cron and zone did not
    /// change, its next tick: a runner registering its schedules on every start neither skips
    /// nor repeats one.
    public func saveQueueSchedule(_ schedule: QueueSchedule) async throws {
        try await pool.write { db in
            try db.cachedStatement(
                sql: """
                    INSERT INTO queue_schedules (id, destination, cron, timezone, headers, body, paused, created_at, next_fire_at, caller_ip)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET destination = excluded.destination, headers = excluded.headers, body = excluded.body,
                        caller_ip = excluded.caller_ip,
                        next_fire_at = CASE WHEN cron = excluded.cron AND timezone IS excluded.timezone THEN next_fire_at
                            ELSE excluded.next_fire_at END,
                        cron = excluded.cron, timezone = excluded.timezone
                    """
            ).execute(arguments: [
                schedule.id, schedule.destination, schedule.cron, schedule.timeZone,
                try StoredJSON.text(schedule.headers), schedule.body.map { Data($0) },
                schedule.paused, SQLiteTime.milliseconds(schedule.createdAt), schedule.nextFireAt.map(SQLiteTime.milliseconds), schedule.callerIp,
            ])
        }
    }

    public func queueSchedules() async throws -> [QueueSchedule] {
        try await pool.read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM queue_schedules ORDER BY created_at, id")).compactMap(Self.queueSchedule)
        }
    }

    public func deleteQueueSchedule(id: String) async throws -> Bool {
        try await pool.write { db in
            try db.cachedStatement(sql: "DELETE FROM queue_schedules WHERE id = ?").execute(arguments: [id])
            return db.changesCount > 0
        }
    }

    public func setQueueSchedulePaused(id: String, paused: Bool, next: TimestampValue?) async throws -> Bool {
        try await pool.write { db in
            if paused {
                try db.cachedStatement(sql: "UPDATE queue_schedules SET paused = 1 WHERE id = ?").execute(arguments: [id])
            } else {
                try db.cachedStatement(sql: "UPDATE queue_schedules SET paused = 0, next_fire_at = ? WHERE id = ? AND paused = 1").execute(
                    arguments: [next.map(SQLiteTime.milliseconds), id])
                guard db.changesCount == 0 else { return true }
                return try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM queue_schedules WHERE id = ?"), arguments: [id]) ?? false
            }
            return db.changesCount > 0
        }
    }

    public func fireQueueSchedule(id: String, expected: TimestampValue, next: TimestampValue?, publications: [Publication], at time: TimestampValue)
        async throws -> Bool
    {
        try await pool.write { db in
            try SQLiteTransaction.transitions(db).fireQueueSchedule(id: id, expected: expected, next: next, publications: publications, at: time)
        }
    }

    private static func queueSchedule(_ row: Row) -> QueueSchedule? {
        guard let headers = StoredJSON.decode([ForwardedHeader].self, from: row["headers"]),
            let createdAt = SQLiteTime.timestamp(row["created_at"])
        else { return nil }
        return QueueSchedule(
            id: row["id"], destination: row["destination"], cron: row["cron"], timeZone: row["timezone"], headers: headers,
            body: (row["body"] as Data?).map { Array($0) }, paused: row["paused"], createdAt: createdAt,
            nextFireAt: SQLiteTime.timestamp(row["next_fire_at"]), lastFireAt: SQLiteTime.timestamp(row["last_fire_at"]),
            lastMessageId: row["last_message_id"], callerIp: row["caller_ip"])
    }
}
