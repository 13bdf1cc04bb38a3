import Foundation
import Hummingbird
import StepwiseEngine
import StepwiseExpressions

/// QStash's messages API as the official `qstash` clients call it: read a queued message, cancel
/// one, some or all plain messages. A workflow run's messages are read here but canceled with
/// their run (`DELETE /v2/workflows/runs/{id}`).
struct MessagesController: Sendable {
    let engine: WorkflowEngine
    let failures: FailureAnswer

    /// Adds the routes to `router`.
    func addRoutes(to router: Router<StepwiseRequestContext>) {
        let messages = router.group("v2/messages")
        messages.get(":id") { _, context in await message(context.decoded("id") ?? "") }
        messages.delete(":id") { _, context in await cancel(context.decoded("id") ?? "") }
        messages.delete { request, _ in await cancelMany(request) }
    }

    private func message(_ id: String) async -> Response {
        do {
            guard let found = try await engine.store.queuedMessage(id: id) else { return Self.noMessage(id) }
            return JSONResponse.make(.ok, QStashMessageView.message(found.message, createdAt: found.createdAt.millisecondsSinceEpoch))
        } catch {
            return failures.answer("cannot read message '\(id)'", error)
        }
    }

    private func cancel(_ id: String) async -> Response {
        do {
            guard let found = try await engine.store.queuedMessage(id: id) else { return Self.noMessage(id) }
            if let runId = found.message.runId ?? found.message.runIdHeader {
                if found.message.servesItsRun, let run = try await engine.store.run(id: runId), run.status.isFinal {
                    return JSONResponse.error(
                        .conflict, "message '\(id)' is a delivery of workflow run '\(runId)', which has ended (\(run.status.rawValue)): it goes when its attempt ends")
                }
                return JSONResponse.error(.badRequest, "message '\(id)' belongs to workflow run '\(runId)': cancel the run with DELETE /v2/workflows/runs/\(runId)")
            }
            guard found.message.isPlain else {
                return JSONResponse.error(.badRequest, "message '\(id)' is a \(found.message.role.rawValue) that follows another message: it cannot be canceled")
            }
            guard try await engine.cancelPlainMessages(ids: [id]) == 1 else {
                guard try await engine.store.queuedMessage(id: id) != nil else { return Self.noMessage(id) }
                return JSONResponse.error(.conflict, "message '\(id)' is being delivered: too late to cancel")
            }
            return JSONResponse.make(.ok, [:])
        } catch {
            return failures.answer("cannot cancel message '\(id)'", error)
        }
    }

    /// Cancels the plain messages the request selects (`PlainMessageSelection`): those named, those
    /// its filters take, or every one. Answers `{"cancelled": n}`; messages being delivered are
    /// not counted.
    private func cancelMany(_ request: Request) async -> Response {
        let selection: PlainMessageSelection
        switch await PlainMessageSelection.read(request) {
        case .success(let value): selection = value
        case .failure(let answer): return answer.response
        }
        do {
            let cancelled = try await engine.cancelPlainMessages(ids: selection.ids, matching: selection.filter)
            return JSONResponse.make(.ok, ["cancelled": .int(Int64(cancelled))])
        } catch {
            return failures.answer("cannot cancel messages", error)
        }
    }

    private static func noMessage(_ id: String) -> Response {
        JSONResponse.error(.notFound, "no queued message with id '\(id)': it was delivered, gave up, was canceled, or never existed")
    }
}
