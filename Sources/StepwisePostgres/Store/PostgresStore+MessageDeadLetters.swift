import Foundation
import PostgresNIO
import StepwiseEngine
import StepwiseExpressions

/// The DLQ of plain QStash messages on PostgreSQL: `MessageDeadLetters`, each change in one
/// transaction, each read in one snapshot.
extension PostgresStore {
    public func messageDeadLetters(matching filter: MessageDeadLetterFilter, after cursor: PageCursor?, count: Int) async throws -> (
        letters: [MessageDeadLetter], next: PageCursor?
    ) {
        try await snapshot { session in try MessageDeadLetters(PostgresTransaction(session)).page(matching: filter, after: cursor, count: count) }
    }

    public func messageDeadLetter(id: String) async throws -> MessageDeadLetter? {
        try await snapshot { session in try PostgresTransaction(session).messageDeadLetter(id: id) }
    }

    public func removeMessageDeadLetters(ids: [String]) async throws -> Int {
        try await write { transaction in try MessageDeadLetters(transaction).delete(ids) }
    }

    public func retry(messageDeadLetters retries: [(id: String, message: QueuedMessage)], at time: TimestampValue) async throws -> [String] {
        try await transitions { transitions in try transitions.retry(messageDeadLetters: retries, at: time) }
    }
}

/// The rows of the plain messages' DLQ: `message_dead_letters`, the message's stored form beside
/// the columns a listing filters on.
extension PostgresTransaction: MessageDeadLetterRows {
    func saveMessageDeadLetter(_ letter: MessageDeadLetter) throws {
        let message = letter.message
        try session.execute(
            """
            INSERT INTO message_dead_letters (id, message_id, spec, body, due_at, url, url_group, queue_name, schedule_id, label, flow_key, caller_ip,
                response_status, response_headers, response_body, created_at, failed_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO NOTHING
            """,
            [
                letter.id, message.id, try StoredJSON.text(message), message.body.map { Data($0) }, Self.at(message.dueAt), message.destination,
                message.urlGroup, message.queue, message.scheduleId, message.label, message.flowControlKey, message.callerIp,
                Int64(letter.response.status),
                try StoredJSON.text(letter.response.headers), Data(letter.response.body), letter.createdAt, letter.failedAt,
            ])
    }

    func messageDeadLetter(id: String) throws -> MessageDeadLetter? {
        try session.row("SELECT * FROM message_dead_letters WHERE id = ?", [id]).flatMap(Self.messageDeadLetter)
    }

    func messageDeadLetters(matching filter: MessageDeadLetterFilter, after cursor: PageCursor?, limit: Int) throws -> [(
        position: PageCursor, letter: MessageDeadLetter?
    )] {
        // Bounds are plain values (`PageBounds`); each other condition
        // binds its value twice, NULL (not filtered) making it true.
        let page = PageBounds(from: filter.failedFrom, until: filter.failedUntil, after: cursor)
        let bounds: [(any PostgresThrowingDynamicTypeEncodable)?] = [page.from, page.until, page.cursorTime, page.cursorTime, page.cursorId]
        let texts: [(any PostgresThrowingDynamicTypeEncodable)?] = [filter.messageId] + (try filter.match.boundLists())
        let status: [(any PostgresThrowingDynamicTypeEncodable)?] = [filter.responseStatus.map { Int64($0) }]
        return try session.rows(
            """
            SELECT * FROM message_dead_letters
            WHERE failed_at >= ? AND failed_at <= ? AND (failed_at < ? OR (failed_at = ? AND id < ?))
                AND (CAST(? AS TEXT) IS NULL OR message_id = ?) AND \(PostgresTransaction.messageMatch)
                AND (CAST(? AS BIGINT) IS NULL OR response_status = ?)
            ORDER BY failed_at DESC, id DESC LIMIT ?
            """,
            bounds + (texts + status).flatMap { [$0, $0] } + [Int64(limit)]
        ).map { row in (PageCursor(milliseconds: try row("failed_at", as: Int64.self), id: try row("id", as: String.self)), Self.messageDeadLetter(row)) }
    }

    func deleteMessageDeadLetter(id: String) throws -> Bool {
        try session.changes("DELETE FROM message_dead_letters WHERE id = ?", [id])
    }

    func deleteMessageDeadLetters(failedBefore: Int64, limit: Int) throws {
        // Rows another transaction is deleting are skipped rather than waited for.
        try session.execute(
            """
            DELETE FROM message_dead_letters WHERE id IN (
                SELECT id FROM message_dead_letters WHERE failed_at < ? ORDER BY failed_at LIMIT ? FOR UPDATE SKIP LOCKED)
            """, [failedBefore, Int64(limit)])
    }

    /// The entry of `row`; `nil` when its stored form cannot be read.
    private static func messageDeadLetter(_ row: PostgresRowReader) -> MessageDeadLetter? {
        guard var message = StoredJSON.decode(QueuedMessage.self, from: try? row("spec", as: String.self)),
            let headers = StoredJSON.decode([ForwardedHeader].self, from: try? row("response_headers", as: String.self)),
            let due = timestamp(try? row("due_at", as: Int64.self)), let status = try? row("response_status", as: Int64.self),
            let createdAt = try? row("created_at", as: Int64.self), let failedAt = try? row("failed_at", as: Int64.self)
        else { return nil }
        message.body = ((try? row("body", as: Data?.self)) ?? nil).map { Array($0) }
        message.dueAt = due
        let body = ((try? row("response_body", as: Data.self)) ?? Data())
        let response = AttemptAnswer(status: Int(status), headers: headers, body: Array(body))
        return MessageDeadLetter(message: message, response: response, createdAt: createdAt, failedAt: failedAt)
    }
}
