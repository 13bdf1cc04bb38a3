import Foundation
import GRDB
import StepwiseEngine
import StepwiseExpressions

/// The DLQ of plain QStash messages on SQLite: `MessageDeadLetters`, each change in one transaction.
extension SQLiteStore {
    public func messageDeadLetters(matching filter: MessageDeadLetterFilter, after cursor: PageCursor?, count: Int) async throws -> (
        letters: [MessageDeadLetter], next: PageCursor?
    ) {
        try await pool.read { db in try MessageDeadLetters(SQLiteTransaction(db)).page(matching: filter, after: cursor, count: count) }
    }

    public func messageDeadLetter(id: String) async throws -> MessageDeadLetter? {
        try await pool.read { db in try SQLiteTransaction(db).messageDeadLetter(id: id) }
    }

    public func removeMessageDeadLetters(ids: [String]) async throws -> Int {
        try await groupCommit.write { db in try MessageDeadLetters(SQLiteTransaction(db)).delete(ids) }
    }

    public func retry(messageDeadLetters retries: [(id: String, message: QueuedMessage)], at time: TimestampValue) async throws -> [String] {
        try await groupCommit.write { db in try SQLiteTransaction.transitions(db).retry(messageDeadLetters: retries, at: time) }
    }
}

/// The rows of the plain messages' DLQ: `message_dead_letters`, the message's stored form beside
/// the columns a listing filters on.
extension SQLiteTransaction: MessageDeadLetterRows {
    func saveMessageDeadLetter(_ letter: MessageDeadLetter) throws {
        let message = letter.message
        try db.cachedStatement(
            sql: """
                INSERT OR IGNORE INTO message_dead_letters (id, message_id, spec, body, due_at, url, url_group, queue_name, schedule_id, label, flow_key, caller_ip,
                    response_status, response_headers, response_body, created_at, failed_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            letter.id, message.id, try StoredJSON.text(message), message.body.map { Data($0) }, SQLiteTime.milliseconds(message.dueAt),
            message.destination, message.urlGroup, message.queue, message.scheduleId, message.label, message.flowControlKey, message.callerIp,
            letter.response.status,
            try StoredJSON.text(letter.response.headers), Data(letter.response.body), letter.createdAt, letter.failedAt,
        ])
    }

    func messageDeadLetter(id: String) throws -> MessageDeadLetter? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM message_dead_letters WHERE id = ?"), arguments: [id]).flatMap(Self.messageDeadLetter)
    }

    func messageDeadLetters(matching filter: MessageDeadLetterFilter, after cursor: PageCursor?, limit: Int) throws -> [(
        position: PageCursor, letter: MessageDeadLetter?
    )] {
        // Bounds are plain values (`PageBounds`), so the scan walks the
        // failure index down from the cursor; each other condition binds its value twice, NULL
        // (not filtered) making it true.
        let page = PageBounds(from: filter.failedFrom, until: filter.failedUntil, after: cursor)
        let bounds: [(any DatabaseValueConvertible)?] = [page.from, page.until, page.cursorTime, page.cursorTime, page.cursorId]
        let texts: [(any DatabaseValueConvertible)?] = [filter.messageId] + (try filter.match.boundLists())
        let status: [(any DatabaseValueConvertible)?] = [filter.responseStatus.map { Int64($0) }]
        let limit: [(any DatabaseValueConvertible)?] = [Int64(limit)]
        return try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT * FROM message_dead_letters
                    WHERE failed_at >= ? AND failed_at <= ? AND (failed_at < ? OR (failed_at = ? AND id < ?))
                        AND (CAST(? AS TEXT) IS NULL OR message_id = ?) AND \(SQLiteTransaction.messageMatch)
                        AND (CAST(? AS INTEGER) IS NULL OR response_status = ?)
                    ORDER BY failed_at DESC, id DESC LIMIT ?
                    """),
            arguments: StatementArguments(bounds + (texts + status).flatMap { [$0, $0] } + limit)
        ).map { row in (PageCursor(milliseconds: row["failed_at"], id: row["id"]), Self.messageDeadLetter(row)) }
    }

    func deleteMessageDeadLetter(id: String) throws -> Bool {
        try db.cachedStatement(sql: "DELETE FROM message_dead_letters WHERE id = ?").execute(arguments: [id])
        return db.changesCount > 0
    }

    func deleteMessageDeadLetters(failedBefore: Int64, limit: Int) throws {
        try db.cachedStatement(
            sql: "DELETE FROM message_dead_letters WHERE id IN (SELECT id FROM message_dead_letters WHERE failed_at < ? ORDER BY failed_at LIMIT ?)"
        ).execute(arguments: [failedBefore, limit])
    }

    /// The entry of `row`; `nil` when its stored form cannot be read.
    private static func messageDeadLetter(_ row: Row) -> MessageDeadLetter? {
        guard var message = StoredJSON.decode(QueuedMessage.self, from: row["spec"]),
            let headers = StoredJSON.decode([ForwardedHeader].self, from: row["response_headers"]),
            let due = SQLiteTime.timestamp(row["due_at"])
        else { return nil }
        message.body = (row["body"] as Data?).map { Array($0) }
        message.dueAt = due
        let responseBody: Data = row["response_body"] ?? Data()
        let response = AttemptAnswer(status: row["response_status"], headers: headers, body: Array(responseBody))
        return MessageDeadLetter(message: message, response: response, createdAt: row["created_at"], failedAt: row["failed_at"])
    }
}
