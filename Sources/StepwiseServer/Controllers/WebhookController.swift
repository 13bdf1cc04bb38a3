import Hummingbird
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol

/// The URLs of the JS SDK's `createWebhook` steps (`/v2/workflows/hooks/{userId}/{runId}/{eventId}`,
/// any method): a call completes the run's `waitForWebhook` on that event, or is kept for it.
/// Third parties call them without Stepwise's token (`APIAccess.isWebhook`): the unguessable
/// event id the SDK made is what admits them, so a call can complete nothing but that wait.
struct WebhookController: Sendable {
    let engine: WorkflowEngine
    let failures: FailureAnswer

    /// The path every webhook URL starts with.
    static let pathPrefix = "/v2/workflows/hooks/"

    /// Adds the routes to `router`.
    func addRoutes(to router: Router<BasicRequestContext>) {
        for method in [HTTPRequest.Method.get, .post, .put, .patch, .delete] {
            router.on("v2/workflows/hooks/:userId/:runId/:eventId", method: method) { request, context in
                await receive(request, runId: context.decoded("runId") ?? "", eventId: context.decoded("eventId") ?? "")
            }
        }
    }

    /// Answers `{"workflowRunId", "eventId", "kept"}` (`kept` when the run was not waiting yet);
    /// 404 when no running SDK run has that id. The answer says nothing else of the run.
    private func receive(_ request: Request, runId: String, eventId: String) async -> Response {
        let body: [UInt8]
        switch await RequestBody.bytes(request) {
        case .success(let bytes): body = bytes
        case .failure(let answer): return answer.response
        }
        let headers = request.headerFields
        let webhook = WebhookRequest(
            method: request.method.rawValue, headers: headers, body: body,
            proto: headers["X-Forwarded-Proto"] == "https" ? "https" : "http", host: request.head.authority ?? "",
            url: request.uri.path + (request.uri.query.map { "?" + $0 } ?? ""))
        do {
            switch try await engine.receiveWebhook(runId: runId, eventId: eventId, request: webhook) {
            case .noRun: return JSONResponse.error(.notFound, "no running workflow run waits on this webhook")
            case .refused:
                return JSONResponse.error(.tooManyRequests, "the run keeps \(WebhookOutcome.maximumKeptCalls) webhook calls that came before their waits; try again later")
            case let outcome:
                return JSONResponse.make(.ok, ["workflowRunId": .string(runId), "eventId": .string(eventId), "kept": .bool(outcome == .kept)])
            }
        } catch {
            return failures.answer("cannot take the webhook call", error)
        }
    }
}
