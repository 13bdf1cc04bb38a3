import Hummingbird
import StepwiseEngine
import StepwiseExpressions

/// The workflow DLQ: list, read, delete, resume from the failed step, restart from the input
/// (`/v2/workflows/dlq`).
struct DeadLetterController: Sendable {
    let engine: WorkflowEngine
    let failures: FailureAnswer

    /// Adds the routes to `router`.
    func addRoutes(to router: Router<BasicRequestContext>) {
        let dlq = router.group("v2/workflows/dlq")
        dlq.get { _, _ in await deadLetters() }
        dlq.get(":id") { _, context in await deadLetter(context.decoded("id") ?? "") }
        dlq.delete(":id") { _, context in await removeDeadLetter(context.decoded("id") ?? "") }
        dlq.post("resume/:id") { _, context in await resume(context.decoded("id") ?? "") }
        dlq.post("restart/:id") { _, context in await restart(context.decoded("id") ?? "") }
    }

    private func deadLetters() async -> Response {
        do {
            let letters = try await engine.store.deadLetters()
            return JSONResponse.make(.ok, ["messages": .list(letters.map(Self.view))])
        } catch {
            return failures.answer("cannot list the DLQ", error)
        }
    }

    private func deadLetter(_ id: String) async -> Response {
        do {
            guard let letter = try await engine.store.deadLetters().first(where: { $0.id == id }) else { return Self.noDeadLetter(id) }
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

    private static func view(_ letter: DeadLetter) -> Value {
        [
            "dlqId": .string(letter.id), "workflowRunId": .string(letter.runId), "workflow": .string(letter.workflow),
            "failedStep": letter.failedStep.map(Value.string) ?? .null, "error": letter.error?.value ?? .null,
            "createdAt": .int(letter.createdAt.millisecondsSinceEpoch),
        ]
    }
}
