import Foundation
import HTTPTypes
import Hummingbird
import StepwiseEngine
import StepwiseExpressions
import StepwiseRuntime

/// The dashboard served by `stepwise serve` at `/`: its page, script and style (from the binary,
/// no CDN), the sign-in that trades the API token for a session cookie, `GET /api/workflows`
/// (each served workflow's version and step tree) and `GET /api/workflows/{name}/versions/{hash}`
/// (the step tree of any version a run may be pinned to). Everything else it shows comes from the API.
struct DashboardController: Sendable {
    let engine: WorkflowEngine
    let access: APIAccess
    let sessions: DashboardSessions
    let failures: FailureAnswer

    /// Adds the routes to `router`.
    func addRoutes(to router: Router<StepwiseRequestContext>) {
        router.get("/") { _, _ in Self.asset(DashboardPage.html, type: "text/html; charset=utf-8") }
        router.get("dashboard/app.js") { _, _ in Self.asset(DashboardScript.source, type: "text/javascript; charset=utf-8") }
        router.get("dashboard/app.css") { _, _ in Self.asset(DashboardPage.css, type: "text/css; charset=utf-8") }
        router.get("dashboard/icon.svg") { _, _ in Self.asset(DashboardPage.icon, type: "image/svg+xml") }
        router.post("dashboard/session") { request, _ in await signIn(request) }
        router.delete("dashboard/session") { request, _ in signOut(request) }
        router.get("api/workflows") { _, _ in await workflows() }
        router.get("api/workflows/:name/versions/:version") { _, context in await version(context) }
    }

    /// The pages may only load the binary's own script and style, and never be framed.
    static func asset(_ text: String, type: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.contentSecurityPolicy] = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
        headers[.xContentTypeOptions] = "nosniff"
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// `{"token": "…"}`: the API token, traded for a session cookie when it is the server's.
    private func signIn(_ request: Request) async -> Response {
        var request = request
        let current = access.token.current()
        // A sign-in that is not one is told apart from a wrong token: the page's own request is
        // always well formed, so a 400 points at whatever else sent it.
        guard let body = try? await request.collectBody(upTo: 4_096) else {
            return JSONResponse.error(.contentTooLarge, "a sign-in is {\"token\": \"…\"}, at most 4 KiB")
        }
        guard case .string(let token)? = (try? Value(json: String(buffer: body)))?["token"] else {
            return JSONResponse.error(.badRequest, "a sign-in is a JSON object {\"token\": \"…\"}")
        }
        guard current.accepts(token) else { return JSONResponse.error(.unauthorized, "that is not this server's API token") }
        var response = Response(status: .noContent)
        response.headers[.setCookie] =
            "\(DashboardSessions.cookie)=\(sessions.start(with: current)); Path=/; HttpOnly; SameSite=Strict; Max-Age=\(Int(sessions.lifetime.components.seconds))"
        return response
    }

    private func signOut(_ request: Request) -> Response {
        if let id = DashboardSessions.id(inCookieHeader: request.headers[.cookie]) { sessions.end(id) }
        var response = Response(status: .noContent)
        response.headers[.setCookie] = "\(DashboardSessions.cookie)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
        return response
    }

    private func workflows() async -> Response {
        let served: [WorkflowDefinition] = await engine.workflows.values.sorted { $0.name < $1.name }
        return JSONResponse.make(.ok, ["workflows": .list(served.map(WorkflowGraphView.workflow))])
    }

    /// A version of a workflow, served now or not (a run started before a deploy is pinned to it).
    private func version(_ context: StepwiseRequestContext) async -> Response {
        let name = context.parameters.get("name") ?? ""
        let hash = context.parameters.get("version") ?? ""
        do {
            guard let definition = try await engine.definition(version: hash), definition.name == name else {
                return JSONResponse.error(.notFound, "no version \(hash) of workflow '\(name)' is known")
            }
            return JSONResponse.make(.ok, WorkflowGraphView.workflow(definition))
        } catch {
            return failures.answer("reading version \(hash) of workflow '\(name)'", error)
        }
    }
}

extension HTTPField.Name {
    static let xContentTypeOptions = HTTPField.Name("X-Content-Type-Options")!
}
