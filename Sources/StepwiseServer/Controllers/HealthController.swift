import Hummingbird
import StepwiseEngine

/// `GET /health` (the process answers: liveness) and `GET /ready` (its store answers too:
/// readiness, for a load balancer to send requests elsewhere while the database is down). Both
/// are open without the token and say nothing but up or down.
struct HealthController: Sendable {
    let engine: WorkflowEngine
    let failures: FailureAnswer

    /// Adds the routes to `router`.
    func addRoutes(to router: Router<StepwiseRequestContext>) {
        router.get("health") { _, _ in JSONResponse.make(.ok, ["status": "ok"]) }
        router.get("ready") { _, _ in await readiness() }
    }

    private func readiness() async -> Response {
        do {
            try await engine.store.checkAvailable()
            return JSONResponse.make(.ok, ["status": "ready"])
        } catch {
            return failures.answer("the store does not answer", error)
        }
    }
}
