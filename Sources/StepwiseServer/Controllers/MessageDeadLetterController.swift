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
    func addRoutes(to router: Router<StepwiseRequestContext>) {
        let dlq = router.group("v2/dlq")
        dlq.get { request, _ in
            request.formParameters["source"] == "workflow" ? await workflowDeadLetters.list(request) : await list(request)
        }
        dlq.get(":id") { _, context in await read(context.decoded("id") ?? "") }
        dlq.delete(":id") { _, context in await delete(context.decoded("id") ?? "") }
        dlq.delete { request, _ in await deleteMany(request) }
        dlq.post("retry/:id") { request, context in await retry(context.decoded("id") ?? "", request) }
        dlq.post("retry") { request, _ in await retryMany(request) }
    }

    /// A page of entries by the listing's filters, or those `dlqIds` names (qstash-js's
    /// `listMessages({dlqIds})`; at most a page of them, in the order named, none missing listed).
    private func list(_ request: Request) async -> Response {
        let query: MessageDeadLetterQuery
        let named: [String]
        do throws(ProtocolError) {
            query = try MessageDeadLetterQuery(request.formParameters)
            named = try ListingQuery(parameters: request.formParameters).values("dlqIds")
            guard named.count <= MessageDeadLetterFilter.maximumPage else {
                throw ProtocolError("give at most \(MessageDeadLetterFilter.maximumPage) dlqIds in one request")
            }
        } catch {
            return JSONResponse.error(.badRequest, error.message)
        }
        do {
            if !named.isEmpty {
                var letters: [MessageDeadLetter] = []
                for id in named { if let letter = try await engine.store.messageDeadLetter(id: id) { letters.append(letter) } }
                return JSONResponse.make(.ok, ["messages": .list(letters.map(QStashMessageView.deadLetter)), "cursor": .null])
            }
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

    /// Deletes the entries the request selects (`MessageDeadLetterSelection`); answers
    /// `{"deleted": n, "cursor"}`, counting the entries there were, with `cursor` only after a
    /// page by filter that has more (qstash-js reads a missing one as the last page).
    private func deleteMany(_ request: Request) async -> Response {
        let selection: MessageDeadLetterSelection
        switch await MessageDeadLetterSelection.read(request) {
        case .success(let value): selection = value
        case .failure(let answer): return answer.response
        }
        do {
            let (ids, next) = try await entries(selectedBy: selection)
            var answer = ValueMap([("deleted", Value.int(Int64(try await engine.store.removeMessageDeadLetters(ids: ids))))])
            if let next { answer[.string("cursor")] = .string(next.text) }
            return JSONResponse.make(.ok, .map(answer))
        } catch {
            return failures.answer("cannot delete DLQ entries", error)
        }
    }

    /// The ids of the entries `selection` takes, and the cursor of the page after them.
    private func entries(selectedBy selection: MessageDeadLetterSelection) async throws -> (ids: [String], next: PageCursor?) {
        switch selection {
        case .ids(let named):
            return (named, nil)
        case .page(let query):
            let page = try await engine.store.messageDeadLetters(matching: query.filter, after: query.cursor, count: query.count)
            return (page.letters.map(\.id), page.next)
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

    /// Retries the entries the request selects (`MessageDeadLetterSelection`), all or none;
    /// answers `{"cursor", "responses": [{"messageId"}]}`.
    private func retryMany(_ request: Request) async -> Response {
        let selection: MessageDeadLetterSelection
        switch await MessageDeadLetterSelection.read(request) {
        case .success(let value): selection = value
        case .failure(let answer): return answer.response
        }
        let options: MessageOptions
        do throws(ProtocolError) {
            options = try MessageOptions(headers: request.headerFields, prefix: "upstash-")
        } catch {
            return JSONResponse.error(.badRequest, error.message)
        }
        let ids: [String]
        let next: PageCursor?
        do {
            (ids, next) = try await entries(selectedBy: selection)
        } catch {
            return failures.answer("cannot list the DLQ", error)
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
