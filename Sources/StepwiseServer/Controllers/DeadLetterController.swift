import Hummingbird
import StepwiseEngine
import StepwiseExpressions

/// The workflow DLQ: list (paged and filtered, `DeadLetterQuery`), read, delete, resume from the
/// failed step, restart from the input (`/v2/workflows/dlq`).
struct DeadLetterController: Sendable {
    let engine: WorkflowEngine
    let failures: FailureAnswer

    /// Adds the routes to `router`.
    func addRoutes(to router: Router<BasicRequestContext>) {
        let dlq = router.group("v2/workflows/dlq")
        dlq.get { request, _ in await list(request) }
        dlq.get(":id") { _, context in await deadLetter(context.decoded("id") ?? "") }
        dlq.delete(":id") { _, context in await removeDeadLetter(context.decoded("id") ?? "") }
        dlq.post("resume/:id") { _, context in await resume(context.decoded("id") ?? "") }
        dlq.post("restart/:id") { _, context in await restart(context.decoded("id") ?? "") }
    }

    /// A page of entries, newest failure first: `{"messages": [...], "cursor"}` (`cursor` null on
    /// the last page). Also the answer of `/v2/dlq?source=workflow`.
    func list(_ request: Request) async -> Response {
        let query: DeadLetterQuery
        do {
            query = try DeadLetterQuery(request.uri.queryParameters)
        } catch {
            return JSONResponse.error(.badRequest, error.message)
        }
        do {
            let (letters, next) = try await engine.store.deadLetters(matching: query.filter, after: query.cursor, count: query.count)
            return JSONResponse.make(.ok, ["messages": .list(letters.map(Self.view)), "cursor": next.map { .string($0.text) } ?? .null])
        } catch {
            return failures.answer("cannot list the DLQ", error)
        }
    }

    private func deadLetter(_ id: String) async -> Response {
        do {
            guard let letter = try await engine.store.deadLetter(id: id) else { return Self.noDeadLetter(id) }
            return JSONResponse.make(.ok, Self.view(letter))
        } catch {
            return failures.answer("cannot read the DLQ", error)
        }
    }

    private func removeDeadLetter(_ id: String) async -> Response {
        do {
            guard try await engine.store.removeDeadLetter(id) != nil else { return Self.noDeadLetter(id) }
            return JSONResponse.make(.ok, ["deleted": 1])
        } catch {
            return failures.answer("cannot delete '\(id)'", error)
        }
    }

    private func resume(_ id: String) async -> Response {
        do {
            guard let run = try await engine.resume(deadLetter: id) else { return Self.noDeadLetter(id) }
            return JSONResponse.make(.ok, Self.started(run))
        } catch {
            return failures.answer("cannot resume '\(id)'", error)
        }
    }

    private func restart(_ id: String) async -> Response {
        do {
            guard let run = try await engine.restart(deadLetter: id) else { return Self.noDeadLetter(id) }
            return JSONResponse.make(.ok, Self.started(run))
        } catch {
            return failures.answer("cannot restart '\(id)'", error)
        }
    }

    private static func noDeadLetter(_ id: String) -> Response {
        JSONResponse.error(.notFound, "no DLQ entry with id '\(id)'")
    }

    private static func started(_ run: RunRecord) -> Value {
        ["workflowRunId": .string(run.id), "workflowCreatedAt": .int(run.createdAt.millisecondsSinceEpoch)]
    }

    /// An entry with the fields of Upstash's `WorkflowDLQMessage` that Stepwise knows, and the
    /// failed step and its error.
    private static func view(_ letter: DeadLetter) -> Value {
        var map = ValueMap([
            ("dlqId", .string(letter.id)), ("workflowRunId", .string(letter.runId)), ("workflow", .string(letter.workflow)),
            ("failedStep", letter.failedStep.map(Value.string) ?? .null), ("error", letter.error?.value ?? .null),
            ("createdAt", .int(letter.createdAt.millisecondsSinceEpoch)),
        ])
        if let created = letter.runCreatedAt { map[.string("workflowCreatedAt")] = .int(created.millisecondsSinceEpoch) }
        if let url = letter.endpoint { map[.string("workflowUrl")] = .string(url) }
        if let label = letter.label {
            map[.string("label")] = .string(label)
            map[.string("labels")] = [.string(label)]
        }
        return .map(map)
    }
}
