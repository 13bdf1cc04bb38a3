import Foundation
import NIOHTTP1
import StepwiseEngine
import Testing
import StepwiseTesting

/// The API's access rules over real HTTP: a bearer token on every route but `/health`, no
/// cross-site requests that change state, no JSON route fed a browser form, and only loopback
/// host names for a server bound to loopback (DNS rebinding).
@Suite("API access: token, origin, content type and host")
struct APIAccessTests {
    static let greeting = """
        workflow: greet
        steps:
          - id: hello
            set: {text: "hi"}
        """

    /// Every route the server has, with a path that matches it.
    static let routes: [(HTTPMethod, String)] = [
        (.POST, "/workflows/greet"), (.GET, "/api/runs"), (.GET, "/api/runs/wfr_x"), (.DELETE, "/v2/workflows/runs/wfr_x"),
        (.GET, "/v2/workflows/runs/wfr_x"), (.POST, "/v2/notify/event"), (.POST, "/v2/notify/wfr_x/event"),
        (.GET, "/v2/waiters/event"), (.DELETE, "/v2/workflows/runs"), (.GET, "/v2/workflows/dlq"), (.GET, "/v2/workflows/dlq/d"),
        (.DELETE, "/v2/workflows/dlq/d"), (.POST, "/v2/workflows/dlq/resume/d"), (.POST, "/v2/workflows/dlq/restart/d"),
        (.DELETE, "/v2/workflows/dlq"), (.POST, "/v2/workflows/dlq/resume"), (.POST, "/v2/workflows/dlq/restart"), (.POST, "/v2/workflows/dlq/callback/d"),
        (.GET, "/v2/schedules"), (.GET, "/v2/keys"), (.POST, "/v2/keys/rotate"), (.GET, "/no/such/route"),
        (.POST, "/v2/publish/http://127.0.0.1:9/x"), (.POST, "/v2/batch"), (.POST, "/v2/wait/event"),
        (.POST, "/v2/trigger/http://127.0.0.1:9/x"), (.POST, "/v2/batch/trigger"),
        (.POST, "/v2/schedules/http://127.0.0.1:9/x"), (.GET, "/v2/schedules/s"), (.DELETE, "/v2/schedules/s"),
        (.PATCH, "/v2/schedules/s/pause"), (.PATCH, "/v2/schedules/s/resume"),
        (.GET, "/v2/flowControl"), (.GET, "/v2/flowControl/k"), (.POST, "/v2/flowControl/k/pause"), (.GET, "/v2/globalParallelism"),
        (.POST, "/v2/enqueue/q/http://127.0.0.1:9/x"), (.POST, "/v2/queues"), (.GET, "/v2/queues"), (.GET, "/v2/queues/q"),
        (.DELETE, "/v2/queues/q"), (.POST, "/v2/queues/q/pause"), (.GET, "/v2/topics"), (.GET, "/v2/topics/g"), (.DELETE, "/v2/topics/g"),
        (.POST, "/v2/topics/g/endpoints"), (.DELETE, "/v2/topics/g/endpoints"), (.POST, "/v2/publish/g"),
        (.GET, "/v2/messages/msg_x"), (.DELETE, "/v2/messages/msg_x"), (.DELETE, "/v2/messages"),
        (.GET, "/v2/dlq"), (.GET, "/v2/dlq/dlq_x"), (.DELETE, "/v2/dlq/dlq_x"), (.DELETE, "/v2/dlq"), (.POST, "/v2/dlq/retry/dlq_x"), (.POST, "/v2/dlq/retry"),
        (.GET, "/v2/events"), (.GET, "/v2/logs"),
    ]

    @Test("every route refuses a request without the token or with another token (401), and none of them acts on it")
    func tokenOnEveryRoute() async throws {
        try await RunningServer.with([try definition(Self.greeting)]) { server async throws in
            for (method, path) in Self.routes {
                for token in [nil, "wrong-token", RunningServer.token + "x"] {
                    let answer = try await send(method, server.url(path), body: method == .GET ? nil : "{}", token: token)
                    #expect(answer.status == 401, "\(method) \(path) with token \(token ?? "none"): \(answer.status) \(answer.body)")
                    #expect(answer.error?.contains("token") == true)
                }
            }
            #expect(try await server.store.runs(.init()).isEmpty, "no run was started")
            #expect(try await server.store.queueSchedules().isEmpty, "no schedule was created")
            #expect(try await server.engine.flowKeys().isEmpty, "no flow-control key was paused")
            #expect(try await server.store.namedQueues().isEmpty, "no queue was created")
            #expect(try await server.store.urlGroups().isEmpty, "no URL group was created")
            #expect(try await send(.GET, server.url("/health"), token: nil).status == 200, "/health needs no token")
            let ready = try await send(.GET, server.url("/ready"), token: nil)
            #expect(ready.status == 200 && ready.json == ["status": "ready"], "/ready needs no token and tells only up or down: \(ready.body)")
            // A webhook URL is its own credential (404 here: no such run); nothing else under its prefix is.
            #expect(try await send(.POST, server.url("/v2/workflows/hooks/u/wfr_x/evt_x"), body: "{}", token: nil).status == 404)
            for path in ["/v2/workflows/hooks/u/wfr_x/evt_x/more", "/v2/workflows/hooks/u/wfr_x", "/v2/workflows/hooks/u/../evt_x", "/v2/workflows/hooks//wfr_x/evt_x"] {
                #expect(try await send(.POST, server.url(path), body: "{}", token: nil).status == 401, "\(path)")
            }
            #expect(try await send(.POST, server.url("/workflows/greet"), body: "{}").status == 200)
            let query = try await send(.GET, server.url("/api/runs?qstash_token=\(RunningServer.token)"), token: nil)
            #expect(query.status == 200, "QStash's query form of the token: \(query.body)")
            #expect(try await send(.GET, server.url("/api/runs?qstash_token=wrong"), token: nil).status == 401)
        }
    }

    @Test("a state-changing request from another origin is refused even with the token; the same origin is fine")
    func crossSite() async throws {
        try await RunningServer.with([try definition(Self.greeting)]) { server async throws in
            let foreign: [[(String, String)]] = [
                [("Origin", "http://evil.example")], [("Origin", "null")], [("Origin", "http://127.0.0.1:1")],
                [("Sec-Fetch-Site", "cross-site")],
            ]
            for headers in foreign {
                for (method, path) in [(HTTPMethod.POST, "/workflows/greet"), (.POST, "/v2/notify/approve"), (.POST, "/v2/workflows/dlq/resume/d")] {
                    let answer = try await send(method, server.url(path), body: "{}", headers: headers)
                    #expect(answer.status == 403, "\(headers) \(path): \(answer.body)")
                    #expect(answer.error?.contains("cross-site") == true)
                }
            }
            #expect(try await server.store.runs(.init()).isEmpty)
            let same = try await send(.POST, server.url("/workflows/greet"), body: "{}", headers: [("Origin", server.url(""))])
            #expect(same.status == 200, "\(same.body)")
            let read = try await send(.GET, server.url("/api/runs"), headers: [("Origin", "http://evil.example")])
            #expect(read.status == 200, "reads are not state changes (and a browser cannot read the answer cross-site)")
        }
    }

    @Test("a route that expects JSON refuses text/plain, form and multipart bodies (415)")
    func formBodies() async throws {
        try await RunningServer.with([try definition(Self.greeting)]) { server async throws in
            for type in ["text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
                let answer = await RawConnection.exchange(
                    "POST /workflows/greet HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(RunningServer.token)\r\n"
                        + "Content-Type: \(type)\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}", port: server.port)
                #expect(RawConnection.status(of: answer) == 415, "\(type): \(answer)")
            }
            #expect(try await server.store.runs(.init()).isEmpty)
        }
    }

    @Test("bound to loopback, the server answers only to loopback host names (DNS rebinding is refused)")
    func hostNames() async throws {
        try await RunningServer.with([try definition(Self.greeting)]) { server async throws in
            for host in ["evil.example", "evil.example:\(server.port)", "127.0.0.1.evil.example", "192.168.1.10", "0.0.0.0"] {
                let answer = await Self.get("/api/runs", host: host, port: server.port)
                #expect(RawConnection.status(of: answer) == 403, "\(host): \(answer)")
                #expect(!answer.contains("runs\""), "nothing is read")
            }
            for host in ["127.0.0.1:\(server.port)", "localhost:\(server.port)", "LOCALHOST", "[::1]:\(server.port)", "127.1.2.3"] {
                #expect(RawConnection.status(of: await Self.get("/api/runs", host: host, port: server.port)) == 200, "\(host)")
            }
            #expect(RawConnection.status(of: await Self.get("/health", host: "evil.example", port: server.port)) == 403)
        }
    }

    @Test("a Host header that is not a host and port is refused (400) before the token, a route or a webhook sees it")
    func malformedHost() async throws {
        try await RunningServer.with([try definition(Self.greeting)]) { server async throws in
            for host in ["127.0.0.1:\(server.port)@evil.example", "127.0.0.1/x", "local host", "127.0.0.1:\(server.port)%00"] {
                for path in ["/api/runs", "/health", "/v2/workflows/hooks/u/run/event"] {
                    let answer = await Self.get(path, host: host, port: server.port)
                    #expect(RawConnection.status(of: answer) == 400, "\(host) \(path): \(answer)")
                    #expect(answer.contains("the Host header is not a host"), "\(answer)")
                }
            }
        }
    }

    @Test("a request with two Host lines is refused (400) whichever comes first: a proxy could have checked the other")
    func twoHosts() async throws {
        try await RunningServer.with([try definition(Self.greeting)]) { server async throws in
            for hosts in [["127.0.0.1", "evil.example"], ["evil.example", "127.0.0.1"], ["127.0.0.1", "127.0.0.1"]] {
                let answer = await Self.get("/v2/keys", host: hosts.joined(separator: "\r\nHost: "), port: server.port)
                #expect(RawConnection.status(of: answer) == 400, "\(hosts): \(answer)")
                #expect(answer.contains("more than one Host header"), "\(answer)")
                #expect(!answer.contains("current"), "no key is read")
            }
        }
    }

    private static func get(_ path: String, host: String, port: Int) async -> String {
        await RawConnection.exchange(
            "GET \(path) HTTP/1.1\r\nHost: \(host)\r\nAuthorization: Bearer \(RunningServer.token)\r\nConnection: close\r\n\r\n", port: port)
    }
}
