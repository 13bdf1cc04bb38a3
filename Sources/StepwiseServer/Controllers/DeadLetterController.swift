import Hummingbird
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol

/// The workflow DLQ: list (paged and filtered, `DeadLetterQuery`), read, delete, resume from the
/// failed step, restart from the input (`/v2/workflows/dlq`), one entry by its path or many as
/// Upstash's client selects them (`DeadLetterSelection`).
struct DeadLetterController: Sendable {
    let engine: WorkflowEngine
    let failures: FailureAnswer

    /// Adds the routes to `router`.
    func addRoutes(to router: Router<StepwiseRequestContext>) {
        let dlq = router.group("v2/workflows/dlq")
        dlq.get { request, _ in await list(request) }
        dlq.get(":id") { _, context in await deadLetter(context.decoded("id") ?? "") }
        dlq.delete(":id") { _, context in await removeDeadLetter(context.decoded("id") ?? "") }
        dlq.post("resume/:id") { request, context in await goOn(.resume, entry: context.decoded("id") ?? "", request) }
        dlq.post("restart/:id") { request, context in await goOn(.restart, entry: context.decoded("id") ?? "", request) }
        dlq.post("callback/:id") { _, context in await retryFailureCallback(context.decoded("id") ?? "") }
        dlq.delete { request, _ in await act(.delete, on: request) }
        dlq.post("resume") { request, _ in await act(.resume, on: request) }
        dlq.post("restart") { request, _ in await act(.restart, on: request) }
    }

    /// What a bulk request does to each entry it selects.
    enum BulkAction: String {
        case resume, restart, delete
    }

    /// A bulk action: `{"workflowRuns": [{workflowRunId, workflowCreatedAt}], "cursor"}` for a
    /// resume or restart, `{"deleted": n, "cursor"}` for a delete; `cursor` (null on the last page)
    /// continues a selection by filter. A named id without an entry (already acted on by an
    /// earlier try of the same request, or by another one) is passed over; an entry that cannot
    /// be acted on (a YAML run whose workflow is gone) is named in `failed` with why, and the
    /// rest of the page goes on, so a selection can be followed past it.
    private func act(_ action: BulkAction, on request: Request) async -> Response {
        let options: ResumeOptions
        switch Self.options(action, request) {
        case .success(let value): options = value
        case .failure(let answer): return answer.response
        }
        let selection: DeadLetterSelection
        switch await DeadLetterSelection.read(request) {
        case .success(let value): selection = value
        case .failure(let answer): return answer.response
        }
        do {
            let (ids, next) = try await entries(selectedBy: selection)
            var acted: [Value] = []
            var failed: [Value] = []
            for id in ids {
                do {
                    if let done = try await act(action, onEntry: id, options: options) { acted.append(done) }
                } catch let refusal as ResumeRefusal {
                    failed.append(["dlqId": .string(id), "error": .string(refusal.message)])
                } catch {
                    failed.append(["dlqId": .string(id), "error": .string(failures.message("cannot \(action.rawValue) '\(id)'", error))])
                }
            }
            var answer: [(String, Value)] = action == .delete ? [("deleted", .int(Int64(acted.count)))] : [("workflowRuns", .list(acted))]
            answer.append(("cursor", next.map { Value.string($0.text) } ?? .null))
            if !failed.isEmpty { answer.append(("failed", .list(failed))) }
            return JSONResponse.make(.ok, .map(ValueMap(answer)))
        } catch {
            return failures.answer("cannot \(action.rawValue) DLQ entries", error)
        }
    }

    /// A page of entries, newest failure first: `{"messages": [...], "cursor"}` (`cursor` null on
    /// the last page). Also the answer of `/v2/dlq?source=workflow`.
    func list(_ request: Request) async -> Response {
        let query: DeadLetterQuery
        do {
            query = try DeadLetterQuery(request.formParameters)
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

    /// Acts on entry `id`: the run that goes on (resume, restart, with `options`) or the id
    /// (delete); `nil` when there is no such entry.
    private func act(_ action: BulkAction, onEntry id: String, options: ResumeOptions) async throws -> Value? {
        switch action {
        case .resume: try await engine.resume(deadLetter: id, options: options).map(Self.started)
        case .restart: try await engine.restart(deadLetter: id, options: options).map(Self.started)
        case .delete: try await engine.store.removeDeadLetter(id) != nil ? .string(id) : nil
        }
    }

    /// The ids of the entries `selection` takes, and the cursor of the page after them.
    private func entries(selectedBy selection: DeadLetterSelection) async throws -> (ids: [String], next: PageCursor?) {
        switch selection {
        case .ids(let named):
            return (named, nil)
        case .page(let query):
            let (letters, next) = try await engine.store.deadLetters(matching: query.filter, after: query.cursor, count: query.count)
            return (letters.map(\.id), next)
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

    /// Resumes or restarts entry `id` with the options `request`'s headers give.
    private func goOn(_ action: BulkAction, entry id: String, _ request: Request) async -> Response {
        let options: ResumeOptions
        switch Self.options(action, request) {
        case .success(let value): options = value
        case .failure(let answer): return answer.response
        }
        do {
            guard let run = try await act(action, onEntry: id, options: options) else { return Self.noDeadLetter(id) }
            return JSONResponse.make(.ok, run)
        } catch let refusal as ResumeRefusal {
            return JSONResponse.error(.badRequest, refusal.message)
        } catch {
            return failures.answer("cannot \(action.rawValue) '\(id)'", error)
        }
    }

    /// Sends a failed failure callback again (`client.dlq.retryFailureFunction`); 400 when the
    /// entry's callback has not failed, since sending it twice would run the failure function twice.
    private func retryFailureCallback(_ id: String) async -> Response {
        do {
            switch try await engine.retryFailureCallback(deadLetter: id) {
            case .retried(let run): return JSONResponse.make(.ok, Self.started(run))
            case .noEntry: return Self.noDeadLetter(id)
            case .notFailed(nil):
                return JSONResponse.error(
                    .badRequest, "'\(id)' has no failure callback kept to send again: only an SDK run's failure URL or function is kept with its entry")
            case .notFailed(let state?):
                return JSONResponse.error(.badRequest, "the failure callback of '\(id)' has not failed (\(state.rawValue)); only a failed one is sent again")
            }
        } catch {
            return failures.answer("cannot retry the failure callback of '\(id)'", error)
        }
    }

    /// The options of a bulk resume or restart (`ResumeOptions`); none for a delete, which takes none.
    private static func options(_ action: BulkAction, _ request: Request) -> Result<ResumeOptions, ErrorAnswer> {
        guard action != .delete else { return .success(ResumeOptions()) }
        do throws(ProtocolError) {
            return .success(try ResumeOptions(headers: request.headerFields))
        } catch {
            return .failure(ErrorAnswer(.badRequest, error.message))
        }
    }

    private static func noDeadLetter(_ id: String) -> Response {
        JSONResponse.error(.notFound, "no DLQ entry with id '\(id)'")
    }

    private static func started(_ run: RunRecord) -> Value {
        ["workflowRunId": .string(run.id), "workflowCreatedAt": .int(run.createdAt.millisecondsSinceEpoch)]
    }

    /// An entry with the fields of Upstash's `WorkflowDLQMessage` that Stepwise knows (for an SDK
    /// run, the delivery that failed and its answer), and the failed step and its error.
    private static func view(_ letter: DeadLetter) -> Value {
        let delivery = letter.message.map(QStashMessageView.deliveryFields) ?? []
        var map = ValueMap(delivery + (letter.response.map(QStashMessageView.answerFields) ?? []) + [
            ("dlqId", .string(letter.id)), ("workflowRunId", .string(letter.runId)), ("workflow", .string(letter.workflow)),
            ("failedStep", letter.failedStep.map(Value.string) ?? .null), ("error", letter.error?.value ?? .null),
            ("createdAt", .int(letter.createdAt.millisecondsSinceEpoch)),
        ])
        if let created = letter.runCreatedAt { map[.string("workflowCreatedAt")] = .int(created.millisecondsSinceEpoch) }
        if let url = letter.endpoint { map[.string("workflowUrl")] = .string(url) }
        if let label = letter.label {
            map[.string("label")] = .string(label)
            map[.string("labels")] = QStashMessageView.labels(label)
        }
        if let key = letter.flowControlKey { map[.string("flowControlKey")] = .string(key) }
        if let callerIp = letter.callerIp { map[.string("callerIP")] = .string(callerIp) }
        if let callback = letter.failureCallback {
            map[.string("failureCallback")] = .string(callback.message.destination)
            map[.string("failureFunctionState")] = .string(callback.state.rawValue)
            map[.string("failureCallbackInfo")] = failureCallbackInfo(callback)
        }
        return .map(map)
    }

    /// Upstash's `failureCallbackInfo`: the state, and the last attempt's answer once one ended.
    private static func failureCallbackInfo(_ callback: FailureCallbackRecord) -> Value {
        var fields: [(String, Value)] = [("state", .string(callback.state.rawValue))]
        if let answer = callback.answer {
            fields += [
                ("responseStatus", .int(Int64(answer.status))), ("responseHeaders", QStashMessageView.headers(answer.headers)),
                QStashMessageView.body(answer.body, text: "responseBody", base64: "responseBodyBase64"),
            ]
        }
        return .map(ValueMap(fields))
    }
}
