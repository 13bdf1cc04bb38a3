import AsyncHTTPClient
import Foundation
import GRDB
import NIOHTTP1
import StepwiseEngine
import StepwiseSQLite
import StepwiseExpressions
import StepwiseRuntime
import Testing
import StepwiseTesting

/// The HTTP API of `stepwise serve`, over real HTTP on 127.0.0.1.
@Suite("StepwiseServer over HTTP", .timeLimit(.minutes(3)))
struct StepwiseServerTests {
    /// A quick workflow with an input schema and one durable step.
    let hello: WorkflowDefinition
    /// A workflow that sleeps for an hour (to be looked at and canceled while it runs).
    let sleeper: WorkflowDefinition

    init() throws {
        hello = try definition("""
            workflow: hello
            input:
              type: object
              required: [name]
              properties:
                name: {type: string, minLength: 1}
            steps:
              - id: nap
                sleep: 10ms
              - id: greet
                return:
                  text: "Hello, ${{ input.name }}!"
            """)
        sleeper = try definition("""
            workflow: sleeper
            steps:
              - id: nap
                sleep: 10ms
              - id: night
                sleep: 1h
            """)
    }

    /// The run's view once `GET /api/runs/{id}` reports it ended.
    private func finishedView(_ server: RunningServer, _ id: String) async throws -> Value {
        try await eventually("run \(id) to end") {
            let answer = try await send(.GET, server.url("/api/runs/\(id)"))
            guard answer.status == 200, let view = answer.json, view["status"] != "running" else { return nil }
            return view
        }
    }

    @Test("GET /health answers {\"status\": \"ok\"}")
    func health() async throws {
        try await RunningServer.with([hello]) { server in
            let answer = try await send(.GET, server.url("/health"))
            #expect(answer.status == 200)
            #expect(answer.contentType == "application/json")
            #expect(answer.json == ["status": "ok"])
        }
    }

    @Test("POST /workflows/{name} starts a run; GET /api/runs/{id} shows its status, output, input, steps and attempts")
    func startAndRead() async throws {
        try await RunningServer.with([hello, sleeper]) { server in
            let answer = try await send(.POST, server.url("/workflows/hello"), body: #"{"name": "Ada"}"#)
            #expect(answer.status == 200)
            #expect(answer.contentType == "application/json")
            let id = try #require(answer.json?["workflowRunId"]?.string)
            #expect(id.hasPrefix("wfr_"))
            #expect(answer.json == ["workflowRunId": .string(id)], "a fresh start is not marked as deduplicated")

            let view = try await finishedView(server, id)
            #expect(view["workflowRunId"] == .string(id))
            #expect(view["workflow"] == "hello")
            #expect(view["status"] == "succeeded")
            #expect(view["output"] == ["text": "Hello, Ada!"])
            #expect(view["error"] == .null)
            #expect(view["input"] == ["name": "Ada"])
            #expect(view["definition"] == .string(hello.hash))
            guard case .list(let steps)? = view["steps"] else {
                Issue.record("steps is not a list: \(view)")
                return
            }
            #expect(steps.count == 1)
            #expect(steps.first?["stepId"] == 1)
            #expect(steps.first?["stepName"] == "nap")
            #expect(steps.first?["stepType"] == "SleepFor")
            guard case .list(let attempts)? = view["attempts"] else {
                Issue.record("attempts is not a list: \(view)")
                return
            }
            #expect(attempts.map { $0["outcome"] } == ["submitted", "completed"])
        }
    }

    @Test("bad trigger requests get JSON errors: malformed JSON 400, unknown workflow 404, schema problems 400, body over 1 MiB 413")
    func triggerErrors() async throws {
        try await RunningServer.with([hello, sleeper]) { server in
            let malformed = try await send(.POST, server.url("/workflows/hello"), body: #"{"name": "Ada""#)
            #expect(malformed.status == 400)
            #expect(malformed.contentType == "application/json")
            #expect(malformed.error?.hasPrefix("the request body is not valid JSON") == true, "\(malformed.body)")

            let unknown = try await send(.POST, server.url("/workflows/nope"), body: "{}")
            #expect(unknown.status == 404)
            #expect(unknown.error == "no workflow named 'nope'")
            #expect(unknown.json?["workflows"] == ["hello", "sleeper"])

            let invalid = try await send(.POST, server.url("/workflows/hello"), body: #"{"name": ""}"#)
            #expect(invalid.status == 400)
            #expect(invalid.error == "the input does not match the workflow's input schema")
            #expect(invalid.json?["problems"] == ["/name must be at least 1 character long"])

            let missing = try await send(.POST, server.url("/workflows/hello"))
            #expect(missing.status == 400)
            #expect(missing.json?["problems"] == ["the input must be object, got null"])

            let large = "{\"name\": \"" + String(repeating: "a", count: 1 << 20) + "\"}"
            let oversized = try await send(.POST, server.url("/workflows/hello"), body: large)
            #expect(oversized.status == 413)
            #expect(oversized.error == "the request body is larger than 1048576 bytes")

            let listing = try await send(.GET, server.url("/api/runs"))
            #expect(listing.json == ["runs": [], "cursor": .null], "no rejected request may create a run")
        }
    }

    @Test("the Upstash-Workflow-RunId header makes a start idempotent")
    func idempotentStart() async throws {
        try await RunningServer.with([hello]) { server in
            let headers = [("Upstash-Workflow-RunId", "wfr_order-42")]
            let first = try await send(.POST, server.url("/workflows/hello"), body: #"{"name": "Ada"}"#, headers: headers)
            #expect(first.status == 200)
            #expect(first.json == ["workflowRunId": "wfr_order-42"])
            let second = try await send(.POST, server.url("/workflows/hello"), body: #"{"name": "Grace"}"#, headers: headers)
            #expect(second.status == 200)
            #expect(second.json == ["workflowRunId": "wfr_order-42", "deduplicated": true])

            let view = try await finishedView(server, "wfr_order-42")
            #expect(view["input"] == ["name": "Ada"])
            #expect(view["output"] == ["text": "Hello, Ada!"])
            let listing = try await send(.GET, server.url("/api/runs"))
            guard case .list(let runs)? = listing.json?["runs"] else {
                Issue.record("no runs list: \(listing.body)")
                return
            }
            #expect(runs.map { $0["workflowRunId"] } == ["wfr_order-42"])
        }
    }

    @Test("GET /api/runs lists runs newest first, filtered by workflow, status and limit; bad filters are 400")
    func listRuns() async throws {
        try await RunningServer.with([hello, sleeper]) { server in
            let first = try await server.startRun("hello", #"{"name": "Ada"}"#, headers: [("Upstash-Workflow-RunId", "run-1")])
            _ = try await finishedView(server, first)
            try await Task.sleep(for: .milliseconds(5))
            let second = try await server.startRun("hello", #"{"name": "Grace"}"#, headers: [("Upstash-Workflow-RunId", "run-2")])
            _ = try await finishedView(server, second)
            try await Task.sleep(for: .milliseconds(5))
            let sleeping = try await server.startRun("sleeper", "{}", headers: [("Upstash-Workflow-RunId", "run-3")])

            func ids(_ query: String) async throws -> [String] {
                let answer = try await send(.GET, server.url("/api/runs" + query))
                #expect(answer.status == 200, "\(query): \(answer.body)")
                guard case .list(let runs)? = answer.json?["runs"] else { return [] }
                return runs.compactMap { $0["workflowRunId"]?.string }
            }
            #expect(try await ids("") == [sleeping, second, first])
            #expect(try await ids("?workflow=hello") == [second, first])
            #expect(try await ids("?status=running") == [sleeping])
            #expect(try await ids("?status=succeeded&limit=1") == [second])
            #expect(try await ids("?workflow=sleeper&status=succeeded").isEmpty)

            for bad in ["?status=done", "?limit=0", "?limit=1001", "?limit=ten"] {
                let answer = try await send(.GET, server.url("/api/runs" + bad))
                #expect(answer.status == 400, "\(bad)")
                #expect(answer.error != nil, "\(bad): \(answer.body)")
            }
        }
    }

    @Test("GET /api/runs pages through every run with its cursor, past the newest 1,000, ties in creation time included")
    func pageThroughRuns() async throws {
        try await RunningServer.with([hello]) { server in
            let created = try await server.insertFinishedRuns(2_345, of: hello)
            var listed: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let query = "/api/runs?limit=1000" + (cursor.map { "&cursor=\($0)" } ?? "")
                let answer = try await send(.GET, server.url(query))
                #expect(answer.status == 200, "\(answer.body.prefix(200))")
                listed += answer.json?["runs"]?.list?.compactMap { $0["workflowRunId"]?.string } ?? []
                cursor = answer.json?["cursor"]?.string
                pages += 1
            } while cursor != nil && pages < 10
            #expect(pages == 3)
            #expect(listed.count == created.count && Set(listed) == Set(created), "every run once")
            #expect(listed.first == "run-02340" && listed.last == "run-00009", "newest first, ties by id")
            let bad = try await send(.GET, server.url("/api/runs?cursor=not-a-cursor"))
            #expect(bad.status == 400, "\(bad.body)")
        }
    }

    @Test("a failing store answers 500 with a reference to the log, never the database's error text, and the engine keeps running")
    func storeFailure() async throws {
        let log = CapturedLog()
        let directory = try TemporaryDirectory()
        _ = try SQLiteStore(path: directory.path("stepwise.db"))
        // It waits for the running server's writes (CI once found the store locked at the second drop).
        var waiting = Configuration()
        waiting.busyMode = .timeout(10)
        let database = try DatabaseQueue(path: directory.path("stepwise.db"), configuration: waiting)
        // Without its messages table every turn of the delivery loop fails, from the first one on.
        try await database.write { db in try db.execute(sql: "DROP TABLE messages") }
        try await RunningServer.with([hello], logger: log.logger, directory: directory) { server in
            try await database.write { db in try db.execute(sql: "DROP TABLE schedules") }
            let answer = try await send(.GET, server.url("/v2/schedules"))
            #expect(answer.status == 500)
            let message = try #require(answer.error)
            #expect(message.hasPrefix("cannot list schedules: an internal error occurred"), "\(message)")
            #expect(!message.contains("no such table") && !message.contains("SQLite"), "\(message)")
            let reference = try #require(message.split(separator: " ").last.map(String.init))
            #expect(log.text.contains(reference) && log.text.contains("no such table"), "the log has the details")
            _ = try await eventually("the delivery loop to report the failure") {
                log.text.contains("the delivery loop failed") ? true : nil
            }
            #expect(try await send(.GET, server.url("/health")).status == 200, "the server keeps serving")
            #expect(try await send(.GET, server.url("/api/runs")).status == 200)
        }
    }

    @Test("unknown runs are 404 with a JSON error on every run route")
    func unknownRuns() async throws {
        try await RunningServer.with([hello]) { server in
            for (method, path) in [(HTTPMethod.GET, "/api/runs/wfr_missing"), (.GET, "/v2/workflows/runs/wfr_missing"), (.DELETE, "/v2/workflows/runs/wfr_missing?cancel=true")] {
                let answer = try await send(method, server.url(path))
                #expect(answer.status == 404, "\(method) \(path)")
                #expect(answer.contentType == "application/json")
                #expect(answer.error?.contains("'wfr_missing'") == true, "\(method) \(path): \(answer.body)")
            }
        }
    }

    @Test("a request no route takes is a 404 with a JSON error naming the method and path, never its query")
    func unmatchedRoutes() async throws {
        try await RunningServer.with([hello]) { server in
            let requests: [(HTTPMethod, String)] = [
                (.POST, "/v2/publish/"), (.PUT, "/v2/publish/http://127.0.0.1:9/x"), (.GET, "/v2/nonexistent?qstash_token=\(RunningServer.token)"),
                (.POST, "/v2/workflows/runs"),
            ]
            for (method, path) in requests {
                let answer = try await send(method, server.url(path))
                #expect(answer.status == 404, "\(method) \(path)")
                #expect(answer.contentType == "application/json", "\(method) \(path)")
                let route = String(path.prefix { $0 != "?" })
                #expect(answer.error == "no route takes \(method) \(route): check the method and the path (the README lists the API)", "\(answer.body)")
                #expect(!answer.body.contains(RunningServer.token))
            }
            #expect(try await send(.GET, server.url("/v2/nonexistent"), token: nil).status == 401, "the token is checked first")
        }
    }

    @Test("the raw step log of a running run base64-decodes to the input and Upstash step JSON; DELETE cancels it; then both routes refuse")
    func rawStepsAndCancel() async throws {
        try await RunningServer.with([sleeper]) { server in
            let id = try await server.startRun("sleeper", #"{"reason": "testing"}"#)
            // Upstash's cleanup (`cancel=false`) reports the run and does not cancel it.
            let cleanup = try await send(.DELETE, server.url("/v2/workflows/runs/\(id)?cancel=false"))
            #expect(cleanup.status == 200)
            #expect(cleanup.json == ["workflowRunId": .string(id), "status": "running"])
            let log = try await eventually("the sleep to be journaled") { () -> [Value]? in
                let answer = try await send(.GET, server.url("/v2/workflows/runs/\(id)"))
                guard answer.status == 200, case .list(let entries)? = answer.json, entries.count == 2 else { return nil }
                return entries
            }
            let bodies = try log.map { entry in
                let encoded = try #require(entry["body"]?.string)
                let data = try #require(Data(base64Encoded: encoded), "body is not base64: \(encoded)")
                return try Value(json: String(decoding: data, as: UTF8.self))
            }
            #expect(bodies.first == ["reason": "testing"], "the first entry is the run's input")
            let step = try #require(bodies.last)
            #expect(step["stepId"] == 1)
            #expect(step["stepName"] == "nap")
            #expect(step["stepType"] == "SleepFor")
            #expect(step["concurrent"] == 1)
            // Upstash's `out` is the JSON *text* of the result.
            let out = try Value(json: try #require(step["out"]?.string))
            #expect(out["until"]?.string != nil)
            #expect(log.map { $0["callType"] } == ["step", "step"])
            #expect(log.map { $0["messageId"] } == [.string("msg_\(id)_0"), .string("msg_\(id)_1")])

            let canceled = try await send(.DELETE, server.url("/v2/workflows/runs/\(id)?cancel=true"))
            #expect(canceled.status == 200)
            #expect(canceled.json == ["workflowRunId": .string(id), "status": "canceled"])
            let view = try await send(.GET, server.url("/api/runs/\(id)"))
            #expect(view.json?["status"] == "canceled")

            let again = try await send(.DELETE, server.url("/v2/workflows/runs/\(id)?cancel=true"))
            #expect(again.status == 400)
            #expect(again.error == "run '\(id)' has already ended (canceled)")
            let ended = try await send(.GET, server.url("/v2/workflows/runs/\(id)"))
            #expect(ended.status == 404, "Upstash answers 404 once a run has ended")
        }
    }

    @Test("canceling a run that has finished is refused with 400 and leaves it as it was")
    func cancelFinishedRun() async throws {
        try await RunningServer.with([hello]) { server in
            let id = try await server.startRun("hello", #"{"name": "Ada"}"#)
            _ = try await finishedView(server, id)
            let answer = try await send(.DELETE, server.url("/v2/workflows/runs/\(id)?cancel=true"))
            #expect(answer.status == 400)
            #expect(answer.contentType == "application/json")
            #expect(answer.error == "run '\(id)' has already ended (succeeded)")
            let view = try await send(.GET, server.url("/api/runs/\(id)"))
            #expect(view.json?["status"] == "succeeded")
            #expect(view.json?["output"] == ["text": "Hello, Ada!"])
        }
    }
}
