import Foundation
import GRDB
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// The QStash queue and the logs of SDK runs: the store applies what `PublicationPlanner` and
/// `QueuedAttemptResolver` decided, one transaction each.
extension SQLiteStore {
    public func publish(_ publications: [Publication], deduplicatedBy keys: [String?], at time: TimestampValue) async throws -> [PublicationResult] {
        do {
            return try await groupCommit.write { db in try SQLiteTransaction.transitions(db).publish(publications, deduplicatedBy: keys, at: time) }
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

    public func claimDueQueued(now: TimestampValue, limit: Int, owner: String, leaseUntil: TimestampValue, delivering: Set<String>) async throws
        -> [QueuedMessage]
    {
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
        return try await groupCommit.write { db in
            try FlowAdmission(SQLiteTransaction(db)).freeSlotsOfExpiredLeases(now: current)
            // Messages due at the same moment go in the order they were queued (a queue's FIFO).
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM queue WHERE due_at <= ? AND (lease_until IS NULL OR lease_until < ?) AND waiting_for_slot = 0
                    ORDER BY due_at, rowid LIMIT ?
                    """,
                arguments: [current, current, limit * 4])
            var claimed: [QueuedMessage] = []
            for row in rows where claimed.count < limit && !delivering.contains(row["id"]) {
                let message = Self.queuedMessage(row)
                let holdsSlot: Bool = row["holds_slot"]
                if let message, try !FlowAdmission(SQLiteTransaction(db)).admit(queued: message, id: row["id"], now: current, holdsSlot: holdsSlot) { continue }
                // A queue's message keeps its slot from its first attempt to its end (QStash's FIFO).
                try db.cachedStatement(sql: "UPDATE queue SET lease_owner = ?, lease_until = ?, holds_slot = ? WHERE id = ?").execute(arguments: [
                    owner, SQLiteTime.milliseconds(leaseUntil), holdsSlot || message?.queue != nil, row["id"] as String,
                ])
                if let message { claimed.append(message) }
            }
            return claimed
        }
    }

    public func queuedMessage(id: String) async throws -> (message: QueuedMessage, createdAt: TimestampValue)? {
        try await pool.read { db in
            try SQLiteTransaction(db).queuedMessage(id: id).flatMap { found in SQLiteTime.timestamp(found.createdAt).map { (found.message, $0) } }
        }
    }

    public func queuedMessages(runId: String) async throws -> [QueuedMessage] {
        try await pool.read { db in
            // A call's request or a callback's answer may be large; what a listing shows is in the spec.
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT spec, attempt, due_at, NULL AS body FROM queue WHERE run_id = ? ORDER BY rowid"), arguments: [runId]
            ).compactMap(SQLiteStore.queuedMessage)
        }
    }

    public func cancelPlainMessages(ids: [String]?, matching filter: PlainMessageFilter, at time: TimestampValue) async throws -> Int {
        try await groupCommit.write { db in try SQLiteTransaction.transitions(db).cancelPlainMessages(ids: ids, matching: filter, at: time) }
    }

    public func logHolds(runId: String, messageId: String, at position: Int?) async throws -> Bool {
        try await pool.read { db in
            guard let position else {
                return try Bool.fetchOne(
                    db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM run_log WHERE run_id = ? AND message_id = ?)"), arguments: [runId, messageId]
                ) ?? false
            }
            return try SQLiteTransaction(db).logMessageId(runId: runId, position: position) == messageId
        }
    }

    public func runLog(runId: String, from start: Int, through position: Int?) async throws -> [RawStep] {
        try await pool.read { db in
            try Row.fetchAll(
                db.cachedStatement(
                    sql: "SELECT message_id, call_type, body FROM run_log WHERE run_id = ? AND position BETWEEN ? AND ? ORDER BY position"),
                arguments: [runId, start, position ?? Int.max]
            ).map(Self.logEntry)
        }
    }

    public func timedRunLog(runId: String) async throws -> [(entry: RawStep, recordedAt: Int64)] {
        try await pool.read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT message_id, call_type, body, recorded_at FROM run_log WHERE run_id = ? ORDER BY position"),
                arguments: [runId]
            ).map { row in (Self.logEntry(row), row["recorded_at"]) }
        }
    }

    /// The run-log entry of `row` (`message_id`, `call_type`, `body`).
    private static func logEntry(_ row: Row) -> RawStep {
        RawStep(messageId: row["message_id"], body: Array(row["body"] as Data), callType: CallType(rawValue: row["call_type"]) ?? .step)
    }

    public func finishAttempt(_ message: QueuedMessage, owner: String, with followUp: AttemptFollowUp) async throws -> Bool {
        try await groupCommit.write { db in try SQLiteTransaction.transitions(db).finishAttempt(message, owner: owner, with: followUp) }
    }

    public func runDefaults(runId: String) async throws -> RunDefaults? {
        try await pool.read { db in try Self.runDefaults(db, runId: runId) }
    }

    /// The run-level options of SDK run `runId`, within a transaction.
    static func runDefaults(_ db: Database, runId: String) throws -> RunDefaults? {
        StoredJSON.decode(
            RunDefaults.self,
            from: try String.fetchOne(db.cachedStatement(sql: "SELECT endpoint_defaults FROM runs WHERE id = ?"), arguments: [runId]))
    }

    public func finishEndpointRun(runId: String, output: Value?, at time: TimestampValue) async throws -> RunRecord? {
        try await pool.write { db in try SQLiteTransaction.transitions(db).finishEndpointRun(runId: runId, output: output, at: time) }
    }

    static func queuedMessage(_ row: Row) -> QueuedMessage? {
        guard var message = StoredJSON.decode(QueuedMessage.self, from: row["spec"]),
            let due = SQLiteTime.timestamp(row["due_at"])
        else { return nil }
        message.body = (row["body"] as Data?).map { Array($0) }
        message.attempt = row["attempt"]
        message.dueAt = due
        return message
    }
}

/// Waits of SDK runs (`/v2/wait`), kept as operations of kind `endpoint-wait`.
extension SQLiteStore {
    public func registerEndpointWait(_ wait: EndpointWait, timeout: QueuedMessage, at time: TimestampValue) async throws
        -> PublicationResult
    {
        try await pool.write { db in try SQLiteTransaction.transitions(db).registerEndpointWait(wait, timeout: timeout, at: time) }
    }

    public func endpointWaits(event: String, runId: String?) async throws -> [EndpointWait] {
        try await pool.read { db in try SQLiteTransaction(db).endpointWaits(event: event, runId: runId) }
    }

    public func resolveEndpointWait(_ wait: EndpointWait, with publication: Publication, at time: TimestampValue) async throws -> Bool {
        do {
            return try await pool.write { db in try SQLiteTransaction.transitions(db).resolveEndpointWait(wait, with: publication, at: time) }
        } catch is RefusedPublication {
            return false
        }
    }

    public func takeFirstEvent(runId: String, prefix: String) async throws -> Value? {
        try await pool.write { db in try SQLiteTransaction(db).takeFirstEvent(runId: runId, prefix: prefix) }
    }

    public func takeKeptNotification(runId: String, event: String) async throws -> Value? {
        try await pool.write { db in try SQLiteTransaction(db).takeKeptNotification(runId: runId, event: event) }
    }
}
