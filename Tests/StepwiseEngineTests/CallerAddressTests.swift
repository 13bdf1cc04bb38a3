import Foundation
import StepwiseEngine
import StepwiseExpressions
@testable import StepwiseServer
import StepwiseTesting
import Testing

/// QStash's `callerIp`: the address of the client that published a message or started a run,
/// recorded from the connection and filtered on by every listing and bulk action, told apart
/// here by a second loopback address (127.0.0.2) beside the test client's 127.0.0.1.
@Suite("Caller addresses", .enabled(if: RawConnection.canBind("127.0.0.2"), "a second loopback address (127.0.0.2) is needed: Linux has one, macOS needs an alias"))
struct CallerAddressTests {
    static let workflows = """
        workflow: waiter
        steps:
          - id: ready
            wait_for_event: {event: "ready", timeout: 1h}
        ---
        workflow: doomed
        steps:
          - id: boom
            fail: {message: "no luck"}
        """

    /// Sends `method path` with `body` from 127.0.0.2 and answers the JSON body of the answer.
    private static func sendFromOtherAddress(_ method: String, _ path: String, body: String, headers: [String] = [], port: Int) async throws -> Value? {
        let head = (["\(method) \(path) HTTP/1.1", "Host: 127.0.0.1", "Authorization: Bearer \(RunningServer.token)", "Content-Type: application/json",
            "Content-Length: \(body.utf8.count)", "Connection: close"] + headers).joined(separator: "\r\n")
        // A loaded machine (the whole suite on two cores) may take longer than the default 5 s.
        let connection = try RawConnection(port: port, from: "127.0.0.2", readTimeout: .seconds(30))
        connection.write(head + "\r\n\r\n" + body)
        let answer = await connection.readAll().text
        guard let start = answer.range(of: "\r\n\r\n") else { return nil }
        return try? Value(json: String(answer[start.upperBound...]))
    }

    @Test("messages and runs from another address are told apart by callerIp on every route, however the address is written", arguments: StoreKind.testable)
    func callerIpOnEveryRoute(kind: StoreKind) async throws {
        let definitions = try Self.workflows.components(separatedBy: "---\n").map { try definition($0) }
        try await CountingServer.with { target in
            target.fallback("/down", .status(500))
            try await RunningServer.with(definitions, store: kind) { server in
                func otherAddress(_ method: String, _ path: String, body: String = "{}", headers: [String] = []) async throws -> Value {
                    try #require(try await Self.sendFromOtherAddress(method, path, body: body, headers: headers, port: server.port), "\(method) \(path)")
                }
                func ids(_ path: String, _ list: String, _ id: String) async throws -> [String] {
                    try await send(.GET, server.url(path)).json?[list]?.list?.compactMap { $0[id]?.string } ?? []
                }

                // Plain messages: the log, the message itself, the bulk cancel.
                let far = try #require(try await otherAddress("POST", "/v2/publish/http://127.0.0.1:9/x", headers: ["Upstash-Delay: 1h"])["messageId"]?.string)
                let near = try #require(try await send(.POST, server.url("/v2/publish/http://127.0.0.1:9/x"), body: "{}", headers: [("Upstash-Delay", "1h")]).json?["messageId"]?.string)
                #expect(try await ids("/v2/events?callerIp=127.0.0.2", "events", "messageId") == [far])
                #expect(try await ids("/v2/events?callerIP=127.0.0.1", "events", "messageId") == [near], "QStash's other spelling")
                #expect(try await ids("/v2/events?callerIp=::ffff:127.0.0.2", "events", "messageId") == [far], "an IPv4-mapped address is the IPv4 one")
                #expect(try await send(.GET, server.url("/v2/messages/\(far)")).json?["callerIp"] == "127.0.0.2")
                #expect(try await send(.DELETE, server.url("/v2/messages?callerIp=127.0.0.2")).json == ["cancelled": 1])
                #expect(try await send(.GET, server.url("/v2/messages/\(near)")).status == 200, "the other caller's message is left")

                // Runs: the logs API, /api/runs, the bulk cancel.
                let farRun = try #require(try await otherAddress("POST", "/workflows/waiter")["workflowRunId"]?.string)
                let nearRun = try await server.startRun("waiter", "{}")
                #expect(try await ids("/v2/workflows/logs?callerIp=127.0.0.2", "runs", "workflowRunId") == [farRun])
                #expect(try await ids("/api/runs?callerIp=127.0.0.1", "runs", "workflowRunId") == [nearRun])
                let logged = try await send(.GET, server.url("/v2/workflows/logs?workflowRunId=\(farRun)")).json?["runs"]?.list?.first
                #expect(logged?["workflowRunCallerIp"] == "127.0.0.2")
                let canceled = try await send(.DELETE, server.url("/v2/workflows/runs?callerIp=127.0.0.2"))
                #expect(canceled.json?["workflowRunIds"]?.list?.compactMap(\.string) == [farRun], "\(canceled.body)")
                #expect(try await server.store.run(id: nearRun)?.status == .running)

                // The workflow DLQ: list, entry, a bulk delete by caller.
                let farFailed = try #require(try await otherAddress("POST", "/workflows/doomed")["workflowRunId"]?.string)
                let nearFailed = try await server.startRun("doomed", "{}")
                for id in [farFailed, nearFailed] { _ = try await finishedRun(id, in: server.store) }
                let farEntries = try await send(.GET, server.url("/v2/workflows/dlq?callerIp=127.0.0.2")).json?["messages"]?.list ?? []
                #expect(farEntries.compactMap { $0["workflowRunId"]?.string } == [farFailed])
                #expect(farEntries.first?["callerIP"] == "127.0.0.2")
                // A restart (from here, 127.0.0.1) is the same run's caller's.
                let restarted = try await send(.POST, server.url("/v2/workflows/dlq/restart/dlq_\(farFailed)"))
                let fresh = try #require(restarted.json?["workflowRunId"]?.string, "\(restarted.body)")
                #expect(try await finishedRun(fresh, in: server.store).callerIp == "127.0.0.2")
                #expect(try await ids("/v2/workflows/dlq?callerIp=127.0.0.2", "messages", "workflowRunId") == [fresh])
                #expect(try await send(.DELETE, server.url("/v2/workflows/dlq?callerIP=127.0.0.2")).json?["deleted"] == 1)
                #expect(try await ids("/v2/workflows/dlq", "messages", "workflowRunId") == [nearFailed])

                // A plain message's callback says who published it; so does its view, in both spellings.
                let called = try await otherAddress("POST", "/v2/publish/\(target.url("/ok"))", headers: ["Upstash-Callback: \(target.url("/cb"))"])
                #expect(called["messageId"]?.string != nil, "\(called)")
                let callback = try await eventually("the callback") { target.requests(to: "/cb").first }
                #expect(try Value(json: callback.body)["callerIP"] == "127.0.0.2")
                let shown = try #require(try await send(.GET, server.url("/v2/messages/\(near)")).json)
                #expect(shown["callerIp"] == "127.0.0.1" && shown["callerIP"] == "127.0.0.1")

                // An SDK run triggered from there and restarted from here keeps its caller.
                let triggered = try await otherAddress("POST", "/v2/trigger/\(target.url("/down"))", headers: ["Upstash-Retries: 0"])
                let sdkRun = try #require(triggered["workflowRunId"]?.string, "\(triggered)")
                #expect(try await finishedRun(sdkRun, in: server.store).status == .failed)
                let again = try await send(.POST, server.url("/v2/workflows/dlq/restart/dlq_\(sdkRun)"))
                let sdkFresh = try #require(again.json?["workflowRunId"]?.string, "\(again.body)")
                #expect(try await server.store.run(id: sdkFresh)?.callerIp == "127.0.0.2")
            }
        }
    }

    @Test("behind a trusted proxy, the client X-Forwarded-For names is the caller; from anyone else the header is ignored")
    func trustedProxyNamesTheClient() async throws {
        let proxies = try TrustedProxies(["127.0.0.2/32", "10.0.0.0/8"])
        try await RunningServer.with([], trustedProxies: proxies) { server async throws in
            func caller(fromProxy: Bool, forwardedFor: String) async throws -> String? {
                let headers = [("Upstash-Delay", "1h"), ("X-Forwarded-For", forwardedFor)]
                let answer: Value?
                if fromProxy {
                    answer = try await Self.sendFromOtherAddress(
                        "POST", "/v2/publish/http://127.0.0.1:9/x", body: "{}", headers: headers.map { "\($0.0): \($0.1)" }, port: server.port)
                } else {
                    answer = try await send(.POST, server.url("/v2/publish/http://127.0.0.1:9/x"), body: "{}", headers: headers).json
                }
                let id = try #require(answer?["messageId"]?.string)
                return try await send(.GET, server.url("/v2/messages/\(id)")).json?["callerIp"]?.string
            }
            #expect(try await caller(fromProxy: true, forwardedFor: "198.51.100.1, 203.0.113.7") == "203.0.113.7", "the nearest hop; the rest is the client's word")
            #expect(try await caller(fromProxy: true, forwardedFor: "203.0.113.7, 10.1.2.3") == "203.0.113.7", "trusted hops are passed over")
            #expect(try await caller(fromProxy: true, forwardedFor: "[2001:db8::7]:4711") == "2001:db8::7")
            #expect(try await caller(fromProxy: true, forwardedFor: "unknown") == "127.0.0.2", "no address: the proxy is the caller")
            #expect(try await caller(fromProxy: false, forwardedFor: "203.0.113.7") == "127.0.0.1", "an untrusted peer cannot name another caller")
        }
    }
}
