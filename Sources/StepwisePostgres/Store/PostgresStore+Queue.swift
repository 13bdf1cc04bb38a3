import Foundation
import PostgresNIO
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// The QStash queue, the logs of SDK runs and their waits, applied by `RunTransitions`.
extension PostgresStore {
    public func publish(_ publications: [Publication], deduplicatedBy keys: [String?], at time: TimestampValue) async throws -> [PublicationResult] {
        do {
            return try await transitions { transitions in try transitions.publish(publications, deduplicatedBy: keys, at: time) }
        } catch let refused as RefusedPublication {
            return [refused.result]
        }
    }

    public func queuedMessage(id: String) async throws -> (message: QueuedMessage, createdAt: TimestampValue)? {
        try await snapshot { session in
            try PostgresTransaction(session).queuedMessage(id: id).flatMap { found in
                PostgresTransaction.timestamp(found.createdAt).map { (found.message, $0) }
            }
        }
    }

    public func queuedMessages(runId: String) async throws -> [QueuedMessage] {
        try await session { session in
            // A call's request or a callback's answer may be large; what a listing shows is in the spec.
            try session.rows("SELECT spec, attempt, due_at, NULL::bytea AS body FROM queue WHERE run_id = ? ORDER BY seq", [runId])
                .compactMap(PostgresRecords.queuedMessage)
        }
    }

    public func cancelPlainMessages(ids: [String]?, matching filter: PlainMessageFilter, at time: TimestampValue) async throws -> Int {
        try await transitions { transitions in try transitions.cancelPlainMessages(ids: ids, matching: filter, at: time) }
    }

    public func logHolds(runId: String, messageId: String, at position: Int?) async throws -> Bool {
        try await session { session in
            guard let position else {
                return try session.value("SELECT EXISTS (SELECT 1 FROM run_log WHERE run_id = ? AND message_id = ?)", [runId, messageId], as: Bool.self)
                    ?? false
            }
            return try PostgresTransaction(session).logMessageId(runId: runId, position: position) == messageId
        }
    }

    public func runLog(runId: String, from start: Int, through position: Int?) async throws -> [RawStep] {
        try await session { session in
            try session.rows(
                "SELECT message_id, call_type, body FROM run_log WHERE run_id = ? AND position BETWEEN ? AND ? ORDER BY position",
                [runId, start, position ?? Int.max]
            ).map(Self.logEntry)
        }
    }

    public func timedRunLog(runId: String) async throws -> [(entry: RawStep, recordedAt: Int64)] {
        try await session { session in
            try session.rows("SELECT message_id, call_type, body, recorded_at FROM run_log WHERE run_id = ? ORDER BY position", [runId]).map { row in
                (try Self.logEntry(row), try row("recorded_at", as: Int64.self))
            }
        }
    }

    /// The run-log entry of `row` (`message_id`, `call_type`, `body`).
    private static func logEntry(_ row: PostgresRowReader) throws -> RawStep {
        RawStep(messageId: try row("message_id"), body: Array(try row("body", as: Data.self)), callType: CallType(rawValue: try row("call_type")) ?? .step)
    }

    public func finishAttempt(_ message: QueuedMessage, owner: String, with followUp: AttemptFollowUp) async throws -> Bool {
        try await transitions { transitions in try transitions.finishAttempt(message, owner: owner, with: followUp) }
    }

    public func runDefaults(runId: String) async throws -> RunDefaults? {
        try await session { session in
            StoredJSON.decode(RunDefaults.self, from: try session.value("SELECT endpoint_defaults FROM runs WHERE id = ?", [runId], as: String.self))
        }
    }

    public func finishEndpointRun(runId: String, output: Value?, at time: TimestampValue) async throws -> RunRecord? {
        try await transitions { transitions in try transitions.finishEndpointRun(runId: runId, output: output, at: time) }
    }

    public func registerEndpointWait(_ wait: EndpointWait, timeout: QueuedMessage, at time: TimestampValue) async throws -> PublicationResult {
        try await transitions { transitions in try transitions.registerEndpointWait(wait, timeout: timeout, at: time) }
    }

    public func endpointWaits(event: String, runId: String?) async throws -> [EndpointWait] {
        try await session { session in try PostgresRecords.endpointWaits(session, event: event, runId: runId) }
    }

    public func resolveEndpointWait(_ wait: EndpointWait, with publication: Publication, at time: TimestampValue) async throws -> Bool {
        do {
            return try await transitions { transitions in try transitions.resolveEndpointWait(wait, with: publication, at: time) }
        } catch is RefusedPublication {
            return false
        }
    }

    public func takeFirstEvent(runId: String, prefix: String) async throws -> Value? {
        try await write { transaction in try transaction.takeFirstEvent(runId: runId, prefix: prefix) }
    }

    public func takeKeptNotification(runId: String, event: String) async throws -> Value? {
        try await write { transaction in try transaction.takeKeptNotification(runId: runId, event: event) }
    }

    public func deadLetters(matching filter: DeadLetterFilter, after cursor: PageCursor?, count: Int) async throws -> (
        letters: [DeadLetter], next: PageCursor?
    ) {
        try await snapshot { session in try RunTransitions(PostgresTransaction(session)).deadLetters(matching: filter, after: cursor, count: count) }
    }

    public func deadLetter(id: String) async throws -> DeadLetter? {
        try await snapshot { session in try PostgresTransaction(session).deadLetter(id: id) }
    }

    public func resume(deadLetter id: String, options: ResumeOptions, at time: TimestampValue) async throws -> RunRecord? {
        try await transitions { transitions in try transitions.resume(deadLetter: id, options: options, at: time) }
    }

    public func restart(deadLetter id: String, failedAt: TimestampValue, as restarted: RestartedRun, at time: TimestampValue) async throws -> Bool {
        try await transitions { transitions in try transitions.restart(deadLetter: id, failedAt: failedAt, as: restarted, at: time) }
    }

    public func retryFailureCallback(deadLetter id: String, at time: TimestampValue) async throws -> FailureCallbackRetry {
        try await transitions { transitions in try transitions.retryFailureCallback(deadLetter: id, at: time) }
    }

    public func removeDeadLetter(_ id: String) async throws -> DeadLetter? {
        try await transitions { transitions in try transitions.removeDeadLetter(id: id) }
    }
}
