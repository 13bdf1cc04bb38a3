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
    func addRoutes(to router: Router<BasicRequestContext>) {
        let messages = router.group("v2/messages")
        messages.get(":id") { _, context in await message(context.decoded("id") ?? "") }
        messages.delete(":id") { _, context in await cancel(context.decoded("id") ?? "") }
        messages.delete { request, _ in await cancelMany(request) }
    }

    private func message(_ id: String) async -> Response {
        do {
            guard let found = try await engine.store.queuedMessage(id: id) else { return Self.noMessage(id) }
            return JSONResponse.make(.ok, Self.view(found.message, createdAt: found.createdAt))
        } catch {
            return failures.answer("cannot read message '\(id)'", error)
        }
    }

    private func cancel(_ id: String) async -> Response {
        do {
            guard let found = try await engine.store.queuedMessage(id: id) else { return Self.noMessage(id) }
            if let runId = found.message.runId {
                return JSONResponse.error(.badRequest, "message '\(id)' belongs to workflow run '\(runId)': cancel the run with DELETE /v2/workflows/runs/\(runId)")
            }
            _ = try await engine.cancelPlainMessages(ids: [id])
            return JSONResponse.make(.ok, [:])
        } catch {
            return failures.answer("cannot cancel message '\(id)'", error)
        }
    }

    /// `{"messageIds": [...]}` cancels those; no body (or no `messageIds`) cancels every plain
    /// message. Answers `{"cancelled": n}`.
    private func cancelMany(_ request: Request) async -> Response {
        var ids: [String]?
        if request.headers[.contentLength].map({ $0 != "0" }) ?? false || request.headers[.transferEncoding] != nil {
            let body: Value
            switch await RequestBody.json(request) {
            case .success(let value): body = value
            case .failure(let answer): return answer.response
            }
            switch body["messageIds"] {
            case nil, .null?: ids = nil
            case .list(let items)?:
                var named: [String] = []
                for item in items {
                    guard case .string(let id) = item else { return JSONResponse.error(.badRequest, "'messageIds' must be a list of strings") }
                    named.append(id)
                }
                ids = named
            default: return JSONResponse.error(.badRequest, "'messageIds' must be a list of strings")
            }
        }
        do {
            return JSONResponse.make(.ok, ["cancelled": .int(Int64(try await engine.cancelPlainMessages(ids: ids)))])
        } catch {
            return failures.answer("cannot cancel messages", error)
        }
    }

    private static func noMessage(_ id: String) -> Response {
        JSONResponse.error(.notFound, "no queued message with id '\(id)': it was delivered, gave up, was canceled, or never existed")
    }

    /// A message as QStash's API reports it; times in milliseconds since the epoch, the body as
    /// text when it is UTF-8, else in base64.
    static func view(_ message: QueuedMessage, createdAt: TimestampValue) -> Value {
        var fields: [(String, Value)] = [
            ("messageId", .string(message.id)), ("url", .string(message.destination)), ("method", .string(message.method)),
            ("maxRetries", .int(Int64(message.retries))), ("notBefore", .int(message.dueAt.millisecondsSinceEpoch)),
            ("createdAt", .int(createdAt.millisecondsSinceEpoch)),
            ("header", .map(ValueMap(Dictionary(grouping: message.headers, by: \.name).sorted { $0.key < $1.key }.map { ($0.key, .list($0.value.map { .string($0.value) })) }))),
        ]
        if let body = message.body {
            if let text = String(validating: body, as: UTF8.self) {
                fields.append(("body", .string(text)))
            } else {
                fields.append(("bodyBase64", .string(Data(body).base64EncodedString())))
            }
        }
        if let queue = message.queue { fields.append(("queueName", .string(queue))) }
        if let callback = message.callback { fields.append(("callback", .string(callback.url))) }
        if let failureCallback = message.failureCallback { fields.append(("failureCallback", .string(failureCallback.url))) }
        if let retryDelay = message.retryDelay { fields.append(("retryDelayExpression", .string(retryDelay))) }
        return .map(ValueMap(fields))
    }
}
