import Foundation
import PostgresNIO
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// Dead letters, the QStash queue, SDK runs' logs and waits, and schedule ticks.
extension PostgresTransaction {
    // MARK: Dead letters

    func deadLetter(id: String) throws -> DeadLetter? {
        try session.row("\(Self.deadLetterRows) WHERE d.id = ?", [id]).flatMap(Self.deadLetter)
    }

    func deadLetters(matching filter: DeadLetterFilter, after cursor: PageCursor?, limit: Int) throws -> [(
        position: PageCursor, letter: DeadLetter?
    )] {
        // Bounds are plain values (`PageBounds`); each other condition binds its value twice,
        // NULL (not filtered) making it true.
        let page = PageBounds(from: filter.failedFrom, until: filter.failedUntil, after: cursor)
        let bounds: [(any PostgresThrowingDynamicTypeEncodable)?] = [page.from, page.until, page.cursorTime, page.cursorTime, page.cursorId]
        let texts: [(any PostgresThrowingDynamicTypeEncodable)?] = [
            filter.runId, try StoredJSON.list(filter.workflows), try StoredJSON.list(filter.labels), try StoredJSON.list(filter.failureCallbackStates.map(\.rawValue)),
            try StoredJSON.list(filter.flowControlKeys), try StoredJSON.list(filter.callerIps),
        ]
        return try session.rows(
            """
            \(Self.deadLetterRows)
            WHERE d.created_at >= ? AND d.created_at <= ? AND (d.created_at < ? OR (d.created_at = ? AND d.id < ?))
                AND (CAST(? AS TEXT) IS NULL OR d.run_id = ?) AND (CAST(? AS TEXT) IS NULL OR r.workflow IN (SELECT jsonb_array_elements_text(CAST(? AS JSONB))))
                AND (CAST(? AS TEXT) IS NULL OR EXISTS (
                    SELECT 1 FROM run_labels l WHERE l.run_id = r.id AND l.label IN (SELECT jsonb_array_elements_text(CAST(? AS JSONB)))))
                AND (CAST(? AS TEXT) IS NULL OR d.failure_callback_state IN (SELECT jsonb_array_elements_text(CAST(? AS JSONB))))
                AND (CAST(? AS TEXT) IS NULL OR \(RunFilter.flowKeyColumn(of: "r")) IN (SELECT jsonb_array_elements_text(CAST(? AS JSONB))))
                AND (CAST(? AS TEXT) IS NULL OR r.caller_ip IN (SELECT jsonb_array_elements_text(CAST(? AS JSONB))))
            ORDER BY d.created_at DESC, d.id DESC LIMIT ?
            """, bounds + texts.flatMap { [$0, $0] } + [Int64(limit)]
        ).map { row in (PageCursor(milliseconds: try row("failed_at", as: Int64.self), id: try row("dlq_id", as: String.self)), Self.deadLetter(row)) }
    }

    /// Entries with their runs, in one read: the run's columns, and the entry's under names of
    /// their own.
    private static let deadLetterRows = """
        SELECT r.*, d.id AS dlq_id, d.created_at AS failed_at, d.message AS dlq_message, d.message_body AS dlq_message_body,
            d.failure_callback AS dlq_failure_callback, d.response_status AS dlq_response_status,
            d.response_headers AS dlq_response_headers, d.response_body AS dlq_response_body
        FROM dead_letters d JOIN runs r ON r.id = d.run_id
        """

    /// The entry of a `deadLetterRows` row; `nil` when its run cannot be read.
    private static func deadLetter(_ row: PostgresRowReader) -> DeadLetter? {
        guard let run = PostgresRecords.run(row), let failed = timestamp(try? row("failed_at", as: Int64.self)),
            let id = try? row("dlq_id", as: String.self)
        else { return nil }
        var message = StoredJSON.decode(QueuedMessage.self, from: try? row("dlq_message", as: String?.self) ?? nil)
        message?.body = (try? row("dlq_message_body", as: Data?.self) ?? nil).map { Array($0) }
        var letter = DeadLetter(id: id, of: run, createdAt: failed, message: message)
        letter.failureCallback = StoredJSON.decode(FailureCallbackRecord.self, from: try? row("dlq_failure_callback", as: String?.self) ?? nil)
        if let status = try? row("dlq_response_status", as: Int64?.self),
            let headers = StoredJSON.decode([ForwardedHeader].self, from: try? row("dlq_response_headers", as: String?.self) ?? nil)
        {
            let body = (try? row("dlq_response_body", as: Data?.self) ?? nil) ?? Data()
            letter.response = AttemptAnswer(status: Int(status), headers: headers, body: Array(body))
        }
        return letter
    }

    func addDeadLetter(runId: String, at time: TimestampValue) throws {
        try session.execute(
            """
            INSERT INTO dead_letters (id, run_id, created_at) VALUES (?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET created_at = excluded.created_at, message = NULL, message_body = NULL, failure_callback = NULL,
                failure_callback_state = NULL, failure_callback_message = NULL, response_status = NULL, response_headers = NULL, response_body = NULL
            """, [DeadLetter.id(ofRun: runId), runId, Self.at(time)])
    }

    func setDeadLetterMessage(runId: String, message: QueuedMessage, answer: AttemptAnswer?) throws {
        try session.execute(
            "UPDATE dead_letters SET message = ?, message_body = ?, response_status = ?, response_headers = ?, response_body = ? WHERE run_id = ?",
            [
                try StoredJSON.text(message), message.body.map { Data($0) }, answer.map { Int64($0.status) },
                try answer.map { try StoredJSON.text($0.headers) }, answer.map { Data($0.body) }, runId,
            ])
    }

    func setDeadLetterFailureCallback(
        runId: String, _ callback: FailureCallbackRecord, expecting expected: (messageId: String, state: FailureCallbackRecord.State)?
    ) throws -> Bool {
        try session.changes(
            """
            UPDATE dead_letters SET failure_callback = ?, failure_callback_state = ?, failure_callback_message = ?
            WHERE run_id = ? AND ((CAST(? AS TEXT) IS NULL AND failure_callback_message IS NULL)
                OR (failure_callback_message = ? AND failure_callback_state = ?))
            """,
            [
                try StoredJSON.text(callback), callback.state.rawValue, callback.message.id, runId, expected?.messageId, expected?.messageId,
                expected?.state.rawValue,
            ])
    }

    func removeDeadLetter(id: String) throws -> Bool {
        try session.row("DELETE FROM dead_letters WHERE id = ? RETURNING id", [id]) != nil
    }

    // MARK: The queue and logs

    func enqueue(_ message: QueuedMessage, at time: TimestampValue) throws {
        try session.execute(
            "INSERT INTO queue (id, run_id, spec, body, attempt, due_at, created_at, flow_key, holds_slot) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                message.id, message.runId, try StoredJSON.text(message), message.body.map { Data($0) }, message.attempt, Self.due(message.dueAt),
                Self.at(time), message.flowControl?.key ?? message.queueSlot, message.queueSlot != nil,
            ])
        madeDue.otherWork()
    }

    func deleteQueued(id: String) throws {
        try session.execute("DELETE FROM queue WHERE id = ?", [id])
    }

    func queuedMessage(id: String) throws -> (message: QueuedMessage, createdAt: Int64)? {
        guard let row = try session.row("SELECT * FROM queue WHERE id = ?", [id]), let message = PostgresRecords.queuedMessage(row) else { return nil }
        return (message, try row("created_at", as: Int64.self))
    }

    func plainQueuedIds() throws -> [String] {
        try session.values("SELECT id FROM queue WHERE run_id IS NULL ORDER BY seq")
    }

    func deleteQueuedUnlessInFlight(id: String, at now: TimestampValue) throws -> Bool {
        try session.changes("DELETE FROM queue WHERE id = ? AND (lease_until IS NULL OR lease_until < ?)", [id, PostgresTransaction.at(now)])
    }

    func removeQueued(id: String, owner: String) throws -> Bool {
        try session.changes("DELETE FROM queue WHERE id = ? AND lease_owner = ?", [id, owner])
    }

    func retryQueued(id: String, owner: String, attempt: Int, dueAt: TimestampValue) throws -> Bool {
        try session.changes(
            "UPDATE queue SET attempt = ?, due_at = ?, lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?",
            [attempt, Self.due(dueAt), id, owner])
    }

    func appendLog(runId: String, entry: RawStep, dedupeKey: String?, at time: TimestampValue) throws -> Int {
        let position = try session.value("SELECT MAX(position) + 1 FROM run_log WHERE run_id = ?", [runId], as: Int.self) ?? 0
        try session.execute(
            "INSERT INTO run_log (run_id, position, message_id, call_type, body, dedupe_key, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [runId, position, entry.messageId, entry.callType.rawValue, Data(entry.body), dedupeKey, Self.at(time)])
        return position
    }

    func logMessageId(runId: String, position: Int) throws -> String? {
        try session.value("SELECT message_id FROM run_log WHERE run_id = ? AND position = ?", [runId, position], as: String.self)
    }

    func lastLogPosition(runId: String) throws -> Int? {
        try session.value("SELECT MAX(position) FROM run_log WHERE run_id = ?", [runId], as: Int.self)
    }

    func relabelLogEntry(runId: String, from oldId: String, to newId: String) throws {
        try session.execute("UPDATE run_log SET message_id = ? WHERE run_id = ? AND message_id = ?", [newId, runId, oldId])
    }

    func logMessageId(runId: String, dedupeKey: String) throws -> String? {
        try session.value("SELECT message_id FROM run_log WHERE run_id = ? AND dedupe_key = ?", [runId, dedupeKey], as: String.self)
    }

    func claimDeduplication(key: String, messageId: String, at time: TimestampValue, since: TimestampValue) throws -> String? {
        // A node inserting the same key at once makes this wait for its commit, then find its row.
        // DO NOTHING locks no row that is held, and the UPDATE only an expired one, so publishes
        // of a held key never wait for each other.
        let inserted = try session.changes(
            "INSERT INTO message_deduplications (key, message_id, created_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING",
            [key, messageId, Self.at(time)])
        if inserted { return nil }
        let tookOver = try session.changes(
            "UPDATE message_deduplications SET message_id = ?, created_at = ? WHERE key = ? AND created_at < ?",
            [messageId, Self.at(time), key, Self.at(since)])
        if tookOver { return nil }
        return try session.value("SELECT message_id FROM message_deduplications WHERE key = ?", [key], as: String.self)
    }

    func setDeduplication(key: String, messageId: String) throws {
        try session.execute("UPDATE message_deduplications SET message_id = ? WHERE key = ?", [messageId, key])
    }

    func forgetDeduplications(before since: TimestampValue) throws {
        // SKIP LOCKED: nodes publishing at once never wait for each other's deletes.
        try session.execute(
            """
            DELETE FROM message_deduplications WHERE key IN (
                SELECT key FROM message_deduplications WHERE created_at < ? LIMIT 1000 FOR UPDATE SKIP LOCKED)
            """, [Self.at(since)])
    }

    // MARK: SDK runs' waits, kept as operations of kind `endpoint-wait`

    func insertEndpointWait(_ wait: EndpointWait, timeoutAt: TimestampValue, at time: TimestampValue) throws -> Bool {
        try session.changes(
            """
            INSERT INTO operations (run_id, step_name, kind, event_id, timeout_at, payload, created_at)
            VALUES (?, ?, 'endpoint-wait', ?, ?, ?, ?) ON CONFLICT (run_id, step_name) DO NOTHING
            """, [wait.runId, wait.stepKey, wait.eventId, Self.due(timeoutAt), try StoredJSON.text(wait), Self.at(time)])
    }

    func deleteEndpointWait(runId: String, stepKey: String) throws -> Bool {
        try session.changes("DELETE FROM operations WHERE run_id = ? AND step_name = ? AND kind = 'endpoint-wait'", [runId, stepKey])
    }

    func endpointWaits(event: String, runId: String?) throws -> [EndpointWait] {
        try PostgresRecords.endpointWaits(session, event: event, runId: runId)
    }

    // MARK: Schedules

    func runningRun(workflow: String, idPrefix: String) throws -> String? {
        try session.value("SELECT id FROM runs WHERE workflow = ? AND status = 'running' AND starts_with(id, ?) LIMIT 1", [workflow, idPrefix])
    }

    func advanceSchedule(workflow: String, position: Int, expected: TimestampValue, next: TimestampValue?) throws -> Bool {
        try session.changes(
            "UPDATE schedules SET next_fire_at = ?, last_fire_at = ? WHERE workflow = ? AND position = ? AND next_fire_at = ?",
            [next.map(Self.at), Self.at(expected), workflow, position, Self.at(expected)])
    }

    func advanceQueueSchedule(id: String, expected: TimestampValue, next: TimestampValue?) throws -> Bool {
        try session.changes(
            "UPDATE queue_schedules SET next_fire_at = ?, last_fire_at = ? WHERE id = ? AND next_fire_at = ? AND paused = 0",
            [next.map(Self.at), Self.at(expected), id, Self.at(expected)])
    }

    func setLastMessageId(scheduleId: String, messageId: String) throws {
        try session.execute("UPDATE queue_schedules SET last_message_id = ? WHERE id = ?", [messageId, scheduleId])
    }
}
