import Foundation
import GRDB
import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// The QStash queue and the logs of SDK runs: the store applies what `PublicationPlanner` and
/// `QueuedAttemptResolver` decided, one transaction each.
extension SQLiteStore {
    public func publish(_ publications: [Publication], at time: TimestampValue) async throws -> [PublicationResult] {
        do {
            return try await pool.write { db in
                let now = SQLiteTime.milliseconds(time)
                var results: [PublicationResult] = []
                for publication in publications {
                    let result = try Self.apply(db, publication, at: now)
                    switch result {
                    case .stored, .deduplicated: results.append(result)
                    case .runEnded, .unknownRun: throw RefusedPublication(result: result)
                    }
                }
                return results
            }
        } catch let refused as RefusedPublication {
            return [refused.result]
        }
    }

    public func nextQueuedTime() async throws -> TimestampValue? {
        try await pool.read { db in
            // A message waiting for a flow-control slot is due when a slot frees, not at its due time.
            try Int64.fetchOne(
                db.cachedStatement(
                    sql: "SELECT MIN(CASE WHEN lease_until IS NOT NULL THEN lease_until WHEN waiting_for_slot = 0 THEN due_at END) FROM queue")
            ).flatMap(SQLiteTime.timestamp)
        }
    }

    public func claimDueQueued(now: TimestampValue, limit: Int, owner: String, leaseUntil: TimestampValue) async throws -> [QueuedMessage] {
        let current = SQLiteTime.milliseconds(now)
        // Most turns of the delivery loop find nothing due here (YAML runs use `messages`): a read
        // says so without taking the write lock.
        let anyDue = try await pool.read { db in
            try Bool.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT EXISTS (SELECT 1 FROM queue WHERE due_at <= ? AND (lease_until IS NULL OR lease_until < ?) AND waiting_for_slot = 0)
                        """),
                arguments: [current, current]) ?? false
        }
        guard anyDue else { return [] }
        return try await pool.write { db in
            try Self.freeSlotsOfExpiredLeases(db, now: current)
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM queue WHERE due_at <= ? AND (lease_until IS NULL OR lease_until < ?) AND waiting_for_slot = 0
                    ORDER BY due_at, id LIMIT ?
                    """,
                arguments: [current, current, limit * 4])
            var claimed: [QueuedMessage] = []
            for row in rows where claimed.count < limit {
                let message = Self.queuedMessage(row)
                if try !Self.admit(db, message?.flowControl, .queued(row["id"]), now: current) { continue }
                try db.cachedStatement(sql: "UPDATE queue SET lease_owner = ?, lease_until = ? WHERE id = ?").execute(arguments: [
                    owner, SQLiteTime.milliseconds(leaseUntil), row["id"] as String,
                ])
                if let message { claimed.append(message) }
            }
            return claimed
        }
    }

    public func runLog(runId: String, from start: Int, through position: Int?) async throws -> [RawStep] {
        try await pool.read { db in
            try Row.fetchAll(
                db.cachedStatement(
                    sql: "SELECT message_id, call_type, body FROM run_log WHERE run_id = ? AND position BETWEEN ? AND ? ORDER BY position"),
                arguments: [runId, start, position ?? Int.max]
            ).map { row in
                RawStep(
                    messageId: row["message_id"], body: Array(row["body"] as Data), callType: CallType(rawValue: row["call_type"]) ?? .step)
            }
        }
    }

    public func finishAttempt(_ message: QueuedMessage, owner: String, with followUp: AttemptFollowUp) async throws -> Bool {
        try await completions.write { db in
            if let retry = followUp.retry {
                try db.cachedStatement(
                    sql: "UPDATE queue SET attempt = ?, due_at = ?, lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?"
                ).execute(arguments: [retry.attempt, SQLiteTime.millisecondsRoundedUp(retry.dueAt), message.id, owner])
            } else {
                try db.cachedStatement(sql: "DELETE FROM queue WHERE id = ? AND lease_owner = ?").execute(arguments: [message.id, owner])
            }
            let owned = db.changesCount > 0
            if let key = message.flowControl?.concurrencyKey { try Self.releaseSlot(db, key: key) }
            let run = try followUp.record.flatMap { try Self.fetchRun(db, id: $0.runId) }
            // The delivery that ends a run (its cleanup call came in while it was in flight) finds
            // its message gone with the run; it is still part of the run's history.
            if let record = followUp.record, let run, owned || run.status.isFinal { try Self.insert(db, record) }
            guard owned else { return false }
            let now = SQLiteTime.milliseconds(followUp.record?.finishedAt ?? message.dueAt)
            if let (runId, error) = followUp.failRun { try Self.fail(db, runId: runId, error: error, deadLetter: message, at: now) }
            for (queued, entry) in followUp.enqueue {
                if let entry, let runId = queued.runId {
                    guard try Self.fetchRun(db, id: runId)?.status == .running else { continue }
                    _ = try Self.appendLog(db, runId: runId, entry: entry, dedupeKey: nil, at: now)
                }
                try Self.insertQueued(db, queued, at: now)
            }
            return true
        }
    }

    public func runDefaults(runId: String) async throws -> RunDefaults? {
        try await pool.read { db in try Self.runDefaults(db, runId: runId) }
    }

    /// The run-level options of SDK run `runId`, within a transaction.
    static func runDefaults(_ db: Database, runId: String) throws -> RunDefaults? {
        runDefaults(try String.fetchOne(db.cachedStatement(sql: "SELECT endpoint_defaults FROM runs WHERE id = ?"), arguments: [runId]))
    }

    /// Decodes the stored `endpoint_defaults` column.
    static func runDefaults(_ text: String?) -> RunDefaults? {
        text.flatMap { try? JSONDecoder().decode(RunDefaults.self, from: Data($0.utf8)) }
    }

    public func finishEndpointRun(runId: String, output: Value?, at time: TimestampValue) async throws -> RunRecord? {
        try await pool.write { db in
            guard let run = try Self.fetchRun(db, id: runId) else { return nil }
            guard run.status == .running else { return run }
            let now = SQLiteTime.milliseconds(time)
            try db.cachedStatement(sql: "UPDATE runs SET status = 'succeeded', output = ?, updated_at = ? WHERE id = ?").execute(
                arguments: [output?.jsonText(), now, runId])
            try Self.finish(db, runId: runId, status: .succeeded, at: now)
            return try Self.fetchRun(db, id: runId)
        }
    }

    // MARK: Within transactions

    static func apply(_ db: Database, _ publication: Publication, at now: Int64) throws -> PublicationResult {
        switch publication {
        case .startRun(let run, let body, let first):
            if try fetchRun(db, id: run.id) != nil {
                let id = try String.fetchOne(
                    db.cachedStatement(sql: "SELECT message_id FROM run_log WHERE run_id = ? AND position = 0"), arguments: [run.id])
                return .deduplicated(id ?? first.id)
            }
            try insertRun(db, run)
            _ = try appendLog(db, runId: run.id, entry: RawStep(messageId: first.id, body: body), dedupeKey: nil, at: now)
            try insertQueued(db, first, at: now)
            return .stored(first.id)
        case .append(let runId, let entry, let dedupeKey, var message):
            guard let run = try fetchRun(db, id: runId) else { return .unknownRun(runId) }
            guard run.status == .running else { return .runEnded(run.status) }
            if let dedupeKey,
                let existing = try String.fetchOne(
                    db.cachedStatement(sql: "SELECT message_id FROM run_log WHERE run_id = ? AND dedupe_key = ?"),
                    arguments: [runId, dedupeKey])
            {
                return .deduplicated(existing)
            }
            let position = try appendLog(db, runId: runId, entry: entry, dedupeKey: dedupeKey, at: now)
            if message.role == .workflow { message.logPosition = position }
            try insertQueued(db, message, at: now)
            return .stored(message.id)
        case .enqueue(let message):
            try insertQueued(db, message, at: now)
            return .stored(message.id)
        }
    }

    /// Appends `entry` to the run's log; its position.
    private static func appendLog(_ db: Database, runId: String, entry: RawStep, dedupeKey: String?, at now: Int64) throws -> Int {
        let position =
            try Int.fetchOne(db.cachedStatement(sql: "SELECT MAX(position) + 1 FROM run_log WHERE run_id = ?"), arguments: [runId]) ?? 0
        try db.cachedStatement(
            sql: "INSERT INTO run_log (run_id, position, message_id, call_type, body, dedupe_key, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
        ).execute(arguments: [runId, position, entry.messageId, entry.callType.rawValue, Data(entry.body), dedupeKey, now])
        return position
    }

    static func insertQueued(_ db: Database, _ message: QueuedMessage, at now: Int64) throws {
        try db.cachedStatement(
            sql: "INSERT INTO queue (id, run_id, spec, body, attempt, due_at, created_at, flow_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        ).execute(arguments: [
            message.id, message.runId, try spec(message), message.body.map { Data($0) }, message.attempt,
            SQLiteTime.millisecondsRoundedUp(message.dueAt), now, message.flowControl?.key,
        ])
    }

    /// Fails a running SDK run for good and keeps the message that failed, for resume.
    private static func fail(_ db: Database, runId: String, error: StepError, deadLetter message: QueuedMessage, at now: Int64) throws {
        try db.cachedStatement(sql: "UPDATE runs SET status = 'failed', error = ?, updated_at = ? WHERE id = ? AND status = 'running'")
            .execute(arguments: [error.value.jsonText(), now, runId])
        guard db.changesCount > 0 else { return }
        try finish(db, runId: runId, status: .failed, at: now)
        var retried = message
        retried.attempt = 0
        retried.body = nil
        try db.cachedStatement(sql: "UPDATE dead_letters SET message = ? WHERE run_id = ?").execute(arguments: [try spec(retried), runId])
    }

    /// Makes a dead-lettered SDK run run again from the delivery that failed.
    static func resumeEndpointRun(_ db: Database, _ run: RunRecord, letter: String, at now: Int64) throws -> Bool {
        guard let text = try String.fetchOne(db.cachedStatement(sql: "SELECT message FROM dead_letters WHERE id = ?"), arguments: [letter]),
            var message = try? JSONDecoder().decode(QueuedMessage.self, from: Data(text.utf8)), let dueAt = SQLiteTime.timestamp(now)
        else { return false }
        message.id = QueuedMessage.freshId()
        message.dueAt = dueAt
        try db.cachedStatement(sql: "UPDATE runs SET status = 'running', error = NULL, output = NULL, updated_at = ? WHERE id = ?").execute(
            arguments: [now, run.id])
        try db.cachedStatement(sql: "DELETE FROM dead_letters WHERE id = ?").execute(arguments: [letter])
        try insertQueued(db, message, at: now)
        return true
    }

    private static func spec(_ message: QueuedMessage) throws -> String {
        String(decoding: try JSONEncoder().encode(message), as: UTF8.self)
    }

    private static func queuedMessage(_ row: Row) -> QueuedMessage? {
        guard var message = try? JSONDecoder().decode(QueuedMessage.self, from: Data((row["spec"] as String).utf8)),
            let due = SQLiteTime.timestamp(row["due_at"])
        else { return nil }
        message.body = (row["body"] as Data?).map { Array($0) }
        message.attempt = row["attempt"]
        message.dueAt = due
        return message
    }
}

/// A publication the store refused, which rolls back the rest of its batch.
private struct RefusedPublication: Error {
    let result: PublicationResult
}

/// Waits of SDK runs (`/v2/wait`), kept as operations of kind `endpoint-wait`.
extension SQLiteStore {
    public func registerEndpointWait(_ wait: EndpointWait, timeout: QueuedMessage, at time: TimestampValue) async throws
        -> PublicationResult
    {
        try await pool.write { db in
            guard let run = try Self.fetchRun(db, id: wait.runId) else { return .unknownRun(wait.runId) }
            guard run.status == .running else { return .runEnded(run.status) }
            let now = SQLiteTime.milliseconds(time)
            try db.cachedStatement(
                sql: """
                    INSERT INTO operations (run_id, step_name, kind, event_id, timeout_at, payload, created_at)
                    VALUES (?, ?, 'endpoint-wait', ?, ?, ?, ?) ON CONFLICT(run_id, step_name) DO NOTHING
                    """
            ).execute(arguments: [
                wait.runId, wait.stepKey, wait.eventId, SQLiteTime.millisecondsRoundedUp(timeout.dueAt), try Self.json(wait), now,
            ])
            guard db.changesCount > 0 else { return .deduplicated(wait.timeoutMessageId) }
            try Self.insertQueued(db, timeout, at: now)
            return .stored(timeout.id)
        }
    }

    public func endpointWaits(event: String, runId: String?) async throws -> [EndpointWait] {
        try await pool.read { db in try Self.endpointWaits(db, event: event, runId: runId) }
    }

    /// The SDK runs' waits on `event` (of `runId` only, when given), within a transaction.
    static func endpointWaits(_ db: Database, event: String, runId: String?) throws -> [EndpointWait] {
        try String.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT o.payload FROM operations o JOIN runs r ON r.id = o.run_id
                    WHERE o.event_id = ? AND o.kind = 'endpoint-wait' AND r.status = 'running' AND (? IS NULL OR o.run_id = ?)
                    ORDER BY o.created_at, o.run_id
                    """),
            arguments: [event, runId, runId]
        ).compactMap { try? JSONDecoder().decode(EndpointWait.self, from: Data($0.utf8)) }
    }

    public func resolveEndpointWait(_ wait: EndpointWait, with publication: Publication, at time: TimestampValue) async throws -> Bool {
        try await pool.write { db in try Self.resolveEndpointWait(db, wait, with: publication, at: SQLiteTime.milliseconds(time)) }
    }

    /// Completes `wait` with `publication` unless another notify or its timeout came first, or
    /// its run ended (then nothing changes, in a savepoint of its own).
    static func resolveEndpointWait(_ db: Database, _ wait: EndpointWait, with publication: Publication, at now: Int64) throws -> Bool {
        var resolved = false
        try db.inSavepoint {
            try db.cachedStatement(sql: "DELETE FROM queue WHERE id = ?").execute(arguments: [wait.timeoutMessageId])
            try db.cachedStatement(sql: "DELETE FROM operations WHERE run_id = ? AND step_name = ? AND kind = 'endpoint-wait'").execute(
                arguments: [wait.runId, wait.stepKey])
            guard db.changesCount > 0 else { return .rollback }
            switch try apply(db, publication, at: now) {
            case .stored, .deduplicated:
                resolved = true
                return .commit
            case .runEnded, .unknownRun: return .rollback
            }
        }
        return resolved
    }

    public func takeEvent(runId: String, event: String) async throws -> Value? {
        try await pool.write { db in
            try String.fetchOne(
                db.cachedStatement(sql: "DELETE FROM events WHERE run_id = ? AND event_id = ? RETURNING data"), arguments: [runId, event]
            )
            .flatMap { try? Value(json: $0) }
        }
    }

    private static func json(_ wait: EndpointWait) throws -> String {
        String(decoding: try JSONEncoder().encode(wait), as: UTF8.self)
    }
}
