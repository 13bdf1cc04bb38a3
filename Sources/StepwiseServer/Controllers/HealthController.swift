import Hummingbird

/// `GET /health` (the process answers: liveness) and `GET /ready` (readiness, for a load balancer
/// to send requests elsewhere: 503 once a graceful stop has begun, or while `dependency`, the
/// store, does not answer). Both are open without the token and say nothing but up or down.
struct HealthController: Sendable {
    let shutdown: ShutdownNotice
    /// What must answer besides the process for the node to be ready; `nil`: nothing.
    let dependency: (@Sendable () async throws -> Void)?
    let failures: FailureAnswer

    /// Adds the routes to `router`.
    func addRoutes(to router: Router<StepwiseRequestContext>) {
        router.get("health") { _, _ in JSONResponse.make(.ok, ["status": "ok"]) }
        router.get("ready") { _, _ in await readiness() }
    }

    private func readiness() async -> Response {
        if shutdown.hasBegun { return JSONResponse.make(.serviceUnavailable, ["status": "stopping"]) }
        do {
            try await dependency?()
            return JSONResponse.make(.ok, ["status": "ready"])
        } catch {
            return failures.answer("the store does not answer", error)
        }
    }
}
