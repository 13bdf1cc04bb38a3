import Foundation
import GRDB
import StepwiseEngine
import StepwiseExpressions

/// QStash's message log on SQLite: `MessageLog`, expired in bounded transactions.
extension SQLiteStore {
    public func messageEvents(matching filter: MessageEventFilter, before: Int64?, count: Int) async throws -> (events: [MessageEvent], next: Int64?) {
        try await pool.read { db in try MessageLog(SQLiteTransaction(db)).page(matching: filter, before: before, count: count) }
    }

    public func latestMessageStates(ids: [String]) async throws -> [String: MessageEvent.State] {
        guard !ids.isEmpty else { return [:] }
        let list = try StoredJSON.text(ids)
        return try await pool.read { db in
            let rows = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT message_id, state FROM message_events WHERE seq IN (
                            SELECT MAX(seq) FROM message_events WHERE message_id IN (SELECT value FROM json_each(?)) GROUP BY message_id)
                        """),
                arguments: [list])
            return Dictionary(rows.compactMap { row in MessageEvent.State(rawValue: row["state"]).map { (row["message_id"] as String, $0) } }, uniquingKeysWith: { first, _ in first })
        }
    }

    public func createdMessages(ids: [String]) async throws -> [String: QueuedMessage] {
        guard !ids.isEmpty else { return [:] }
        let list = try StoredJSON.text(ids)
        return try await pool.read { db in
            let rows = try Row.fetchAll(
                db.cachedStatement(
                    sql: "SELECT message_id, spec FROM message_events WHERE state = 'CREATED' AND message_id IN (SELECT value FROM json_each(?))"),
                arguments: [list])
            let messages = rows.compactMap { row in StoredJSON.decode(QueuedMessage.self, from: row["spec"]).map { (row["message_id"] as String, $0) } }
            return Dictionary(messages, uniquingKeysWith: { first, _ in first })
        }
    }

    public func expireMessageEvents(before time: TimestampValue) async throws -> Int {
        try await groupCommit.write { db in try MessageLog(SQLiteTransaction(db)).expire(before: SQLiteTime.milliseconds(time)) }
    }
}

/// The rows of QStash's message log: `message_events`, numbered by their rowid; a `created` event
/// keeps the message's stored form and body.
extension SQLiteTransaction: MessageEventRows {
    func appendMessageEvent(_ event: MessageEvent) throws {
        let answer = event.answer
        try db.cachedStatement(
            sql: """
                INSERT INTO message_events (time, state, message_id, url, url_group, queue_name, schedule_id, label, flow_key, caller_ip, run_id, error,
                    next_delivery_at, response_status, response_headers, response_body, spec, body)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            event.time, event.state.rawValue, event.messageId, event.url, event.urlGroup, event.queue, event.scheduleId, event.label, event.flowControlKey, event.callerIp,
                event.runId,
            event.error, event.nextDeliveryAt, answer.map { Int64($0.status) }, try answer.map { try StoredJSON.text($0.headers) },
            answer.map { Data($0.body) }, try event.message.map { try StoredJSON.text($0) }, event.message?.body.map { Data($0) },
        ])
    }

    func messageEvents(matching filter: MessageEventFilter, before: Int64?, limit: Int) throws -> [MessageEvent] {
        // Bounds are bound as plain values (the extremes when not given), and `+time` keeps the
        // time index out, so the scan walks the sequence down from `before` and stops at the
        // page's end; each text condition binds its value twice, NULL (not filtered) making it
        // true. Message ids, and a run, when given, are looked up by their index.
        let ids: String? = filter.messageIds.isEmpty ? nil : try StoredJSON.text(filter.messageIds)
        let bounds: [(any DatabaseValueConvertible)?] = [before ?? Int64.max, filter.from ?? Int64.min, filter.until ?? Int64.max]
        let texts: [(any DatabaseValueConvertible)?] = [try StoredJSON.list(filter.states.map(\.rawValue))] + (try filter.match.boundLists())
        let tail: [(any DatabaseValueConvertible)?] = (ids.map { [$0] } ?? []) + (filter.runId.map { [$0] } ?? []) + [Int64(limit)]
        return try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT * FROM message_events
                    WHERE seq < ? AND +time >= ? AND +time <= ?
                        AND (CAST(? AS TEXT) IS NULL OR state IN (SELECT value FROM json_each(?))) AND \(SQLiteTransaction.messageMatch)
                    """ + (ids == nil ? "" : " AND message_id IN (SELECT value FROM json_each(?))")
                + (filter.runId == nil ? "" : " AND run_id = ?") + " ORDER BY seq DESC LIMIT ?"),
            arguments: StatementArguments(bounds + texts.flatMap { [$0, $0] } + tail)
        ).compactMap(Self.messageEvent)
    }

    func deleteMessageEvents(before time: Int64, limit: Int) throws -> Int {
        try db.cachedStatement(sql: "DELETE FROM message_events WHERE seq IN (SELECT seq FROM message_events WHERE time < ? ORDER BY time LIMIT ?)")
            .execute(arguments: [time, limit])
        return db.changesCount
    }

    func messageLogShowsEnd(of id: String) throws -> Bool {
        try Bool.fetchOne(
            db.cachedStatement(
                sql: "SELECT EXISTS (SELECT 1 FROM message_events WHERE message_id = ? AND state IN ('DELIVERED', 'FAILED', 'CANCELED'))"),
            arguments: [id]) ?? false
    }

    /// The event of `row`; `nil` when its state cannot be read.
    private static func messageEvent(_ row: Row) -> MessageEvent? {
        guard let state = MessageEvent.State(rawValue: row["state"]) else { return nil }
        var message = StoredJSON.decode(QueuedMessage.self, from: row["spec"])
        message?.body = (row["body"] as Data?).map { Array($0) }
        let answer = (row["response_status"] as Int64?).map { status in
            AttemptAnswer(
                status: Int(status), headers: StoredJSON.decode([ForwardedHeader].self, from: row["response_headers"]) ?? [],
                body: (row["response_body"] as Data?).map { Array($0) } ?? [])
        }
        return MessageEvent(
            sequence: row["seq"], time: row["time"], state: state, message: message, messageId: row["message_id"], url: row["url"],
            urlGroup: row["url_group"], queue: row["queue_name"], scheduleId: row["schedule_id"], label: row["label"], flowControlKey: row["flow_key"],
            callerIp: row["caller_ip"], runId: row["run_id"],
            error: row["error"], nextDeliveryAt: row["next_delivery_at"], answer: answer)
    }
}
