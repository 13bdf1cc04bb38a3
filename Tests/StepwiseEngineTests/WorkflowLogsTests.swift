import Foundation
import Synchronization
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import StepwiseTesting
import Testing

/// Upstash's logs API (`GET /v2/workflows/logs`, `/v2/workflows/events?groupBy=workflowRunId`)
/// over YAML and SDK runs: states, responses, step groups, the pending step, filters and paging.
@Suite("Workflow logs API")
struct WorkflowLogsTests {
    static let greeter = """
        workflow: greeter
        steps:
          - id: nap
            sleep: 10ms
          - id: hello
            set: {text: "hello ${{ input.name }}"}
        output: ${{ steps.hello.text }}
        """
    static let breaker = """
        workflow: breaker
        steps:
          - id: boom
            fail: {message: "broken on purpose"}
        """
    static let tenant = """
        workflow: tenant
        concurrency: {key: "tenant-${{ input.t }}", limit: 2}
        steps:
          - id: hello
            set: {text: "hi"}
        """
    static let waiter = """
        workflow: waiter
        steps:
          - id: ready
            wait_for_event: {event: "ready", timeout: 1h}
        """

    @Test("runs of YAML and SDK workflows are listed newest first with their state, response, steps and pending step", arguments: StoreKind.testable)
    func runsWithTheirSteps(kind: StoreKind) async throws {
        try await CountingServer.with { endpoint in
            let definitions = [try definition(Self.greeter), try definition(Self.breaker), try definition(Self.waiter)]
            try await RunningServer.with(definitions, store: kind) { server in
                let greeted = try await server.startRun("greeter", #"{"name": "ada"}"#)
                _ = try await finishedRun(greeted, in: server.store)
                let broken = try await server.startRun("breaker", "{}")
                _ = try await finishedRun(broken, in: server.store)
                let sdk = EmulatedSDKEndpoint(stepwise: server, url: endpoint.url("/wf"), steps: ["a", "b"])
                endpoint.handle("/wf") { await sdk.answer($0) }
                let triggerOptions = [("Upstash-Forward-Authorization", "Bearer sdk-secret"), ("Upstash-Retry-Delay", "1000 * retried")]
                #expect(try await sdk.trigger(runId: "wfr_sdk_logs", payload: #"{"n":1}"#, extraHeaders: triggerOptions).status == 200)
                _ = try await finishedRun("wfr_sdk_logs", in: server.store)
                let waiting = try await server.startRun("waiter", "{}")
                try await parked(waiting, "ready", in: server.store)

                let page = try await send(.GET, server.url("/v2/workflows/logs?count=10"))
                #expect(page.status == 200)
                let runs = try #require(page.json?["runs"]?.list)
                #expect(runs.compactMap { $0["workflowRunId"]?.string } == [waiting, "wfr_sdk_logs", broken, greeted])
                #expect(runs.compactMap { $0["workflowState"]?.string } == ["RUN_STARTED", "RUN_SUCCESS", "RUN_FAILED", "RUN_SUCCESS"])

                let hello = try #require(runs.last)
                #expect(hello["workflowRunResponse"] == #""hello ada""#)
                #expect(hello["workflowUrl"]?.string?.hasSuffix("/workflows/greeter") == true)
                let helloSteps = try #require(hello["steps"]?.list)
                #expect(helloSteps.map { $0["type"] } == ["sequential", "sequential"])
                #expect(helloSteps.first?["steps"]?.list?.first?["stepType"] == "Initial")
                #expect(helloSteps.last?["steps"]?.list?.first?["stepName"] == "nap", "durable steps are journaled; `set` is recomputed")
                #expect(helloSteps.last?["steps"]?.list?.first?["state"] == "STEP_SUCCESS")
                #expect(runs[2]["dlqId"] == .string("dlq_" + broken))
                let sdkRun = runs[1]
                #expect(sdkRun["workflowUrl"] == .string(endpoint.url("/wf")))
                let sdkSteps = try #require(sdkRun["steps"]?.list).compactMap { $0["steps"]?.list?.first }
                #expect(sdkSteps.compactMap { $0["stepName"]?.string } == ["init", "a", "b"], "the initial payload first, as Upstash lists it")
                #expect(sdkSteps.first?["stepType"] == "Initial")
                #expect(sdkSteps.first?["out"] == #"{"n":1}"#)
                #expect(sdkSteps.allSatisfy { $0["messageId"]?.string?.hasPrefix("msg_") == true })
                // As workflow-js's client test shows a step: its message's forwarded headers and retries, and when it was recorded.
                #expect(sdkSteps.first?["headers"] == [
                    "Authorization": ["[redacted]"], "Content-Type": ["application/json"], "Upstash-Workflow-Sdk-Version": ["1"],
                ])
                #expect(sdkSteps.first?["retryDelay"] == "1000 * retried")
                #expect(!page.body.contains("sdk-secret"), "a credential is never shown")
                #expect(sdkSteps.allSatisfy { $0["retries"] == 3 && $0["headers"]?["Upstash-Workflow-Sdk-Version"] != nil })
                let recorded = sdkSteps.compactMap { $0["createdAt"]?.int }
                #expect(recorded.count == 3 && recorded == recorded.sorted(), "every step has its time, in log order: \(recorded)")
                #expect((recorded.first ?? 0) > 1_700_000_000_000, "unix ms")
                let pending = try #require(runs.first?["steps"]?.list?.last)
                #expect(pending["type"] == "next")
                #expect(pending["steps"]?.list?.first?["stepName"] == "ready")
                #expect(pending["steps"]?.list?.first?["state"] == "STEP_PROGRESS")
                #expect(pending["steps"]?.list?.first?["waitEventId"] == "ready", "a wait names its event, as Upstash's logs do")
                #expect((pending["steps"]?.list?.first?["waitTimeoutDeadline"]?.int ?? 0) > 1_700_000_000_000, "unix ms")
            }
        }
    }

    @Test("a run whose trigger asked for redaction shows its payload, results and response redacted, and every later message's headers too, as Upstash redacts per run", arguments: StoreKind.testable)
    func runWideRedaction(kind: StoreKind) async throws {
        try await CountingServer.with { endpoint in
            try await RunningServer.with([], store: kind) { server in
                // The Python SDK sends Upstash-Redact-Fields on the trigger only.
                var emulated = EmulatedSDKEndpoint(stepwise: server, url: endpoint.url("/wf"), steps: ["a"])
                emulated.messageHeaders = [("Upstash-Forward-X-Secret", "hidden-value")]
                let sdk = emulated
                // Its first delivery also makes a context.call, and it ends the run with a
                // response, as the SDKs end a workflow that returns one.
                endpoint.fallback("/third", .json("{}"))
                endpoint.handle("/wf") { request in
                    guard request.header("Upstash-Workflow-Callback") == nil else { return .json(#"{"finishCondition":"fromCallback"}"#) }
                    let done = try? RawStepArray(jsonBytes: Array(request.body.utf8)).stepEntries().count
                    if done == 0, endpoint.requests(to: "/third").isEmpty {
                        let call = sdk.stepHeaders(runId: "wfr_redacted") + [
                            ("Upstash-Workflow-CallType", "toCallback"), ("Upstash-Method", "POST"), ("Upstash-Retries", "0"),
                            ("Upstash-Callback", sdk.url), ("Upstash-Callback-Workflow-RunId", "wfr_redacted"),
                            ("Upstash-Callback-Forward-Upstash-Workflow-Callback", "true"),
                        ]
                        _ = try? await sdk.batch([(endpoint.url("/third"), call, #"{"call":"ping-quiet-call"}"#)])
                    }
                    guard done == 1 else { return await sdk.answer(request) }
                    _ = try? await send(.DELETE, server.url("/v2/workflows/runs/wfr_redacted?cancel=false"), body: #""card ok""#)
                    return EmulatedSDKEndpoint.acknowledgement()
                }
                // The secrets are words no timestamp, id or hash can hold (CI once found "9131" in a time).
                let redact = [("Upstash-Redact-Fields", "body,header[X-Secret]")]
                #expect(try await sdk.trigger(runId: "wfr_redacted", payload: #"{"card":"pan-kept-quiet"}"#, extraHeaders: redact).status == 200)
                let run = try await finishedRun("wfr_redacted", in: server.store)
                #expect(run.status == .succeeded)
                let logs = try await send(.GET, server.url("/v2/workflows/logs?workflowRunId=wfr_redacted"))
                let shown = try #require(logs.json?["runs"]?.list?.first, "\(logs.body)")
                let steps = try #require(shown["steps"]?.list).compactMap { $0["steps"]?.list?.first }
                #expect(steps.compactMap { $0["stepName"]?.string } == ["init", "a"])
                #expect(steps.first?["out"] == .string(MessageRedaction.redacted(Array(#"{"card":"pan-kept-quiet"}"#.utf8))), "the payload")
                #expect(steps.last?["out"] == .string(MessageRedaction.redacted(Array(#""a-done""#.utf8))), "a step's result")
                #expect(shown["workflowRunResponse"] == .string(MessageRedaction.redacted(Array(#""card ok""#.utf8))), "the response")
                #expect(steps.allSatisfy { $0["headers"]?["X-Secret"]?.list?.first?.string?.hasPrefix("REDACTED:") == true }, "\(steps)")
                #expect(endpoint.requests(to: "/third").first?.body == #"{"call":"ping-quiet-call"}"#, "the call went out with its body")
                let events = try await send(.GET, server.url("/v2/events?workflowRunId=wfr_redacted"))
                #expect(events.body.contains("/third"), "the call is in the message log: \(events.body)")
                let api = try await send(.GET, server.url("/api/runs/wfr_redacted"))
                #expect(api.json?["input"]?.string?.hasPrefix("REDACTED:") == true && api.json?["steps"]?.list?.first?["out"]?.string?.hasPrefix("REDACTED:") == true, "\(api.body)")
                let listed = try await send(.GET, server.url("/api/runs"))
                for text in [logs.body, events.body, api.body, listed.body] {
                    #expect(!text.contains("pan-kept-quiet") && !text.contains("hidden-value") && !text.contains("a-done") && !text.contains("card ok"), "\(text)")
                    #expect(!text.contains("quiet-call"), "the body of the run's context.call: \(text)")
                }
                let delivered = try #require(endpoint.requests(to: "/wf").last { $0.header("Upstash-Workflow-Callback") == nil })
                let bodies = try RawStepArray(jsonBytes: Array(delivered.body.utf8)).steps.map { String(decoding: $0.body, as: UTF8.self) }
                #expect(delivered.header("X-Secret") == "hidden-value" && bodies.first == #"{"card":"pan-kept-quiet"}"#, "deliveries carry the originals: \(bodies)")
            }
        }
    }

    @Test("a failed SDK run ends with Upstash's next group: the delivery that failed it, its error and the endpoint's answer", arguments: StoreKind.testable)
    func failedSDKRunsShowTheFailedDelivery(kind: StoreKind) async throws {
        try await CountingServer.with { endpoint in
            try await RunningServer.with([], store: kind) { server in
                endpoint.fallback("/plain", ScriptedResponse(status: 200, body: "not a workflow", headers: [("x-served-by", "plain")]))
                let sdk = EmulatedSDKEndpoint(stepwise: server, url: endpoint.url("/plain"), steps: ["a"])
                #expect(try await sdk.trigger(runId: "wfr_not_a_workflow", payload: "hello", extraHeaders: [("Upstash-Retries", "2")]).status == 200)
                #expect(try await finishedRun("wfr_not_a_workflow", in: server.store).status == .failed)
                let run = try #require(try await send(.GET, server.url("/v2/workflows/logs?workflowRunId=wfr_not_a_workflow")).json?["runs"]?.list?.first)
                let groups = try #require(run["steps"]?.list)
                #expect(groups.map { $0["type"] } == ["sequential", "next"])
                #expect(groups[0]["steps"]?.list?.first?["stepName"] == "init")
                let failed = try #require(groups[1]["steps"]?.list?.first)
                #expect(failed["state"] == "STEP_FAILED")
                #expect(failed["messageId"]?.string?.hasPrefix("msg_") == true)
                #expect(failed["retries"] == 2, "the retries the delivery had, as Upstash's next group says them")
                let error = try #require(failed["errors"]?.list?.first)
                #expect(error["error"]?.string?.hasPrefix("detected a non-workflow destination") == true)
                #expect(error["body"] == "not a workflow")
                #expect(error["status"] == 200)
                #expect(error["headers"]?["X-Served-By"] == .list(["plain"]))
            }
        }
    }

    @Test("a step of a parallel group that failed an SDK run is shown failed in its group, with the endpoint's 489, not in a next group", arguments: StoreKind.testable)
    func failedParallelStepsShowInTheirGroup(kind: StoreKind) async throws {
        try await CountingServer.with { endpoint in
            try await RunningServer.with([], store: kind) { server in
                let sdk = EmulatedSDKEndpoint(stepwise: server, url: endpoint.url("/pair"), steps: [])
                // As the JS SDK runs `Promise.all([run("fine"), run("broken")])`: two plans, then each
                // plan's delivery runs its step; the second throws a WorkflowNonRetryableError.
                endpoint.handle("/pair") { request in
                    guard let runId = request.header("Upstash-Workflow-RunId"),
                        let last = try? RawStepArray(jsonBytes: Array(request.body.utf8)).steps.last
                    else { return .status(500) }
                    let plan = try? last.step()
                    let items: [(destination: String, headers: [(String, String)], body: String?)]
                    switch (last.callType, plan?.targetStep) {
                    case (.step, nil) where plan == nil:
                        items = [1, 2].map { target in
                            let name = target == 1 ? "fine" : "broken"
                            return (sdk.url, sdk.stepHeaders(runId: runId),
                                #"{"stepId":0,"stepName":"\#(name)","stepType":"Run","concurrent":2,"targetStep":\#(target)}"#)
                        }
                    case (.step, 1?):
                        items = [(sdk.url, sdk.stepHeaders(runId: runId), #"{"stepId":1,"stepName":"fine","stepType":"Run","out":"\"ok\"","concurrent":2}"#)]
                    case (.step, 2?):
                        // Fails only once the fine step's result is in the log: a failed run takes no more steps.
                        _ = try? await eventually("the fine step's result") { () async throws -> Bool? in
                            let log = try await send(.GET, server.url("/v2/workflows/runs/\(runId)"))
                            let steps = (try? RawStepArray(jsonBytes: Array(log.body.utf8)).steps) ?? []
                            return steps.contains { (try? $0.step())?.stepId == 1 } ? true : nil
                        }
                        return EmulatedSDKEndpoint.nonRetryable("broken on purpose")
                    default:
                        return EmulatedSDKEndpoint.acknowledgement()
                    }
                    guard (try? await sdk.batch(items))?.status == 200 else { return .status(500) }
                    return EmulatedSDKEndpoint.acknowledgement()
                }
                #expect(try await sdk.trigger(runId: "wfr_pair", payload: "{}").status == 200)
                #expect(try await finishedRun("wfr_pair", in: server.store).status == .failed)
                let run = try await send(.GET, server.url("/v2/workflows/logs?workflowRunId=wfr_pair")).json?["runs"]?.list?.first
                let groups = try #require(run?["steps"]?.list)
                #expect(groups.map { $0["type"] } == ["sequential", "parallel"], "no next group: the failure is in its group")
                let steps = try #require(groups.last?["steps"]?.list)
                let broken = try #require(steps.first { $0["stepName"] == "broken" })
                #expect(broken["state"] == "STEP_FAILED")
                #expect(broken["stepId"] == 2 && broken["concurrent"] == 2 && broken["stepType"] == "Run")
                #expect(broken["messageId"]?.string?.hasPrefix("msg_") == true)
                #expect(broken["createdAt"]?.int != nil && broken["headers"] != nil)
                let error = try #require(broken["errors"]?.list?.first)
                #expect(error["status"] == 489)
                #expect(error["body"]?.string?.contains("broken on purpose") == true)
                #expect(steps.first { $0["stepName"] == "fine" }?["state"] == "STEP_SUCCESS")
            }
        }
    }

    @Test("a running SDK run ends with Upstash's next group: its queued delivery, in progress, or retrying with the errors so far; once canceled, what the cancel dropped", arguments: StoreKind.testable)
    func runningSDKRunsShowTheirNextDelivery(kind: StoreKind) async throws {
        try await CountingServer.with { endpoint in
            try await RunningServer.with([], store: kind) { server in
                let attempts = Mutex(0)
                endpoint.handle("/down") { _ in
                    let attempt = attempts.withLock { count in
                        count += 1
                        return count
                    }
                    return .json(#"{"error":"Error","message":"down \#(attempt)"}"#, status: 503)
                }
                let sdk = EmulatedSDKEndpoint(stepwise: server, url: endpoint.url("/down"), steps: ["a"])
                // The first retry comes at once, the second a minute later: the run is seen between them.
                let retrying = [("Upstash-Retries", "4"), ("Upstash-Retry-Delay", "retried * 60000")]
                let triggered = try await sdk.trigger(runId: "wfr_retrying", payload: "{}", extraHeaders: retrying)
                let first = try #require(triggered.json?.list?.first?["messageId"]?.string)
                _ = try await eventually("the second attempt's error") {
                    try await server.store.queuedMessage(id: first)?.message.attempt == 2 ? true : nil
                }
                let run = try #require(try await send(.GET, server.url("/v2/workflows/logs?workflowRunId=wfr_retrying")).json?["runs"]?.list?.first)
                let groups = try #require(run["steps"]?.list)
                #expect(groups.map { $0["type"] } == ["sequential", "next"])
                let next = try #require(groups.last?["steps"]?.list)
                #expect(next.count == 1)
                #expect(next.first?["messageId"] == .string(first) && next.first?["state"] == "STEP_RETRY")
                #expect(next.first?["retries"] == 4 && next.first?["retryDelay"] == "retried * 60000")
                let errors = try #require(next.first?["errors"]?.list)
                #expect(errors.map { $0["status"] } == [503, 503])
                #expect(errors.map { $0["body"]?.string?.contains("down 1") } == [true, false], "oldest first")
                #expect(errors.last?["body"]?.string?.contains("down 2") == true)

                // Due later, and not yet tried.
                let delayed = try await sdk.trigger(runId: "wfr_delayed", payload: "{}", extraHeaders: [("Upstash-Delay", "60s")])
                let waiting = try #require(delayed.json?.list?.first?["messageId"]?.string)
                let page = try await send(.GET, server.url("/v2/workflows/logs?workflowRunId=wfr_delayed")).json
                let pending = try #require(page?["runs"]?.list?.first?["steps"]?.list?.last?["steps"]?.list?.first)
                #expect(pending["messageId"] == .string(waiting) && pending["state"] == "STEP_PROGRESS" && pending["errors"] == nil)

                // Canceled, as the workflow-js client's own test expects: the dropped delivery, with its errors.
                for runId in ["wfr_retrying", "wfr_delayed"] {
                    #expect(try await send(.DELETE, server.url("/v2/workflows/runs/\(runId)?cancel=true")).status == 200)
                }
                let canceled = try #require(try await send(.GET, server.url("/v2/workflows/logs?workflowRunId=wfr_retrying")).json?["runs"]?.list?.first)
                #expect(canceled["workflowState"] == "RUN_CANCELED")
                #expect(canceled["steps"]?.list?.map { $0["type"] } == ["sequential", "next"])
                let dropped = try #require(canceled["steps"]?.list?.last?["steps"]?.list)
                #expect(dropped.count == 1)
                #expect(dropped.first?["messageId"] == .string(first) && dropped.first?["state"] == "STEP_CANCELED")
                #expect(dropped.first?["retries"] == 4 && dropped.first?["retryDelay"] == "retried * 60000")
                #expect(dropped.first?["errors"]?.list?.map { $0["status"] } == [503, 503])
                let never = try await send(.GET, server.url("/v2/workflows/logs?workflowRunId=wfr_delayed")).json
                let neverTried = try #require(never?["runs"]?.list?.first?["steps"]?.list?.last?["steps"]?.list?.first)
                #expect(neverTried["messageId"] == .string(waiting) && neverTried["state"] == "STEP_CANCELED" && neverTried["errors"] == nil)
            }
        }
    }

    @Test("a YAML run's last http step, recorded with the run's end, shows when that delivery finished")
    func lastStepTime() async throws {
        try await CountingServer.with { endpoint in
            endpoint.script("/ping", .json("{}", delay: .milliseconds(30)))
            let pinger = try definition("""
                workflow: pinger
                steps:
                  - id: ping
                    http: {url: "\(endpoint.url("/ping"))"}
                """)
            try await RunningServer.with([pinger], store: .sqlite) { server in
                let id = try await server.startRun("pinger", "{}")
                let run = try await finishedRun(id, in: server.store)
                let ended = try #require(try await server.store.attempts(runId: id).last)
                #expect(ended.outcome == "completed")
                let page = try await send(.GET, server.url("/v2/workflows/logs?workflowRunId=\(id)"))
                let steps = try #require(page.json?["runs"]?.list?.first?["steps"]?.list)
                let ping = try #require(steps.last?["steps"]?.list?.first)
                #expect(ping["stepName"] == "ping")
                #expect(ping["createdAt"] == .int(ended.finishedAt.millisecondsSinceEpoch))
                #expect(ping["createdAt"] != .int(run.createdAt.millisecondsSinceEpoch))
            }
        }
    }

    @Test("filters by state, run id, workflow URL and start time; pages with count and cursor; the events form answers the same; bad queries are refused", arguments: StoreKind.testable)
    func filtersAndPaging(kind: StoreKind) async throws {
        try await RunningServer.with([try definition(Self.greeter), try definition(Self.breaker)], store: kind) { server in
            var ids: [String] = []
            for index in 0..<3 { ids.append(try await server.startRun("greeter", #"{"name": "n\#(index)"}"#)) }
            let broken = try await server.startRun("breaker", "{}")
            for id in ids + [broken] { _ = try await finishedRun(id, in: server.store) }

            let failed = try await send(.GET, server.url("/v2/workflows/logs?state=RUN_FAILED"))
            #expect(failed.json?["runs"]?.list?.compactMap { $0["workflowRunId"]?.string } == [broken])
            let one = try await send(.GET, server.url("/v2/workflows/events?groupBy=workflowRunId&workflowRunId=\(ids[1])"))
            #expect(one.json?["runs"]?.list?.compactMap { $0["workflowRunId"]?.string } == [ids[1]])
            #expect(one.json?["cursor"] == .null)
            let none = try await send(.GET, server.url("/v2/workflows/logs?workflowUrl=http://elsewhere/wf"))
            #expect(none.json?["runs"]?.list?.isEmpty == true)

            var seen: [String] = []
            var cursor: String?
            repeat {
                let path = "/v2/workflows/logs?count=1" + (cursor.map { "&cursor=\($0)" } ?? "")
                let answer = try await send(.GET, server.url(path))
                seen += answer.json?["runs"]?.list?.compactMap { $0["workflowRunId"]?.string } ?? []
                cursor = answer.json?["cursor"]?.string
            } while cursor != nil && seen.count < 10
            #expect(seen == [broken] + ids.reversed(), "count=1 pages through every run once, newest first")

            // workflowCreatedAt: the run started at that millisecond, as the JS SDK's filter asks;
            // toDate includes its millisecond.
            let created = try #require(try await server.store.run(id: ids[1])?.createdAt.millisecondsSinceEpoch)
            let createdAt = { (answer: HTTPAnswer) in answer.json?["runs"]?.list?.compactMap { $0["workflowRunCreatedAt"]?.int } ?? [] }
            let listed = { (answer: HTTPAnswer) in answer.json?["runs"]?.list?.compactMap { $0["workflowRunId"]?.string } ?? [] }
            let atStart = try await send(.GET, server.url("/v2/workflows/logs?workflowCreatedAt=\(created)"))
            let everyRun = try await send(.GET, server.url("/v2/workflows/logs"))
            let startedThen = zip(listed(everyRun), createdAt(everyRun)).filter { $0.1 == created }.map(\.0)
            #expect(listed(atStart) == startedThen && startedThen.contains(ids[1]), "\(atStart.body)")
            let untilStart = try await send(.GET, server.url("/v2/workflows/logs?toDate=\(created)&fromDate=\(created)"))
            #expect(listed(untilStart).contains(ids[1]) && createdAt(untilStart).allSatisfy { $0 == created })
            let outside = try await send(.GET, server.url("/v2/workflows/logs?workflowCreatedAt=\(created)&fromDate=\(created + 1)"))
            #expect(outside.json?["runs"]?.list?.isEmpty == true, "both bounds hold")

            for bad in [
                "count=0", "count=ten", "state=DONE", "cursor=%21%21", "fromDate=yesterday", "groupBy=messageId", "messageId=msg_x",
                "callerIp=,", "workflowCreatedAt=9223372036854775807",
            ] {
                let answer = try await send(.GET, server.url("/v2/workflows/logs?\(bad)"))
                #expect(answer.status == 400, "\(bad): \(answer.body)")
                #expect(answer.error?.isEmpty == false)
            }
            #expect(try await send(.GET, server.url("/v2/workflows/logs"), token: nil).status == 401)
        }
    }

    @Test("a YAML run is found by its concurrency key as Upstash's flowControlKey, any of several", arguments: StoreKind.testable)
    func yamlRunsByFlowControlKey(kind: StoreKind) async throws {
        try await RunningServer.with([try definition(Self.tenant)], store: kind) { server in
            let a = try await server.startRun("tenant", #"{"t": "a"}"#)
            let b = try await server.startRun("tenant", #"{"t": "b"}"#)
            for id in [a, b] { _ = try await finishedRun(id, in: server.store) }
            let listed = { (query: String) in
                try await send(.GET, server.url("/v2/workflows/logs?\(query)")).json?["runs"]?.list?.compactMap { $0["workflowRunId"]?.string }
            }
            #expect(try await listed("flowControlKey=tenant-a") == [a])
            #expect(try await listed("flowControlKey=tenant-c,tenant-b") == [b])
            #expect(try await listed("flowControlKey=tenant-a&flowControlKey=tenant-b") == [b, a])
            #expect(try await listed("workflowRunId=\(a)&flowControlKey=tenant-a") == [a])
            #expect(try await listed("workflowRunId=\(a)&flowControlKey=tenant-b") == [], "every filter holds, the run's id too")
            let ownAPI = try await send(.GET, server.url("/api/runs?flowControlKey=tenant-b")).json?["runs"]?.list?.compactMap { $0["workflowRunId"]?.string }
            #expect(ownAPI == [b], "Stepwise's own listing reads it as the logs API does")
        }
    }

    @Test("a YAML run's parallel branches are one parallel group in the logs, as an SDK run's; a catch's steps are not")
    func yamlParallelGroups() async throws {
        let fanned = try definition("""
            workflow: fanned
            steps:
              - id: both
                parallel:
                  left:
                    - id: l
                      sleep: 1ms
                  right:
                    - id: r
                      sleep: 1ms
              - id: guarded
                fail: {message: "caught"}
                catch:
                  - id: recover
                    sleep: 1ms
              - id: after
                sleep: 1ms
            """)
        try await RunningServer.with([fanned], store: .sqlite) { server in
            let id = try await server.startRun("fanned", "{}")
            _ = try await finishedRun(id, in: server.store)
            let groups = try #require(try await send(.GET, server.url("/v2/workflows/logs?workflowRunId=\(id)")).json?["runs"]?.list?.first?["steps"]?.list)
            #expect(groups.map { $0["type"] } == ["sequential", "parallel", "sequential", "sequential"], "\(groups)")
            #expect(Set(groups[1]["steps"]?.list?.compactMap { $0["stepName"]?.string } ?? []) == ["both.left.l", "both.right.r"])
            #expect(groups[2]["steps"]?.list?.first?["stepName"] == "guarded.catch.recover", "a catch's steps are no fan-out")
            #expect(groups[3]["steps"]?.list?.first?["stepName"] == "after")
        }
    }

    @Test("a query is read as a form: + is a space (URLSearchParams in a browser or the JS SDK), %2B a plus, in both listings")
    func queriesAreForms() async throws {
        try await RunningServer.with([try definition(Self.greeter)], store: .sqlite) { server in
            let spaced = try await server.startRun("greeter", #"{"name": "x"}"#, headers: [("Upstash-Label", "nightly batch")])
            let plus = try await server.startRun("greeter", #"{"name": "y"}"#, headers: [("Upstash-Label", "a+b")])
            for id in [spaced, plus] { _ = try await finishedRun(id, in: server.store) }
            for (query, expected) in [("label=nightly+batch", spaced), ("label=nightly%20batch", spaced), ("label=a%2Bb", plus), ("lab%65l=a%2Bb", plus)] {
                let own = try await send(.GET, server.url("/api/runs?\(query)")).json?["runs"]?.list?.compactMap { $0["workflowRunId"]?.string }
                #expect(own == [expected], "\(query)")
                let logs = try await send(.GET, server.url("/v2/workflows/logs?\(query)")).json?["runs"]?.list?.compactMap { $0["workflowRunId"]?.string }
                #expect(logs == [expected], "\(query)")
            }
        }
    }

    @Test("runs started with a label (YAML trigger or SDK message) are found by it in both APIs; a time range narrows /api/runs", arguments: StoreKind.testable)
    func labelsAndTimeRanges(kind: StoreKind) async throws {
        try await CountingServer.with { endpoint in
            try await RunningServer.with([try definition(Self.greeter)], store: kind) { server in
                let before = try await server.startRun("greeter", #"{"name": "x"}"#)
                let labelled = try await server.startRun("greeter", #"{"name": "y"}"#, headers: [("Upstash-Label", "tenant-7")])
                let sdk = EmulatedSDKEndpoint(stepwise: server, url: endpoint.url("/wf"), steps: ["a"])
                endpoint.handle("/wf") { await sdk.answer($0) }
                #expect(try await sdk.trigger(runId: "wfr_labelled_sdk", payload: "{}", extraHeaders: [("Upstash-Label", "tenant-7")]).status == 200)
                for id in [before, labelled, "wfr_labelled_sdk"] { _ = try await finishedRun(id, in: server.store) }

                let listed = try await send(.GET, server.url("/api/runs?label=tenant-7"))
                #expect(Set(listed.json?["runs"]?.list?.compactMap { $0["workflowRunId"]?.string } ?? []) == [labelled, "wfr_labelled_sdk"])
                #expect(listed.json?["runs"]?.list?.allSatisfy { $0["label"] == "tenant-7" } == true)
                let logs = try await send(.GET, server.url("/v2/workflows/logs?label=tenant-7"))
                #expect(logs.json?["runs"]?.list?.count == 2)
                let ids = { (query: String) in
                    try await send(.GET, server.url("/v2/workflows/logs?\(query)")).json?["runs"]?.list?.compactMap { $0["workflowRunId"]?.string }
                }
                #expect(try await ids("workflowUrl=http://127.0.0.1:9/other&workflowUrl=\(endpoint.url("/wf"))") == ["wfr_labelled_sdk"], "any of several")
                #expect(try await ids("workflowRunId=wfr_labelled_sdk&label=tenant-7") == ["wfr_labelled_sdk"])
                #expect(try await ids("workflowRunId=\(before)&label=tenant-7") == [], "the run is not labelled so")
                #expect(try await ids("workflowRunId=")?.count == 3, "an empty value is no filter, as in every listing")
                #expect(try await ids("callerIp=127.0.0.1")?.count == 3, "each run was started from loopback, YAML and SDK alike")
                #expect(try await ids("callerIP=10.0.0.1") == [])
                #expect(try await send(.POST, server.url("/workflows/greeter"), body: "{}", headers: [("Upstash-Label", String(repeating: "l", count: 300))]).status == 400)

                let created = try #require(try await server.store.run(id: labelled)?.createdAt)
                let from = try await send(.GET, server.url("/api/runs?from=\(created.description)"))
                #expect(!(from.json?["runs"]?.list?.contains { $0["workflowRunId"] == .string(before) } ?? true), "runs created before `from` are left out")
                #expect(from.json?["runs"]?.list?.contains { $0["workflowRunId"] == .string(labelled) } == true)
                let to = try await send(.GET, server.url("/api/runs?to=\(created.description)"))
                #expect(to.json?["runs"]?.list?.compactMap { $0["workflowRunId"]?.string } == [before])
                #expect(try await send(.GET, server.url("/api/runs?from=yesterday")).status == 400)
                for repeated in ["status=running&status=failed", "workflow=a&workflow=b", "limit=1&limit=2"] {
                    let answer = try await send(.GET, server.url("/api/runs?\(repeated)"))
                    #expect(answer.status == 400 && answer.body.contains("give one value of"), "\(repeated): \(answer.body)")
                }
            }
        }
    }
}
