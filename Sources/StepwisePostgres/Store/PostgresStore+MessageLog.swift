import Foundation
import PostgresNIO
import StepwiseEngine
import StepwiseExpressions

/// QStash's message log on PostgreSQL: `MessageLog`, read in one snapshot, expired in bounded
/// transactions.
extension PostgresStore {
    public func messageEvents(matching filter: MessageEventFilter, before: Int64?, count: Int) async throws -> (events: [MessageEvent], next: Int64?) {
        try await snapshot { session in try MessageLog(PostgresTransaction(session)).page(matching: filter, before: before, count: count) }
    }

    public func latestMessageStates(ids: [String]) async throws -> [String: MessageEvent.State] {
        guard !ids.isEmpty else { return [:] }
        let list = try StoredJSON.text(ids)
        return try await snapshot { session in
            let rows = try session.rows(
                """
                SELECT DISTINCT ON (message_id) message_id, state FROM message_events
                WHERE message_id IN (SELECT jsonb_array_elements_text(CAST(? AS JSONB))) ORDER BY message_id, seq DESC
                """, [list])
            let states = rows.compactMap { row -> (String, MessageEvent.State)? in
                guard let id = try? row("message_id", as: String.self), let state = (try? row("state", as: String.self)).flatMap(MessageEvent.State.init) else {
                    return nil
                }
                return (id, state)
            }
            return Dictionary(states, uniquingKeysWith: { first, _ in first })
        }
    }

    public func createdMessages(ids: [String]) async throws -> [String: QueuedMessage] {
        guard !ids.isEmpty else { return [:] }
        let list = try StoredJSON.text(ids)
        return try await snapshot { session in
            let rows = try session.rows(
                "SELECT message_id, spec FROM message_events WHERE state = 'CREATED' AND message_id IN (SELECT jsonb_array_elements_text(CAST(? AS JSONB)))",
                [list])
            let messages = rows.compactMap { row -> (String, QueuedMessage)? in
                guard let id = try? row("message_id", as: String.self), let spec = try? row("spec", as: String?.self) else { return nil }
                return StoredJSON.decode(QueuedMessage.self, from: spec).map { (id, $0) }
            }
            return Dictionary(messages, uniquingKeysWith: { first, _ in first })
        }
    }

    public func expireMessageEvents(before time: TimestampValue) async throws -> Int {
        try await write { transaction in try MessageLog(transaction).expire(before: PostgresTransaction.at(time)) }
    }
}

/// The rows of QStash's message log: `message_events`, numbered by `seq`; a `created` event keeps
/// the message's stored form and body.
extension PostgresTransaction: MessageEventRows {
    func appendMessageEvent(_ event: MessageEvent) throws {
        let answer = event.answer
        try session.execute(
            """
            INSERT INTO message_events (time, state, message_id, url, url_group, queue_name, schedule_id, label, flow_key, caller_ip, run_id, error,
                next_delivery_at, response_status, response_headers, response_body, spec, body)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                event.time, event.state.rawValue, event.messageId, event.url, event.urlGroup, event.queue, event.scheduleId, event.label, event.flowControlKey, event.callerIp,
                event.runId,
                event.error, event.nextDeliveryAt, answer.map { Int64($0.status) }, try answer.map { try StoredJSON.text($0.headers) },
                answer.map { Data($0.body) }, try event.message.map { try StoredJSON.text($0) }, event.message?.body.map { Data($0) },
            ])
    }

    func messageEvents(matching filter: MessageEventFilter, before: Int64?, limit: Int) throws -> [MessageEvent] {
        // Bounds are bound as plain values (the extremes when not given); each text condition
        // binds its value twice, NULL (not filtered) making it true.
        let ids: String? = filter.messageIds.isEmpty ? nil : try StoredJSON.text(filter.messageIds)
        let bounds: [(any PostgresThrowingDynamicTypeEncodable)?] = [before ?? Int64.max, filter.from ?? Int64.min, filter.until ?? Int64.max]
        let texts: [(any PostgresThrowingDynamicTypeEncodable)?] = [try StoredJSON.list(filter.states.map(\.rawValue))] + (try filter.match.boundLists())
        let tail: [(any PostgresThrowingDynamicTypeEncodable)?] = (ids.map { [$0] } ?? []) + (filter.runId.map { [$0] } ?? []) + [Int64(limit)]
        return try session.rows(
            """
            SELECT * FROM message_events
            WHERE seq < ? AND time >= ? AND time <= ?
                AND (CAST(? AS TEXT) IS NULL OR state IN (SELECT jsonb_array_elements_text(CAST(? AS JSONB)))) AND \(PostgresTransaction.messageMatch)
            """ + (ids == nil ? "" : " AND message_id IN (SELECT jsonb_array_elements_text(CAST(? AS JSONB)))")
                + (filter.runId == nil ? "" : " AND run_id = ?") + " ORDER BY seq DESC LIMIT ?",
            bounds + texts.flatMap { [$0, $0] } + tail
        ).compactMap(Self.messageEvent)
    }

    func messageLogShowsEnd(of id: String) throws -> Bool {
        try session.values(
            "SELECT EXISTS (SELECT 1 FROM message_events WHERE message_id = ? AND state IN ('DELIVERED', 'FAILED', 'CANCELED'))", [id], as: Bool.self
        ).first ?? false
    }

    func deleteMessageEvents(before time: Int64, limit: Int) throws -> Int {
        // Rows another transaction is deleting are skipped rather than waited for.
        let deleted: [Int64] = try session.values(
            """
            DELETE FROM message_events WHERE seq IN (
                SELECT seq FROM message_events WHERE time < ? ORDER BY time LIMIT ? FOR UPDATE SKIP LOCKED)
            RETURNING seq
            """, [time, Int64(limit)])
        return deleted.count
    }

    /// The event of `row`; `nil` when it cannot be read.
    private static func messageEvent(_ row: PostgresRowReader) -> MessageEvent? {
        guard let state = (try? row("state", as: String.self)).flatMap(MessageEvent.State.init(rawValue:)),
            let sequence = try? row("seq", as: Int64.self), let time = try? row("time", as: Int64.self),
            let messageId = try? row("message_id", as: String.self), let url = try? row("url", as: String.self)
        else { return nil }
        var message = StoredJSON.decode(QueuedMessage.self, from: (try? row("spec", as: String?.self)) ?? nil)
        message?.body = ((try? row("body", as: Data?.self)) ?? nil).map { Array($0) }
        let answer = ((try? row("response_status", as: Int64?.self)) ?? nil).map { status in
            AttemptAnswer(
                status: Int(status), headers: StoredJSON.decode([ForwardedHeader].self, from: (try? row("response_headers", as: String?.self)) ?? nil) ?? [],
                body: ((try? row("response_body", as: Data?.self)) ?? nil).map { Array($0) } ?? [])
        }
        func text(_ name: String) -> String? { (try? row(name, as: String?.self)) ?? nil }
        return MessageEvent(
            sequence: sequence, time: time, state: state, message: message, messageId: messageId, url: url, urlGroup: text("url_group"),
            queue: text("queue_name"), scheduleId: text("schedule_id"), label: text("label"), flowControlKey: text("flow_key"), callerIp: text("caller_ip"), runId: text("run_id"), error: text("error"),
            nextDeliveryAt: (try? row("next_delivery_at", as: Int64?.self)) ?? nil, answer: answer)
    }
}
