import Foundation
import PostgresNIO
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// The engine's records read from rows of the PostgreSQL schema.
enum PostgresRecords {
    /// A row of `runs`; `nil` when it cannot be read.
    static func run(_ row: PostgresRowReader) -> RunRecord? {
        guard let status = (try? row("status", as: String.self)).flatMap(RunStatus.init(rawValue:)),
            let phase = (try? row("phase", as: String.self)).flatMap(RunPhase.init(rawValue:)),
            let created = PostgresTransaction.timestamp(try? row("created_at", as: Int64.self)),
            let updated = PostgresTransaction.timestamp(try? row("updated_at", as: Int64.self)),
            let input = try? row("input", as: String.self),
            let id = try? row("id", as: String.self), let workflow = try? row("workflow", as: String.self)
        else { return nil }
        let text = { (name: String) in (try? row(name, as: String?.self)) ?? nil }
        let parent = text("parent_run_id").map { ($0, text("parent_step") ?? "") }
        var run = RunRecord(
            id: id, workflow: workflow, definitionHash: text("definition_hash") ?? "", input: .null, status: status, phase: phase,
            createdAt: created, updatedAt: updated, output: text("output").flatMap { try? Value(json: $0) },
            error: text("error").flatMap { try? Value(json: $0) }.flatMap(StepError.init(value:)), parent: parent,
            flowControl: flowControl(row), endpoint: text("endpoint_url"), defaults: StoredJSON.decode(RunDefaults.self, from: text("endpoint_defaults")),
            invoker: StoredJSON.decode(EndpointInvoker.self, from: text("endpoint_invoker")),
            label: text("label"), flowControlKey: text("flow_key"))
        run.callerIp = text("caller_ip")
        run.deadline = PostgresTransaction.timestamp((try? row("deadline_at", as: Int64?.self)) ?? nil)
        run.setInput(json: input)
        return run
    }

    /// The flow control of a row of `runs` (or joined with it).
    static func flowControl(_ row: PostgresRowReader) -> StepwiseEngine.FlowControl? {
        let flow = StepwiseEngine.FlowControl(
            concurrencyKey: (try? row("concurrency_key", as: String?.self)) ?? nil,
            concurrencyLimit: (try? row("concurrency_limit", as: Int?.self)) ?? nil,
            rateKey: (try? row("rate_key", as: String?.self)) ?? nil, rateLimit: (try? row("rate_limit", as: Int?.self)) ?? nil,
            ratePeriod: (try? row("rate_period", as: Int64?.self)) ?? nil)
        return flow == StepwiseEngine.FlowControl() ? nil : flow
    }

    /// A row of `messages`.
    static func message(_ row: PostgresRowReader) -> PendingMessage? {
        guard let due = PostgresTransaction.timestamp(try? row("due_at", as: Int64.self)),
            let kind = (try? row("kind", as: String.self)).flatMap(PendingMessage.Kind.init(rawValue:)),
            let id = try? row("id", as: Int64.self), let runId = try? row("run_id", as: String.self),
            let attempt = try? row("attempt", as: Int.self)
        else { return nil }
        var message = PendingMessage(
            id: id, runId: runId, kind: kind, stepName: (try? row("step_name", as: String?.self)) ?? nil, attempt: attempt, dueAt: due)
        message.lease = (try? row("lease_token", as: Int64?.self)) ?? nil
        return message
    }

    /// A row of `queue`.
    static func queuedMessage(_ row: PostgresRowReader) -> QueuedMessage? {
        guard let spec = try? row("spec", as: String.self),
            var message = StoredJSON.decode(QueuedMessage.self, from: spec),
            let due = PostgresTransaction.timestamp(try? row("due_at", as: Int64.self)), let attempt = try? row("attempt", as: Int.self)
        else { return nil }
        message.body = ((try? row("body", as: Data?.self)) ?? nil).map { Array($0) }
        message.attempt = attempt
        message.dueAt = due
        return message
    }

    /// The SDK runs' waits on `event` (of `runId` only, when given), oldest first.
    static func endpointWaits(_ session: PostgresSession, event: String, runId: String?) throws -> [EndpointWait] {
        try session.values(
            """
            SELECT o.payload FROM operations o JOIN runs r ON r.id = o.run_id
            WHERE o.event_id = ? AND o.kind = 'endpoint-wait' AND r.status = 'running' AND (?::text IS NULL OR o.run_id = ?)
            ORDER BY o.created_at, o.run_id
            """, [event, runId, runId], as: String.self
        ).compactMap { StoredJSON.decode(EndpointWait.self, from: $0) }
    }
}
