import Foundation
import NIOHTTP1
import Synchronization
import StepwiseEngine
import StepwiseExpressions
import StepwiseTesting
import Testing

/// QStash's queues (`/v2/enqueue/{queue}/{destination}`, `/v2/queues`) over real loopback HTTP,
/// on each store: order, parallelism, pause, lag, deletion and refusals.
@Suite("QStash queues")
struct QueuesTests {
    @Test("an enqueue creates its queue with parallelism 1: its messages arrive one at a time, in the order enqueued", arguments: StoreKind.testable)
    func enqueueKeepsOrder(kind: StoreKind) async throws {
        let load = InFlightGauge()
        let order = Mutex<[Int64]>([])
        try await CountingServer.with { target in
            target.handle("/ordered") { request in
                await load.during { try? await Task.sleep(for: .milliseconds(30)) }
                if case .int(let n)? = (try? Value(json: request.body))?["n"] { order.withLock { $0.append(n) } }
                return .json("{}")
            }
            try await RunningServer.with([], store: kind) { stepwise in
                for n in 0..<5 {
                    let answer = try await send(.POST, stepwise.url("/v2/enqueue/emails/" + target.url("/ordered")), body: #"{"n":\#(n)}"#)
                    #expect(answer.status == 200, "\(answer.body)")
                    #expect(answer.json?["messageId"]?.string?.hasPrefix("msg_") == true)
                }
                _ = try await eventually("all five deliveries") { order.withLock { $0.count } == 5 ? true : nil }
                #expect(order.withLock { $0 } == [0, 1, 2, 3, 4])
                #expect(load.highest == 1)
                let queue = try #require(try await send(.GET, stepwise.url("/v2/queues/emails")).json)
                #expect(queue["name"] == "emails")
                #expect(queue["parallelism"] == 1)
                #expect(queue["paused"] == false)
                #expect((queue["createdAt"]?.int ?? 0) > 1_700_000_000_000, "unix ms")
                _ = try await eventually("no lag once delivered") { try await send(.GET, stepwise.url("/v2/queues/emails")).json?["lag"] == 0 ? true : nil }
            }
        }
    }

    @Test("a queue's next message waits for the retries of the one before it and for its callback, as QStash's queues do", arguments: StoreKind.testable)
    func nextWaitsForRetriesAndCallbacks(kind: StoreKind) async throws {
        let arrivals = Mutex<[String]>([])
        let failedOnce = Mutex(false)
        try await CountingServer.with { target in
            target.handle("/job") { request in
                arrivals.withLock { $0.append(request.body) }
                let fail = request.body == "A" && failedOnce.withLock { failed in defer { failed = true }; return !failed }
                return fail ? .json(#"{"error":"busy"}"#, status: 500) : .json("{}")
            }
            target.handle("/callback") { request in
                try? await Task.sleep(for: .milliseconds(600))
                let source = (try? Value(json: request.body))?["sourceBody"]?.string.flatMap { Data(base64Encoded: $0) }
                arrivals.withLock { $0.append("callback of " + (source.map { String(decoding: $0, as: UTF8.self) } ?? "?")) }
                return .json("{}")
            }
            try await RunningServer.with([], store: kind) { stepwise in
                let enqueue = stepwise.url("/v2/enqueue/ordered/" + target.url("/job"))
                let retried = [("Upstash-Retries", "2"), ("Upstash-Retry-Delay", "300")]
                #expect(try await send(.POST, enqueue, body: "A", headers: retried).status == 200)
                #expect(try await send(.POST, enqueue, body: "B").status == 200)
                _ = try await eventually("A twice, then B") { arrivals.withLock { $0.count } == 3 ? true : nil }
                #expect(arrivals.withLock { $0 } == ["A", "A", "B"], "B waits for A's retry")

                arrivals.withLock { $0.removeAll() }
                #expect(try await send(.POST, enqueue, body: "C", headers: [("Upstash-Callback", target.url("/callback"))]).status == 200)
                #expect(try await send(.POST, enqueue, body: "D").status == 200)
                _ = try await eventually("C, its callback, then D") { arrivals.withLock { $0.count } == 3 ? true : nil }
                #expect(arrivals.withLock { $0 } == ["C", "callback of C", "D"], "D waits for C's callback to finish")
                _ = try await eventually("no lag once delivered") { try await send(.GET, stepwise.url("/v2/queues/ordered")).json?["lag"] == 0 ? true : nil }
            }
        }
    }

    @Test("a paused queue holds its messages in its lag; resume delivers them within its parallelism; deleting it lets what it holds go", arguments: StoreKind.testable)
    func pauseParallelismAndDelete(kind: StoreKind) async throws {
        let load = InFlightGauge()
        try await CountingServer.with { target in
            target.handle("/work") { _ in
                await load.during { try? await Task.sleep(for: .milliseconds(100)) }
                return .json("{}")
            }
            try await RunningServer.with([], store: kind) { stepwise in
                let created = try await send(.POST, stepwise.url("/v2/queues"), body: #"{"queueName": "jobs", "parallelism": 2, "paused": true}"#)
                #expect(created.status == 200, "\(created.body)")
                let items: Value = .list((0..<4).map { n in ["destination": .string(target.url("/work")), "body": .string("\(n)"), "queue": "jobs"] })
                #expect(try await send(.POST, stepwise.url("/v2/batch"), body: items.jsonText()).status == 200)
                _ = try await eventually("four messages held") { try await stepwise.flowKey("queue:jobs")?["waitListSize"] == 4 ? true : nil }
                #expect(target.requests(to: "/work").isEmpty, "a paused queue delivers nothing")
                let paused = try #require(try await send(.GET, stepwise.url("/v2/queues")).json?.list?.first)
                #expect(paused["name"] == "jobs")
                #expect(paused["lag"] == 4)
                #expect(paused["paused"] == true)
                #expect(paused["parallelism"] == 2)

                #expect(try await send(.POST, stepwise.url("/v2/queues/jobs/resume")).status == 200)
                _ = try await eventually("all four deliveries") { target.requests(to: "/work").count == 4 ? true : nil }
                #expect(load.highest <= 2, "never more than the queue's parallelism")

                // Deleting a paused queue lets what it holds go.
                #expect(try await send(.PATCH, stepwise.url("/v2/queues/jobs/pause")).status == 404, "pause is a POST")
                #expect(try await send(.POST, stepwise.url("/v2/queues/jobs/pause")).status == 200)
                #expect(try await send(.POST, stepwise.url("/v2/enqueue/jobs/" + target.url("/held")), body: "{}").status == 200)
                _ = try await eventually("the message held") { try await stepwise.flowKey("queue:jobs")?["waitListSize"] == 1 ? true : nil }
                #expect(try await send(.DELETE, stepwise.url("/v2/queues/jobs")).status == 200)
                _ = try await eventually("the held message delivered") { target.requests(to: "/held").count == 1 ? true : nil }
                #expect(try await send(.GET, stepwise.url("/v2/queues/jobs")).status == 404)
                #expect(try await send(.DELETE, stepwise.url("/v2/queues/jobs")).status == 404)
            }
        }
    }

    @Test("bad queue requests are refused naming what is wrong; unknown queues answer 404; nothing is stored")
    func refusals() async throws {
        try await RunningServer.with([]) { stepwise in
            let enqueues: [(path: String, headers: [(String, String)], expected: String)] = [
                ("/v2/enqueue/no spaces/http://127.0.0.1:9/x", [], "not a queue name"),
                ("/v2/enqueue/http://127.0.0.1:9/x", [], "not a queue name"),
                ("/v2/enqueue/q/ftp://127.0.0.1/x", [], "ftp"),
                ("/v2/enqueue/q/http://127.0.0.1:9/x", [("Upstash-Flow-Control-Key", "k"), ("Upstash-Flow-Control-Value", "parallelism=2")], "queue's parallelism"),
                ("/v2/enqueue/q/http://127.0.0.1:9/x", [("Upstash-Delay", "10s")], "in its turn"),
                ("/v2/enqueue/q/http://127.0.0.1:9/x", [("Upstash-Not-Before", "1900000000")], "in its turn"),
                ("/v2/publish/http://127.0.0.1:9/x", [("Upstash-Flow-Control-Key", "k"), ("Upstash-Flow-Control-Value", "rate=1, period=8d")], "longer than a week"),
                ("/v2/publish/http://127.0.0.1:9/x", [("Upstash-Flow-Control-Key", "queue:jobs")], "reserved"),
                ("/v2/publish/http://127.0.0.1:9/x", [("Upstash-Queue-Name", "..")], "cannot name a new queue"),
            ]
            for (path, headers, expected) in enqueues {
                let answer = try await send(.POST, stepwise.url(path), body: "{}", headers: headers)
                #expect(answer.status == 400, "\(path): \(answer.body)")
                #expect(answer.error?.contains(expected) == true, "\(path): \(answer.body)")
            }
            let upserts: [(body: String, expected: String)] = [
                (#"{"parallelism": 2}"#, "queueName"),
                (#"{"queueName": "q", "parallelism": 0}"#, "parallelism"),
                (#"{"queueName": "q", "paused": "yes"}"#, "paused"),
                (#"{"queueName": "a/b"}"#, "not a queue name"),
                (#"{"queueName": ".."}"#, "cannot name a new queue"),
                (#"{"queueName": "."}"#, "cannot name a new queue"),
                (#"{"queueName": "q", "parallelism": 99999999999999}"#, "from 1 to 2147483647"),
            ]
            for (body, expected) in upserts {
                let answer = try await send(.POST, stepwise.url("/v2/queues"), body: body)
                #expect(answer.status == 400, "\(body): \(answer.body)")
                #expect(answer.error?.contains(expected) == true, "\(body): \(answer.body)")
            }
            for (method, path) in [(HTTPMethod.GET, "/v2/queues/q"), (.DELETE, "/v2/queues/q"), (.POST, "/v2/queues/q/pause"), (.POST, "/v2/queues/q/stop")] {
                let answer = try await send(method, stepwise.url(path))
                #expect(answer.status == 404, "\(method) \(path): \(answer.body)")
            }
            #expect(try await stepwise.store.namedQueues().isEmpty, "no queue was created")
        }
    }
}
