import Foundation
import PostgresNIO
import StepwiseEngine
import StepwiseExpressions
import StepwiseRuntime

/// Definitions, runs, deliveries of YAML runs, leases and the reads of the API.
extension PostgresStore {
    public func saveDefinition(_ definition: StoredDefinition) async throws {
        try await write { transaction in
            try transaction.session.execute(
                "INSERT INTO definitions (hash, workflow, source, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (hash) DO NOTHING",
                [definition.hash, definition.workflow, definition.source, Int64(Date().timeIntervalSince1970 * 1000)])
        }
    }

    public func definitions() async throws -> [StoredDefinition] {
        try await session { session in
            try session.rows("SELECT hash, workflow, source FROM definitions ORDER BY created_at").map(Self.storedDefinition)
        }
    }

    public func definition(hash: String) async throws -> StoredDefinition? {
        try await session { session in
            try session.rows("SELECT hash, workflow, source FROM definitions WHERE hash = ?", [hash]).first.map(Self.storedDefinition)
        }
    }

    private static func storedDefinition(_ row: PostgresRowReader) throws -> StoredDefinition {
        StoredDefinition(hash: try row("hash"), workflow: try row("workflow"), source: try row("source"))
    }

    public func createRun(_ run: RunRecord) async throws -> (run: RunRecord, created: Bool) {
        let result = try await transitions { transitions in
            let (run, created) = try transitions.createRun(run)
            return CreatedRun(run: run, created: created)
        }
        return (result.run, result.created)
    }

    public func complete(_ message: PendingMessage, owner: String, with resolution: DeliveryResolution) async throws -> Bool {
        try await transitions { transitions in try transitions.complete(message, owner: owner, with: resolution) }
    }

    public func complete(_ message: PendingMessage, owner: String, with resolution: DeliveryResolution, leasingNext lease: NextLease) async throws
        -> (completed: Bool, next: LeasedDelivery?)
    {
        let result = try await write { transaction in
            let (completed, next) = try RunTransitions(transaction).complete(message, owner: owner, with: resolution, leasingNextUntil: lease.until)
            return LeasedNext(completed: completed, next: try next.map { try Self.leased($0, transaction.session, journalFrom: lease.journalFrom) })
        }
        return (result.completed, result.next)
    }

    /// A delivery leased in the transaction of `session`, with its run's progress read there.
    static func leased(_ taken: TakenDelivery, _ session: PostgresSession, journalFrom position: Int) throws -> LeasedDelivery {
        LeasedDelivery(message: taken.message, read: .init(run: taken.run, progress: try progress(session, runId: taken.run.id, from: position)))
    }

    public func completeOperation(_ message: PendingMessage, owner: String, entry: JournalEntry?, record: AttemptRecord?) async throws -> Bool {
        try await transitions { transitions in try transitions.completeOperation(message, owner: owner, entry: entry, record: record) }
    }

    public func fireTimer(_ message: PendingMessage, owner: String, leasingNext lease: NextLease?) async throws -> FiredTimer {
        try await write { transaction in
            let fired = try RunTransitions(transaction).fireTimer(message, owner: owner, leasingNextUntil: lease?.until)
            let next = try fired.next.map { try Self.leased($0, transaction.session, journalFrom: lease?.journalFrom ?? 0) }
            return FiredTimer(completed: fired.completed, recorded: fired.recorded, next: next)
        }
    }

    public func fireSleepsAhead(after now: TimestampValue, dueBy horizon: TimestampValue, limit: Int, owner: String, leaseUntil: TimestampValue)
        async throws -> [SleepFiredAhead]
    {
        try await transitions { transitions in
            try transitions.fireSleepsAhead(after: now, dueBy: horizon, limit: limit, owner: owner, leaseUntil: leaseUntil)
        }
    }

    public func messagesHeld(_ messages: [PendingMessage], owner: String) async throws -> Set<Int64> {
        guard !messages.isEmpty else { return [] }
        return try await session { session in
            let rows = try session.rows("SELECT id, lease_token FROM messages WHERE lease_owner = ? AND id = ANY(?)", [owner, messages.map(\.id)])
            var tokens: [Int64: Int64?] = [:]
            for row in rows { tokens[try row("id", as: Int64.self)] = try row("lease_token", as: Int64?.self) }
            return PendingMessage.stillHeld(messages, tokens: tokens)
        }
    }

    public func extendLease(_ message: PendingMessage, owner: String, until: TimestampValue) async throws -> Bool {
        try await write { transaction in
            try transaction.session.changes(
                "UPDATE messages SET lease_until = GREATEST(lease_until, ?) WHERE id = ? AND lease_owner = ? AND lease_token IS NOT DISTINCT FROM ?",
                [PostgresTransaction.at(until), message.id, owner, message.lease])
        }
    }

    public func progress(runId: String, from position: Int) async throws -> RunProgress {
        try await snapshot { session in try Self.progress(session, runId: runId, from: position) }
    }

    public func runProgress(runId: String, from position: Int) async throws -> LeasedDelivery.RunState? {
        try await snapshot { session in
            guard let run = try Self.run(session, id: runId) else { return nil }
            return LeasedDelivery.RunState(run: run, progress: try Self.progress(session, runId: runId, from: position))
        }
    }

    static func progress(_ session: PostgresSession, runId: String, from position: Int) throws -> RunProgress {
        let pending: [String] = try session.values("SELECT step_name FROM operations WHERE run_id = ?", [runId])
        var failures: [String: Int] = [:]
        for row in try session.rows("SELECT step_name, failures FROM step_failures WHERE run_id = ?", [runId]) {
            failures[try row("step_name")] = try row("failures", as: Int.self)
        }
        return RunProgress(
            journal: try journal(session, runId: runId, from: position), journalBase: position, pending: Set(pending), failures: failures)
    }

    public func reschedule(_ message: PendingMessage, owner: String, attempt: Int, at dueAt: TimestampValue, record: AttemptRecord?) async throws {
        try await write { transaction in
            if let record { try transaction.record(record) }
            try transaction.session.execute(
                """
                UPDATE messages SET lease_owner = NULL, lease_until = NULL, lease_token = NULL, due_at = ?, attempt = ?
                WHERE id = ? AND lease_owner = ? AND lease_token IS NOT DISTINCT FROM ?
                """,
                [PostgresTransaction.due(dueAt), attempt, message.id, owner, message.lease])
            transaction.madeDue.otherWork()
            if message.kind == .deliver, let run = try transaction.run(id: message.runId), let key = run.flowControl?.concurrencyKey {
                try transaction.releaseSlot(key: key)
            }
        }
    }

    public func leaseOwners() async throws -> Set<String> {
        try await session { session in
            Set(
                try session.values(
                    """
                    SELECT DISTINCT lease_owner FROM messages WHERE lease_owner IS NOT NULL
                    UNION SELECT DISTINCT lease_owner FROM queue WHERE lease_owner IS NOT NULL
                    """, as: String.self))
        }
    }

    public func releaseLeases(owners: [String]) async throws {
        try await write { transaction in
            for owner in owners {
                try transaction.session.execute("UPDATE messages SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?", [owner])
                try transaction.session.execute("UPDATE queue SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?", [owner])
            }
            try transaction.freeAllSlots()
        }
    }

    public func renewLeases(owner: String, messages: [Int64], queued: [String], until: TimestampValue) async throws {
        let until = PostgresTransaction.at(until)
        try await write { transaction in
            // A call's lease may already reach further (its timeout): renewing never shortens one.
            // One statement per table, however many leases: a node may hold a thousand.
            if !messages.isEmpty {
                try transaction.session.execute(
                    "UPDATE messages SET lease_until = GREATEST(lease_until, ?) WHERE lease_owner = ? AND id = ANY(?)", [until, owner, messages])
            }
            if !queued.isEmpty {
                try transaction.session.execute(
                    "UPDATE queue SET lease_until = GREATEST(lease_until, ?) WHERE lease_owner = ? AND id = ANY(?)", [until, owner, queued])
            }
        }
    }

    public func run(id: String) async throws -> RunRecord? {
        try await session { session in try Self.run(session, id: id) }
    }

    private static func run(_ session: PostgresSession, id: String) throws -> RunRecord? {
        try session.row("SELECT * FROM runs WHERE id = ?", [id]).flatMap(PostgresRecords.run)
    }

    public func runs(_ filter: RunFilter) async throws -> [RunRecord] {
        try await session { session in
            let listing = try filter.labelQuery(jsonValues: "SELECT jsonb_array_elements_text(CAST(? AS JSONB))")
            var conditions: [String] = []
            var values: [(any PostgresThrowingDynamicTypeEncodable)?] = []
            if let workflow = filter.workflow {
                conditions.append("runs.workflow = ?")
                values.append(workflow)
            }
            if let status = filter.status {
                conditions.append("runs.status = ?")
                values.append(status.rawValue)
            }
            if let from = filter.createdFrom {
                conditions.append("\(listing.time) >= ?")
                values.append(PostgresTransaction.at(from))
            }
            if let before = filter.createdBefore {
                conditions.append("\(listing.time) < ?")
                values.append(PostgresTransaction.at(before))
            }
            if let ids = try StoredJSON.list(filter.runIds) {
                conditions.append("runs.id IN (SELECT jsonb_array_elements_text(CAST(? AS JSONB)))")
                values.append(ids)
            }
            if let urls = try StoredJSON.list(filter.endpoints) {
                conditions.append("runs.endpoint_url IN (SELECT jsonb_array_elements_text(CAST(? AS JSONB)))")
                values.append(urls)
            }
            if let prefixes = try StoredJSON.list(filter.endpointPrefixes) {
                conditions.append(
                    "EXISTS (SELECT 1 FROM jsonb_array_elements_text(CAST(? AS JSONB)) AS prefix(value) WHERE left(runs.endpoint_url, length(prefix.value)) = prefix.value)")
                values.append(prefixes)
            }
            if let condition = listing.condition {
                conditions.append(condition.sql)
                values.append(condition.argument)
            }
            if let keys = try StoredJSON.list(filter.flowControlKeys) {
                conditions.append("\(RunFilter.flowKeyColumn(of: "runs")) IN (SELECT jsonb_array_elements_text(CAST(? AS JSONB)))")
                values.append(keys)
            }
            if let callers = try StoredJSON.list(filter.callerIps) {
                conditions.append("runs.caller_ip IN (SELECT jsonb_array_elements_text(CAST(? AS JSONB)))")
                values.append(callers)
            }
            if let after = filter.after {
                // Newest first, ties by id: the next page starts just past the cursor in that order
                // (the first bound lets the walk seek to it rather than scan from the newest).
                conditions.append("\(listing.time) <= ? AND (\(listing.time) < ? OR (\(listing.time) = ? AND \(listing.id) > ?))")
                values += [after.milliseconds, after.milliseconds, after.milliseconds, after.id]
            }
            values.append(filter.limit)
            let clause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            return try session.rows("SELECT runs.* FROM \(listing.source) \(clause) ORDER BY \(listing.order) LIMIT ?", values).compactMap(PostgresRecords.run)
        }
    }

    public func journal(runId: String) async throws -> [JournalEntry] {
        try await session { session in try Self.journal(session, runId: runId, from: 0) }
    }

    static func journal(_ session: PostgresSession, runId: String, from position: Int) throws -> [JournalEntry] {
        try session.values("SELECT entry FROM journal WHERE run_id = ? AND position >= ? ORDER BY position", [runId, position], as: String.self)
            .compactMap { text in (try? Value(json: text)).flatMap { try? JournalEntry(json: $0) } }
    }

    public func attempts(runId: String, from position: Int) async throws -> [AttemptRecord] {
        try await session { session in
            try session.rows("SELECT * FROM attempts WHERE run_id = ? AND position >= ? ORDER BY id", [runId, position]).compactMap { row in
                guard let started = PostgresTransaction.timestamp(try row("started_at")),
                    let finished = PostgresTransaction.timestamp(try row("finished_at"))
                else { return nil }
                return AttemptRecord(
                    runId: try row("run_id"), position: try row("position"), attempt: try row("attempt"), startedAt: started,
                    finishedAt: finished, outcome: try row("outcome"), detail: try row("detail"))
            }
        }
    }

    public func cancel(runId: String, reason: StepError?, failureURLs: [String: String], at time: TimestampValue) async throws -> Bool {
        try await transitions { transitions in try transitions.cancel(runId: runId, reason: reason, failureURLs: failureURLs, at: time) }
    }

    public func cancel(workflow: String, failureURLs: [String: String], at time: TimestampValue) async throws -> [String] {
        try await write { transaction in
            let ids: [String] = try transaction.session.values("SELECT id FROM runs WHERE workflow = ? AND status = 'running'", [workflow])
            return try RunTransitions(transaction).cancel(runIds: ids, failureURLs: failureURLs, at: time)
        }
    }

    public func cancel(endpoint url: String, exactly: Bool, at time: TimestampValue) async throws -> [String] {
        try await write { transaction in
            let ids: [String] = try transaction.session.values(
                """
                SELECT id FROM runs WHERE status = 'running' AND endpoint_url IS NOT NULL
                AND (endpoint_url = ? OR (NOT ? AND left(endpoint_url, length(?)) = ?))
                """, [url, exactly, url, url])
            return try RunTransitions(transaction).cancel(runIds: ids, at: time)
        }
    }

    public func operation(runId: String, stepName: String) async throws -> StepOperation? {
        try await session { session in try PostgresTransaction(session).operation(runId: runId, stepName: stepName) }
    }

    public func notify(event: String, data: Value, runId: String?, at time: TimestampValue) async throws -> NotifyResult {
        try await transitions { transitions in try transitions.notify(event: event, data: data, runId: runId, at: time) }
    }

    public func keepWebhookCall(runId: String, eventId: String, request: String, returned: Bool, at time: TimestampValue) async throws -> WebhookOutcome {
        try await transitions { transitions in try transitions.keepWebhookCall(runId: runId, eventId: eventId, request: request, returned: returned, at: time) }
    }

    public func waiters(event: String) async throws -> [Waiter] {
        try await session { session in
            try session.rows(
                """
                SELECT o.run_id, o.step_name, o.kind, o.payload, o.event_id, o.timeout_at, r.workflow FROM operations o JOIN runs r ON r.id = o.run_id
                WHERE o.event_id = ? AND o.kind IN ('wait', 'endpoint-wait') ORDER BY o.created_at, o.run_id
                """, [event]
            ).compactMap { row in
                guard let timeout = PostgresTransaction.timestamp(try row("timeout_at")) else { return nil }
                return Waiter(
                    runId: try row("run_id"), workflow: try row("workflow"), kind: try row("kind"), stepKey: try row("step_name"),
                    payload: try row("payload"), event: try row("event_id"), timeoutAt: timeout)
            }
        }
    }
}

/// A run and whether this call created it, as one value a transaction returns.
struct CreatedRun: Sendable {
    let run: RunRecord
    let created: Bool
}

/// Whether a completion applied and the run's next delivery it leased, as one value a transaction returns.
struct LeasedNext: Sendable {
    let completed: Bool
    let next: LeasedDelivery?
}
