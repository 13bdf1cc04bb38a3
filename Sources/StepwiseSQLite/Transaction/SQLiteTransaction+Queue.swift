import Foundation
import GRDB
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// Dead letters, the QStash queue, SDK runs' logs and waits, and schedule ticks.
extension SQLiteTransaction {
    // MARK: Dead letters

    func deadLetter(id: String) throws -> DeadLetter? {
        try Row.fetchOne(db.cachedStatement(sql: "\(Self.deadLetterRows) WHERE d.id = ?"), arguments: [id]).flatMap(Self.deadLetter)
    }

    func deadLetters(matching filter: DeadLetterFilter, after cursor: PageCursor?, limit: Int) throws -> [(
        position: PageCursor, letter: DeadLetter?
    )] {
        // Bounds are plain values (`PageBounds`), so the scan walks dead_letters_by_failure down
        // from the cursor; each other condition binds its value twice, NULL (not filtered)
        // making it true.
        let page = PageBounds(from: filter.failedFrom, until: filter.failedUntil, after: cursor)
        let bounds: [(any DatabaseValueConvertible)?] = [page.from, page.until, page.cursorTime, page.cursorTime, page.cursorId]
        let texts: [(any DatabaseValueConvertible)?] = [
            filter.runId, try StoredJSON.list(filter.workflows), try StoredJSON.list(filter.labels), try StoredJSON.list(filter.failureCallbackStates.map(\.rawValue)),
            try StoredJSON.list(filter.flowControlKeys), try StoredJSON.list(filter.callerIps),
        ]
        return try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    \(Self.deadLetterRows)
                    WHERE d.created_at >= ? AND d.created_at <= ? AND (d.created_at < ? OR (d.created_at = ? AND d.id < ?))
                        AND (CAST(? AS TEXT) IS NULL OR d.run_id = ?) AND (CAST(? AS TEXT) IS NULL OR r.workflow IN (SELECT value FROM json_each(?)))
                        AND (CAST(? AS TEXT) IS NULL OR EXISTS (
                            SELECT 1 FROM run_labels l WHERE l.run_id = r.id AND l.label IN (SELECT value FROM json_each(?))))
                        AND (CAST(? AS TEXT) IS NULL OR d.failure_callback_state IN (SELECT value FROM json_each(?)))
                        AND (CAST(? AS TEXT) IS NULL OR \(RunFilter.flowKeyColumn(of: "r")) IN (SELECT value FROM json_each(?)))
                        AND (CAST(? AS TEXT) IS NULL OR r.caller_ip IN (SELECT value FROM json_each(?)))
                    ORDER BY d.created_at DESC, d.id DESC LIMIT ?
                    """),
            arguments: StatementArguments(bounds + texts.flatMap { [$0, $0] } + [Int64(limit)])
        ).map { row in (PageCursor(milliseconds: row["failed_at"], id: row["dlq_id"]), Self.deadLetter(row)) }
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
    private static func deadLetter(_ row: Row) -> DeadLetter? {
        guard let run = SQLiteStore.runRecord(row), let failed = SQLiteTime.timestamp(row["failed_at"]) else { return nil }
        var message = StoredJSON.decode(QueuedMessage.self, from: row["dlq_message"])
        message?.body = (row["dlq_message_body"] as Data?).map { Array($0) }
        var letter = DeadLetter(id: row["dlq_id"], of: run, createdAt: failed, message: message)
        letter.failureCallback = StoredJSON.decode(FailureCallbackRecord.self, from: row["dlq_failure_callback"])
        if let status: Int = row["dlq_response_status"], let headers = StoredJSON.decode([ForwardedHeader].self, from: row["dlq_response_headers"]) {
            let body: Data = row["dlq_response_body"] ?? Data()
            letter.response = AttemptAnswer(status: status, headers: headers, body: Array(body))
        }
        return letter
    }

    func addDeadLetter(runId: String, at time: TimestampValue) throws {
        try db.cachedStatement(sql: "INSERT OR REPLACE INTO dead_letters (id, run_id, created_at) VALUES (?, ?, ?)").execute(
            arguments: [DeadLetter.id(ofRun: runId), runId, SQLiteTime.milliseconds(time)])
    }

    func setDeadLetterMessage(runId: String, message: QueuedMessage, answer: AttemptAnswer?) throws {
        try db.cachedStatement(
            sql: "UPDATE dead_letters SET message = ?, message_body = ?, response_status = ?, response_headers = ?, response_body = ? WHERE run_id = ?"
        ).execute(arguments: [
            try StoredJSON.text(message), message.body.map { Data($0) }, answer?.status, try answer.map { try StoredJSON.text($0.headers) },
            answer.map { Data($0.body) }, runId,
        ])
    }

    func setDeadLetterFailureCallback(
        runId: String, _ callback: FailureCallbackRecord, expecting expected: (messageId: String, state: FailureCallbackRecord.State)?
    ) throws -> Bool {
        try db.cachedStatement(
            sql: """
                UPDATE dead_letters SET failure_callback = ?, failure_callback_state = ?, failure_callback_message = ?
                WHERE run_id = ? AND ((CAST(? AS TEXT) IS NULL AND failure_callback_message IS NULL)
                    OR (failure_callback_message = ? AND failure_callback_state = ?))
                """
        ).execute(arguments: [
            try StoredJSON.text(callback), callback.state.rawValue, callback.message.id, runId, expected?.messageId, expected?.messageId,
            expected?.state.rawValue,
        ])
        return db.changesCount > 0
    }

    func removeDeadLetter(id: String) throws -> Bool {
        try db.cachedStatement(sql: "DELETE FROM dead_letters WHERE id = ?").execute(arguments: [id])
        return db.changesCount > 0
    }

    // MARK: The queue and logs

    func enqueue(_ message: QueuedMessage, at time: TimestampValue) throws {
        try db.cachedStatement(
            sql: "INSERT INTO queue (id, run_id, spec, body, attempt, due_at, created_at, flow_key, holds_slot) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ).execute(arguments: [
            message.id, message.runId, try StoredJSON.text(message), message.body.map { Data($0) }, message.attempt,
            SQLiteTime.millisecondsRoundedUp(message.dueAt), SQLiteTime.milliseconds(time), message.flowControl?.key ?? message.queueSlot,
            message.queueSlot != nil,
        ])
    }

    func deleteQueued(id: String) throws {
        try db.cachedStatement(sql: "DELETE FROM queue WHERE id = ?").execute(arguments: [id])
    }

    func queuedMessage(id: String) throws -> (message: QueuedMessage, createdAt: Int64)? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM queue WHERE id = ?"), arguments: [id]),
            let message = SQLiteStore.queuedMessage(row)
        else { return nil }
        return (message, row["created_at"])
    }

    func plainQueuedIds() throws -> [String] {
        try String.fetchAll(db.cachedStatement(sql: "SELECT id FROM queue WHERE run_id IS NULL ORDER BY rowid"))
    }

    func deleteQueuedUnlessInFlight(id: String, at now: TimestampValue) throws -> Bool {
        try db.cachedStatement(sql: "DELETE FROM queue WHERE id = ? AND (lease_until IS NULL OR lease_until < ?)").execute(arguments: [
            id, SQLiteTime.milliseconds(now),
        ])
        return db.changesCount > 0
    }

    func removeQueued(id: String, owner: String) throws -> Bool {
        try db.cachedStatement(sql: "DELETE FROM queue WHERE id = ? AND lease_owner = ?").execute(arguments: [id, owner])
        return db.changesCount > 0
    }

    func retryQueued(id: String, owner: String, attempt: Int, dueAt: TimestampValue) throws -> Bool {
        try db.cachedStatement(
            sql: "UPDATE queue SET attempt = ?, due_at = ?, lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?"
        ).execute(arguments: [attempt, SQLiteTime.millisecondsRoundedUp(dueAt), id, owner])
        return db.changesCount > 0
    }

    func appendLog(runId: String, entry: RawStep, dedupeKey: String?, at time: TimestampValue) throws -> Int {
        let position =
            try Int.fetchOne(db.cachedStatement(sql: "SELECT MAX(position) + 1 FROM run_log WHERE run_id = ?"), arguments: [runId]) ?? 0
        try db.cachedStatement(
            sql: "INSERT INTO run_log (run_id, position, message_id, call_type, body, dedupe_key, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
        ).execute(arguments: [
            runId, position, entry.messageId, entry.callType.rawValue, Data(entry.body), dedupeKey, SQLiteTime.milliseconds(time),
        ])
        return position
    }

    func logMessageId(runId: String, position: Int) throws -> String? {
        try String.fetchOne(
            db.cachedStatement(sql: "SELECT message_id FROM run_log WHERE run_id = ? AND position = ?"), arguments: [runId, position])
    }

    func lastLogPosition(runId: String) throws -> Int? {
        try Int.fetchOne(db.cachedStatement(sql: "SELECT MAX(position) FROM run_log WHERE run_id = ?"), arguments: [runId])
    }

    func relabelLogEntry(runId: String, from oldId: String, to newId: String) throws {
        try db.cachedStatement(sql: "UPDATE run_log SET message_id = ? WHERE run_id = ? AND message_id = ?").execute(arguments: [newId, runId, oldId])
    }

    func logMessageId(runId: String, dedupeKey: String) throws -> String? {
        try String.fetchOne(
            db.cachedStatement(sql: "SELECT message_id FROM run_log WHERE run_id = ? AND dedupe_key = ?"), arguments: [runId, dedupeKey])
    }

    func claimDeduplication(key: String, messageId: String, at time: TimestampValue, since: TimestampValue) throws -> String? {
        let taken = [key, messageId, SQLiteTime.milliseconds(time)] as StatementArguments
        try db.cachedStatement(sql: "INSERT INTO message_deduplications (key, message_id, created_at) VALUES (?, ?, ?) ON CONFLICT(key) DO NOTHING")
            .execute(arguments: taken)
        guard db.changesCount == 0 else { return nil }
        try db.cachedStatement(sql: "UPDATE message_deduplications SET message_id = ?, created_at = ? WHERE key = ? AND created_at < ?")
            .execute(arguments: [messageId, SQLiteTime.milliseconds(time), key, SQLiteTime.milliseconds(since)])
        guard db.changesCount == 0 else { return nil }
        return try String.fetchOne(db.cachedStatement(sql: "SELECT message_id FROM message_deduplications WHERE key = ?"), arguments: [key])
    }

    func setDeduplication(key: String, messageId: String) throws {
        try db.cachedStatement(sql: "UPDATE message_deduplications SET message_id = ? WHERE key = ?").execute(arguments: [messageId, key])
    }

    func forgetDeduplications(before since: TimestampValue) throws {
        try db.cachedStatement(
            sql: "DELETE FROM message_deduplications WHERE key IN (SELECT key FROM message_deduplications WHERE created_at < ? LIMIT 1000)"
        ).execute(arguments: [SQLiteTime.milliseconds(since)])
    }

    // MARK: SDK runs' waits, kept as operations of kind `endpoint-wait`

    func insertEndpointWait(_ wait: EndpointWait, timeoutAt: TimestampValue, at time: TimestampValue) throws -> Bool {
        try db.cachedStatement(
            sql: """
                INSERT INTO operations (run_id, step_name, kind, event_id, timeout_at, payload, created_at)
                VALUES (?, ?, 'endpoint-wait', ?, ?, ?, ?) ON CONFLICT(run_id, step_name) DO NOTHING
                """
        ).execute(arguments: [
            wait.runId, wait.stepKey, wait.eventId, SQLiteTime.millisecondsRoundedUp(timeoutAt), try StoredJSON.text(wait),
            SQLiteTime.milliseconds(time),
        ])
        return db.changesCount > 0
    }

    func deleteEndpointWait(runId: String, stepKey: String) throws -> Bool {
        try db.cachedStatement(sql: "DELETE FROM operations WHERE run_id = ? AND step_name = ? AND kind = 'endpoint-wait'").execute(
            arguments: [runId, stepKey])
        return db.changesCount > 0
    }

    func endpointWaits(event: String, runId: String?) throws -> [EndpointWait] {
        try String.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT o.payload FROM operations o JOIN runs r ON r.id = o.run_id
                    WHERE o.event_id = ? AND o.kind = 'endpoint-wait' AND r.status = 'running' AND (? IS NULL OR o.run_id = ?)
                    ORDER BY o.created_at, o.run_id
                    """),
            arguments: [event, runId, runId]
        ).compactMap { StoredJSON.decode(EndpointWait.self, from: $0) }
    }

    // MARK: Schedules

    func runningRun(workflow: String, idPrefix: String) throws -> String? {
        try String.fetchOne(
            db.cachedStatement(sql: "SELECT id FROM runs WHERE workflow = ? AND status = 'running' AND substr(id, 1, ?) = ? LIMIT 1"),
            arguments: [workflow, idPrefix.count, idPrefix])
    }

    func advanceSchedule(workflow: String, position: Int, expected: TimestampValue, next: TimestampValue?) throws -> Bool {
        try db.cachedStatement(
            sql: "UPDATE schedules SET next_fire_at = ?, last_fire_at = ? WHERE workflow = ? AND position = ? AND next_fire_at = ?"
        ).execute(arguments: [
            next.map(SQLiteTime.milliseconds), SQLiteTime.milliseconds(expected), workflow, position, SQLiteTime.milliseconds(expected),
        ])
        return db.changesCount > 0
    }

    func advanceQueueSchedule(id: String, expected: TimestampValue, next: TimestampValue?) throws -> Bool {
        try db.cachedStatement(
            sql: "UPDATE queue_schedules SET next_fire_at = ?, last_fire_at = ? WHERE id = ? AND next_fire_at = ? AND paused = 0"
        ).execute(arguments: [next.map(SQLiteTime.milliseconds), SQLiteTime.milliseconds(expected), id, SQLiteTime.milliseconds(expected)])
        return db.changesCount > 0
    }

    func setLastMessageId(scheduleId: String, messageId: String) throws {
        try db.cachedStatement(sql: "UPDATE queue_schedules SET last_message_id = ? WHERE id = ?").execute(arguments: [messageId, scheduleId])
    }
}

/// Flow-control admission's rows. SQLite has one writer, so admissions take turns without a lock.
extension SQLiteTransaction: FlowControlRows {
    func lockFlowKey(_ key: String) throws {}

    func inFlight(key: String, at now: Int64) throws -> Int {
        let runs =
            try Int.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT COUNT(*) FROM messages m JOIN runs r ON r.id = m.run_id
                        WHERE r.concurrency_key = ? AND m.kind = 'deliver' AND m.lease_until >= ?
                        """),
                arguments: [key, now]) ?? 0
        let queued =
            try Int.fetchOne(
                db.cachedStatement(sql: "SELECT COUNT(*) FROM queue WHERE flow_key = ? AND (lease_until >= ? OR holds_slot = 1)"), arguments: [key, now]) ?? 0
        return runs + queued
    }

    func waitForSlot(_ held: HeldMessage) throws {
        // A held-back message may still carry the expired lease of a node that died: it is nobody's now.
        try db.cachedStatement(sql: "UPDATE \(Self.table(held)) SET waiting_for_slot = 1, lease_owner = NULL, lease_until = NULL WHERE id = ?")
            .execute(arguments: [Self.id(held)])
    }

    func deleteExpiredStarts(key: String, period: Int64, now: Int64) throws {
        try db.cachedStatement(sql: "DELETE FROM rate_starts WHERE key = ? AND started_at + MAX(period, ?) <= ?").execute(arguments: [
            key, period, now,
        ])
    }

    func starts(key: String, after time: Int64) throws -> [Int64] {
        try Int64.fetchAll(
            db.cachedStatement(sql: "SELECT started_at FROM rate_starts WHERE key = ? AND started_at > ? ORDER BY started_at"),
            arguments: [key, time])
    }

    func postpone(_ held: HeldMessage, to due: Int64) throws {
        try db.cachedStatement(sql: "UPDATE \(Self.table(held)) SET due_at = ?, lease_owner = NULL, lease_until = NULL WHERE id = ?")
            .execute(arguments: [due, Self.id(held)])
    }

    func recordStart(key: String, at time: Int64, period: Int64, limit: Int) throws {
        try db.cachedStatement(sql: "INSERT INTO rate_starts (key, started_at, period, rate_limit) VALUES (?, ?, ?, ?)").execute(arguments: [
            key, time, period, limit,
        ])
    }

    func hasEarlierUnstarted(id: String, key: String, at now: Int64) throws -> Bool {
        // queue_by_flow_key ends in the rowid: the earlier messages of the key are one range of it.
        try Bool.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT EXISTS (SELECT 1 FROM queue o WHERE o.flow_key = ? AND o.rowid < (SELECT rowid FROM queue WHERE id = ?)
                        AND o.holds_slot = 0 AND (o.lease_until IS NULL OR o.lease_until < ?))
                    """),
            arguments: [key, id, now]) ?? false
    }

    func liveWindow(key: String, at now: Int64) throws -> (period: Int64, limit: Int?)? {
        try Row.fetchOne(
            db.cachedStatement(
                sql: "SELECT period, rate_limit FROM rate_starts WHERE key = ? AND started_at + period > ? ORDER BY started_at DESC LIMIT 1"),
            arguments: [key, now]
        ).map { row in (row["period"], row["rate_limit"]) }
    }

    func anyExpiredLease(at now: Int64) throws -> Bool {
        try Bool.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT EXISTS (SELECT 1 FROM messages WHERE lease_until < ?)
                        OR EXISTS (SELECT 1 FROM queue WHERE lease_until < ? AND flow_key IS NOT NULL)
                    """),
            arguments: [now, now]) ?? false
    }

    func freeAllSlots() throws {
        try db.cachedStatement(sql: "UPDATE messages SET waiting_for_slot = 0 WHERE waiting_for_slot = 1").execute()
        try db.cachedStatement(sql: "UPDATE queue SET waiting_for_slot = 0 WHERE waiting_for_slot = 1").execute()
    }

    func flowKeyState(_ key: String) throws -> FlowKeyState? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM flow_keys WHERE key = ?"), arguments: [key]).map { row in
            FlowKeyState(
                paused: (row["paused"] as Int64) != 0,
                pinned: FlowLimits(parallelism: row["pinned_parallelism"], rate: row["pinned_rate"], period: row["pinned_period"]))
        }
    }

    func saveFlowKeyState(_ key: String, _ state: FlowKeyState?) throws {
        guard let state else {
            return try db.cachedStatement(sql: "DELETE FROM flow_keys WHERE key = ?").execute(arguments: [key])
        }
        try db.cachedStatement(
            sql: """
                INSERT INTO flow_keys (key, paused, pinned_parallelism, pinned_rate, pinned_period) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (key) DO UPDATE SET paused = excluded.paused, pinned_parallelism = excluded.pinned_parallelism,
                    pinned_rate = excluded.pinned_rate, pinned_period = excluded.pinned_period
                """
        ).execute(arguments: [key, state.paused ? 1 : 0, state.pinned.parallelism, state.pinned.rate, state.pinned.period])
    }

    func lastLimits(key: String) throws -> FlowLimits? {
        if let spec = try String.fetchOne(
            db.cachedStatement(sql: "SELECT spec FROM queue WHERE flow_key = ? ORDER BY created_at DESC, id DESC LIMIT 1"), arguments: [key])
        {
            return FlowLimits(StoredJSON.decode(QueuedMessage.self, from: spec)?.flowControl, key: key)
        }
        let run = try Row.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT concurrency_key, concurrency_limit, rate_key, rate_limit, rate_period FROM runs
                    WHERE status = 'running' AND (concurrency_key = ? OR rate_key = ?) ORDER BY created_at DESC LIMIT 1
                    """),
            arguments: [key, key])
        return run.map { FlowLimits(SQLiteStore.flowControl($0), key: key) }
    }

    func flowKeys() throws -> [String] {
        try String.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT key FROM flow_keys UNION SELECT flow_key FROM queue WHERE flow_key IS NOT NULL UNION SELECT key FROM rate_starts
                    UNION SELECT concurrency_key FROM runs WHERE status = 'running' AND concurrency_key IS NOT NULL
                    UNION SELECT rate_key FROM runs WHERE status = 'running' AND rate_key IS NOT NULL
                    ORDER BY 1
                    """))
    }

    func waitlistSize(key: String) throws -> Int {
        let runs =
            try Int.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT COUNT(*) FROM messages m JOIN runs r ON r.id = m.run_id
                        WHERE m.waiting_for_slot = 1 AND (r.concurrency_key = ? OR r.rate_key = ?)
                        """),
                arguments: [key, key]) ?? 0
        let queued =
            try Int.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*) FROM queue WHERE waiting_for_slot = 1 AND flow_key = ?"), arguments: [key]) ?? 0
        return runs + queued
    }

    func forgetStarts(key: String) throws {
        try db.cachedStatement(sql: "DELETE FROM rate_starts WHERE key = ?").execute(arguments: [key])
    }

    func deleteStarts(before time: Int64, windowEndedBy now: Int64, limit: Int) throws -> Int {
        try db.cachedStatement(
            sql: "DELETE FROM rate_starts WHERE rowid IN (SELECT rowid FROM rate_starts WHERE started_at < ? AND started_at + period <= ? LIMIT ?)"
        ).execute(arguments: [time, now, limit])
        return db.changesCount
    }

    func namedQueueTimes(_ name: String) throws -> (createdAt: Int64, updatedAt: Int64)? {
        try times(in: "named_queues", of: name)
    }

    func saveNamedQueue(_ name: String, createdAt: Int64, updatedAt: Int64) throws {
        try saveTimes(in: "named_queues", of: name, createdAt: createdAt, updatedAt: updatedAt)
    }

    /// When the row `name` of `table` (a table of named things: queues, URL groups) was created
    /// and last changed; `nil` when there is none.
    func times(in table: String, of name: String) throws -> (createdAt: Int64, updatedAt: Int64)? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT created_at, updated_at FROM \(table) WHERE name = ?"), arguments: [name]).map { row in
            (row["created_at"], row["updated_at"])
        }
    }

    /// Keeps the row `name` of `table` with these times (an existing row keeps its creation time).
    func saveTimes(in table: String, of name: String, createdAt: Int64, updatedAt: Int64) throws {
        try db.cachedStatement(
            sql: "INSERT INTO \(table) (name, created_at, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET updated_at = excluded.updated_at"
        ).execute(arguments: [name, createdAt, updatedAt])
    }

    func namedQueueNames() throws -> [String] {
        try String.fetchAll(db.cachedStatement(sql: "SELECT name FROM named_queues ORDER BY name"))
    }

    func deleteNamedQueue(_ name: String) throws -> Bool {
        try db.cachedStatement(sql: "DELETE FROM named_queues WHERE name = ?").execute(arguments: [name])
        return db.changesCount > 0
    }

    func queuedCount(flowKey: String) throws -> Int {
        try Int.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*) FROM queue WHERE flow_key = ?"), arguments: [flowKey]) ?? 0
    }

    private static func table(_ held: HeldMessage) -> String {
        switch held {
        case .message: "messages"
        case .queued: "queue"
        }
    }

    private static func id(_ held: HeldMessage) -> any DatabaseValueConvertible {
        switch held {
        case .message(let id): id
        case .queued(let id): id
        }
    }
}
