import Foundation
import Hummingbird
import StepwiseEngine
import StepwiseExpressions
import StepwiseRuntime

/// The QStash-compatible orchestration API: notify and waiters, bulk cancel, the workflow DLQ,
/// and schedules. Paths and response shapes follow Upstash's (reference/upstash-protocol.md).
extension StepwiseRoutes {
    func registerOrchestration(on router: Router<BasicRequestContext>) {
        // One parameter name at each level: the router's trie cannot tell two names apart.
        router.post("v2/notify/:first") { request, context in await self.notify(request, event: context.decoded("first"), runId: nil) }
        router.post("v2/notify/:first/:eventId") { request, context in
            await self.notify(request, event: context.decoded("eventId"), runId: context.decoded("first"))
        }
        router.get("v2/waiters/:eventId") { _, context in await self.waiters(context.decoded("eventId") ?? "") }
        router.delete("v2/workflows/runs") { request, _ in await self.cancelMany(request) }
        router.get("v2/workflows/dlq") { _, _ in await self.deadLetters() }
        router.get("v2/workflows/dlq/:id") { _, context in await self.deadLetter(context.decoded("id") ?? "") }
        router.delete("v2/workflows/dlq/:id") { _, context in await self.removeDeadLetter(context.decoded("id") ?? "") }
        router.post("v2/workflows/dlq/resume/:id") { _, context in await self.resume(context.decoded("id") ?? "") }
        router.post("v2/workflows/dlq/restart/:id") { _, context in await self.restart(context.decoded("id") ?? "") }
        router.get("v2/schedules") { _, _ in await self.schedules() }
        router.get("v2/keys") { _, _ in await self.signingKeys(rotating: false) }
        router.post("v2/keys/rotate") { _, _ in await self.signingKeys(rotating: true) }
    }

    /// QStash's `GET /v2/keys` and `POST /v2/keys/rotate`: `{current, next}`.
    private func signingKeys(rotating: Bool) async -> Response {
        do {
            let keys = try await rotating ? engine.rotateSigningKeys() : engine.signingKeys()
            return JSONResponse.make(.ok, ["current": .string(keys.current.text), "next": .string(keys.next.text)])
        } catch {
            return internalError(rotating ? "cannot rotate the signing keys" : "cannot read the signing keys", error)
        }
    }

    /// `POST /v2/notify/{eventId}` wakes every waiter; `/v2/notify/{runId}/{eventId}` only that
    /// run's, keeping the event for its next wait when it is not waiting yet. The body is the
    /// event's data: JSON when it parses, else the text. Answers one entry per woken run.
    private func notify(_ request: Request, event: String?, runId: String?) async -> Response {
        guard let event, !event.isEmpty else { return JSONResponse.error(.badRequest, "the event id is missing from the path") }
        let bytes: [UInt8]
        switch await bodyBytes(request) {
        case .success(let body): bytes = body
        case .failure(let answer): return answer.response
        }
        let text = String(decoding: bytes, as: UTF8.self)
        let data: Value = text.isEmpty ? .null : ((try? Value(json: text)) ?? .string(text))
        do {
            if let runId, try await engine.store.run(id: runId) == nil {
                return JSONResponse.error(.notFound, "no run with id '\(runId)'")
            }
            let result = try await engine.notify(event: event, data: data, body: bytes, runId: runId)
            let woken: [Value] = result.woken.map { id in
                ["workflowRunId": .string(id), "messageId": .string("msg_\(id)_\(event)"), "error": ""]
            }
            guard runId != nil else { return JSONResponse.make(.ok, .list(woken)) }
            return JSONResponse.make(.ok, ["woken": .list(woken), "stored": .bool(result.stored)])
        } catch {
            return internalError("cannot notify '\(event)'", error)
        }
    }

    private func waiters(_ event: String) async -> Response {
        do {
            let waiters = try await engine.store.waiters(event: event)
            return JSONResponse.make(.ok, .list(waiters.map { waiter in
                [
                    "workflowRunId": .string(waiter.runId), "workflow": .string(waiter.workflow), "step": .string(waiter.step),
                    "eventId": .string(waiter.event), "deadline": .int(Int64(clamping: waiter.timeoutAt.secondsSinceEpoch)),
                    "timeoutAt": .string(waiter.timeoutAt.description),
                ]
            }))
        } catch {
            return internalError("cannot list waiters of '\(event)'", error)
        }
    }

    /// `DELETE /v2/workflows/runs`: cancels the runs named in the query (Upstash's client:
    /// `?workflowRunIds=a&workflowRunIds=b`, `?workflowUrl=…`) or in a JSON body
    /// (`{"workflowRunIds": [...]}`, `{"workflow": name}`, `{"workflowUrl": url or [urls]}`); a
    /// workflow URL names the workflow by its last path segment. Answers `{cancelled: n, workflowRunIds}`.
    private func cancelMany(_ request: Request) async -> Response {
        let selection: RunSelection
        switch await runSelection(request) {
        case .success(let value): selection = value
        case .failure(let answer): return answer.response
        }
        do {
            var canceled: [String] = []
            for id in selection.runIds where try await engine.cancel(runId: id) { canceled.append(id) }
            for name in selection.workflows { canceled += try await engine.cancel(workflow: name) }
            return JSONResponse.make(.ok, ["cancelled": .int(Int64(canceled.count)), "workflowRunIds": .list(canceled.map(Value.string))])
        } catch {
            return internalError("cannot cancel", error)
        }
    }

    /// Which runs a bulk cancel names: run ids and workflow names.
    private struct RunSelection {
        var runIds: [String] = []
        var workflows: [String] = []
        var isEmpty: Bool { runIds.isEmpty && workflows.isEmpty }
    }

    private static let selectionHelp = "name the runs: ?workflowRunIds=…, ?workflowUrl=…, or a body {\"workflowRunIds\": [...]} or {\"workflow\": \"name\"}"

    private func runSelection(_ request: Request) async -> Result<RunSelection, ErrorAnswer> {
        let query = request.uri.queryParameters
        var selection = RunSelection()
        selection.runIds = query.getAll("workflowRunIds").flatMap { $0.split(separator: ",").map(String.init) }
        selection.workflows = query.getAll("workflowUrl").compactMap(Self.workflowName(url:)) + query.getAll("workflow")
        if !selection.isEmpty { return .success(selection) }
        let body: Value
        switch await jsonBody(request) {
        case .success(let value): body = value
        case .failure(let answer): return .failure(answer)
        }
        guard case .map(let fields) = body else { return .failure(ErrorAnswer(JSONResponse.error(.badRequest, Self.selectionHelp))) }
        if case .list(let ids)? = fields[.string("workflowRunIds")] { selection.runIds = ids.compactMap(Self.text) }
        if case .string(let name)? = fields[.string("workflow")] { selection.workflows.append(name) }
        switch fields[.string("workflowUrl")] {
        case .string(let url)?: selection.workflows += Self.workflowName(url: url).map { [$0] } ?? []
        case .list(let urls)?: selection.workflows += urls.compactMap(Self.text).compactMap(Self.workflowName(url:))
        default: break
        }
        return selection.isEmpty ? .failure(ErrorAnswer(JSONResponse.error(.badRequest, Self.selectionHelp))) : .success(selection)
    }

    private static func text(_ value: Value) -> String? {
        if case .string(let text) = value { return text }
        return nil
    }

    private static func workflowName(url: String) -> String? {
        url.split(separator: "?").first?.split(separator: "/").last.map(String.init)
    }

    // MARK: Dead-letter queue

    private func deadLetters() async -> Response {
        do {
            let letters = try await engine.store.deadLetters()
            return JSONResponse.make(.ok, ["messages": .list(letters.map(Self.view))])
        } catch {
            return internalError("cannot list the DLQ", error)
        }
    }

    private func deadLetter(_ id: String) async -> Response {
        do {
            guard let letter = try await engine.store.deadLetters().first(where: { $0.id == id }) else { return Self.noDeadLetter(id) }
            return JSONResponse.make(.ok, Self.view(letter))
        } catch {
            return internalError("cannot read the DLQ", error)
        }
    }

    private func removeDeadLetter(_ id: String) async -> Response {
        do {
            guard try await engine.store.removeDeadLetter(id) != nil else { return Self.noDeadLetter(id) }
            return JSONResponse.make(.ok, ["deleted": 1])
        } catch {
            return internalError("cannot delete '\(id)'", error)
        }
    }

    private func resume(_ id: String) async -> Response {
        do {
            guard let run = try await engine.resume(deadLetter: id) else { return Self.noDeadLetter(id) }
            return JSONResponse.make(.ok, Self.started(run))
        } catch {
            return internalError("cannot resume '\(id)'", error)
        }
    }

    private func restart(_ id: String) async -> Response {
        do {
            guard let run = try await engine.restart(deadLetter: id) else { return Self.noDeadLetter(id) }
            return JSONResponse.make(.ok, Self.started(run))
        } catch {
            return internalError("cannot restart '\(id)'", error)
        }
    }

    private static func noDeadLetter(_ id: String) -> Response {
        JSONResponse.error(.notFound, "no DLQ entry with id '\(id)'")
    }

    private static func started(_ run: RunRecord) -> Value {
        ["workflowRunId": .string(run.id), "workflowCreatedAt": .int(Int64(clamping: run.createdAt.nanosecondsSinceEpoch / 1_000_000))]
    }

    private static func view(_ letter: DeadLetter) -> Value {
        [
            "dlqId": .string(letter.id), "workflowRunId": .string(letter.runId), "workflow": .string(letter.workflow),
            "failedStep": letter.failedStep.map(Value.string) ?? .null, "error": letter.error?.value ?? .null,
            "createdAt": .int(Int64(clamping: letter.createdAt.nanosecondsSinceEpoch / 1_000_000)),
        ]
    }

    // MARK: Schedules

    private func schedules() async -> Response {
        do {
            let schedules = try await engine.store.schedules()
            return JSONResponse.make(.ok, .list(schedules.map { schedule in
                [
                    "scheduleId": .string("\(schedule.workflow)/\(schedule.position)"), "workflow": .string(schedule.workflow),
                    "cron": .string(schedule.cron), "timezone": schedule.timeZone.map(Value.string) ?? "UTC", "input": schedule.input,
                    "nextScheduleTime": schedule.nextFireAt.map { .string($0.description) } ?? .null,
                    "lastScheduleTime": schedule.lastFireAt.map { .string($0.description) } ?? .null,
                ]
            }))
        } catch {
            return internalError("cannot list schedules", error)
        }
    }
}
