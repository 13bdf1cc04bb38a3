import NIOHTTP1
import StepwiseEngine
import StepwiseTesting
import Testing
@testable import StepwiseServer

/// An API path whose id was left out (`/v2/messages/`, `/v2/notify//event`) is refused rather
/// than routed as the path without it, which would widen a request to every message or waiter.
@Suite("Empty path segments")
struct EmptyPathSegmentTests {
    @Test("a slash at the end or a double slash is an empty segment, but not inside a destination a publish, trigger, enqueue or schedule ends with")
    func whereSegmentsAreEmpty() {
        for (path, method) in [
            ("/v2/messages/", "DELETE"), ("/v2/notify//ev", "POST"), ("/v2/topics//endpoints", "DELETE"), ("/api/runs/", "GET"),
            ("/v2/enqueue//http://h/x", "POST"), ("/v2/enqueue/", "POST"), ("/v2/schedules//pause", "PATCH"), ("/v2/workflows/runs/", "DELETE"),
            ("//v2/messages/", "DELETE"), ("//v2/notify/run/", "POST"), ("//health", "GET"),
        ] {
            #expect(EmptyPathSegment.isIn(path, method: method), "\(method) \(path)")
        }
        for (path, method) in [
            ("/v2/publish/https://app.test//api/wf/", "POST"), ("/v2/trigger/http://h//x", "POST"), ("/v2/enqueue/q/http://h//x/", "POST"),
            ("/v2/schedules/https://h//x", "POST"), ("/v2/messages/msg_1", "DELETE"), ("/v2/notify/run/ev", "POST"), ("/workflows/", "POST"),
            ("/", "GET"), ("/health", "GET"),
        ] {
            #expect(!EmptyPathSegment.isIn(path, method: method), "\(method) \(path)")
        }
    }

    @Test("DELETE /v2/messages/ cancels nothing and a notify with no run id wakes no waiter: both are a 404", arguments: StoreKind.testable)
    func nothingIsWidened(kind: StoreKind) async throws {
        try await RunningServer.with([try definition(PrimitiveTests.waiter)], store: kind) { server in
            let queued = try await send(.POST, server.url("/v2/publish/http://127.0.0.1:9/x"), body: "{}", headers: [("Upstash-Delay", "1h")])
            #expect(queued.status == 200)
            let run = try await server.startRun("waiter", #"{"order_id": 1}"#)
            try await parked(run, "paid", in: server.store)

            let cancel = try await send(.DELETE, server.url("/v2/messages/"))
            #expect(cancel.status == 404)
            #expect(cancel.error == "'/v2/messages/' has an empty segment: an id or a name is missing")
            let id = try #require(queued.json?["messageId"]?.string)
            #expect(try await send(.GET, server.url("/v2/messages/\(id)")).status == 200, "the message is still queued")
            #expect(try await send(.POST, server.url("/v2/notify//order-paid-1"), body: "{}").status == 404)
            #expect(try await server.store.run(id: run)?.status == .running, "the waiter still waits")
            #expect(try await send(.DELETE, server.url("/v2/messages/"), token: nil).status == 401, "the token is checked first")
            #expect(try await send(.DELETE, server.url("//v2/messages/")).status == 404, "leading slashes are skipped by the router too")
            #expect(try await send(.GET, server.url("/v2/messages/\(id)")).status == 200)
        }
    }

    @Test("a blank event id is a 400 for notify, wait and the waiters list, and wakes nothing", arguments: StoreKind.testable)
    func blankEventIds(kind: StoreKind) async throws {
        try await RunningServer.with([try definition(PrimitiveTests.waiter)], store: kind) { server in
            let run = try await server.startRun("waiter", #"{"order_id": 1}"#)
            try await parked(run, "paid", in: server.store)
            for path in ["/v2/notify/%20", "/v2/notify/\(run)/%20%20", "/v2/wait/%20"] {
                let answer = try await send(.POST, server.url(path), body: "{}")
                #expect(answer.status == 400, "\(path)")
                #expect(answer.error == "the event id is blank", "\(path)")
            }
            let waiters = try await send(.GET, server.url("/v2/waiters/%20%20"))
            #expect(waiters.status == 400 && waiters.error == "the event id is blank", "\(waiters.status) \(waiters.body)")
            #expect(try await server.store.run(id: run)?.status == .running, "the waiter still waits")
        }
    }

    @Test("a JSON body that is not UTF-8 is a 400 naming the byte, never stored with replacement characters")
    func bodyNotUTF8() async throws {
        try await RunningServer.with([try definition(PrimitiveTests.waiter)]) { server in
            let body = Array(#"{"name":"Ada"#.utf8) + [0xFF, 0xFE, 0xC3] + Array(#""}"#.utf8)
            for path in ["/workflows/waiter", "/v2/queues"] {
                let answer = try await send(.POST, server.url(path), bytes: body, headers: [("Content-Type", "application/json")])
                #expect(answer.status == 400, "\(path): \(answer.body)")
                #expect(answer.error == "the request body is not valid JSON: it is not UTF-8 (byte 12)", "\(path)")
            }
            #expect(try await server.store.runs(.init()).isEmpty, "no run was started")
        }
    }

    @Test("a control character in an API path or query is a 400 before routing (PostgreSQL cannot store a NUL, a line break forges log lines); a destination URL keeps its own", arguments: StoreKind.testable)
    func controlCharacters(kind: StoreKind) async throws {
        try await RunningServer.with([try definition(PrimitiveTests.waiter)], store: kind) { server in
            for (method, path) in [
                (HTTPMethod.GET, "/api/runs/wfr_%00"), (.GET, "/api/runs?label=%00"), (.GET, "/v2/waiters/ev%00x"), (.POST, "/v2/notify/ev%0Ax"),
                (.GET, "/v2/workflows/logs?workflowRunId=a%0Ab"), (.GET, "/v2/messages/msg%7F"), (.GET, "/v2/queues/q%1F"),
                (.POST, "/workflows/waiter%0D%0AX-Injected:%201"), (.POST, "/workflows/waiter%00"), (.POST, "/workflows/waiter?a=%0D%0A"),
            ] {
                let answer = try await send(method, server.url(path), body: method == .POST ? "{}" : nil)
                #expect(answer.status == 400, "\(method) \(path)")
                #expect(answer.error == "the path or the query holds a control character (%00 to %1F, %7F), which no id, name or filter may hold")
            }
            #expect(try await send(.GET, server.url("/api/runs/wfr_%00"), token: nil).status == 401, "the token is checked first")
            // Sent as written (an HTTP client would encode the bad escape's percent sign).
            let notify = await RawConnection.exchange(
                "POST /v2/notify/%ZZ/ev%0Ax HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(RunningServer.token)\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
                port: server.port)
            #expect(RawConnection.status(of: notify) == 400, "a bad escape in one segment leaves the others checked: \(notify)")
            for destination in ["http://127.0.0.1:9/a%0Ab", "http://127.0.0.1:9/send?text=Hello%0AWorld"] {
                let publish = try await send(.POST, server.url("/v2/publish/" + destination), body: "{}", headers: [("Upstash-Delay", "1h")])
                #expect(publish.status == 200, "\(destination): \(publish.body)")
            }
            let webhook = try await send(.GET, server.url("/v2/workflows/hooks/u/wfr_none/evt_Q2x9s8d7f6g5h4j?Body=a%0Ab"), token: nil)
            #expect(webhook.status == 404, "a webhook's query is its caller's: \(webhook.body)")
        }
    }
}
