import Hummingbird
import StepwiseEngine
import StepwiseExpressions

/// QStash's `GET /v2/keys` and `POST /v2/keys/rotate`.
struct SigningKeysController: Sendable {
    let engine: WorkflowEngine
    let failures: FailureAnswer

    /// Adds the routes to `router`.
    func addRoutes(to router: Router<StepwiseRequestContext>) {
        router.get("v2/keys") { _, _ in await signingKeys(rotating: false) }
        router.post("v2/keys/rotate") { _, _ in await signingKeys(rotating: true) }
    }

    /// QStash's `GET /v2/keys` and `POST /v2/keys/rotate`: `{current, next}`.
    private func signingKeys(rotating: Bool) async -> Response {
        do {
            let keys = try await rotating ? engine.rotateSigningKeys() : engine.signingKeys()
            return JSONResponse.make(.ok, ["current": .string(keys.current.text), "next": .string(keys.next.text)])
        } catch {
            return failures.answer(rotating ? "cannot rotate the signing keys" : "cannot read the signing keys", error)
        }
    }
}
