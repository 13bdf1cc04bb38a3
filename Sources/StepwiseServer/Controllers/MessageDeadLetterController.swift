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

    /// `{"dlqIds": [...]}`, or `?dlqIds=` repeated or comma-separated (the clients' newer form), deletes
    /// those; answers `{"deleted": n}`, counting the entries there were. Filters are refused: a
    /// delete takes only the entries it names.
    private func deleteMany(_ request: Request) async -> Response {
        let body: Value
        switch await RequestBody.json(request) {
        case .success(let value): body = value
        case .failure(let answer): return answer.response
        }
        let listing = ListingQuery(parameters: request.uri.queryParameters)
        let ids: [String]
        do throws(ProtocolError) {
            try listing.refuseUnknown(allowed: ["dlqIds"], in: "a bulk delete of the DLQ (it takes only the entries it names)")
            try listing.refuseEmpty(["dlqIds"])
            guard let named = try listing.namedIds("dlqIds", body: body) else {
                throw ProtocolError("name the entries: a body {\"dlqIds\": [...]} or ?dlqIds=…")
            }
            ids = named
        } catch {
            return JSONResponse.error(.badRequest, error.message)
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

    /// Retries the entries `dlqIds` names (the query, repeated or comma-separated, or a JSON body
    /// `{"dlqIds": [...]}`), or else one page of those matching the listing's filters, all or
    /// none; answers `{"cursor", "responses": [{"messageId"}]}`. What would widen it to entries
    /// not meant (an unknown parameter, an empty value, ids beside filters, another body) is
    /// refused.
    private func retryMany(_ request: Request) async -> Response {
        let body: Value
        switch await RequestBody.json(request) {
        case .success(let value): body = value
        case .failure(let answer): return answer.response
        }
        let query: MessageDeadLetterQuery
        let options: MessageOptions
        let named: [String]?
        do throws(ProtocolError) {
            let listing = ListingQuery(parameters: request.uri.queryParameters)
            try listing.refuseUnknown(allowed: MessageDeadLetterQuery.retryParameters, in: "a bulk retry of the DLQ")
            try listing.refuseEmpty(["dlqIds"] + MessageDeadLetterQuery.filters)
            query = try MessageDeadLetterQuery(request.uri.queryParameters)
            named = try listing.namedIds("dlqIds", body: body)
            let filtered = MessageDeadLetterQuery.filters.contains { listing.text($0) != nil }
            if named != nil, filtered { throw ProtocolError("dlqIds names the entries; filters cannot be given with it") }
            // As the workflow DLQ's bulk actions: every entry only when asked for, with count.
            if named == nil, !filtered, listing.text("count") == nil {
                throw ProtocolError("select the entries: dlqIds, filters, or ?count=N for any")
            }
            options = try MessageOptions(headers: request.headerFields, prefix: "upstash-")
        } catch {
            return JSONResponse.error(.badRequest, error.message)
        }
        var ids = named ?? []
        var next: PageCursor?
        if named == nil {
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
