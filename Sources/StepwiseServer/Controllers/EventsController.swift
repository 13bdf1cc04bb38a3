import Hummingbird
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol

/// Events: `POST /v2/notify/{eventId}` (every waiter), `/v2/notify/{runId}/{eventId}` (one run, kept
/// for its next wait), `GET /v2/waiters/{eventId}`, and `POST /v2/wait/{eventId}` of SDK runs.
struct EventsController: Sendable {
    let engine: WorkflowEngine
    let failures: FailureAnswer
    /// The largest message body accepted (`ConnectionLimits.maximumMessageBytes`).
    let maximumMessageBytes: Int

    /// Adds the routes to `router`.
    func addRoutes(to router: Router<StepwiseRequestContext>) {
        // One parameter name at each level: the router's trie cannot tell two names apart.
        router.post("v2/notify/:first") { request, context in await notify(request, event: context.decoded("first") ?? "", runId: nil) }
        router.post("v2/notify/:first/:eventId") { request, context in
            await notify(request, event: context.decoded("eventId") ?? "", runId: context.decoded("first"))
        }
        router.get("v2/waiters/:eventId") { _, context in await waiters(context.decoded("eventId") ?? "") }
        router.post("v2/wait/:eventId") { request, context in await wait(request, event: context.decoded("eventId") ?? "") }
    }

    /// `POST /v2/notify/{eventId}` wakes every waiter; `/v2/notify/{runId}/{eventId}` only that
    /// run's, keeping the event for its next wait when it is not waiting yet. The body is the
    /// event's data: JSON when it parses, else the text. Answers one entry per woken run.
    private func notify(_ request: Request, event: String, runId: String?) async -> Response {
        if let refusal = Self.refusal(ofEvent: event) { return refusal }
        let bytes: [UInt8]
        switch await RequestBody.bytes(request, upTo: maximumMessageBytes) {
        case .success(let body): bytes = body
        case .failure(let answer): return answer.response
        }
        let text = String(decoding: bytes, as: UTF8.self)
        let data: Value = text.isEmpty ? .null : ((try? Value(valueJSON: text)) ?? .string(text))
        do {
            if let runId, try await engine.store.run(id: runId) == nil {
                return JSONResponse.error(.notFound, "no run with id '\(runId)'")
            }
            let result = try await engine.notify(event: event, data: data, body: bytes, runId: runId)
            if result.refused, let runId {
                return JSONResponse.error(
                    .tooManyRequests, "run '\(runId)' keeps \(NotifyResult.maximumKeptEvents) events that came before its waits; try again once it has taken some")
            }
            let woken = result.woken.map(Self.answer)
            guard runId != nil else { return JSONResponse.make(.ok, .list(woken)) }
            return JSONResponse.make(.ok, ["woken": .list(woken), "stored": .bool(result.stored)])
        } catch {
            return failures.answer("cannot notify '\(event)'", error)
        }
    }

    /// A woken run as Upstash's notify answers it (`NotifyResponse` of workflow-js: `waiter`,
    /// `messageId`, `error`), with the run's id. A YAML run goes on in-process: its waiter has no
    /// URL and it has no message.
    private static func answer(_ run: WokenRun) -> Value {
        var waiter: [(String, Value)] = [("url", .string(run.url ?? "")), ("headers", QStashMessageView.headers(run.headers))]
        // In whole seconds of the stored deadline (whole milliseconds, rounded up), as the waiters listing reads it.
        if let deadline = run.deadline { waiter.append(("deadline", .int(deadline.millisecondsRoundedUp / 1000))) }
        if let timeoutUrl = run.timeoutUrl {
            waiter += [("timeoutUrl", .string(timeoutUrl)), ("timeoutHeaders", QStashMessageView.headers(run.timeoutHeaders))]
        }
        return ["workflowRunId": .string(run.runId), "waiter": .map(ValueMap(waiter)), "messageId": .string(run.messageId ?? ""), "error": ""]
    }

    /// A 400 for an event id that is missing or blank: a wait on a blank id could only end by its
    /// timeout, and workflows refuse blank event names, so such an id is a caller's mistake.
    private static func refusal(ofEvent event: String) -> Response? {
        guard !event.isEmpty else { return JSONResponse.error(.badRequest, "the event id is missing from the path") }
        guard !event.isBlank else { return JSONResponse.error(.badRequest, "the event id is blank") }
        return nil
    }

    private func waiters(_ event: String) async -> Response {
        if let refusal = Self.refusal(ofEvent: event) { return refusal }
        do {
            let waiters = try await engine.store.waiters(event: event)
            return JSONResponse.make(.ok, .list(waiters.map { waiter in
                [
                    "workflowRunId": .string(waiter.runId), "workflow": .string(waiter.workflow), "step": .string(waiter.step),
                    "eventId": .string(waiter.event), "deadline": .int(waiter.timeoutAt.millisecondsRoundedUp / 1000),
                    "timeoutAt": .string(waiter.timeoutAt.description),
                ]
            }))
        } catch {
            return failures.answer("cannot list waiters of '\(event)'", error)
        }
    }

    /// `POST /v2/wait/{eventId}`: parks the SDK run named by `Upstash-Workflow-RunId` until a
    /// notify of the event or the wait's timeout.
    private func wait(_ request: Request, event: String) async -> Response {
        if let refusal = Self.refusal(ofEvent: event) { return refusal }
        let body: [UInt8]
        switch await RequestBody.bytes(request, upTo: maximumMessageBytes) {
        case .success(let bytes): body = bytes
        case .failure(let answer): return answer.response
        }
        do {
            switch try await engine.wait(event: event, headers: request.headerFields, body: body) {
            case .success: return JSONResponse.make(.ok, ["eventId": .string(event)])
            case .failure(let refusal): return ErrorAnswer.refused(refusal)
            }
        } catch {
            return failures.answer("the wait on '\(event)' could not be stored", error)
        }
    }
}
