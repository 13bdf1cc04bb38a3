import Foundation
import Hummingbird
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol

/// QStash's run API: cancel or clean up one run, read its raw log, cancel many
/// (`/v2/workflows/runs`).
struct WorkflowRunsController: Sendable {
    let engine: WorkflowEngine
    let failures: FailureAnswer
    /// The largest message body accepted (`ConnectionLimits.maximumMessageBytes`).
    let maximumMessageBytes: Int

    /// Adds the routes to `router`.
    func addRoutes(to router: Router<StepwiseRequestContext>) {
        let runs = router.group("v2/workflows/runs")
        runs.delete { request, _ in await cancelMany(request) }
        runs.delete(":id") { request, context in await cancel(request, context) }
        runs.get(":id") { _, context in await rawSteps(context) }
    }

    /// Upstash's cancel: `DELETE /v2/workflows/runs/{id}?cancel=true`, with an optional body
    /// `{"reason": …, "step": …}` (Stepwise's runner sends a `cancel` step's reason and path). With `cancel=false` it
    /// is Upstash's cleanup after a run finished normally: nothing to cancel, the run is reported.
    private func cancel(_ request: Request, _ context: StepwiseRequestContext) async -> Response {
        let id = context.decoded("id") ?? ""
        let cancels: Bool
        do {
            cancels = try ListingQuery(parameters: request.formParameters).flag("cancel") ?? true
        } catch {
            return JSONResponse.error(.badRequest, error.message)
        }
        do {
            guard let run = try await engine.store.run(id: id) else { return JSONResponse.error(.notFound, "no run with id '\(id)'") }
            guard cancels else { return await cleanUp(run, request) }
            let body: Value
            switch await RequestBody.json(request) {
            case .success(let json): body = json
            case .failure(let answer): return answer.response
            }
            let text = { (field: String) -> String? in body[field].flatMap { if case .string(let text) = $0 { text } else { nil } } }
            guard try await engine.cancel(runId: id, reason: text("reason"), step: text("step")) else {
                return JSONResponse.error(.badRequest, "run '\(id)' has already ended (\(run.status.rawValue))")
            }
            // A run in its on_failure handler stays failed: the cancel ended the handler.
            let ended = try await engine.store.run(id: id)?.status ?? .canceled
            return JSONResponse.make(.ok, ["workflowRunId": .string(id), "status": .string(ended.rawValue)])
        } catch {
            return failures.answer("cannot cancel run '\(id)'", error)
        }
    }

    /// The cleanup call of an SDK run's endpoint after its function returned: the run succeeded,
    /// with the request body (JSON, else text) as output. For a YAML run, nothing to do.
    private func cleanUp(_ run: RunRecord, _ request: Request) async -> Response {
        guard run.endpoint != nil else {
            return JSONResponse.make(.ok, ["workflowRunId": .string(run.id), "status": .string(run.status.rawValue)])
        }
        let body: [UInt8]
        // The workflow's return value, as large as a message may be.
        switch await RequestBody.bytes(request, upTo: maximumMessageBytes) {
        case .success(let bytes): body = bytes
        case .failure(let answer): return answer.response
        }
        do {
            let finished = try await engine.finishEndpointRun(run.id, output: body.isEmpty ? nil : PayloadValue.of(body))
            return JSONResponse.make(.ok, ["workflowRunId": .string(run.id), "status": .string((finished ?? run).status.rawValue)])
        } catch {
            return failures.answer("cannot finish run '\(run.id)'", error)
        }
    }

    /// Upstash's raw step log used by lazy fetch: `[{messageId, body: base64(step JSON), callType}]`;
    /// 404 once the run has ended, as Upstash answers, except for failed runs: their log is kept
    /// for the DLQ, and a runner's failure callback reads it to rebuild the run's state.
    private func rawSteps(_ context: StepwiseRequestContext) async -> Response {
        let id = context.decoded("id") ?? ""
        do {
            guard let run = try await engine.store.run(id: id), run.status == .running || run.status == .failed else {
                return JSONResponse.error(.notFound, "no running or failed workflow run with id '\(id)'")
            }
            if run.endpoint != nil {
                return JSONResponse.make(.ok, .list(try await engine.store.runLog(runId: id, through: nil).map(\.json)))
            }
            let journal = try await engine.store.journal(runId: id)
            let steps: [Value] = journal.enumerated().map { position, entry in
                let body = position == 0 ? run.input.jsonText() : entry.json.jsonText()
                return [
                    "messageId": .string("msg_\(id)_\(position)"),
                    "body": .string(Data(body.utf8).base64EncodedString()),
                    "callType": "step",
                ]
            }
            return JSONResponse.make(.ok, .list(steps))
        } catch {
            return failures.answer("cannot read run '\(id)'", error)
        }
    }

    /// `DELETE /v2/workflows/runs`: cancels the runs a `RunSelection` names. Answers
    /// `{cancelled: n, workflowRunIds}`.
    private func cancelMany(_ request: Request) async -> Response {
        let selection: RunSelection
        switch await RunSelection.read(request) {
        case .success(let value): selection = value
        case .failure(let answer): return answer.response
        }
        do {
            var canceled: [String] = []
            switch selection {
            case .filtered(let filter):
                for run in try await engine.store.runs(filter) where try await engine.cancel(runId: run.id) { canceled.append(run.id) }
            case .named(let names):
                for id in names.runIds where try await engine.cancel(runId: id) { canceled.append(id) }
                for name in names.workflows { canceled += try await engine.cancel(workflow: name) }
                for url in names.endpoints { canceled += try await engine.cancel(endpoint: url, exactly: names.exactEndpoint) }
            }
            return JSONResponse.make(.ok, ["cancelled": .int(Int64(canceled.count)), "workflowRunIds": .list(canceled.map(Value.string))])
        } catch {
            return failures.answer("cannot cancel", error)
        }
    }
}
