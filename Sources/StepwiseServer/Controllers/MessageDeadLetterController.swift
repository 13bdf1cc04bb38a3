import Hummingbird
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol

/// QStash's DLQ of plain messages (`/v2/dlq`), as the official `qstash` clients call it: list with
/// filters and a cursor, read, delete one or many, and retry (a new message, the entry removed).
/// Failed workflow runs have their own DLQ (`DeadLetterController`), which a listing with
/// `source=workflow` reads, as the JS SDK's `client.dlq.list` asks it.
struct MessageDeadLetterController: Sendable {
    let engine: WorkflowEngine
    let failures: FailureAnswer
    let workflowDeadLetters: DeadLetterController

    /// Adds the routes to `router`.
    func addRoutes(to router: Router<BasicRequestContext>) {
        let dlq = router.group("v2/dlq")
        dlq.get { request, _ in
            request.uri.queryParameters["source"] == "workflow" ? await workflowDeadLetters.list(request) : await list(request)
        }
        dlq.get(":id") { _, context in await read(context.decoded("id") ?? "") }
        dlq.delete(":id") { _, context in await delete(context.decoded("id") ?? "") }
        dlq.delete { request, _ in await deleteMany(request) }
        dlq.post("retry/:id") { request, context in await retry(context.decoded("id") ?? "", request) }
        dlq.post("retry") { request, _ in await retryMany(request) }
    }

    private func list(_ request: Request) async -> Response {
        let query: MessageDeadLetterQuery
        do throws(ProtocolError) {
            query = try MessageDeadLetterQuery(request.uri.queryParameters)
        } catch {
            return JSONResponse.error(.badRequest, error.message)
        }
        do {
            let page = try await engine.store.messageDeadLetters(matching: query.filter, after: query.cursor, count: query.count)
            return JSONResponse.make(.ok, ["messages": .list(page.letters.map(QStashMessageView.deadLetter)), "cursor": Self.cursor(page.next)])
        } catch {
            return failures.answer("cannot list the DLQ", error)
        }
    }

    private func read(_ id: String) async -> Response {
        do {
            guard let letter = try await engine.store.messageDeadLetter(id: id) else { return Self.noEntry(id) }
            return JSONResponse.make(.ok, QStashMessageView.deadLetter(letter))
        } catch {
            return failures.answer("cannot read DLQ entry '\(id)'", error)
        }
    }

    private func delete(_ id: String) async -> Response {
        do {
            guard try await engine.store.removeMessageDeadLetters(ids: [id]) == 1 else { return Self.noEntry(id) }
            return JSONResponse.make(.ok, ["deleted": 1])
        } catch {
            return failures.answer("cannot delete DLQ entry '\(id)'", error)
        }
    }

    /// `{"dlqIds": [...]}`, or `?dlqIds=` repeated (the `qstash` clients' newer form), deletes
    /// those; answers `{"deleted": n}`, counting the entries there were. Filters are refused: a
    /// delete takes only the entries it names.
    private func deleteMany(_ request: Request) async -> Response {
        let body: Value
        switch await RequestBody.json(request) {
        case .success(let value): body = value
        case .failure(let answer): return answer.response
        }
        let listing = ListingQuery(parameters: request.uri.queryParameters)
        let named: [String]
        do throws(ProtocolError) {
            try listing.refuseUnknown(allowed: ["dlqIds"], in: "a bulk delete of the DLQ (it takes only the entries it names)")
            try listing.refuseEmpty(["dlqIds"])
            named = try listing.values("dlqIds")
        } catch {
            return JSONResponse.error(.badRequest, error.message)
        }
        let fromBody = body == .null ? nil : RequestBody.strings(in: body, member: "dlqIds")
        guard body == .null || fromBody != nil else {
            return JSONResponse.error(.badRequest, "the body must be {\"dlqIds\": [...]}, a list of DLQ ids")
        }
        guard named.isEmpty != (fromBody == nil), let ids = fromBody ?? (named.isEmpty ? nil : named) else {
            return JSONResponse.error(.badRequest, "name the entries: a body {\"dlqIds\": [...]} or ?dlqIds=…, one of the two")
        }
        do {
            return JSONResponse.make(.ok, ["deleted": .int(Int64(try await engine.store.removeMessageDeadLetters(ids: ids)))])
        } catch {
            return failures.answer("cannot delete DLQ entries", error)
        }
    }

    /// Queues entry `id`'s message again, the request's `Upstash-*` headers over its options;
    /// answers `{"messageId": …}` with the new message's id.
    private func retry(_ id: String, _ request: Request) async -> Response {
        let options: MessageOptions
        do throws(ProtocolError) {
            options = try MessageOptions(headers: request.headerFields, prefix: "upstash-")
        } catch {
            return JSONResponse.error(.badRequest, error.message)
        }
        return await retrying([id], options: options, failure: "cannot retry DLQ entry '\(id)'") { queued in
            guard let messageId = queued.first else { return Self.noEntry(id) }
            return JSONResponse.make(.ok, ["messageId": .string(messageId)])
        }
    }

    /// Retries the entries named by `dlqIds` (repeated), or else one page of those matching the
    /// listing's filters, all or none; answers `{"cursor", "responses": [{"messageId"}]}`.
    private func retryMany(_ request: Request) async -> Response {
        let query: MessageDeadLetterQuery
        let options: MessageOptions
        do throws(ProtocolError) {
            // What would widen a retry to entries not meant is refused, not ignored.
            let listing = ListingQuery(parameters: request.uri.queryParameters)
            try listing.refuseUnknown(allowed: MessageDeadLetterQuery.retryParameters, in: "a bulk retry of the DLQ")
            try listing.refuseEmpty(["dlqIds"] + MessageDeadLetterQuery.filters)
            query = try MessageDeadLetterQuery(request.uri.queryParameters)
            options = try MessageOptions(headers: request.headerFields, prefix: "upstash-")
        } catch {
            return JSONResponse.error(.badRequest, error.message)
        }
        var ids = query.ids
        var next: PageCursor?
        if ids.isEmpty {
            do {
                let page = try await engine.store.messageDeadLetters(matching: query.filter, after: query.cursor, count: query.count)
                (ids, next) = (page.letters.map(\.id), page.next)
            } catch {
                return failures.answer("cannot list the DLQ", error)
            }
        }
        return await retrying(ids, options: options, failure: "cannot retry DLQ entries") { queued in
            JSONResponse.make(.ok, ["cursor": Self.cursor(next), "responses": .list(queued.map { ["messageId": .string($0)] })])
        }
    }

    /// Retries entries `ids` with `options` and answers with `answer` of the new messages' ids; a
    /// 400 when the options do not suit a message (nothing is retried then).
    private func retrying(_ ids: [String], options: MessageOptions, failure: String, answer: ([String]) -> Response) async -> Response {
        do {
            return answer(try await engine.retry(messageDeadLetters: ids, options: options))
        } catch let error as ProtocolError {
            return JSONResponse.error(.badRequest, error.message)
        } catch {
            return failures.answer(failure, error)
        }
    }

    private static func cursor(_ cursor: PageCursor?) -> Value {
        cursor.map { .string($0.text) } ?? .null
    }

    private static func noEntry(_ id: String) -> Response {
        JSONResponse.error(.notFound, "no DLQ entry with id '\(id)': it was retried, deleted, or never existed")
    }
}
