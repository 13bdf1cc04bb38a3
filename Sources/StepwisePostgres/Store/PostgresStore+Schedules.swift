import Foundation
import PostgresNIO
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol

/// YAML schedules, QStash schedules, the signing keys and the API token's digest, shared by every node.
extension PostgresStore {
    public func saveSchedules(_ schedules: [ScheduleRecord], served: Set<String>, node: String) async throws {
        try await write { transaction in
            let session = transaction.session
            let existing = try session.rows("SELECT * FROM schedules FOR UPDATE").compactMap(Self.schedule)
            let replacement = ScheduleReplacement.plan(schedules, over: existing, served: served, node: node)
            for stale in replacement.deletions {
                try session.execute("DELETE FROM schedules WHERE workflow = ? AND position = ?", [stale.workflow, stale.position])
            }
            for schedule in replacement.writes {
                try session.execute(
                    """
                    INSERT INTO schedules (workflow, position, cron, timezone, input, next_fire_at, last_fire_at, written_by)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (workflow, position) DO UPDATE SET cron = excluded.cron, timezone = excluded.timezone,
                        input = excluded.input, next_fire_at = excluded.next_fire_at, last_fire_at = excluded.last_fire_at,
                        written_by = excluded.written_by
                    """,
                    [
                        schedule.workflow, schedule.position, schedule.cron, schedule.timeZone, schedule.input.jsonText(),
                        schedule.nextFireAt.map(PostgresTransaction.at), schedule.lastFireAt.map(PostgresTransaction.at), schedule.writtenBy,
                    ])
            }
        }
    }

    public func schedules() async throws -> [ScheduleRecord] {
        try await session { session in try session.rows("SELECT * FROM schedules ORDER BY workflow, position").compactMap(Self.schedule) }
    }

    public func fireSchedule(_ schedule: ScheduleRecord, expected: TimestampValue, next: TimestampValue?, run: RunRecord?, skipsOverlaps: Bool)
        async throws -> ScheduleFiring
    {
        try await transitions { transitions in
            try transitions.fireSchedule(schedule, expected: expected, next: next, run: run, skipsOverlaps: skipsOverlaps)
        }
    }

    private static func schedule(_ row: PostgresRowReader) -> ScheduleRecord? {
        guard let input = (try? row("input", as: String.self)).flatMap({ try? Value(json: $0) }),
            let workflow = try? row("workflow", as: String.self), let position = try? row("position", as: Int.self),
            let cron = try? row("cron", as: String.self)
        else { return nil }
        return ScheduleRecord(
            workflow: workflow, position: position, cron: cron, timeZone: (try? row("timezone", as: String?.self)) ?? nil, input: input,
            nextFireAt: PostgresTransaction.timestamp((try? row("next_fire_at", as: Int64?.self)) ?? nil),
            lastFireAt: PostgresTransaction.timestamp((try? row("last_fire_at", as: Int64?.self)) ?? nil),
            writtenBy: (try? row("written_by", as: String?.self)) ?? nil)
    }

    // MARK: QStash schedules

    public func saveQueueSchedule(_ schedule: QueueSchedule) async throws {
        try await write { transaction in
            try transaction.session.execute(
                """
                INSERT INTO queue_schedules (id, destination, cron, timezone, headers, body, paused, created_at, next_fire_at, caller_ip)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET destination = excluded.destination, headers = excluded.headers, body = excluded.body,
                    caller_ip = excluded.caller_ip,
                    next_fire_at = CASE WHEN queue_schedules.cron = excluded.cron AND queue_schedules.timezone IS NOT DISTINCT FROM excluded.timezone
                        THEN queue_schedules.next_fire_at ELSE excluded.next_fire_at END,
                    cron = excluded.cron, timezone = excluded.timezone
                """,
                [
                    schedule.id, schedule.destination, schedule.cron, schedule.timeZone, try StoredJSON.text(schedule.headers),
                    schedule.body.map { Data($0) }, schedule.paused ? 1 : 0, PostgresTransaction.at(schedule.createdAt),
                    schedule.nextFireAt.map(PostgresTransaction.at), schedule.callerIp,
                ])
        }
    }

    public func queueSchedules() async throws -> [QueueSchedule] {
        try await session { session in try session.rows("SELECT * FROM queue_schedules ORDER BY created_at, id").compactMap(Self.queueSchedule) }
    }

    public func deleteQueueSchedule(id: String) async throws -> Bool {
        try await write { transaction in try transaction.session.changes("DELETE FROM queue_schedules WHERE id = ?", [id]) }
    }

    public func setQueueSchedulePaused(id: String, paused: Bool, next: TimestampValue?) async throws -> Bool {
        try await write { transaction in
            let session = transaction.session
            if paused { return try session.changes("UPDATE queue_schedules SET paused = 1 WHERE id = ?", [id]) }
            if try session.changes("UPDATE queue_schedules SET paused = 0, next_fire_at = ? WHERE id = ? AND paused = 1", [next.map(PostgresTransaction.at), id]) {
                return true
            }
            return try session.row("SELECT 1 FROM queue_schedules WHERE id = ?", [id]) != nil
        }
    }

    public func fireQueueSchedule(id: String, expected: TimestampValue, next: TimestampValue?, publications: [Publication], at time: TimestampValue)
        async throws -> Bool
    {
        try await transitions { transitions in
            try transitions.fireQueueSchedule(id: id, expected: expected, next: next, publications: publications, at: time)
        }
    }

    private static func queueSchedule(_ row: PostgresRowReader) -> QueueSchedule? {
        guard let headerText = try? row("headers", as: String.self),
            let headers = StoredJSON.decode([ForwardedHeader].self, from: headerText),
            let createdAt = PostgresTransaction.timestamp(try? row("created_at", as: Int64.self)), let id = try? row("id", as: String.self),
            let destination = try? row("destination", as: String.self), let cron = try? row("cron", as: String.self),
            let paused = try? row("paused", as: Int.self)
        else { return nil }
        return QueueSchedule(
            id: id, destination: destination, cron: cron, timeZone: (try? row("timezone", as: String?.self)) ?? nil, headers: headers,
            body: ((try? row("body", as: Data?.self)) ?? nil).map { Array($0) }, paused: paused != 0, createdAt: createdAt,
            nextFireAt: PostgresTransaction.timestamp((try? row("next_fire_at", as: Int64?.self)) ?? nil),
            lastFireAt: PostgresTransaction.timestamp((try? row("last_fire_at", as: Int64?.self)) ?? nil),
            lastMessageId: (try? row("last_message_id", as: String?.self)) ?? nil, callerIp: (try? row("caller_ip", as: String?.self)) ?? nil)
    }

    // MARK: Signing keys

    public func signingKeys(storingIfAbsent fresh: SigningKeys) async throws -> SigningKeys {
        try await write { transaction in
            try transaction.session.execute(
                "INSERT INTO signing_keys (id, current_key, next_key) VALUES (1, ?, ?) ON CONFLICT (id) DO NOTHING",
                [fresh.current.text, fresh.next.text])
            return try Self.signingKeys(transaction.session) ?? fresh
        }
    }

    public func rotateSigningKeys(from expected: SigningKeys, to rotated: SigningKeys) async throws -> SigningKeys {
        try await write { transaction in
            try transaction.session.execute(
                "UPDATE signing_keys SET current_key = ?, next_key = ? WHERE id = 1 AND current_key = ? AND next_key = ?",
                [rotated.current.text, rotated.next.text, expected.current.text, expected.next.text])
            return try Self.signingKeys(transaction.session) ?? rotated
        }
    }

    public func apiToken(storing digest: String?, node: String, replacing: Bool) async throws -> StoredToken? {
        try await write { transaction in
            if let digest {
                try transaction.session.execute(
                    """
                    INSERT INTO api_token (id, digest, node, explicit) VALUES (1, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET digest = excluded.digest, node = excluded.node, explicit = excluded.explicit
                    WHERE excluded.explicit OR (api_token.node = excluded.node AND NOT api_token.explicit)
                    """, [digest, node, replacing])
            }
            return try transaction.session.row("SELECT digest, node, explicit FROM api_token WHERE id = 1").map { row in
                StoredToken(digest: try row("digest"), node: try row("node"), explicit: try row("explicit"))
            }
        }
    }

    public func runCounts() async throws -> [RunCount] {
        try await session { session in
            try session.rows("SELECT workflow, status, COUNT(*) AS count FROM runs GROUP BY workflow, status").compactMap { row in
                guard let status = RunStatus(rawValue: try row("status")) else { return nil }
                return RunCount(workflow: try row("workflow"), status: status, count: try row("count"))
            }
        }
    }

    public func deadLetterCounts() async throws -> DeadLetterCounts {
        try await session { session in
            let row = try session.row("SELECT (SELECT COUNT(*) FROM dead_letters) AS runs, (SELECT COUNT(*) FROM message_dead_letters) AS messages")
            guard let row else { return DeadLetterCounts(runs: 0, messages: 0) }
            return DeadLetterCounts(runs: try row("runs"), messages: try row("messages"))
        }
    }

    public func messageCounts(at now: TimestampValue) async throws -> MessageCounts {
        let now = PostgresTransaction.at(now)
        return try await session { session in
            let row = try session.row(
                """
                SELECT
                    (SELECT COUNT(*) FROM messages WHERE lease_until IS NULL AND waiting_for_slot = 0 AND due_at <= ?)
                        + (SELECT COUNT(*) FROM queue WHERE lease_until IS NULL AND waiting_for_slot = 0 AND due_at <= ?) AS due,
                    (SELECT COUNT(*) FROM messages WHERE lease_until IS NOT NULL)
                        + (SELECT COUNT(*) FROM queue WHERE lease_until IS NOT NULL) AS leased,
                    (SELECT COUNT(*) FROM messages WHERE lease_until IS NULL AND (waiting_for_slot = 1 OR due_at > ?))
                        + (SELECT COUNT(*) FROM queue WHERE lease_until IS NULL AND (waiting_for_slot = 1 OR due_at > ?)) AS later
                """, [now, now, now, now])
            guard let row else { return MessageCounts(due: 0, leased: 0, later: 0) }
            return MessageCounts(due: try row("due"), leased: try row("leased"), later: try row("later"))
        }
    }

    private static func signingKeys(_ session: PostgresSession) throws -> SigningKeys? {
        guard let row = try session.row("SELECT current_key, next_key FROM signing_keys WHERE id = 1") else { return nil }
        return SigningKeys(current: SigningKey(try row("current_key")), next: SigningKey(try row("next_key")))
    }
}
