import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import StepwiseEngine
import StepwiseExpressions
import StepwiseRuntime

/// The HTTP API of `stepwise serve`: the runner endpoint (`POST /workflows/{name}`), Stepwise's
/// read API (`/api/runs`), the QStash-compatible paths implemented so far (`/v2/workflows/runs`),
/// and `/health`. Every error is a JSON body with a clear message.
public struct StepwiseRoutes: Sendable {
    /// The largest request body accepted (a trigger payload).
    public static let maximumBodyBytes = 1 << 20

    let engine: WorkflowEngine
    let logger: Logger
    /// Upstash's header that makes a start idempotent.
    static let runIdHeader = HTTPField.Name("Upstash-Workflow-RunId")

    /// Routes over `engine`; failures the client cannot act on are logged to `logger`.
    public init(engine: WorkflowEngine, logger: Logger) {
        self.engine = engine
        self.logger = logger
    }

    /// A 500 for a failure of the store or engine: the details (a database's error text) go to
    /// the log under a reference the answer names, never to the client.
    func internalError(_ what: String, _ error: any Error) -> Response {
        internalError(what, String(describing: error))
    }

    /// `internalError(_:_:)` with the failure already described.
    func internalError(_ what: String, _ details: String) -> Response {
        let reference = "err_" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        logger.error("\(what): \(details)", metadata: ["reference": .string(reference)])
        return JSONResponse.error(
            .internalServerError, "\(what): an internal error occurred; the server's log has the details under \(reference)")
    }

    /// Adds the routes to `router`.
    public func register(on router: Router<BasicRequestContext>) {
        router.get("health") { _, _ in JSONResponse.make(.ok, ["status": "ok"]) }
        router.post("workflows/:name") { request, context in await self.trigger(request, context) }
        router.get("api/runs") { request, _ in await self.listRuns(request) }
        router.get("api/runs/:id") { _, context in await self.showRun(context) }
        router.delete("v2/workflows/runs/:id") { request, context in await self.cancel(request, context) }
        router.get("v2/workflows/runs/:id") { _, context in await self.rawSteps(context) }
        registerOrchestration(on: router)
        registerPublishing(on: router)
    }

    /// The request body as text, or the error answer: 413 when it is larger than
    /// `maximumBodyBytes` (announced or sent), 400 when it cannot be read (a malformed chunked body).
    func bodyText(_ request: Request) async -> Result<String, ErrorAnswer> {
        await bodyBytes(request).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The request body's exact bytes, or the error answer of `bodyText(_:)`.
    func bodyBytes(_ request: Request) async -> Result<[UInt8], ErrorAnswer> {
        if let announced = request.headers[.contentLength].flatMap({ Int($0) }), announced > Self.maximumBodyBytes {
            return .failure(Self.tooLarge)
        }
        var request = request
        do {
            return .success(Array(buffer: try await request.collectBody(upTo: Self.maximumBodyBytes)))
        } catch is NIOTooManyBytesError {
            return .failure(Self.tooLarge)
        } catch {
            return .failure(ErrorAnswer(JSONResponse.error(.badRequest, "the request body could not be read: it is not valid HTTP/1.1 framing")))
        }
    }

    private static var tooLarge: ErrorAnswer {
        ErrorAnswer(JSONResponse.error(.contentTooLarge, "the request body is larger than \(maximumBodyBytes) bytes"))
    }

    /// Media types a browser may send to another site without asking first (no CORS preflight);
    /// a route that expects JSON refuses them, so a web page cannot post a form to it.
    static let browserFormTypes: Set<String> = ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]

    /// The body of a request as JSON: `null` when empty; `nil` and an error answer when invalid,
    /// too large, or sent as a browser form type.
    func jsonBody(_ request: Request) async -> Result<Value, ErrorAnswer> {
        if let type = request.headers[.contentType], let media = type.split(separator: ";").first,
            Self.browserFormTypes.contains(media.trimmingCharacters(in: .whitespaces).lowercased())
        {
            return .failure(ErrorAnswer(JSONResponse.error(.unsupportedMediaType, "send the body as application/json, not \(media)")))
        }
        let text: String
        switch await bodyText(request) {
        case .success(let body): text = body
        case .failure(let answer): return .failure(answer)
        }
        if text.allSatisfy(\.isWhitespace) { return .success(.null) }
        do {
            return .success(try Value(json: text))
        } catch {
            return .failure(ErrorAnswer(JSONResponse.error(.badRequest, "the request body is not valid JSON: \(error.message) at byte \(error.offset)")))
        }
    }

    private func trigger(_ request: Request, _ context: BasicRequestContext) async -> Response {
        let name = context.decoded("name") ?? ""
        let input: Value
        switch await jsonBody(request) {
        case .success(let value): input = value
        case .failure(let answer): return answer.response
        }
        let runId = Self.runIdHeader.flatMap { request.headers[$0] }.flatMap { $0.isEmpty ? nil : $0 }
        do throws(StartError) {
            let (run, created) = try await engine.start(workflow: name, input: input, runId: runId)
            var answer = ValueMap([("workflowRunId", .string(run.id))])
            if !created { answer[.string("deduplicated")] = .bool(true) }
            return JSONResponse.make(.ok, .map(answer))
        } catch {
            switch error {
            case .unknownWorkflow(let workflow):
                let known = await engine.workflows.keys.sorted().map(Value.string)
                return JSONResponse.error(.notFound, "no workflow named '\(workflow)'", [("workflows", .list(known))])
            case .invalidInput(let problems):
                return JSONResponse.error(.badRequest, "the input does not match the workflow's input schema", [("problems", .list(problems.map(Value.string)))])
            case .invalidRunId:
                return JSONResponse.error(.badRequest, error.description)
            case .runIdTaken:
                return JSONResponse.error(.conflict, error.description)
            case .storage(let message):
                return internalError("the run could not be stored", message)
            }
        }
    }

    private func listRuns(_ request: Request) async -> Response {
        let query = request.uri.queryParameters
        var filter = RunFilter()
        filter.workflow = query["workflow"].map(String.init)
        if let status = query["status"] {
            guard let parsed = RunStatus(rawValue: String(status)) else {
                return JSONResponse.error(.badRequest, "unknown status '\(status)'; use running, succeeded, failed or canceled")
            }
            filter.status = parsed
        }
        if let limit = query["limit"] {
            guard let parsed = Int(limit), (1...1000).contains(parsed) else {
                return JSONResponse.error(.badRequest, "limit must be a number from 1 to 1000")
            }
            filter.limit = parsed
        }
        if let cursor = query["cursor"] {
            guard let parsed = RunCursor(text: String(cursor)) else {
                return JSONResponse.error(.badRequest, "cursor is not one this API gave out; pass the `cursor` of the previous page as it is")
            }
            filter.after = parsed
        }
        do {
            let runs = try await engine.store.runs(filter)
            let next: Value = runs.count == filter.limit ? runs.last.map { .string(RunCursor(after: $0).text) } ?? .null : .null
            return JSONResponse.make(.ok, ["runs": .list(runs.map(RunView.summary)), "cursor": next])
        } catch {
            return internalError("cannot list runs", error)
        }
    }

    private func showRun(_ context: BasicRequestContext) async -> Response {
        let id = context.decoded("id") ?? ""
        do {
            guard let run = try await engine.store.run(id: id) else { return JSONResponse.error(.notFound, "no run with id '\(id)'") }
            let progress = try await engine.store.progress(runId: id)
            let attempts = try await engine.store.attempts(runId: id)
            return JSONResponse.make(.ok, RunView.detail(run, progress: progress, attempts: attempts))
        } catch {
            return internalError("cannot read run '\(id)'", error)
        }
    }

    /// Upstash's cancel: `DELETE /v2/workflows/runs/{id}?cancel=true`. With `cancel=false` it is
    /// Upstash's cleanup after a run finished normally: nothing to cancel, the run is reported.
    private func cancel(_ request: Request, _ context: BasicRequestContext) async -> Response {
        let id = context.decoded("id") ?? ""
        do {
            guard let run = try await engine.store.run(id: id) else { return JSONResponse.error(.notFound, "no run with id '\(id)'") }
            if request.uri.queryParameters["cancel"] == "false" {
                return await cleanUp(run, request)
            }
            guard try await engine.cancel(runId: id) else {
                return JSONResponse.error(.badRequest, "run '\(id)' has already ended (\(run.status.rawValue))")
            }
            return JSONResponse.make(.ok, ["workflowRunId": .string(id), "status": "canceled"])
        } catch {
            return internalError("cannot cancel run '\(id)'", error)
        }
    }

    /// The cleanup call of an SDK run's endpoint after its function returned: the run succeeded,
    /// with the request body (JSON, else text) as output. For a YAML run, nothing to do.
    private func cleanUp(_ run: RunRecord, _ request: Request) async -> Response {
        guard run.endpoint != nil else {
            return JSONResponse.make(.ok, ["workflowRunId": .string(run.id), "status": .string(run.status.rawValue)])
        }
        let body: [UInt8]
        switch await bodyBytes(request) {
        case .success(let bytes): body = bytes
        case .failure(let answer): return answer.response
        }
        do {
            let finished = try await engine.finishEndpointRun(run.id, output: body.isEmpty ? nil : PublicationPlanner.inputValue(body))
            return JSONResponse.make(.ok, ["workflowRunId": .string(run.id), "status": .string((finished ?? run).status.rawValue)])
        } catch {
            return internalError("cannot finish run '\(run.id)'", error)
        }
    }

    /// Upstash's raw step log used by lazy fetch: `[{messageId, body: base64(step JSON), callType}]`;
    /// 404 once the run has ended, as Upstash answers.
    private func rawSteps(_ context: BasicRequestContext) async -> Response {
        let id = context.decoded("id") ?? ""
        do {
            guard let run = try await engine.store.run(id: id), run.status == .running else {
                return JSONResponse.error(.notFound, "no running workflow run with id '\(id)'")
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
            return internalError("cannot read run '\(id)'", error)
        }
    }
}
