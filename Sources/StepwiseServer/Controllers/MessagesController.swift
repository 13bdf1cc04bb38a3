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
            if let runId = found.message.runId ?? found.message.runIdHeader {
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

    /// `{"messageIds": [...]}` cancels those; no body cancels every plain message. Answers
    /// `{"cancelled": n}`; messages being delivered are not counted.
    private func cancelMany(_ request: Request) async -> Response {
        let body: Value
        switch await RequestBody.json(request) {
        case .success(let value): body = value
        case .failure(let answer): return answer.response
        }
        let ids: [String]?
        switch body {
        case .null: ids = nil
        case .map:
            guard case .list(let items)? = body["messageIds"], let named = Self.texts(items) else {
                return JSONResponse.error(.badRequest, "the body needs 'messageIds', a list of message ids; send no body to cancel every message")
            }
            ids = named
        default:
            return JSONResponse.error(.badRequest, "the body must be {\"messageIds\": [...]}; send no body to cancel every message")
        }
        do {
            return JSONResponse.make(.ok, ["cancelled": .int(Int64(try await engine.cancelPlainMessages(ids: ids)))])
        } catch {
            return failures.answer("cannot cancel messages", error)
        }
    }

    /// The strings of `items`; `nil` when one is not a string.
    private static func texts(_ items: [Value]) -> [String]? {
        var texts: [String] = []
        for item in items {
            guard case .string(let text) = item else { return nil }
            texts.append(text)
        }
        return texts
    }

    private static func noMessage(_ id: String) -> Response {
        JSONResponse.error(.notFound, "no queued message with id '\(id)': it was delivered, gave up, was canceled, or never existed")
    }

    /// Headers as QStash reports them: each name with its values, in order.
    private static func headerView(_ headers: [ForwardedHeader]) -> Value {
        .map(ValueMap(Dictionary(grouping: headers, by: \.name).sorted { $0.key < $1.key }.map { ($0.key, .list($0.value.map { .string($0.value) })) }))
    }

    /// A message as QStash's API reports it; times in milliseconds since the epoch, the body as
    /// text when it is UTF-8, else in base64.
    static func view(_ message: QueuedMessage, createdAt: TimestampValue) -> Value {
        var fields: [(String, Value)] = [
            ("messageId", .string(message.id)), ("url", .string(message.destination)), ("method", .string(message.method)),
            ("maxRetries", .int(Int64(message.retries))), ("notBefore", .int(message.dueAt.millisecondsSinceEpoch)),
            ("createdAt", .int(createdAt.millisecondsSinceEpoch)),
            ("header", headerView(message.headers + (message.contentType.map { [ForwardedHeader("Content-Type", $0)] } ?? []))),
        ]
        if let body = message.body {
            if let text = String(validating: body, as: UTF8.self) {
                fields.append(("body", .string(text)))
            } else {
                fields.append(("bodyBase64", .string(Data(body).base64EncodedString())))
            }
        }
        if let queue = message.queue { fields.append(("queueName", .string(queue))) }
        if let callback = message.callback {
            fields.append(("callback", .string(callback.url)))
            fields.append(("callbackHeader", headerView(callback.headers)))
        }
        if let failureCallback = message.failureCallback {
            fields.append(("failureCallback", .string(failureCallback.url)))
            fields.append(("failureCallbackHeader", headerView(failureCallback.headers)))
        }
        if let retryDelay = message.retryDelay { fields.append(("retryDelayExpression", .string(retryDelay))) }
        if let flow = message.flowControl, message.queue == nil, let key = flow.key {
            fields.append(("flowControlKey", .string(key)))
            if let parallelism = flow.concurrencyLimit { fields.append(("parallelism", .int(Int64(parallelism)))) }
            if let rate = flow.rateLimit { fields.append(("rate", .int(Int64(rate)))) }
            if let period = flow.ratePeriod { fields.append(("period", .int(period / 1_000))) }
        }
        return .map(ValueMap(fields))
    }
}
