import Hummingbird
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol

/// QStash's message log (`GET /v2/events`), as the official `qstash` clients read it: what
/// happened to every message (created, delivered, failed an attempt, retried, gave up, canceled),
/// newest first, with filters and a cursor.
struct MessageEventsController: Sendable {
    let engine: WorkflowEngine
    let failures: FailureAnswer

    /// Adds the routes to `router`.
    func addRoutes(to router: Router<StepwiseRequestContext>) {
        router.get("v2/events") { request, _ in await list(request) }
        // The path of QStash's current docs; the `qstash` clients read `/v2/events`.
        router.get("v2/logs") { request, _ in await list(request) }
    }

    private func list(_ request: Request) async -> Response {
        let query: MessageEventQuery
        do throws(ProtocolError) {
            query = try MessageEventQuery(request.formParameters)
        } catch {
            return JSONResponse.error(.badRequest, error.message)
        }
        guard !query.matchesNothing else { return JSONResponse.make(.ok, ["cursor": .null, "events": []]) }
        do {
            let page = try await engine.store.messageEvents(matching: query.filter, before: query.before, count: query.count)
            return JSONResponse.make(
                .ok, ["cursor": page.next.map { .string(String($0)) } ?? .null, "events": .list(page.events.map(QStashMessageView.event))])
        } catch {
            return failures.answer("cannot read the message log", error)
        }
    }
}
