import Foundation
import StepwiseEngine
import StepwiseExpressions
@testable import StepwiseServer
import StepwiseTesting
import Testing

/// The dashboard's server side: its page and assets from the binary (no CDN) with a strict
/// content policy, the sign-in that trades the token for a session cookie, what the cookie
/// grants, and the workflows' step trees. (`scripts/dashboard_test.py` drives it in Chromium.)
@Suite("Dashboard")
struct DashboardTests {
    static let branching = """
        workflow: branching
        steps:
          - id: both
            parallel:
              left:
                - id: ping
                  http: {url: "http://127.0.0.1:9/x"}
              right:
                - id: each
                  for_each:
                    items: ${{ [1, 2] }}
                    steps:
                      - id: nap
                        sleep: 1ms
        """

    @Test("the page, script, style and icon are served without a token, from the binary, under a strict content policy")
    func assets() async throws {
        try await RunningServer.with([]) { server in
            let assets = [("/", "text/html"), ("/dashboard/app.js", "text/javascript"), ("/dashboard/app.css", "text/css"), ("/dashboard/icon.svg", "image/svg+xml")]
            for (path, type) in assets {
                let answer = try await send(.GET, server.url(path), token: nil)
                #expect(answer.status == 200, "\(path)")
                #expect(answer.contentType?.hasPrefix(type) == true, "\(path): \(answer.contentType ?? "")")
                #expect(!answer.body.contains("https://"), "\(path) loads nothing from elsewhere")
            }
            let page = try await send(.GET, server.url("/"), token: nil)
            #expect(page.body.contains("/dashboard/app.js") && page.body.contains("/dashboard/icon.svg") && !page.body.contains(RunningServer.token))
        }
    }

    @Test("signing in with the token sets an HttpOnly, SameSite=Strict session cookie that stands for the token until signed out")
    func sessions() async throws {
        try await RunningServer.with([try definition(Self.branching)]) { server in
            let wrong = try await send(.POST, server.url("/dashboard/session"), body: #"{"token": "guess"}"#, token: nil)
            #expect(wrong.status == 401)
            for (body, status) in [("{bad", 400), ("[]", 400), ("", 400), (#"{"token": 7}"#, 400), (String(repeating: " ", count: 5_000), 413)] {
                let malformed = try await send(.POST, server.url("/dashboard/session"), body: body, token: nil)
                #expect(malformed.status == status && malformed.setCookie == nil, "\(body.prefix(10)): \(malformed.status) \(malformed.body)")
            }
            let signIn = try await send(.POST, server.url("/dashboard/session"), body: "{\"token\": \"\(RunningServer.token)\"}", token: nil)
            #expect(signIn.status == 204)
            let cookie = try #require(signIn.setCookie)
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/"))
            #expect(!cookie.contains(RunningServer.token), "the cookie is a session id, not the token")
            let session = try #require(cookie.split(separator: ";").first.map(String.init))

            #expect(try await send(.GET, server.url("/api/workflows"), token: nil).status == 401)
            let workflows = try await send(.GET, server.url("/api/workflows"), headers: [("Cookie", session)], token: nil)
            #expect(workflows.status == 200)
            let tree = try #require(workflows.json?["workflows"]?.list?.first)
            #expect(tree["name"] == "branching")
            let both = try #require(tree["steps"]?.list?.first)
            #expect(both["kind"] == "parallel")
            #expect(both["branches"]?.list?.compactMap { $0["name"]?.string } == ["left", "right"])
            let each = try #require(both["branches"]?.list?.last?["steps"]?.list?.first)
            #expect(each["branches"]?.list?.first?["steps"]?.list?.first?["path"] == "both.right.each[].nap")
            #expect(try await send(.GET, server.url("/api/runs"), headers: [("Cookie", session)], token: nil).status == 200)

            let crossSite = try await send(
                .POST, server.url("/dashboard/session"), body: "{\"token\": \"\(RunningServer.token)\"}",
                headers: [("Origin", "https://evil.example")], token: nil)
            #expect(crossSite.status == 403, "another site cannot sign a browser in")
            #expect(try await send(.DELETE, server.url("/dashboard/session"), headers: [("Cookie", session)], token: nil).status == 204)
            #expect(try await send(.GET, server.url("/api/runs"), headers: [("Cookie", session)], token: nil).status == 401, "signed out")
            #expect(try await send(.GET, server.url("/api/runs"), headers: [("Cookie", "stepwise_session=forged")], token: nil).status == 401)
        }
    }

    @Test("a session ends when the token it was opened with is replaced: rotating a leaked token shuts its browsers out")
    func sessionsEndWithTheirToken() {
        let (old, new) = (SharedToken(token: "old-token"), SharedToken(token: "new-token"))
        let sessions = DashboardSessions()
        let access = APIAccess(token: "unused", boundHost: "127.0.0.1", sessions: sessions)
        let headers = AccessHeaders(host: "127.0.0.1", authorization: nil, sessionId: sessions.start(with: old))
        #expect(access.refusal(method: "GET", path: "/v2/keys", headers: headers, token: old) == nil)
        let refusal = access.refusal(method: "GET", path: "/v2/keys", headers: headers, token: new)
        #expect(refusal?.status == 401, "the session of the replaced token: \(String(describing: refusal))")
    }

    @Test("the step tree of the version a run is pinned to is served after a reload changed or removed its workflow, so the run is drawn as it runs")
    func pinnedVersions() async throws {
        let first = try definition("workflow: waiter\nsteps:\n  - id: wait_v1\n    wait_for_event: {event: go, timeout: 1h}\n")
        let second = try definition("workflow: waiter\nsteps:\n  - id: fetch_v2\n    set: {a: 1}\n")
        try await RunningServer.with([first]) { server in
            let run = try await server.engine.start(workflow: "waiter", input: [:]).run
            _ = try await server.engine.reload([second])
            let path = "/api/workflows/waiter/versions/\(run.definitionHash)"
            #expect(try await send(.GET, server.url(path), token: nil).status == 401)
            let pinned = try await send(.GET, server.url(path))
            #expect(pinned.status == 200)
            #expect(pinned.json?["version"]?.string == run.definitionHash)
            #expect(pinned.json?["steps"]?.list?.compactMap { $0["id"]?.string } == ["wait_v1"], "\(pinned.body)")
            let served = try await send(.GET, server.url("/api/workflows"))
            #expect(served.json?["workflows"]?.list?.first?["steps"]?.list?.first?["id"] == "fetch_v2")
            _ = try await server.engine.reload([])
            #expect(try await send(.GET, server.url(path)).status == 200, "a removed workflow's version is still served")
            #expect(try await send(.GET, server.url("/api/workflows/other/versions/\(run.definitionHash)")).status == 404)
            #expect(try await send(.GET, server.url("/api/workflows/waiter/versions/0000")).status == 404)
        }
    }
}
