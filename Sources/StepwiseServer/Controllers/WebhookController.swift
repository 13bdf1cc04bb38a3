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
    let access: APIAccess
    let failures: FailureAnswer

    /// The path every webhook URL starts with.
    static let pathPrefix = "/v2/workflows/hooks/"

    /// Adds the routes to `router`.
    func addRoutes(to router: Router<StepwiseRequestContext>) {
        for method in [HTTPRequest.Method.get, .post, .put, .patch, .delete] {
            router.on("v2/workflows/hooks/:userId/:runId/:eventId", method: method) { request, context in
                await receive(request, runId: context.decoded("runId") ?? "", eventId: context.decoded("eventId") ?? "")
            }
        }
    }

    /// The headers kept in the run's log: the caller's, without Stepwise's own credentials (this
    /// server's bearer token, the dashboard's session cookie), which a browser or a careless
    /// client may send along and which the endpoint must never see.
    private func keptHeaders(_ headers: HeaderFields) async -> HeaderFields {
        let token = access.token.current()
        var kept = HeaderFields()
        for field in headers.fields {
            if field.name.equalsIgnoringASCIICase("Cookie") { continue }
            if field.name.equalsIgnoringASCIICase("Authorization"), let presented = AccessHeaders(authorization: field.value).bearerToken,
                token.accepts(presented)
            {
                continue
            }
            kept.append(field.name, field.value)
        }
        return kept
    }

    /// Answers `{"workflowRunId", "eventId", "kept"}` (`kept` when the run was not waiting yet);
    /// 404 when no running SDK run has that id. The answer says nothing else of the run.
    private func receive(_ request: Request, runId: String, eventId: String) async -> Response {
        let body: [UInt8]
        switch await RequestBody.bytes(request) {
        case .success(let bytes): body = bytes
        case .failure(let answer): return answer.response
        }
        // `APIAccess` refused a malformed `Host` before the route.
        let host = request.head.authority ?? ""
        let webhook = WebhookRequest(
            method: request.method.rawValue, headers: await keptHeaders(request.headerFields), body: body,
            proto: request.headerFields["X-Forwarded-Proto"] == "https" ? "https" : "http", host: host, url: TokenParameter.removed(from: request.uri.string))
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
