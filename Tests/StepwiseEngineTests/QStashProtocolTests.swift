import Foundation
import Synchronization
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import StepwiseServer
import Testing
import StepwiseTesting

/// Stepwise as QStash for Upstash SDK workflows, over real loopback HTTP: an emulated SDK
/// endpoint publishes steps back through `/v2/batch` as the official SDKs do.
@Suite struct QStashProtocolTests {
    /// Retry delays a thousand times shorter: QStash's 12 s backoff becomes 12 ms.
    static let fastRetries = WorkflowEngine.Configuration(retryDelayScale: 0.001)

    @Test(arguments: StoreKind.testable) func anSDKRunIsDeliveredOneLogPrefixAtATimeSignedAndFinishedByItsCleanup(kind: StoreKind) async throws {
        try await CountingServer.with { endpoint in
            try await RunningServer.with([], store: kind) { stepwise in
                let sdk = EmulatedSDKEndpoint(stepwise: stepwise, url: endpoint.url("/wf"), steps: ["a", "b", "c"])
                endpoint.handle("/wf") { await sdk.answer($0) }
                let trigger = try await sdk.trigger(
                    runId: "wfr_seq", payload: #"{"n":1}"#,
                    extraHeaders: [("Upstash-Forward-X-Team", "blue"), ("Upstash-Forward-Host", "evil.test"), ("Upstash-Forward-Upstash-Signature", "stale")])
                #expect(trigger.status == 200)
                #expect(trigger.json?.list?.first?["url"]?.string == endpoint.url("/wf"))
                #expect(trigger.json?.list?.first?["messageId"]?.string?.hasPrefix("msg_") == true)

                let run = try await finishedRun("wfr_seq", in: stepwise.store)
                #expect(run.status == .succeeded)
                #expect(run.endpoint == endpoint.url("/wf"))
                let deliveries = endpoint.requests(to: "/wf")
                #expect(deliveries.count == 4)
                let verifier = SignatureVerifier(keys: try await stepwise.engine.signingKeys())
                for (index, delivery) in deliveries.enumerated() {
                    let body = Array(delivery.body.utf8)
                    let log = try RawStepArray(jsonBytes: body)
                    #expect(log.steps.count == index + 1, "delivery \(index) carries the log up to its own entry")
                    #expect(log.initialPayload == Array(#"{"n":1}"#.utf8))
                    #expect(delivery.header("Upstash-Message-Id") == log.steps.last?.messageId)
                    #expect(delivery.header("Upstash-Workflow-RunId") == "wfr_seq")
                    #expect(delivery.header("Upstash-Workflow-Sdk-Version") == "1")
                    #expect(delivery.header("Upstash-Retried") == "0")
                    // Python's SDK forwards user headers with each message; only the trigger had one here.
                    #expect(delivery.header("X-Team") == (index == 0 ? "blue" : nil))
                    #expect(delivery.header("Host") != "evil.test")
                    let claims = try verifier.verify(
                        token: delivery.header("Upstash-Signature") ?? "", body: body, now: Int64(Date().timeIntervalSince1970), leeway: 5,
                        url: endpoint.url("/wf"))
                    #expect(claims.issuer == "Upstash")
                }
                let last = try RawStepArray(jsonBytes: Array(deliveries[3].body.utf8))
                #expect(try last.stepEntries().map(\.stepName) == ["a", "b", "c"])
                let attempts = try await eventually("every delivery in the run's history") { () -> [AttemptRecord]? in
                    let recorded = try await stepwise.store.attempts(runId: "wfr_seq")
                    return recorded.count == 4 ? recorded : nil
                }
                #expect(attempts.map(\.outcome) == ["delivered", "delivered", "delivered", "delivered"], "the last one too, though its run ended during it")
                for delivery in deliveries {
                    let id = try #require(delivery.header("Upstash-Message-Id"))
                    let states = try await stepwise.messageStates(of: id)
                    #expect(states == ["DELIVERED", "CREATED"], "\(id): the last one too, though its run ended during it")
                }
            }
        }
    }

    @Test(arguments: StoreKind.testable) func aDeliveryInFlightWhenItsRunIsCanceledLogsItsErrorThenCanceled(kind: StoreKind) async throws {
        try await CountingServer.with { endpoint in
            try await RunningServer.with([], store: kind, configuration: Self.fastRetries) { stepwise in
                // The endpoint cancels its own run, then fails: the message is not tried again.
                endpoint.handle("/doomed") { request in
                    let runId = request.header("Upstash-Workflow-RunId") ?? ""
                    _ = try? await send(.DELETE, stepwise.url("/v2/workflows/runs/\(runId)?cancel=true"))
                    return .json(#"{"error":"boom"}"#, status: 500)
                }
                let sdk = EmulatedSDKEndpoint(stepwise: stepwise, url: endpoint.url("/doomed"), steps: ["a"])
                let trigger = try await sdk.trigger(runId: "wfr_doomed", payload: "{}")
                let id = try #require(trigger.json?.list?.first?["messageId"]?.string)
                let states = try await eventually("the attempt's end logged") { () -> [String]? in
                    let states = try await stepwise.messageStates(of: id)
                    return states.first == "CANCELED" ? states : nil
                }
                #expect(states == ["CANCELED", "ERROR", "CREATED"])
                #expect(try await stepwise.store.run(id: "wfr_doomed")?.status == .canceled)
                #expect(endpoint.requests(to: "/doomed").count == 1, "never tried again")
            }
        }
    }

    @Test(arguments: StoreKind.testable) func aPlainMessageWithACallbackHasItCalledAfterEveryAttempt(kind: StoreKind) async throws {
        try await CountingServer.with { target in
            target.script("/flaky", ScriptedResponse(status: 500, body: "not yet", contentType: "text/plain"), .json(#"{"done":true}"#, status: 201))
            try await RunningServer.with([], store: kind, configuration: Self.fastRetries) { stepwise in
                let published = try await send(
                    .POST, stepwise.url("/v2/publish/" + target.url("/flaky")), body: #"{"n":1}"#,
                    headers: [("Upstash-Retries", "1"), ("Upstash-Callback", target.url("/cb")), ("Upstash-Forward-X-Team", "blue")])
                let id = try #require(published.json?["messageId"]?.string, "\(published.body)")
                let callbacks = try await eventually("a callback after each of the two attempts") { () -> [CallbackBody]? in
                    let received = target.requests(to: "/cb")
                    return received.count == 2 ? try received.map { try CallbackBody(jsonBytes: Array($0.body.utf8)) } : nil
                }
                // Two callbacks are two deliveries, made concurrently: under load the second may
                // arrive first (QStash does not order them either).
                .sorted { ($0.retried ?? 0) < ($1.retried ?? 0) }
                #expect(callbacks.map(\.status) == [500, 201])
                #expect(callbacks.map(\.retried) == [nil, 1], "left out on the first attempt, as QStash does")
                #expect(callbacks.map { String(decoding: $0.body, as: UTF8.self) } == ["not yet", #"{"done":true}"#])
                for callback in callbacks {
                    #expect(callback.sourceMessageId == id)
                    #expect(callback.url == target.url("/flaky") && callback.method == "POST" && callback.maxRetries == 1)
                    #expect(String(decoding: callback.sourceBody, as: UTF8.self) == #"{"n":1}"#)
                    #expect(callback.sourceHeader.first { $0.name == "X-Team" }?.values == ["blue"])
                }
                let delivered = target.requests(to: "/cb")
                #expect(delivered.allSatisfy { $0.header("Upstash-Signature") != nil }, "callbacks are signed like any delivery")
                #expect(try await stepwise.messageStates(of: id) == ["DELIVERED", "RETRY", "ERROR", "CREATED"])
            }
        }
    }

    @Test("a plain message goes with its method and its body whatever the method, and names its publisher in Upstash-Caller-Ip, as QStash's deliveries do", arguments: StoreKind.testable)
    func aMessageKeepsItsBodyWhateverTheMethodAndNamesItsCaller(kind: StoreKind) async throws {
        try await CountingServer.with { target in
            try await RunningServer.with([], store: kind) { stepwise in
                for method in ["GET", "DELETE", "PUT"] {
                    let published = try await send(
                        .POST, stepwise.url("/v2/publish/" + target.url("/\(method)")), body: "payload of \(method)",
                        headers: [("Upstash-Method", method), ("Upstash-Forward-Upstash-Caller-Ip", "10.9.9.9")])
                    #expect(published.status == 200, "\(published.body)")
                }
                for method in ["GET", "DELETE", "PUT"] {
                    let received = try await eventually("the \(method) delivery") { target.requests(to: "/\(method)").first }
                    #expect(received.method == method)
                    #expect(received.body == "payload of \(method)")
                    #expect(received.header("Upstash-Caller-Ip") == "127.0.0.1", "the publisher's address, never a forwarded one")
                }
            }
        }
    }

    @Test(arguments: StoreKind.testable) func aCallbackKeepsItsOwnOptionsAndIsShownWithoutTheSecretsItCarries(kind: StoreKind) async throws {
        try await CountingServer.with { target in
            target.fallback("/cb-down", ScriptedResponse(status: 500, body: "down", contentType: "text/plain"))
            try await RunningServer.with([], store: kind, configuration: Self.fastRetries) { stepwise in
                let added = try await send(.POST, stepwise.url("/v2/topics/team/endpoints"), body: #"{"endpoints": [{"url": "\#(target.url("/ok"))", "name": "one"}]}"#)
                #expect(added.status == 200, "\(added.body)")
                let published = try await send(
                    .POST, stepwise.url("/v2/publish/team"), body: "card pan-kept-quiet",
                    headers: [
                        ("Upstash-Forward-Authorization", "Bearer sk-secret"), ("Upstash-Callback", target.url("/cb-down")),
                        ("Upstash-Callback-Retries", "2"), ("Upstash-Callback-Retry-Delay", "3600000"), ("Upstash-Callback-Timeout", "7s"),
                    ])
                let source = try #require(published.json?.list?.first?["messageId"]?.string, "\(published.body)")
                let first = try await eventually("the callback's first attempt") { target.requests(to: "/cb-down").first }
                let body = try CallbackBody(jsonBytes: Array(first.body.utf8))
                #expect(body.sourceMessageId == source && body.topicName == "team" && body.endpointName == "one")
                #expect(body.sourceHeader.first { $0.name == "Authorization" }?.values == ["Bearer sk-secret"], "delivered to the callback as sent")

                let created = try await send(.GET, stepwise.url("/v2/events?url=\(target.url("/cb-down"))&state=CREATED")).json?["events"]?.list ?? []
                let event = try #require(created.first)
                #expect(event["maxRetries"] == 2 && event["timeout"] == 7, "the callback's own options: \(event)")
                #expect(event["body"] == nil)
                let id = try #require(event["messageId"]?.string)
                // Retried after its own delay (an hour, a thousand times shorter here), not QStash's backoff of 12 s.
                let waiting = try await send(.GET, stepwise.url("/v2/messages/\(id)"))
                #expect(waiting.status == 200, "\(waiting.body)")
                #expect(waiting.json?["retryDelayExpression"] == "3600000")
                #expect(waiting.json?["body"] == nil && waiting.json?["bodyBase64"] == nil, "a callback's body carries its source's headers and body")
                for shown in [waiting.body, try await send(.GET, stepwise.url("/v2/events")).body] {
                    #expect(!shown.contains("sk-secret") && !shown.contains("pan-kept-quiet"))
                }
            }
        }
    }

    @Test("a destination that echoes a forwarded credential in its answer: the message log and the DLQ show it redacted, as the header is")
    func echoedCredentialsAreRedacted() async throws {
        try await CountingServer.with { target in
            let echo = #"{"error": "bad token Bearer tok-ECHOED-123456", "seen": "tok-ECHOED-123456", "short": "abc"}"#
            target.fallback("/echo", ScriptedResponse(status: 500, body: echo, contentType: "application/json"))
            try await RunningServer.with([], configuration: Self.fastRetries) { stepwise in
                let published = try await send(
                    .POST, stepwise.url("/v2/publish/\(target.url("/echo"))"), body: "hi",
                    headers: [("Upstash-Forward-Authorization", "Bearer tok-ECHOED-123456"), ("Upstash-Forward-X-Api-Key", "abc"), ("Upstash-Retries", "0")])
                #expect(published.status == 200, "\(published.body)")
                let dlq = try await eventually("the message in the DLQ") {
                    let answer = try await send(.GET, stepwise.url("/v2/dlq"))
                    return answer.json?["messages"]?.list?.isEmpty == false ? answer : nil
                }
                #expect(target.requests(to: "/echo").first?.header("authorization") == "Bearer tok-ECHOED-123456", "delivered as sent")
                for shown in [dlq.body, try await send(.GET, stepwise.url("/v2/events")).body] {
                    #expect(!shown.contains("tok-ECHOED"), "\(shown)")
                    #expect(shown.contains("[redacted]"), "\(shown)")
                    #expect(shown.contains("abc"), "a credential shorter than 8 characters is not looked for: it would cut words out")
                }
            }
        }
    }

    @Test(arguments: StoreKind.testable) func stepsPublishedTwiceAreRecordedOnceAndEndedRunsRefuseAppends(kind: StoreKind) async throws {
        try await CountingServer.with { endpoint in
            try await RunningServer.with([], store: kind) { stepwise in
                // An endpoint that acknowledges deliveries without publishing: the test publishes.
                endpoint.fallback("/hold", EmulatedSDKEndpoint.acknowledgement())
                let sdk = EmulatedSDKEndpoint(stepwise: stepwise, url: endpoint.url("/hold"), steps: ["a"])
                #expect(try await sdk.trigger(runId: "wfr_dup", payload: "{}").status == 200)
                let again = try await sdk.trigger(runId: "wfr_dup", payload: "{}")
                #expect(again.status == 400, "the run is in progress: \(again.body)")

                let first = try await sdk.batch([(sdk.url, sdk.stepHeaders(runId: "wfr_dup"), sdk.stepJSON(0))])
                let second = try await sdk.batch([(sdk.url, sdk.stepHeaders(runId: "wfr_dup"), sdk.stepJSON(0))])
                #expect(second.json?.list?.first?["deduplicated"] == .bool(true))
                #expect(second.json?.list?.first?["messageId"] == first.json?.list?.first?["messageId"])
                let log = try await send(.GET, stepwise.url("/v2/workflows/runs/wfr_dup"))
                #expect(log.json?.list?.count == 2, "the initial payload and one step")

                #expect(try await send(.DELETE, stepwise.url("/v2/workflows/runs/wfr_dup?cancel=false")).status == 200)
                #expect(try await send(.DELETE, stepwise.url("/v2/workflows/runs/wfr_dup?cancel=false")).status == 200, "cleanup is idempotent")
                #expect(try await stepwise.store.run(id: "wfr_dup")?.status == .succeeded)
                let late = try await sdk.batch([(sdk.url, sdk.stepHeaders(runId: "wfr_dup"), sdk.stepJSON(0).replacingOccurrences(of: "\"stepId\":1", with: "\"stepId\":2"))])
                #expect(late.status == 400)
                #expect(late.error == "failed to publish to url: can not append to a a finished workflow")
                #expect(try await send(.GET, stepwise.url("/v2/workflows/runs/wfr_dup")).status == 404, "an ended run's log is gone, as on Upstash")

                let delayed = try await sdk.trigger(runId: "wfr_cancel", payload: "{}", extraHeaders: [("Upstash-Delay", "1h")])
                let delayedId = try #require(delayed.json?.list?.first?["messageId"]?.string)
                #expect(try await send(.DELETE, stepwise.url("/v2/workflows/runs/wfr_cancel?cancel=true")).status == 200)
                #expect(try await stepwise.messageStates(of: delayedId) == ["CANCELED", "CREATED"], "a message its run's cancel drops is logged as canceled")
                let afterCancel = try await sdk.batch([(sdk.url, sdk.stepHeaders(runId: "wfr_cancel"), sdk.stepJSON(0))])
                #expect(afterCancel.error == "failed to publish to url: can not append to a a cancelled workflow")
                let unknown = try await sdk.batch([(sdk.url, sdk.stepHeaders(runId: "wfr_nobody"), sdk.stepJSON(0))])
                #expect(unknown.status == 404)
                let held = try await eventually("both deliveries of wfr_dup") { () -> [ReceivedRequest]? in
                    let received = endpoint.requests(to: "/hold")
                    return received.count >= 2 ? received : nil
                }
                #expect(held.map { $0.header("Upstash-Workflow-RunId") } == ["wfr_dup", "wfr_dup"], "one delivery per distinct step; none for the canceled run")
            }
        }
    }

    @Test("a step or a wait that names a YAML run is refused with a 409: nothing is appended, delivered or waited on", arguments: StoreKind.testable)
    func protocolCallsNamingAYAMLRunAreRefused(kind: StoreKind) async throws {
        try await RunningServer.with([try definition(PrimitiveTests.waiter)], store: kind) { stepwise in
            let run = try await stepwise.startRun("waiter", #"{"order_id": 5}"#)
            try await parked(run, "paid", in: stepwise.store)
            let sdk = EmulatedSDKEndpoint(stepwise: stepwise, url: "http://127.0.0.1:9/elsewhere", steps: ["a"])
            let step = try await sdk.batch([(sdk.url, sdk.stepHeaders(runId: run), sdk.stepJSON(0))])
            #expect(step.status == 409, "\(step.body)")
            #expect(step.error == "run '\(run)' is a run of a YAML workflow: its steps are its definition's, it takes no SDK steps or waits")
            let wait: Value = [
                "url": .string(sdk.url), "timeout": "2s", "timeoutUrl": .string(sdk.url),
                "step": ["stepId": 1, "stepName": "wait-for-it", "stepType": "Wait", "concurrent": 1],
            ]
            let waited = try await send(.POST, stepwise.url("/v2/wait/order-paid-5"), body: wait.jsonText(), headers: [("Upstash-Workflow-RunId", run)])
            #expect(waited.status == 409, "\(waited.body)")
            #expect(try await send(.GET, stepwise.url("/v2/waiters/order-paid-5")).json?.list?.count == 1, "only the run's own wait")
            let shown = try await send(.GET, stepwise.url("/api/runs/\(run)"))
            #expect(shown.json?["attempts"]?.list?.contains { $0.jsonText().contains("elsewhere") } == false, "nothing was delivered for it")
            #expect(try await stepwise.store.run(id: run)?.status == .running)
        }
    }

    @Test("an SDK run invoked 100 runs deep is started, one more is refused with a 400 saying why", arguments: StoreKind.testable)
    func sdkInvokeDepthIsBounded(kind: StoreKind) async throws {
        try await RunningServer.with([], store: kind) { stepwise in
            let sdk = EmulatedSDKEndpoint(stepwise: stepwise, url: "http://127.0.0.1:9/deep", steps: [])
            let later = [("Upstash-Delay", "1h")]
            #expect(try await sdk.trigger(runId: "wfr_d0", payload: "{}", extraHeaders: later).status == 200)
            let step = try StepJSON(bytes: Array(#"{"stepId":1,"stepName":"deeper","stepType":"Invoke","concurrent":1}"#.utf8))
            func invoke(_ depth: Int) async throws -> HTTPAnswer {
                let request = InvokeRequest(
                    body: "{}", headers: sdk.stepHeaders(runId: "wfr_d\(depth - 1)").map { (name: $0.0, value: $0.1) },
                    workflowRunId: "wfr_d\(depth - 1)", workflowRunCreatedAt: nil, workflowUrl: sdk.url, step: step)
                let trigger = sdk.stepHeaders(runId: "wfr_d\(depth)").map { $0.0 == "Upstash-Workflow-Init" ? ($0.0, "true") : $0 }
                return try await sdk.batch([(sdk.url, trigger + later + [("Upstash-Workflow-Invoke", "true")], String(decoding: request.jsonBytes, as: UTF8.self))])
            }
            for depth in 1...RunRecord.maximumInvokeDepth {
                #expect(try await invoke(depth).status == 200, "depth \(depth)")
            }
            let refused = try await invoke(RunRecord.maximumInvokeDepth + 1)
            #expect(refused.status == 400)
            #expect(refused.error == "run 'wfr_d100' is invoked runs 100 deep (a workflow that invokes itself without end?); the run was not started")
            #expect(try await stepwise.store.run(id: "wfr_d101") == nil)
        }
    }

    @Test(arguments: StoreKind.testable) func runsAreCanceledInBulkByWorkflowURLPrefixOrExactly(kind: StoreKind) async throws {
        try await RunningServer.with([], store: kind) { stepwise in
            for (id, path) in [("wfr_ax", "/a/x"), ("wfr_ay", "/a/y"), ("wfr_b", "/b"), ("wfr_bb", "/bb")] {
                let sdk = EmulatedSDKEndpoint(stepwise: stepwise, url: "http://127.0.0.1:9\(path)", steps: [])
                #expect(try await sdk.trigger(runId: id, payload: "{}", extraHeaders: [("Upstash-Delay", "1h")]).status == 200)
            }
            let prefix = try await send(.DELETE, stepwise.url("/v2/workflows/runs?workflowUrl=http://127.0.0.1:9/a/&count=100"))
            #expect(prefix.json?["workflowRunIds"]?.list?.compactMap(\.string).sorted() == ["wfr_ax", "wfr_ay"])
            let exact = try await send(.DELETE, stepwise.url("/v2/workflows/runs?workflowUrl=http://127.0.0.1:9/b&workflowUrlExactMatch=true"))
            #expect(exact.json?["workflowRunIds"]?.list?.compactMap(\.string) == ["wfr_b"])
            #expect(try await stepwise.store.run(id: "wfr_bb")?.status == .running)
        }
    }

    @Test("a run's cancel takes `cancel` as true or false, once: another value (False, 0, empty, two) is a 400 and the run goes on")
    func cancelParameterIsTrueOrFalse() async throws {
        try await RunningServer.with([]) { stepwise in
            let sdk = EmulatedSDKEndpoint(stepwise: stepwise, url: "http://127.0.0.1:9/wf", steps: [])
            #expect(try await sdk.trigger(runId: "wfr_kept", payload: "{}", extraHeaders: [("Upstash-Delay", "1h")]).status == 200)
            for query in ["cancel=False", "cancel=0", "cancel=", "cancel=maybe", "cancel=true&cancel=false", "cancel=false&cancel=true"] {
                let answer = try await send(.DELETE, stepwise.url("/v2/workflows/runs/wfr_kept?\(query)"))
                #expect(answer.status == 400 && answer.error?.contains("cancel") == true, "\(query): \(answer.body)")
            }
            #expect(try await stepwise.store.run(id: "wfr_kept")?.status == .running)
            let canceled = try await send(.DELETE, stepwise.url("/v2/workflows/runs/wfr_kept"))
            #expect(canceled.status == 200 && canceled.json?["status"] == "canceled", "no parameter cancels, as Upstash's client sends it: \(canceled.body)")
        }
    }

    @Test("the JS SDK's cancel by filter: up to count running runs by label, start time or exact URL, or any", arguments: StoreKind.testable)
    func runsAreCanceledInBulkByFilter(kind: StoreKind) async throws {
        try await RunningServer.with([], store: kind) { stepwise in
            let started = WorkflowEngine.systemTime().millisecondsSinceEpoch
            for (id, path, label) in [("wfr_a1", "/a", "blue"), ("wfr_a2", "/a", "blue"), ("wfr_b1", "/b", "blue"), ("wfr_b2", "/b", "red"), ("wfr_c", "/c", ""), ("wfr_d", "/d", "red")] {
                let sdk = EmulatedSDKEndpoint(stepwise: stepwise, url: "http://127.0.0.1:9\(path)", steps: [])
                let labeled = label.isEmpty ? [("Upstash-Flow-Control-Key", "tenant-c"), ("Upstash-Flow-Control-Value", "rate=5")] : [("Upstash-Label", label)]
                #expect(try await sdk.trigger(runId: id, payload: "{}", extraHeaders: [("Upstash-Delay", "1h")] + labeled).status == 200)
            }
            let running: @Sendable () async throws -> [String] = { try await stepwise.store.runs(RunFilter(status: .running)).map(\.id).sorted() }
            for (query, problem) in [
                ("label=blue&workflowRunIds=wfr_c", "workflowRunIds names the runs"),
                ("fromDate=soon", "fromDate must be unix milliseconds"), ("count=0", "count must be a whole number from 1"),
                ("toDate=9223372036854775807", "toDate must be unix milliseconds within"),
                ("label=,&count=5", "label ',' names no value"), ("workflowUrl=http://127.0.0.1:9/b&workflowUrlExactMatch=1", "workflowUrlExactMatch must be true or false"),
                // What would otherwise widen to every running run.
                ("workflowUrl=", "workflowUrl has no value"), ("label=&count=100", "label has no value"), ("callerIp=&count=100", "callerIp has no value"),
                ("workflowRunId=wfr_c&count=100", "workflowRunId is not a parameter of a bulk cancel"),
            ] {
                let refused = try await send(.DELETE, stepwise.url("/v2/workflows/runs?\(query)"))
                #expect(refused.status == 400 && refused.error?.hasPrefix(problem) == true, "\(query): \(refused.body)")
            }
            let countWithBody = try await send(.DELETE, stepwise.url("/v2/workflows/runs?count=5"), body: #"{"workflowRunIds": ["wfr_c"]}"#)
            #expect(countWithBody.status == 400 && countWithBody.error?.hasPrefix("the query selects the runs") == true, "\(countWithBody.body)")
            let labelWithBody = try await send(.DELETE, stepwise.url("/v2/workflows/runs?label=blue"), body: #"{"workflowRunIds": ["wfr_c"]}"#)
            #expect(labelWithBody.status == 400, "a filter beside a body would take more than the body names: \(labelWithBody.body)")
            #expect(try await running().count == 6, "a refused cancel cancels nothing")

            let elsewhere = try await send(.DELETE, stepwise.url("/v2/workflows/runs?callerIp=10.1.1.1&callerIP=10.2.2.2&count=100"))
            #expect(elsewhere.json?["cancelled"] == 0, "every run was triggered from loopback: \(elsewhere.body)")
            let future = try await send(.DELETE, stepwise.url("/v2/workflows/runs?fromDate=\(started + 3_600_000)&count=100"))
            #expect(future.json?["cancelled"] == 0, "no run started an hour from now")
            let exact = try await send(
                .DELETE, stepwise.url("/v2/workflows/runs?label=blue&workflowUrl=http://127.0.0.1:9/b&workflowUrlExactMatch=true&callerIp=10.1.1.1,127.0.0.1&count=100"))
            #expect(exact.json?["workflowRunIds"]?.list?.compactMap(\.string) == ["wfr_b1"], "\(exact.body)")
            let one = try await send(.DELETE, stepwise.url("/v2/workflows/runs?label=blue&toDate=\(started + 60_000)&count=1"))
            #expect(one.json?["cancelled"] == 1, "\(one.body)")
            // A prefix with a label, as `client.cancel({filter: {workflowUrlStartingWith, label}})`
            // asks; several of each, matching any, as Upstash's API reads them.
            let anyOf = try await send(
                .DELETE, stepwise.url("/v2/workflows/runs?workflowUrl=http://127.0.0.1:9/a&workflowUrl=http://127.0.0.1:9/b&label=green,red&label=blue&count=100"))
            #expect(anyOf.json?["workflowRunIds"]?.list?.compactMap(\.string).count == 2, "\(anyOf.body)")
            #expect(try await running() == ["wfr_c", "wfr_d"], "wfr_d is red, but of neither prefix")
            let comma = try await send(.DELETE, stepwise.url("/v2/workflows/runs?workflowUrl=http://127.0.0.1:9/d,x&count=100"))
            #expect(comma.json?["cancelled"] == 0, "a URL with a comma is one prefix: \(comma.body)")
            #expect(try await send(.DELETE, stepwise.url("/v2/workflows/runs?flowControlKey=tenant-x&count=100")).json?["cancelled"] == 0)
            let keyed = try await send(.DELETE, stepwise.url("/v2/workflows/runs?flowControlKey=tenant-x,tenant-c"))
            #expect(keyed.json?["workflowRunIds"]?.list?.compactMap(\.string) == ["wfr_c"], "by the trigger's flow-control key: \(keyed.body)")
            // `client.cancel({all: true})`.
            let all = try await send(.DELETE, stepwise.url("/v2/workflows/runs?count=100"))
            #expect(all.json?["workflowRunIds"]?.list?.compactMap(\.string) == ["wfr_d"])
            #expect(try await running().isEmpty)
        }
    }

    @Test("Upstash Workflow's REST trigger starts a run at a workflow URL with its options, as the SDK's own trigger would; a batch too; an id in progress refused", arguments: StoreKind.testable)
    func theRESTTriggerStartsRunsWithoutAnSDK(kind: StoreKind) async throws {
        try await CountingServer.with { endpoint in
            try await RunningServer.with([], store: kind) { stepwise in
                let sdk = EmulatedSDKEndpoint(stepwise: stepwise, url: endpoint.url("/order"), steps: ["charge", "ship"])
                endpoint.handle("/order") { await sdk.answer($0) }
                let started = try await send(
                    .POST, stepwise.url("/v2/trigger/\(sdk.url)"), body: #"{"order":1}"#,
                    headers: [("Upstash-Label", "rest"), ("Upstash-Forward-X-Tenant", "t1"), ("Upstash-Retries", "0")])
                let runId = try #require(started.json?["workflowRunId"]?.string, "\(started.body)")
                #expect(started.status == 200 && runId.hasPrefix("wfr_"))
                #expect(started.json?["workflowCreatedAt"].map { if case .int = $0 { true } else { false } } == true)
                let run = try await finishedRun(runId, in: stepwise.store)
                #expect(run.status == .succeeded && run.label == "rest" && run.endpoint == sdk.url)
                let first = try #require(endpoint.requests(to: "/order").first)
                #expect(first.header("Upstash-Workflow-Sdk-Version") == "1", "a run's delivery, not a new trigger for the SDK")
                #expect(first.header("X-Tenant") == "t1" && first.header("Upstash-Workflow-RunId") == runId)
                #expect(try RawStepArray(jsonBytes: Array(first.body.utf8)).initialPayload == Array(#"{"order":1}"#.utf8))
                #expect(endpoint.requests(to: "/order").allSatisfy { $0.header("X-Tenant") == "t1" }, "the trigger's options are the run's")

                // order-7 is held in progress for an hour, so that its id stays taken below.
                let items: Value = [
                    ["destination": .string(sdk.url), "body": "{}", "headers": ["Upstash-Workflow-RunId": "order-7", "Upstash-Delay": "1h"]],
                    ["destination": .string(sdk.url), "headers": ["Upstash-Workflow-RunId": "order-6"]],
                ]
                let batch = try await send(.POST, stepwise.url("/v2/batch/trigger"), body: items.jsonText())
                #expect(batch.status == 201, "\(batch.body)")
                #expect(batch.json?.list?.map { $0["workflowRunId"] } == ["order-7", "order-6"])
                #expect(batch.json?.list?.map { $0["deduplicated"] } == [false, false], "\(batch.body)")
                #expect(try await finishedRun("order-6", in: stepwise.store).status == .succeeded)
                let taken = try await send(.POST, stepwise.url("/v2/trigger/\(endpoint.url("/other"))"), body: "{}", headers: [("Upstash-Workflow-RunId", "order-7")])
                #expect(taken.status == 409, "another workflow's run is never adopted: \(taken.body)")
                let twoURLs: Value = [
                    ["destination": .string(sdk.url), "headers": ["Upstash-Workflow-RunId": "order-8"]],
                    ["destination": .string(endpoint.url("/other")), "headers": ["Upstash-Workflow-RunId": "order-8"]],
                ]
                #expect(try await send(.POST, stepwise.url("/v2/batch/trigger"), body: twoURLs.jsonText()).status == 409, "one id for two workflows")
                let otherSDK = EmulatedSDKEndpoint(stepwise: stepwise, url: endpoint.url("/other"), steps: ["a"])
                #expect(try await otherSDK.trigger(runId: "order-7", payload: "{}").status == 409, "an SDK's own trigger naming another workflow's run")

                for (path, body, headers, problem) in [
                    ("/v2/trigger/not-a-url", "{}", [(String, String)](), "'not-a-url' is no URL"),
                    ("/v2/trigger/\(sdk.url)", "{}", [("Upstash-Workflow-RunId", "wfr_sched_x")], "Upstash-Workflow-RunId: run ids starting with 'wfr_sched_'"),
                    ("/v2/batch/trigger", #"[{"destination": "\#(sdk.url)"}, {"body": "{}"}]"#, [], "batch item 1"),
                    ("/v2/batch/trigger", "[]", [], "the batch is empty"),
                    ("/v2/batch/trigger", #"[{"destination": "\#(sdk.url)", "queue": "q"}]"#, [], "a trigger takes no queue"),
                    ("/v2/trigger/\(sdk.url)", "{}", [("Upstash-Method", "GET")], "Upstash-Method cannot be given to a trigger"),
                    ("/v2/trigger/\(sdk.url)", "{}", [("Upstash-Deduplication-Id", "d1")], "Upstash-Deduplication-Id cannot be given"),
                    ("/v2/trigger/\(sdk.url)", "{}", [("Upstash-Workflow-Invoke", "true")], "Upstash-Workflow-Invoke cannot be given"),
                    ("/v2/trigger/\(sdk.url)", "{}", [("Upstash-Forward-Upstash-Workflow-Is-Failure", "true")], "cannot be given to a trigger"),
                ] {
                    let refused = try await send(.POST, stepwise.url(path), body: body, headers: headers)
                    #expect(refused.status == 400 && refused.error?.contains(problem) == true, "\(path): \(refused.body)")
                }
                #expect(try await stepwise.store.runs(RunFilter()).count == 3, "a refused trigger starts nothing")
                // The token given in the query admits the request and is no part of the workflow URL.
                let byQuery = try await send(.POST, stepwise.url("/v2/trigger/\(sdk.url)?qstash_token=\(RunningServer.token)"), body: "{}", token: nil)
                let queried = try #require(byQuery.json?["workflowRunId"]?.string, "\(byQuery.body)")
                #expect(try await stepwise.store.run(id: queried)?.endpoint == sdk.url)

                // Triggers of one new id at two URLs at once (the run held in progress): one
                // trigger starts it, the others of its URL find it in progress (400), every one
                // of the other URL is refused (409), whichever checks first.
                let urls = (0..<8).map { $0.isMultiple(of: 2) ? sdk.url : endpoint.url("/other") }
                let answers = try await withThrowingTaskGroup(of: (String, HTTPAnswer).self) { group in
                    for url in urls {
                        group.addTask {
                            let headers = [("Upstash-Workflow-RunId", "order-9"), ("Upstash-Delay", "1h")]
                            return (url, try await send(.POST, stepwise.url("/v2/trigger/\(url)"), body: "{}", headers: headers))
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                let owner = try #require(try await stepwise.store.run(id: "order-9")?.endpoint)
                #expect(answers.filter { $0.1.status == 200 }.count == 1, "\(answers.map(\.1.body))")
                for (url, answer) in answers where answer.status != 200 {
                    #expect(answer.status == (url == owner ? 400 : 409), "\(url): \(answer.status) \(answer.body)")
                }
            }
        }
    }

    @Test("a REST trigger asking for an unknown-SDK first delivery: the SDK triggers the run again as its own, which queues its first delivery once", arguments: StoreKind.testable)
    func anUnknownSDKDeliveryIsFollowedByTheSDKsOwnTrigger(kind: StoreKind) async throws {
        try await CountingServer.with { endpoint in
            try await RunningServer.with([], store: kind) { stepwise in
                let sdk = EmulatedSDKEndpoint(stepwise: stepwise, url: endpoint.url("/order"), steps: ["charge"])
                // The SDK answers the unknown-SDK delivery and triggers the run again as its own
                // (workflow-js triggerFirstInvocation with unknownSdk); here the test sends that trigger.
                endpoint.handle("/order") { request in
                    request.header("Upstash-Workflow-Unknown-Sdk") == "true" ? EmulatedSDKEndpoint.acknowledgement() : await sdk.answer(request)
                }
                let started = try await send(
                    .POST, stepwise.url("/v2/trigger/\(sdk.url)"), body: #"{"order":1}"#,
                    headers: [("Upstash-Workflow-Unknown-Sdk", "true"), ("Upstash-Forward-X-Tenant", "t1")])
                let runId = try #require(started.json?["workflowRunId"]?.string, "\(started.body)")
                _ = try await eventually("the unknown-SDK delivery") { endpoint.requests(to: "/order").first }
                let retrigger: [(String, String)] = [
                    ("Upstash-Workflow-Init", "true"), ("Upstash-Workflow-RunId", runId), ("Upstash-Workflow-Url", sdk.url),
                    ("Upstash-Forward-Upstash-Workflow-Sdk-Version", "1"), ("Upstash-Workflow-Trigger-By-Sdk", "true"),
                    ("Upstash-Feature-Set", "LazyFetch,InitialBody,WF_DetectTrigger,WF_TriggerOnConfig"), ("Upstash-Forward-X-Tenant", "t2"),
                ]
                var outcomes: [Value?] = []
                for _ in 0..<2 {  // twice, as a retry after a lost answer would
                    outcomes.append(try await sdk.batch([(sdk.url, retrigger, #"{"order":1}"#)]).json?.list?.first?["deduplicated"])
                }
                #expect(outcomes.map { $0 == true } == [false, true], "queued once")
                // The SDK may spell the run's URL otherwise; a repeat of its trigger is deduplicated whatever it names.
                let respelled = retrigger.map { $0.0 == "Upstash-Workflow-Url" ? ($0.0, sdk.url + "/") : $0 }
                #expect(try await sdk.batch([(sdk.url + "/", respelled, "{}")]).json?.list?.first?["deduplicated"] == true)
                #expect(try await finishedRun(runId, in: stepwise.store).status == .succeeded)
                let deliveries = endpoint.requests(to: "/order")
                #expect(deliveries.map { $0.header("Upstash-Workflow-Unknown-Sdk") } == ["true", nil, nil], "the first delivery only")
                #expect(deliveries.allSatisfy { $0.header("X-Tenant") == "t1" }, "the run's forwarded headers win over the SDK trigger's")
                // The redelivery names the initial entry, as each delivery names the last entry it carries.
                let initial = try RawStepArray(jsonBytes: Array(deliveries[1].body.utf8)).steps.first
                #expect(initial?.messageId == deliveries[1].header("Upstash-Message-Id"), "the initial entry takes the redelivery's id")
                let late = try await sdk.batch([(sdk.url, [("Upstash-Workflow-Init", "true"), ("Upstash-Workflow-RunId", runId), ("Upstash-Workflow-Trigger-By-Sdk", "true")], "{}")])
                #expect(late.json?.list?.first?["deduplicated"] == true, "an ended run is not delivered again")

                // The delivery queued again has the run's options, not the SDK trigger's defaults:
                // with the run's Upstash-Retries: 0, a failing endpoint fails the run at once.
                endpoint.handle("/fragile") { request in
                    request.header("Upstash-Workflow-Unknown-Sdk") == "true"
                        ? EmulatedSDKEndpoint.acknowledgement() : .json(#"{"error":"Error","message":"broken"}"#, status: 500)
                }
                let fragile = try await send(
                    .POST, stepwise.url("/v2/trigger/\(endpoint.url("/fragile"))"), body: "{}",
                    headers: [("Upstash-Workflow-Unknown-Sdk", "true"), ("Upstash-Retries", "0")])
                let fragileId = try #require(fragile.json?["workflowRunId"]?.string)
                _ = try await eventually("the unknown-SDK delivery") { endpoint.requests(to: "/fragile").first }
                let again = retrigger.map { name, value -> (String, String) in
                    switch name {
                    case "Upstash-Workflow-RunId": (name, fragileId)
                    case "Upstash-Workflow-Url": (name, endpoint.url("/fragile/"))  // spelled otherwise, as a proxy may
                    default: (name, value)
                    }
                }
                let redelivered = try #require(try await sdk.batch([(endpoint.url("/fragile/"), again, "{}")]).json?.list?.first)
                #expect(redelivered["deduplicated"] != true)
                let firstId = endpoint.requests(to: "/fragile").first?.header("Upstash-Message-Id")
                #expect(redelivered["messageId"]?.string != nil && redelivered["messageId"]?.string != firstId, "a new delivery, not the first one's id")
                #expect(try await finishedRun(fragileId, in: stepwise.store).status == .failed)
                let fragileDeliveries = endpoint.requests(to: "/fragile").filter { $0.header("Upstash-Workflow-Failure-Callback") == nil }
                #expect(fragileDeliveries.count == 2, "no retry: the run's retries are 0")

                // A run whose first delivery asked for nothing is not delivered again.
                let plain = try await send(.POST, stepwise.url("/v2/trigger/\(sdk.url)"), body: "{}", headers: [("Upstash-Delay", "1h")])
                let plainId = try #require(plain.json?["workflowRunId"]?.string)
                let unasked = retrigger.map { $0.0 == "Upstash-Workflow-RunId" ? ($0.0, plainId) : $0 }
                #expect(try await sdk.batch([(sdk.url, unasked, "{}")]).json?.list?.first?["deduplicated"] == true)
                let refused = try await send(.POST, stepwise.url("/v2/trigger/\(sdk.url)"), body: "{}", headers: [("Upstash-Workflow-Unknown-Sdk", "maybe")])
                #expect(refused.status == 400)
                #expect(refused.error == "header 'Upstash-Workflow-Unknown-Sdk': 'maybe' is not true or false")
            }
        }
    }

    @Test(arguments: StoreKind.testable) func invalidPublishesAreRefusedAndStoreNothing(kind: StoreKind) async throws {
        try await RunningServer.with([], store: kind) { stepwise in
            let sdk = EmulatedSDKEndpoint(stepwise: stepwise, url: "http://127.0.0.1:9/wf", steps: [])
            let trigger: [(String, String)] = [("Upstash-Workflow-Init", "true"), ("Upstash-Workflow-RunId", "wfr_half")]
            let mixed = try await sdk.batch([(sdk.url, trigger, "{}"), ("ftp://127.0.0.1/x", [], "{}")])
            #expect(mixed.status == 400)
            #expect(mixed.error == "batch item 1: 'ftp://127.0.0.1/x' is not an http(s) URL")
            #expect(try await stepwise.store.run(id: "wfr_half") == nil, "nothing of the batch was stored")

            let delay = try await sdk.batch([(sdk.url, trigger + [("Upstash-Delay", "soon")], "{}")])
            #expect(delay.status == 400)
            #expect(delay.error?.contains("Upstash-Delay") == true)
            let noRun = try await sdk.batch([(sdk.url, [("Upstash-Workflow-Init", "false")], "{}")])
            #expect(noRun.error?.contains("Upstash-Workflow-RunId") == true)
            #expect(try await send(.POST, stepwise.url("/v2/batch"), body: "[{").status == 400)
            #expect(try await send(.POST, stepwise.url("/v2/batch"), body: "[]").status == 400)
            #expect(try await send(.POST, stepwise.url("/v2/batch"), body: #"[{"destination":"http://127.0.0.1:9/x"}]"#, token: nil).status == 401)
            #expect(try await send(.POST, stepwise.url("/v2/batch"), body: "[]", token: "wrong-token").status == 401)
            #expect(try await send(.POST, stepwise.url("/v2/publish/ftp:%2F%2Fx"), body: "{}").status == 400)
            // A port past 65535 trapped the HTTP client when the message was delivered, at every restart.
            let badPort = try await send(.POST, stepwise.url("/v2/publish/http://127.0.0.1:99999/x"), body: "{}")
            #expect(badPort.status == 400)
            #expect(badPort.error == "'http://127.0.0.1:99999/x' has port '99999'; a port is a number from 1 to 65535")
            let badCallback = try await send(
                .POST, stepwise.url("/v2/publish/http://127.0.0.1:9/x"), body: "{}", headers: [("Upstash-Callback", "http://127.0.0.1:65536/cb")])
            #expect(badCallback.status == 400 && badCallback.error?.contains("port '65536'") == true, "\(badCallback.body)")
            #expect(try await send(.POST, stepwise.url("/v2/trigger/http://127.0.0.1:99999/x"), body: "{}").status == 400)
            let badEndpoint = try await send(.POST, stepwise.url("/v2/topics/ports/endpoints"), body: #"{"endpoints":[{"url":"http://127.0.0.1:99999/t"}]}"#)
            #expect(badEndpoint.status == 400)
            // A destination that is a name, not a URL, is a URL group's, which must exist.
            let unknownGroup = try await send(.POST, stepwise.url("/v2/publish/not-a-url"), body: "{}")
            #expect(unknownGroup.status == 404)
            #expect(unknownGroup.error?.contains("no URL group named 'not-a-url'") == true)
            let oversized = String(repeating: "x", count: StepwiseRoutes.maximumBodyBytes + 1)
            #expect(try await send(.POST, stepwise.url("/v2/publish/http://127.0.0.1:9/x"), body: oversized).status == 413)
            let badItem = try await send(.POST, stepwise.url("/v2/batch"), body: #"[{"destination":"http://127.0.0.1:9/x","headers":{"Upstash-Retries":"many"}}]"#)
            #expect(badItem.error?.hasPrefix("batch item 0: header 'Upstash-Retries'") == true)
            #expect(try await stepwise.store.runs(RunFilter()).isEmpty)
        }
    }

    @Test("a time after 9999-12-31 (milliseconds given as Upstash-Not-Before, a delay or a wait of millennia), a zero timeout or a zero flow-control period is refused, never delivered at once", arguments: StoreKind.testable)
    func timesThatCannotBeKept(kind: StoreKind) async throws {
        try await RunningServer.with([], store: kind) { stepwise in
            let cases: [(headers: [(String, String)], error: String)] = [
                ([("Upstash-Not-Before", "1800000000000")], "header 'Upstash-Not-Before': '1800000000000' is after 9999-12-31T23:59:59Z: the value is unix seconds, not milliseconds"),
                ([("Upstash-Delay", "3000000d")], "header 'Upstash-Delay': a delay of 3000000d ends after 9999-12-31T23:59:59Z"),
                ([("Upstash-Timeout", "0")], "header 'Upstash-Timeout': a timeout of 0 would end every attempt before an answer; leave the header out for the default"),
                ([("Upstash-Callback", "http://127.0.0.1:9/cb"), ("Upstash-Callback-Timeout", "0s")], "header 'Upstash-Callback-Timeout': a timeout of 0 would end every attempt before an answer; leave the header out for the default"),
            ]
            for (headers, error) in cases {
                let answer = try await send(.POST, stepwise.url("/v2/publish/http://127.0.0.1:9/x"), body: "{}", headers: headers)
                #expect(answer.status == 400, "\(headers)")
                #expect(answer.error == error)
            }
            let period = try await send(
                .POST, stepwise.url("/v2/publish/http://127.0.0.1:9/x"), body: "{}",
                headers: [("Upstash-Flow-Control-Key", "k"), ("Upstash-Flow-Control-Value", "rate=1, period=0s")])
            #expect(period.status == 400)
            #expect(period.error == "header 'Upstash-Flow-Control-Value': a period of 0 limits nothing; give at least 1ms, or leave it out for 1s", "\(period.body)")
            let kept = try await send(.POST, stepwise.url("/v2/publish/http://127.0.0.1:9/x"), body: "{}", headers: [("Upstash-Not-Before", "253402300799")])
            #expect(kept.status == 200, "the last second of 9999 is kept")
            let wait = try await send(
                .POST, stepwise.url("/v2/wait/ev"),
                body: #"{"url":"http://127.0.0.1:9/wf","timeout":"10000000d","step":{"stepId":1,"stepName":"w","stepType":"Wait","concurrent":1}}"#,
                headers: [("Upstash-Workflow-RunId", "wfr_x")])
            #expect(wait.status == 400)
            #expect(wait.error?.contains("'timeout': a wait of 10000000d ends after 9999-12-31T23:59:59Z") == true, "\(wait.body)")
            let waitOptions = try await send(
                .POST, stepwise.url("/v2/wait/ev"),
                body: #"{"url":"http://127.0.0.1:9/wf","timeout":"1d","step":{"stepId":1,"stepName":"w","stepType":"Wait","concurrent":1}}"#,
                headers: [("Upstash-Workflow-RunId", "wfr_x"), ("Upstash-Timeout", "0")])
            #expect(waitOptions.status == 400)
            #expect(waitOptions.error?.contains("header 'Upstash-Timeout': a timeout of 0") == true, "\(waitOptions.body)")
            let id = try #require(kept.json?["messageId"]?.string)
            #expect(try await stepwise.store.queuedMessage(id: id)?.message.dueAt.description == "9999-12-31T23:59:59Z")
        }
    }

    @Test(arguments: StoreKind.testable) func failedDeliveriesAreRetriedWithUpstashRetriedUntilTheEndpointSucceeds(kind: StoreKind) async throws {
        try await CountingServer.with { endpoint in
            try await RunningServer.with([], store: kind, configuration: Self.fastRetries) { stepwise in
                let sdk = EmulatedSDKEndpoint(stepwise: stepwise, url: endpoint.url("/flaky"), steps: ["a"])
                endpoint.script("/flaky", .json(#"{"error":"Error","message":"boom"}"#, status: 500), .status(502))
                endpoint.handle("/flaky") { await sdk.answer($0) }
                let trigger = try await sdk.trigger(runId: "wfr_flaky", payload: "{}")
                #expect(trigger.status == 200)
                let run = try await finishedRun("wfr_flaky", in: stepwise.store)
                #expect(run.status == .succeeded)
                let retried = endpoint.requests(to: "/flaky").map { $0.header("Upstash-Retried") }
                #expect(retried == ["0", "1", "2", "0"], "three attempts of the first delivery, then one after the step")
            }
        }
    }

    @Test(arguments: StoreKind.testable) func retryAfterIsFollowedAsTheEndpointAsks(kind: StoreKind) async throws {
        try await CountingServer.with { endpoint in
            try await RunningServer.with([], store: kind, configuration: Self.fastRetries) { stepwise in
                let sdk = EmulatedSDKEndpoint(stepwise: stepwise, url: endpoint.url("/busy"), steps: [])
                endpoint.script("/busy", ScriptedResponse(status: 429, body: "{}", headers: [("Retry-After", "1")]))
                endpoint.handle("/busy") { await sdk.answer($0) }
                let trigger = try await sdk.trigger(runId: "wfr_busy", payload: "{}")
                #expect(trigger.status == 200)
                let run = try await finishedRun("wfr_busy", in: stepwise.store)
                #expect(run.status == .succeeded)
                let times = endpoint.requests(to: "/busy").map(\.receivedAt)
                #expect(times.count == 2)
                #expect(times[1].timeIntervalSince(times[0]) >= 0.95, "Retry-After is not scaled away")
            }
        }
    }

    @Test(arguments: StoreKind.testable) func aTriggerAnsweredByNoWorkflowEndpointFailsItsRunAtOnce(kind: StoreKind) async throws {
        try await CountingServer.with { endpoint in
            try await RunningServer.with([], store: kind, configuration: Self.fastRetries) { stepwise in
                // A route that takes anything and answers 200, as a page or an API would.
                endpoint.fallback("/plain", .json(#"{"ok":true}"#))
                let wrong = EmulatedSDKEndpoint(stepwise: stepwise, url: endpoint.url("/plain"), steps: ["a"])
                let failureURL: [(String, String)] = [("Upstash-Retries", "3"), ("Upstash-Failure-Callback", endpoint.url("/failed"))]
                let triggered = try await wrong.trigger(runId: "wfr_wrong", payload: "{}", extraHeaders: failureURL)
                let first = try #require(triggered.json?.list?.first?["messageId"]?.string)
                let failed = try await finishedRun("wfr_wrong", in: stepwise.store)
                #expect(failed.status == .failed)
                #expect(failed.error?.message == QueuedAttemptResolver.nonWorkflowDestination)
                #expect(endpoint.requests(to: "/plain").count == 1, "not retried: retrying cannot help")
                #expect(try await stepwise.store.allDeadLetters().map(\.runId) == ["wfr_wrong"])
                let entry = try await send(.GET, stepwise.url("/v2/workflows/dlq/dlq_wfr_wrong")).json
                #expect(entry?["responseStatus"] == 200 && entry?["responseBody"] == #"{"ok":true}"#, "the destination's own answer: \(String(describing: entry))")
                let states = try await stepwise.store.messageEvents(matching: MessageEventFilter(), before: nil, count: 100).events
                    .filter { $0.messageId == first }.map(\.state)
                #expect(states == [.failed, .error, .created], "the first delivery's, newest first")
                let notice = try await eventually("the failure callback") { endpoint.requests(to: "/failed").first }
                let told = try FailureCallbackBodyFields(notice.body)
                #expect(told.responseBody.contains(QueuedAttemptResolver.nonWorkflowDestination), "the SDKs read why from the body")

                // Started through the REST API, the run fails in QStash's words for that case.
                let rest = try await send(
                    .POST, stepwise.url("/v2/trigger/\(wrong.url)"), body: "{}", headers: [("Upstash-Workflow-RunId", "wfr_rest_wrong")])
                #expect(rest.status == 200, "\(rest.body)")
                let restFailed = try await finishedRun("wfr_rest_wrong", in: stepwise.store)
                #expect(restFailed.status == .failed)
                #expect(restFailed.error?.message == "trigger rest api is only usable with sdk versions after v1.0.0 major version")

                // Without WF_DetectTrigger in its feature set (stepwise runner's triggers) a trigger is not checked.
                let unchecked = [("Upstash-Workflow-Init", "true"), ("Upstash-Workflow-RunId", "wfr_unchecked"), ("Upstash-Workflow-Url", wrong.url)]
                #expect(try await wrong.batch([(wrong.url, unchecked, "{}")]).status == 200)
                _ = try await eventually("its delivery logged") {
                    try await stepwise.store.messageEvents(matching: MessageEventFilter(), before: nil, count: 100).events
                        .contains { $0.runId == "wfr_unchecked" && $0.state == .delivered } ? true : nil
                }
                #expect(try await stepwise.store.run(id: "wfr_unchecked")?.status == .running)

                // A workflow endpoint answers with Upstash-Workflow-Sdk-Version, and its run goes on.
                let right = EmulatedSDKEndpoint(stepwise: stepwise, url: endpoint.url("/wf"), steps: ["a"])
                endpoint.handle("/wf") { await right.answer($0) }
                #expect(try await right.trigger(runId: "wfr_right", payload: "{}").status == 200)
                #expect(try await finishedRun("wfr_right", in: stepwise.store).status == .succeeded)
            }
        }
    }

    @Test(arguments: StoreKind.testable) func aNonRetryableFailureDeadLettersTheRunCallsItsFailureURLAndResumeContinuesIt(kind: StoreKind) async throws {
        try await CountingServer.with { endpoint in
            try await RunningServer.with([], store: kind, configuration: Self.fastRetries) { stepwise in
                var sdk = EmulatedSDKEndpoint(stepwise: stepwise, url: endpoint.url("/doomed"), steps: ["a", "b"])
                let nonRetryable = ScriptedResponse(
                    status: 489, body: #"{"error":"WorkflowNonRetryableError","message":"no way"}"#, headers: [("Upstash-NonRetryable-Error", "true")])
                let failureHeaders: [(String, String)] = [
                    ("Upstash-Failure-Callback", endpoint.url("/failed")), ("Upstash-Failure-Callback-Forward-Upstash-Workflow-Is-Failure", "true"),
                    ("Upstash-Failure-Callback-Workflow-Runid", "wfr_doomed"), ("Upstash-Retries", "5"),
                    ("Upstash-Forward-Authorization", "Bearer endpoint-s3cret"),
                ]
                sdk.messageHeaders = failureHeaders
                let endpointSDK = sdk
                endpoint.handle("/doomed") { request in
                    (try? RawStepArray(jsonBytes: Array(request.body.utf8)).stepEntries().count) == 1 ? nonRetryable : await endpointSDK.answer(request)
                }
                #expect(try await sdk.trigger(runId: "wfr_doomed", payload: #"{"order":7}"#).status == 200)
                let failed = try await finishedRun("wfr_doomed", in: stepwise.store)
                #expect(failed.status == .failed)
                #expect(failed.error?.message == "no way", "a 489 states why the run failed in its own words")
                #expect(endpoint.requests(to: "/doomed").count == 2, "489 is not retried")

                let callback = try await eventually("the failure callback") { endpoint.requests(to: "/failed").first }
                #expect(callback.header("Upstash-Workflow-Is-Failure") == "true")
                #expect(callback.header("Upstash-Workflow-RunId") == "wfr_doomed")
                #expect(callback.header("Upstash-Workflow-Sdk-Version") == nil)
                let body = try FailureCallbackBodyFields(callback.body)
                #expect(body.status == 489)
                #expect(body.sourceBody == #"{"order":7}"#)
                #expect(body.workflowRunId == "wfr_doomed")
                #expect(body.url == endpoint.url("/doomed"))
                #expect(body.responseBody.contains("no way"))

                let letters = try await send(.GET, stepwise.url("/v2/workflows/dlq"))
                let dlqId = try #require(letters.json?["messages"]?.list?.first?["dlqId"]?.string)
                // The delivery that failed and its answer, as Upstash's DLQ shows them; credentials redacted.
                let entry = try #require(letters.json?["messages"]?.list?.first)
                #expect(entry["url"]?.string == endpoint.url("/doomed") && entry["method"] == "POST" && entry["maxRetries"] == 5)
                #expect(entry["responseStatus"] == 489 && entry["responseBody"]?.string?.contains("no way") == true, "\(letters.body)")
                #expect(entry["responseHeader"]?["Upstash-Nonretryable-Error"] == ["true"])
                #expect(entry["header"]?["Authorization"] == ["[redacted]"] && !letters.body.contains("endpoint-s3cret"))
                #expect(entry["body"] == nil, "a run's delivery is its log")
                endpoint.handle("/doomed") { await endpointSDK.answer($0) }
                #expect(try await send(.POST, stepwise.url("/v2/workflows/dlq/resume/\(dlqId)")).status == 200)
                #expect(try await finishedRun("wfr_doomed", in: stepwise.store).status == .succeeded)
                let resumed = endpoint.requests(to: "/doomed").dropFirst(2)
                #expect(resumed.map { try? RawStepArray(jsonBytes: Array($0.body.utf8)).steps.count } == [2, 3], "resumed at the failed delivery, step a not run again")
            }
        }
    }

    /// An SDK endpoint that runs `Promise.all([invoke("child"), run("failing")])` as the JS SDK
    /// does: two plans; the first plan's delivery triggers run `childRunId` at `child`, the second
    /// fails with a 489 until `fixed` says otherwise (or, with `failingResult`, runs its step, and
    /// the delivery of that result fails instead); once both results are in, the run ends.
    private static func parallelInvoker(
        _ parent: EmulatedSDKEndpoint, child: EmulatedSDKEndpoint, childRunId: String, failingResult: Bool = false,
        fixed: @escaping @Sendable () -> Bool
    ) -> @Sendable (ReceivedRequest) async -> ScriptedResponse {
        { request in
            guard let runId = request.header("Upstash-Workflow-RunId"),
                let log = try? RawStepArray(jsonBytes: Array(request.body.utf8)).steps, let last = log.last
            else { return .status(500) }
            let results = log.dropFirst().compactMap { try? $0.step() }.filter { !$0.isPlan }
            let items: [(destination: String, headers: [(String, String)], body: String?)]
            switch (log.count, (try? last.step())?.targetStep) {
            case (1, _):
                items = [("Invoke", "child", 1), ("Run", "failing", 2)].map { type, name, target in
                    (parent.url, parent.stepHeaders(runId: runId), #"{"stepId":0,"stepName":"\#(name)","stepType":"\#(type)","concurrent":2,"targetStep":\#(target)}"#)
                }
            case (_, 1?):
                guard let pending = try? StepJSON(bytes: Array(#"{"stepId":1,"stepName":"child","stepType":"Invoke","concurrent":2}"#.utf8)) else {
                    return .status(500)
                }
                let request = InvokeRequest(
                    body: "c", headers: parent.stepHeaders(runId: runId).map { (name: $0.0, value: $0.1) }, workflowRunId: runId,
                    workflowRunCreatedAt: nil, workflowUrl: parent.url, step: pending)
                let trigger = child.stepHeaders(runId: childRunId).map { $0.0 == "Upstash-Workflow-Init" ? ($0.0, "true") : $0 }
                items = [(child.url, trigger + [("Upstash-Workflow-Invoke", "true")], String(decoding: request.jsonBytes, as: UTF8.self))]
            case (_, 2?):
                guard fixed() || failingResult else { return EmulatedSDKEndpoint.nonRetryable("not fixed") }
                items = [(parent.url, parent.stepHeaders(runId: runId), #"{"stepId":2,"stepName":"failing","stepType":"Run","out":"\"fixed\"","concurrent":2}"#)]
            case _ where results.count < 2 && failingResult && (try? last.step())?.stepId == 2 && !fixed():
                return EmulatedSDKEndpoint.nonRetryable("not fixed")
            case _ where results.count == 2:
                let end = try? await send(.DELETE, parent.stepwise.url("/v2/workflows/runs/\(runId)?cancel=false"))
                return end?.status == 200 ? EmulatedSDKEndpoint.acknowledgement() : .status(500)
            default:
                return EmulatedSDKEndpoint.acknowledgement()
            }
            guard (try? await parent.batch(items))?.status == 200 else { return .status(500) }
            return EmulatedSDKEndpoint.acknowledgement()
        }
    }

    /// The `Invoke` result entries of `runId`'s log.
    private static func invokeResults(of runId: String, in stepwise: RunningServer) async throws -> [StepJSON] {
        let log = try await send(.GET, stepwise.url("/v2/workflows/runs/\(runId)"))
        return ((try? RawStepArray(jsonBytes: Array(log.body.utf8)).steps) ?? []).compactMap { try? $0.step() }.filter {
            $0.stepType == "Invoke" && !$0.isPlan
        }
    }

    /// Runs `body` once an emulated parent (`parallelInvoker`) started run `parentRunId`, invoked
    /// run `childRunId` and failed; the child takes its step only then (with a 489 while
    /// `childFails`), so that it ends while its parent is failed.
    private static func withFailedParent(
        _ kind: StoreKind, parent parentRunId: String, child childRunId: String, failingResult: Bool = false,
        childFails: @escaping @Sendable () -> Bool = { false }, childWaits: @escaping @Sendable () async -> Void = {},
        fixed: @escaping @Sendable () -> Bool, _ body: @escaping @Sendable (RunningServer) async throws -> Void
    ) async throws {
        try await CountingServer.with { endpoint in
            try await RunningServer.with([], store: kind, configuration: Self.fastRetries) { stepwise in
                let parent = EmulatedSDKEndpoint(stepwise: stepwise, url: endpoint.url("/parent"), steps: [])
                let child = EmulatedSDKEndpoint(stepwise: stepwise, url: endpoint.url("/child"), steps: ["nap"])
                endpoint.handle("/parent", Self.parallelInvoker(parent, child: child, childRunId: childRunId, failingResult: failingResult, fixed: fixed))
                endpoint.handle("/child") { request in
                    _ = try? await eventually("the parent's failure") { try await stepwise.store.run(id: parentRunId)?.status == .failed ? true : nil }
                    await childWaits()
                    return childFails() ? EmulatedSDKEndpoint.nonRetryable("child broken") : await child.answer(request)
                }
                #expect(try await parent.trigger(runId: parentRunId, payload: "p").status == 200)
                #expect(try await finishedRun(parentRunId, in: stepwise.store).status == .failed)
                try await body(stepwise)
            }
        }
    }

    @Test("a run a failed SDK run invoked goes on, as on Upstash; its end is kept in the parent's log, from which the parent resumed from the DLQ goes on", arguments: StoreKind.testable)
    func aFailedParentsInvokedRunGoesOnAndItsResumeUsesItsEnd(kind: StoreKind) async throws {
        let fixed = Mutex(false)
        try await Self.withFailedParent(kind, parent: "wfr_parent", child: "wfr_invoked", fixed: { fixed.withLock { $0 } }) { stepwise in
            #expect(try await finishedRun("wfr_invoked", in: stepwise.store).status == .succeeded, "not canceled with its parent")
            let kept = try await eventually("the child's end in the parent's log") { try await Self.invokeResults(of: "wfr_parent", in: stepwise).first }
            #expect(kept.out?.contains(#""isCanceled":false"#) == true)
            #expect(try await stepwise.store.run(id: "wfr_parent")?.status == .failed, "kept without a delivery")

            fixed.withLock { $0 = true }
            #expect(try await send(.POST, stepwise.url("/v2/workflows/dlq/resume/dlq_wfr_parent")).status == 200)
            #expect(try await finishedRun("wfr_parent", in: stepwise.store).status == .succeeded, "the resumed run found the child's end")
        }
    }

    @Test("a failed SDK run's id stays reserved while a run it invoked goes on, so that the child's end never reaches a new run of that id", arguments: StoreKind.testable)
    func aFailedParentsIdWaitsForTheRunsItInvoked(kind: StoreKind) async throws {
        let released = Mutex(false)
        let childWaits: @Sendable () async -> Void = {
            while !released.withLock({ $0 }), !Task.isCancelled { try? await Task.sleep(for: .milliseconds(20)) }
        }
        try await Self.withFailedParent(kind, parent: "wfr_parent4", child: "wfr_held", childWaits: childWaits, fixed: { false }) { stepwise in
            _ = try await eventually("the end of the parent's failure callback") {
                let entry = try await send(.GET, stepwise.url("/v2/workflows/dlq")).json?["messages"]?.list?.first { $0["workflowRunId"] == "wfr_parent4" }
                return entry?["failureCallbackInfo"]?["state"] == "CALLBACK_INPROGRESS" ? nil : entry
            }
            let url = try #require(try await stepwise.store.run(id: "wfr_parent4")?.endpoint)
            let trigger = { @Sendable in
                try await send(.POST, stepwise.url("/v2/trigger/\(url)"), body: "p", headers: [("Upstash-Workflow-RunId", "wfr_parent4"), ("Upstash-Delay", "1h")])
            }
            let refused = try await trigger()
            #expect(refused.status == 400, "the run it invoked is still running: \(refused.body)")
            released.withLock { $0 = true }
            #expect(try await finishedRun("wfr_held", in: stepwise.store).status == .succeeded)
            _ = try await eventually("the child's end in the parent's log") { try await Self.invokeResults(of: "wfr_parent4", in: stepwise).first }
            let started = try await trigger()
            #expect(started.status == 200, "released once the run it invoked ended: \(started.body)")
            #expect(try await Self.invokeResults(of: "wfr_parent4", in: stepwise).isEmpty, "a new run, its log fresh")
        }
    }

    @Test("a parent that failed on a result's delivery while its child ran is resumed with that delivery and one of its whole log, which holds the child's end", arguments: StoreKind.testable)
    func aResumeDeliversTheLogThatGrewWhileFailed(kind: StoreKind) async throws {
        let fixed = Mutex(false)
        try await Self.withFailedParent(kind, parent: "wfr_parent3", child: "wfr_late", failingResult: true, fixed: { fixed.withLock { $0 } }) { stepwise in
            #expect(try await finishedRun("wfr_late", in: stepwise.store).status == .succeeded)
            _ = try await eventually("the child's end in the parent's log") { try await Self.invokeResults(of: "wfr_parent3", in: stepwise).first }

            fixed.withLock { $0 = true }
            #expect(try await send(.POST, stepwise.url("/v2/workflows/dlq/resume/dlq_wfr_parent3")).status == 200)
            #expect(try await finishedRun("wfr_parent3", in: stepwise.store).status == .succeeded, "the whole log's delivery ended it")
        }
    }

    @Test("a child of a failed parent that fails, is resumed from the DLQ and ends again leaves its first end in the parent's log, and ends", arguments: StoreKind.testable)
    func aChildEndingTwiceWhileItsParentFailedEndsOnce(kind: StoreKind) async throws {
        let childFixed = Mutex(false)
        try await Self.withFailedParent(kind, parent: "wfr_parent2", child: "wfr_twice", childFails: { !childFixed.withLock { $0 } }, fixed: { false }) { stepwise in
            #expect(try await finishedRun("wfr_twice", in: stepwise.store).status == .failed)
            _ = try await eventually("the child's failure in the parent's log") { try await Self.invokeResults(of: "wfr_parent2", in: stepwise).first }

            childFixed.withLock { $0 = true }
            #expect(try await send(.POST, stepwise.url("/v2/workflows/dlq/resume/dlq_wfr_twice")).status == 200)
            #expect(try await finishedRun("wfr_twice", in: stepwise.store).status == .succeeded, "its second end commits")
            let ends = try await Self.invokeResults(of: "wfr_parent2", in: stepwise)
            #expect(ends.count == 1)
            #expect(ends.first?.out?.contains(#""isFailed":true"#) == true, "the first end stays")
        }
    }

    @Test("a large delivery goes out empty to the JS SDK, which reads the log itself, also when resumed from the DLQ under a new id, but never to the Python SDK", arguments: StoreKind.testable)
    func largeDeliveriesAreFetchedLazilyByTheSDKsThatCan(kind: StoreKind) async throws {
        // The first two deliveries of each run (about 90 and 280 bytes) stay under it, the rest not.
        let configuration = WorkflowEngine.Configuration(retryDelayScale: 0.001, lazyFetch: LazyFetch(threshold: 350))
        try await CountingServer.with { endpoint in
            try await RunningServer.with([], store: kind, configuration: configuration) { stepwise in
                let steps = ["a", "b", "c", "d", "e"]
                let python = EmulatedSDKEndpoint(stepwise: stepwise, url: endpoint.url("/py"), steps: steps)
                endpoint.handle("/py") { await python.answer($0) }
                #expect(try await python.trigger(runId: "wfr_py", payload: #"{"n":1}"#).status == 200)
                #expect(try await finishedRun("wfr_py", in: stepwise.store).status == .succeeded)
                let pythonBodies = endpoint.requests(to: "/py").map { try? RawStepArray(jsonBytes: Array($0.body.utf8)).steps.count }
                #expect(pythonBodies == [1, 2, 3, 4, 5, 6], "the Python SDK names LazyFetch but cannot take an empty body")
                // The REST API writes the JS SDK's feature set whatever the endpoint runs: its first
                // delivery, larger than the threshold, carries the payload.
                let large = "{\"text\":\"\(String(repeating: "x", count: 400))\"}"
                #expect(try await send(.POST, stepwise.url("/v2/trigger/\(python.url)"), body: large, headers: [("Upstash-Workflow-RunId", "wfr_rest_py")]).status == 200)
                #expect(try await finishedRun("wfr_rest_py", in: stepwise.store).status == .succeeded)
                let restFirst = try #require(endpoint.requests(to: "/py").first { $0.header("Upstash-Workflow-RunId") == "wfr_rest_py" })
                #expect(try RawStepArray(jsonBytes: Array(restFirst.body.utf8)).initialPayload == Array(large.utf8))

                var js = EmulatedSDKEndpoint(stepwise: stepwise, url: endpoint.url("/js"), steps: steps)
                js.fetchesLogLazily = true
                let jsSDK = js
                // The fourth delivery fails the run for good, once; the run's failure function
                // (its workflow URL, as for the JS SDK 1.x's runs) takes the notice.
                let failures = Mutex(0)
                endpoint.handle("/js") { request in
                    guard request.header("Upstash-Workflow-Sdk-Version") != nil else { return EmulatedSDKEndpoint.acknowledgement() }
                    let fails = failures.withLock { count in
                        count += 1
                        return count == 4
                    }
                    guard !fails else {
                        return ScriptedResponse(status: 489, body: #"{"error":"WorkflowNonRetryableError","message":"later"}"#, headers: [("Upstash-NonRetryable-Error", "true")])
                    }
                    return await jsSDK.answer(request)
                }
                #expect(try await js.trigger(runId: "wfr_js", payload: #"{"n":1}"#).status == 200)
                #expect(try await finishedRun("wfr_js", in: stepwise.store).status == .failed)
                let letters = try await send(.GET, stepwise.url("/v2/workflows/dlq"))
                let dlqId = try #require(letters.json?["messages"]?.list?.first?["dlqId"]?.string)
                #expect(try await send(.POST, stepwise.url("/v2/workflows/dlq/resume/\(dlqId)")).status == 200)
                #expect(try await finishedRun("wfr_js", in: stepwise.store).status == .succeeded)

                let deliveries = endpoint.requests(to: "/js").filter { $0.header("Upstash-Workflow-Sdk-Version") != nil }
                let entries = deliveries.map { $0.body.isEmpty ? nil : try? RawStepArray(jsonBytes: Array($0.body.utf8)).steps.count }
                #expect(entries == [1, 2, nil, nil, nil, nil, nil], "the resumed delivery too: its log entry is relabeled with its new id")
                let verifier = SignatureVerifier(keys: try await stepwise.engine.signingKeys())
                for delivery in deliveries where delivery.body.isEmpty {
                    let claims = try verifier.verify(
                        token: delivery.header("Upstash-Signature") ?? "", body: [], now: Int64(Date().timeIntervalSince1970), leeway: 5,
                        url: endpoint.url("/js"))
                    #expect(claims.issuer == "Upstash", "an empty body is signed as empty")
                }
                let log = RawStepArray(try await stepwise.store.runLog(runId: "wfr_js", through: nil))
                #expect(try log.stepEntries().map(\.stepName) == steps, "each step published once, from the log the SDK read")
            }
        }
    }

    @Test("a resume or restart from the DLQ with Upstash's override headers: the run's remaining deliveries take the retries, label, flow control and failure callback given, the next one waits the delay", arguments: StoreKind.testable)
    func aResumeOrRestartTakesUpstashsOverrides(kind: StoreKind) async throws {
        try await CountingServer.with { endpoint in
            try await RunningServer.with([], store: kind, configuration: Self.fastRetries) { stepwise in
                var sdk = EmulatedSDKEndpoint(stepwise: stepwise, url: endpoint.url("/flaky"), steps: ["a", "b"])
                // As the Python SDK does, every message repeats its options: no retries.
                sdk.messageHeaders = [("Upstash-Retries", "0")]
                let endpointSDK = sdk
                // Each delivery fails on its first attempt and is taken on the next.
                let attempts = Mutex<[Int: Int]>([:])
                let arrivals = Mutex<[ContinuousClock.Instant]>([])
                endpoint.handle("/flaky") { request in
                    let done = (try? RawStepArray(jsonBytes: Array(request.body.utf8)).stepEntries().count) ?? -1
                    let attempt = attempts.withLock { counts in
                        counts[done, default: 0] += 1
                        return counts[done, default: 0]
                    }
                    arrivals.withLock { $0.append(.now) }
                    return attempt == 1 ? .json(#"{"error":"Error","message":"flaky"}"#, status: 500) : await endpointSDK.answer(request)
                }
                let keyed = [("Upstash-Label", "before"), ("Upstash-Flow-Control-Key", "old-key"), ("Upstash-Flow-Control-Value", "parallelism=2")]
                #expect(try await sdk.trigger(runId: "wfr_flaky", payload: "{}", extraHeaders: keyed).status == 200)
                #expect(try await finishedRun("wfr_flaky", in: stepwise.store).status == .failed, "no retries: the first failure fails the run")
                let entry = try await send(.GET, stepwise.url("/v2/workflows/dlq?flowControlKey=other,old-key")).json?["messages"]?.list
                #expect(entry?.compactMap { $0["flowControlKey"]?.string } == ["old-key"], "found by its trigger's key")
                let resumedAt = ContinuousClock.now
                let resumed = try await send(
                    .POST, stepwise.url("/v2/workflows/dlq/resume/dlq_wfr_flaky"),
                    headers: [
                        ("Upstash-Retries", "1"), ("Upstash-Label", "fixed"), ("Upstash-Flow-Control-Key", "flaky-key"),
                        ("Upstash-Flow-Control-Value", "parallelism=1"), ("Upstash-Delay", "1s"),
                    ])
                #expect(resumed.status == 200, "\(resumed.body)")
                let run = try await finishedRun("wfr_flaky", in: stepwise.store)
                #expect(run.status == .succeeded, "each later delivery failed once and was retried: the override wins over each message's own 0")
                #expect(run.label == "fixed" && run.defaults?.overrides?.flowControl?.concurrencyKey == "flaky-key")
                let logs = try await send(.GET, stepwise.url("/v2/workflows/logs?flowControlKey=flaky-key")).json?["runs"]?.list
                #expect(logs?.compactMap { $0["workflowRunId"]?.string } == ["wfr_flaky"], "found by the key the resume gave it")
                #expect(try await send(.GET, stepwise.url("/v2/workflows/logs?flowControlKey=old-key")).json?["runs"]?.list?.isEmpty == true)
                #expect(try await stepwise.store.runs(RunFilter(labels: ["fixed"])).map(\.id) == ["wfr_flaky"], "found by its new label")
                #expect(try await stepwise.store.runs(RunFilter(labels: ["before"])).isEmpty, "not by its old one")
                #expect(attempts.withLock { $0 } == [0: 2, 1: 2, 2: 2])
                let firstAfter = try #require(arrivals.withLock { $0.dropFirst().first })
                #expect(firstAfter - resumedAt >= .milliseconds(990), "Upstash-Delay: the resumed delivery waited")

                // A resume that names a failure URL, then a restart that adds retries: the new run
                // keeps the label and the first override, and takes the second.
                endpoint.handle("/flaky") { _ in .json(#"{"error":"Error","message":"down"}"#, status: 500) }
                endpoint.handle("/failed") { _ in .json("{}") }
                #expect(try await sdk.trigger(runId: "wfr_down", payload: #"{"n":1}"#, extraHeaders: [("Upstash-Label", "first")]).status == 200)
                #expect(try await finishedRun("wfr_down", in: stepwise.store).status == .failed)
                #expect(endpoint.requests(to: "/failed").isEmpty, "the run named no failure URL")
                let named = try await send(.POST, stepwise.url("/v2/workflows/dlq/resume/dlq_wfr_down"), headers: [("Upstash-Failure-Callback", endpoint.url("/failed"))])
                #expect(named.status == 200, "\(named.body)")
                let firstNotice = try await eventually("the failure URL given to the resume") { endpoint.requests(to: "/failed").first }
                #expect(try FailureCallbackBodyFields(firstNotice.body).workflowRunId == "wfr_down")
                let restarted = try await send(
                    .POST, stepwise.url("/v2/workflows/dlq/restart?dlqIds=dlq_wfr_down"),
                    headers: [("Upstash-Retries", "1"), ("Upstash-Flow-Control-Key", "restarted"), ("Upstash-Flow-Control-Value", "parallelism=3")])
                let fresh = try #require(restarted.json?["workflowRuns"]?.list?.first?["workflowRunId"]?.string, "\(restarted.body)")
                let failedAgain = try await finishedRun(fresh, in: stepwise.store)
                #expect(failedAgain.status == .failed && failedAgain.label == "first" && failedAgain.flowControlKey == "restarted")
                #expect(endpoint.requests(to: "/flaky").filter { $0.header("Upstash-Workflow-RunId") == fresh }.count == 2, "one retry, not the message's 0")
                let notice = try await eventually("the failure URL, kept by the restart") {
                    endpoint.requests(to: "/failed").first { (try? FailureCallbackBodyFields($0.body).workflowRunId) == fresh }
                }
                #expect(try FailureCallbackBodyFields(notice.body).sourceBody == #"{"n":1}"#)
                #expect(try await send(.POST, stepwise.url("/v2/workflows/dlq/restart/dlq_wfr_down")).status == 404, "the entry went with the restart")

                let malformed = try await send(.POST, stepwise.url("/v2/workflows/dlq/resume/dlq_\(fresh)"), headers: [("Upstash-Failure-Callback", "ftp://x")])
                #expect(malformed.status == 400 && malformed.error?.contains("Upstash-Failure-Callback") == true, "\(malformed.body)")
                #expect(try await stepwise.store.run(id: fresh)?.status == .failed, "a refused resume changes nothing")
            }
        }
    }

    @Test("of two requests acting on one DLQ entry at once (resume, restart, delete), one acts and the other finds no entry", arguments: StoreKind.testable)
    func oneOfTwoDeadLetterActionsAtOnceActs(kind: StoreKind) async throws {
        try await CountingServer.with { endpoint in
            try await RunningServer.with([], store: kind, configuration: Self.fastRetries) { stepwise in
                var sdk = EmulatedSDKEndpoint(stepwise: stepwise, url: endpoint.url("/race"), steps: ["a"])
                sdk.messageHeaders = [("Upstash-Retries", "0")]
                endpoint.handle("/race") { _ in .json(#"{"error":"Error","message":"down"}"#, status: 500) }
                let pairs: [(String, String)] = [("restart", "resume"), ("restart", "restart"), ("resume", "resume"), ("delete", "restart")]
                for index in pairs.indices {
                    #expect(try await sdk.trigger(runId: "wfr_race\(index)", payload: "{}").status == 200)
                    #expect(try await finishedRun("wfr_race\(index)", in: stepwise.store).status == .failed)
                }
                // A resumed run fails again only after the race, so its new entry cannot be taken.
                endpoint.handle("/race") { _ in .json(#"{"error":"Error","message":"down"}"#, status: 500, delay: .seconds(3)) }
                var restartsWon = 0
                for (index, pair) in pairs.enumerated() {
                    let entry = "dlq_wfr_race\(index)"
                    let request: @Sendable (String) async throws -> HTTPAnswer = { action in
                        action == "delete"
                            ? try await send(.DELETE, stepwise.url("/v2/workflows/dlq/\(entry)"))
                            : try await send(.POST, stepwise.url("/v2/workflows/dlq/\(action)/\(entry)"))
                    }
                    async let first = request(pair.0)
                    async let second = request(pair.1)
                    let answers = [(pair.0, try await first.status), (pair.1, try await second.status)]
                    #expect(answers.map(\.1).sorted() == [200, 404], "\(answers)")
                    if answers.contains(where: { $0 == ("restart", 200) }) { restartsWon += 1 }
                }
                let fresh = try await stepwise.store.runs(RunFilter(limit: 100)).filter { !$0.id.hasPrefix("wfr_race") }
                #expect(fresh.count == restartsWon, "one new run per restart that acted: \(fresh.map(\.id))")
                let missing = try await send(.POST, stepwise.url("/v2/workflows/dlq/resume/dlq_wfr_race0"), headers: [("Upstash-Failure-Callback-Retries", "2")])
                #expect(missing.status == 400 && missing.error?.contains("needs the Upstash-Failure-Callback header") == true, "\(missing.body)")
            }
        }
    }

    @Test("a DLQ entry tells how its failure callback went, filters on it, and a failed one is sent again on request", arguments: StoreKind.testable)
    func aFailedFailureCallbackIsSentAgainFromTheDLQ(kind: StoreKind) async throws {
        try await CountingServer.with { endpoint in
            try await RunningServer.with([], store: kind, configuration: Self.fastRetries) { stepwise in
                var sdk = EmulatedSDKEndpoint(stepwise: stepwise, url: endpoint.url("/doomed"), steps: ["a"])
                sdk.messageHeaders = [
                    ("Upstash-Failure-Callback", endpoint.url("/failed")), ("Upstash-Failure-Callback-Retries", "1"),
                    ("Upstash-Failure-Callback-Forward-Upstash-Workflow-Is-Failure", "true"), ("Upstash-Retries", "0"),
                ]
                let failureFunctionFixed = Mutex(false)
                endpoint.handle("/doomed") { _ in .json(#"{"error":"Error","message":"no way"}"#, status: 500) }
                endpoint.handle("/failed") { _ in
                    failureFunctionFixed.withLock { $0 } ? .json("{}") : .json(#"{"error":"failure function broke"}"#, status: 500)
                }
                #expect(try await sdk.trigger(runId: "wfr_doomed", payload: #"{"order":7}"#).status == 200)
                #expect(try await finishedRun("wfr_doomed", in: stepwise.store).status == .failed)
                let plain = EmulatedSDKEndpoint(stepwise: stepwise, url: endpoint.url("/doomed"), steps: ["a"])
                #expect(try await plain.trigger(runId: "wfr_plain", payload: "{}").status == 200)
                #expect(try await finishedRun("wfr_plain", in: stepwise.store).status == .failed)

                let entry = try await eventually("the failure callback given up") { () -> Value? in
                    let entry = try await send(.GET, stepwise.url("/v2/workflows/dlq/dlq_wfr_doomed")).json
                    return entry?["failureCallbackInfo"]?["state"] == "CALLBACK_FAIL" ? entry : nil
                }
                #expect(endpoint.requests(to: "/failed").count == 2, "its own retries: one")
                #expect(entry["failureCallback"]?.string == endpoint.url("/failed"))
                #expect(entry["failureFunctionState"] == "CALLBACK_FAIL")
                #expect(entry["failureCallbackInfo"]?["responseStatus"] == 500)
                #expect(entry["failureCallbackInfo"]?["responseBody"]?.string?.contains("failure function broke") == true)
                #expect(entry["failureCallbackInfo"]?["responseHeaders"]?["Content-Type"] == ["application/json"])
                let plainEntry = try await send(.GET, stepwise.url("/v2/workflows/dlq/dlq_wfr_plain")).json
                #expect(plainEntry?["failureCallbackInfo"] == nil && plainEntry?["failureCallback"] == nil)
                let failedOnes = try await send(.GET, stepwise.url("/v2/workflows/dlq?failureFunctionState=CALLBACK_FAIL"))
                #expect(failedOnes.json?["messages"]?.list?.compactMap { $0["workflowRunId"]?.string } == ["wfr_doomed"])
                let unknownState = try await send(.GET, stepwise.url("/v2/workflows/dlq?failureFunctionState=BROKEN"))
                #expect(unknownState.status == 400 && unknownState.error?.hasPrefix("failureFunctionState must be one of") == true)

                let none = try await send(.POST, stepwise.url("/v2/workflows/dlq/callback/dlq_wfr_plain"))
                #expect(none.status == 400 && none.error?.contains("has no failure callback") == true, "\(none.body)")
                #expect(try await send(.POST, stepwise.url("/v2/workflows/dlq/callback/dlq_nope")).status == 404)

                failureFunctionFixed.withLock { $0 = true }
                // Two retries at once (two nodes, on PostgreSQL): one sends the callback.
                async let first = send(.POST, stepwise.url("/v2/workflows/dlq/callback/dlq_wfr_doomed"))
                async let second = send(.POST, stepwise.url("/v2/workflows/dlq/callback/dlq_wfr_doomed"))
                let answers = try await [first, second]
                let retried = try #require(answers.first { $0.status == 200 }, "\(answers.map(\.body))")
                #expect(retried.json?["workflowRunId"] == "wfr_doomed", "\(retried.body)")
                #expect(answers.filter { $0.status == 400 }.count == 1, "\(answers.map(\.body))")
                let succeeded = try await eventually("the failure callback delivered") { () -> Value? in
                    let entry = try await send(.GET, stepwise.url("/v2/workflows/dlq/dlq_wfr_doomed")).json
                    return entry?["failureCallbackInfo"]?["state"] == "CALLBACK_SUCCESS" ? entry : nil
                }
                #expect(succeeded["failureCallbackInfo"]?["responseStatus"] == 200)
                let sent = endpoint.requests(to: "/failed")
                #expect(sent.count == 3 && sent[2].body == sent[0].body, "the same failure reported again")
                #expect(try FailureCallbackBodyFields(sent[2].body).sourceBody == #"{"order":7}"#)
                let twice = try await send(.POST, stepwise.url("/v2/workflows/dlq/callback/dlq_wfr_doomed"))
                #expect(twice.status == 400 && twice.error?.contains("has not failed (CALLBACK_SUCCESS)") == true, "\(twice.body)")
                #expect(try await stepwise.store.run(id: "wfr_doomed")?.status == .failed, "the run stays in the DLQ")
            }
        }
    }

    @Test(arguments: StoreKind.testable) func aRestartFromTheDLQStartsAFreshRunWithTheInitialPayload(kind: StoreKind) async throws {
        try await CountingServer.with { endpoint in
            try await RunningServer.with([], store: kind, configuration: Self.fastRetries) { stepwise in
                let sdk = EmulatedSDKEndpoint(stepwise: stepwise, url: endpoint.url("/broken"), steps: ["a"])
                endpoint.fallback("/broken", .json(#"{"error":"Error","message":"down"}"#, status: 500))
                #expect(try await sdk.trigger(runId: "wfr_old", payload: #"{"v":1}"#, extraHeaders: [("Upstash-Retries", "0")]).status == 200)
                #expect(try await finishedRun("wfr_old", in: stepwise.store).status == .failed)
                endpoint.handle("/broken") { await sdk.answer($0) }
                let restarted = try await send(.POST, stepwise.url("/v2/workflows/dlq/restart/dlq_wfr_old"))
                let id = try #require(restarted.json?["workflowRunId"]?.string)
                #expect(id != "wfr_old")
                #expect(try await finishedRun(id, in: stepwise.store).status == .succeeded)
                let first = try #require(endpoint.requests(to: "/broken").first { $0.header("Upstash-Workflow-RunId") == id })
                #expect(try RawStepArray(jsonBytes: Array(first.body.utf8)).initialPayload == Array(#"{"v":1}"#.utf8))
                #expect(try await send(.GET, stepwise.url("/v2/workflows/dlq")).json?["messages"]?.list?.isEmpty == true)
            }
        }
    }

    @Test(arguments: StoreKind.testable) func theJSSDKsRunLevelOptionsApplyToEveryLaterMessage(kind: StoreKind) async throws {
        try await CountingServer.with { endpoint in
            try await RunningServer.with([], store: kind, configuration: Self.fastRetries) { stepwise in
                let sdk = EmulatedSDKEndpoint(stepwise: stepwise, url: endpoint.url("/v1"), steps: ["a", "b"])
                endpoint.handle("/v1") { request in
                    if request.header("Upstash-Workflow-Failure-Callback") == "true" { return .json(#"{"result":"handled"}"#) }
                    let done = try? RawStepArray(jsonBytes: Array(request.body.utf8)).stepEntries().count
                    return done == 1 ? .json(#"{"error":"Error","message":"step b broke"}"#, status: 500) : await sdk.answer(request)
                }
                let trigger = try await sdk.trigger(
                    runId: "wfr_v1", payload: #"{"v":1}"#,
                    extraHeaders: [
                        ("Upstash-Feature-Set", "LazyFetch,InitialBody,WF_DetectTrigger,WF_TriggerOnConfig"), ("Upstash-Retries", "1"),
                        ("Upstash-Forward-X-Team", "blue"),
                    ])
                #expect(trigger.status == 200)
                #expect(try await finishedRun("wfr_v1", in: stepwise.store).status == .failed)
                let deliveries = endpoint.requests(to: "/v1")
                let steps = deliveries.filter { $0.header("Upstash-Workflow-Failure-Callback") == nil }
                #expect(steps.map { $0.header("Upstash-Retried") } == ["0", "0", "1"], "the step message carried no retries; the trigger's 1 applied")
                #expect(steps.allSatisfy { $0.header("X-Team") == "blue" }, "the trigger's user headers reach every delivery")
                let failure = try await eventually("the failure callback to the workflow URL") {
                    endpoint.requests(to: "/v1").first { $0.header("Upstash-Workflow-Failure-Callback") == "true" }
                }
                #expect(failure.header("Upstash-Workflow-Is-Failure") == "true")
                #expect(failure.header("Upstash-Workflow-RunId") == "wfr_v1")
                #expect(try FailureCallbackBodyFields(failure.body).sourceBody == #"{"v":1}"#)
            }
        }
    }

    @Test(arguments: StoreKind.testable) func aCallIsMadeByTheEngineAndItsAnswerIsCalledBackToTheWorkflow(kind: StoreKind) async throws {
        try await CountingServer.with { endpoint in
            try await RunningServer.with([], store: kind) { stepwise in
                let url = endpoint.url("/wf")
                let sdk = EmulatedSDKEndpoint(stepwise: stepwise, url: url, steps: ["after-call"])
                endpoint.fallback("/third", ScriptedResponse(status: 201, body: #"{"pong":true}"#, headers: [("x-reply", "yes"), ("X-REPLY", "again")]))
                endpoint.handle("/wf") { request in
                    guard request.header("Upstash-Workflow-Callback") == nil else { return .json(#"{"finishCondition":"fromCallback"}"#) }
                    guard request.header("Upstash-Message-Id") != nil, (try? RawStepArray(jsonBytes: Array(request.body.utf8)).steps.count) == 1 else {
                        return await sdk.answer(request)
                    }
                    let call: [(String, String)] = [
                        ("Upstash-Workflow-Init", "false"), ("Upstash-Workflow-RunId", "wfr_call"), ("Upstash-Workflow-Url", url),
                        ("Upstash-Workflow-CallType", "toCallback"), ("Upstash-Method", "POST"), ("Upstash-Retries", "0"),
                        ("Upstash-Forward-X-Api", "k"), ("Upstash-Callback", url), ("Upstash-Callback-Workflow-RunId", "wfr_call"),
                        ("Upstash-Callback-Forward-Upstash-Workflow-Callback", "true"), ("Upstash-Callback-Forward-Upstash-Workflow-StepId", "1"),
                    ]
                    _ = try? await sdk.batch([(endpoint.url("/third"), call, #""ping""#)])
                    return EmulatedSDKEndpoint.acknowledgement()
                }
                let trigger = try await sdk.trigger(runId: "wfr_call", payload: "{}", extraHeaders: [
                    ("Upstash-Feature-Set", "LazyFetch,InitialBody,WF_DetectTrigger,WF_TriggerOnConfig"), ("Upstash-Forward-X-Team", "blue"),
                ])
                #expect(trigger.status == 200, "the JS SDK 1.x's trigger, whose options are the run's")
                let callback = try await eventually("the call's callback") { endpoint.requests(to: "/wf").first { $0.header("Upstash-Workflow-Callback") != nil } }
                let third = try #require(endpoint.requests(to: "/third").first)
                #expect(third.method == "POST")
                #expect(third.body == #""ping""#)
                #expect(third.header("X-Api") == "k")
                #expect(callback.header("Upstash-Workflow-RunId") == "wfr_call")
                #expect(callback.header("Upstash-Workflow-StepId") == "1")
                #expect(callback.header("Upstash-Workflow-Sdk-Version") == nil, "a callback must look like a first invocation to the SDK")
                #expect(callback.header("X-Team") == "blue", "the trigger's user headers reach the callback, as QStash's do")
                #expect(third.header("X-Team") == nil, "but never the third party")
                let body = try #require(try? Value(json: callback.body))
                #expect(body["status"] == .int(201))
                #expect(body["body"]?.string.flatMap { Data(base64Encoded: $0) } == Data(#"{"pong":true}"#.utf8))
                #expect(body["header"]?["X-Reply"] == .list(["yes", "again"]), "names as Go spells them, which the JS SDK's readers expect")
                #expect(body["header"]?["x-reply"] == nil)
                let log = try await send(.GET, stepwise.url("/v2/workflows/runs/wfr_call"))
                #expect(log.json?.list?.map { $0["callType"]?.string } == ["step", "toCallback", "fromCallback"])
            }
        }
    }

    @Test("a call's large answer is called back empty to the JS SDK, which finds it in the log by the callback's message id; whole to the Python SDK", arguments: StoreKind.testable)
    func largeCallbacksAreFetchedLazily(kind: StoreKind) async throws {
        let configuration = WorkflowEngine.Configuration(lazyFetch: LazyFetch(threshold: 1_000))
        let answer = "{\"text\":\"\(String(repeating: "x", count: 2_000))\"}"
        try await CountingServer.with { endpoint in
            try await RunningServer.with([], store: kind, configuration: configuration) { stepwise in
                endpoint.fallback("/third", .json(answer))
                endpoint.fallback("/wf", EmulatedSDKEndpoint.acknowledgement())
                let sdk = EmulatedSDKEndpoint(stepwise: stepwise, url: endpoint.url("/wf"), steps: [])
                for (runId, features) in [("wfr_js_call", "LazyFetch,InitialBody,WF_DetectTrigger,WF_TriggerOnConfig"), ("wfr_py_call", "LazyFetch,InitialBody")] {
                    #expect(try await sdk.trigger(runId: runId, payload: "{}").status == 200)
                    let call: [(String, String)] = [
                        ("Upstash-Workflow-Init", "false"), ("Upstash-Workflow-RunId", runId), ("Upstash-Workflow-CallType", "toCallback"),
                        ("Upstash-Callback", sdk.url), ("Upstash-Callback-Workflow-RunId", runId), ("Upstash-Callback-Feature-Set", features),
                        ("Upstash-Callback-Forward-Upstash-Workflow-Callback", "true"), ("Upstash-Callback-Workflow-CallType", "fromCallback"),
                    ]
                    #expect(try await sdk.batch([(endpoint.url("/third"), call, nil)]).status == 200)
                }
                let callbacks = try await eventually("both callbacks") { () -> [String: ReceivedRequest]? in
                    let received = endpoint.requests(to: "/wf").filter { $0.header("Upstash-Workflow-Callback") != nil }
                    return received.count == 2 ? Dictionary(uniqueKeysWithValues: received.map { ($0.header("Upstash-Workflow-RunId") ?? "", $0) }) : nil
                }
                let python = try #require(callbacks["wfr_py_call"])
                #expect(try Value(json: python.body)["status"] == 200, "the Python SDK reads the callback from its body")
                let js = try #require(callbacks["wfr_js_call"])
                #expect(js.body.isEmpty)
                let log = try await send(.GET, stepwise.url("/v2/workflows/runs/wfr_js_call"))
                let entry = try #require(try RawStepArray(jsonBytes: Array(log.body.utf8)).steps.first { $0.messageId == js.header("Upstash-Message-Id") })
                #expect(entry.callType == .fromCallback)
                let callback = try Value(json: String(decoding: entry.body, as: UTF8.self))
                #expect(callback["status"] == 200 && callback["body"]?.string.flatMap { Data(base64Encoded: $0) } == Data(answer.utf8))
            }
        }
    }

    @Test(arguments: StoreKind.testable) func aCallWhoseCallbackCannotBeDeliveredFailsItsRunWhichResumesFromTheCallback(kind: StoreKind) async throws {
        try await CountingServer.with { endpoint in
            try await RunningServer.with([], store: kind, configuration: Self.fastRetries) { stepwise in
                let url = endpoint.url("/wf")
                let sdk = EmulatedSDKEndpoint(stepwise: stepwise, url: url, steps: [])
                endpoint.fallback("/third", ScriptedResponse(status: 200, body: #"{"pong":true}"#))
                endpoint.handle("/wf") { request in
                    // The endpoint is down whenever the call's answer comes back.
                    guard request.header("Upstash-Workflow-Callback") == nil else { return .json(#"{"error":"down"}"#, status: 503) }
                    let call: [(String, String)] = [
                        ("Upstash-Workflow-Init", "false"), ("Upstash-Workflow-RunId", "wfr_lost"), ("Upstash-Workflow-Url", url),
                        ("Upstash-Workflow-CallType", "toCallback"), ("Upstash-Retries", "0"), ("Upstash-Callback", url),
                        ("Upstash-Callback-Retries", "1"), ("Upstash-Callback-Workflow-RunId", "wfr_lost"),
                        ("Upstash-Callback-Forward-Upstash-Workflow-Callback", "true"),
                        ("Upstash-Callback-Failure-Callback", endpoint.url("/failed")),
                        ("Upstash-Callback-Failure-Callback-Forward-Upstash-Workflow-Is-Failure", "true"),
                    ]
                    _ = try? await sdk.batch([(endpoint.url("/third"), call, #""ping""#)])
                    return EmulatedSDKEndpoint.acknowledgement()
                }
                #expect(try await sdk.trigger(runId: "wfr_lost", payload: #"{"order":9}"#).status == 200)
                let failed = try await finishedRun("wfr_lost", in: stepwise.store)
                #expect(failed.status == .failed, "without its callback the run would wait for ever")
                let callbacks = endpoint.requests(to: "/wf").filter { $0.header("Upstash-Workflow-Callback") != nil }
                #expect(callbacks.count == 2, "the callback's own retries: one")

                let notice = try await eventually("the callback's failure callback") { endpoint.requests(to: "/failed").first }
                #expect(notice.header("Upstash-Workflow-Is-Failure") == "true")
                let body = try FailureCallbackBodyFields(notice.body)
                #expect(body.status == 503)
                #expect(body.sourceBody == #"{"order":9}"#, "the run's initial payload, as the SDK's failure function needs")
                #expect(body.workflowRunId == "wfr_lost")

                let letters = try await send(.GET, stepwise.url("/v2/workflows/dlq"))
                let dlqId = try #require(letters.json?["messages"]?.list?.first?["dlqId"]?.string, "\(letters.body)")
                #expect(try await send(.POST, stepwise.url("/v2/workflows/dlq/resume/\(dlqId)")).status == 200)
                let again = try await eventually("the callback delivered again") { () -> ReceivedRequest? in
                    let received = endpoint.requests(to: "/wf").filter { $0.header("Upstash-Workflow-Callback") != nil }
                    return received.count > 2 ? received[2] : nil
                }
                #expect(again.body == callbacks[0].body, "resumed from the callback that failed, with the call's answer")
                #expect(endpoint.requests(to: "/third").count == 1, "the call is not made again")

                // A restart starts afresh: a delivery of the initial payload, not the old call's answer.
                let stuck = try await finishedRun("wfr_lost", in: stepwise.store)
                #expect(stuck.status == .failed, "the resumed callback failed again")
                let entry = try #require(try await send(.GET, stepwise.url("/v2/workflows/dlq")).json?["messages"]?.list?.first?["dlqId"]?.string)
                let restarted = try await send(.POST, stepwise.url("/v2/workflows/dlq/restart/\(entry)"))
                let fresh = try #require(restarted.json?["workflowRunId"]?.string, "\(restarted.body)")
                let first = try await eventually("the restart's first delivery") {
                    endpoint.requests(to: "/wf").first { $0.header("Upstash-Workflow-RunId") == fresh }
                }
                #expect(first.header("Upstash-Workflow-Callback") == nil)
                #expect(first.header("Upstash-Workflow-Sdk-Version") == "1", "a delivery of the run, not a new trigger")
                let log = try RawStepArray(jsonBytes: Array(first.body.utf8))
                #expect(log.steps.count == 1 && log.initialPayload == Array(#"{"order":9}"#.utf8))
            }
        }
    }

    @Test("messages larger than 1 MiB are taken when --max-message-bytes allows them, whole; larger ones are refused naming the limit")
    func theMessageSizeLimitIsTheOperators() async throws {
        let limits = ConnectionLimits(maximumMessageBytes: 3 << 20)
        try await RunningServer.with([], limits: limits) { stepwise in
            let large = String(repeating: "x", count: 2 << 20)
            let published = try await send(
                .POST, stepwise.url("/v2/publish/http://127.0.0.1:9/inbox"), body: large, headers: [("Upstash-Delay", "1h")])
            #expect(published.status == 200)
            let id = try #require(published.json?["messageId"]?.string)
            let kept = try await send(.GET, stepwise.url("/v2/messages/\(id)"))
            #expect(kept.json?["body"]?.string?.utf8.count == large.utf8.count)
            let batch = try await send(.POST, stepwise.url("/v2/batch"), body: #"[{"destination":"http://127.0.0.1:9/x","headers":{"Upstash-Delay":"1h"},"body":"\#(large)"}]"#)
            #expect(batch.status == 201 || batch.status == 200)
            let tooLarge = try await send(.POST, stepwise.url("/v2/publish/http://127.0.0.1:9/inbox"), body: String(repeating: "x", count: (3 << 20) + 1))
            #expect(tooLarge.status == 413)
            #expect(tooLarge.error == "the request body is larger than \(3 << 20) bytes")
            #expect(try await send(.POST, stepwise.url("/v2/notify/event"), body: large).status == 200, "an event's data is a message")
            let otherRoute = try await send(.POST, stepwise.url("/v2/queues"), body: #"{"queueName":"q","x":"\#(large)"}"#)
            #expect(otherRoute.status == 413, "other routes keep their 1 MiB")
        }
    }

    @Test("a batch item is bounded like a message, by its body: written escaped inside the batch it may take more room")
    func batchItemsAreBoundedByTheirBodies() async throws {
        try await RunningServer.with([]) { stepwise in
            // 800 KiB of escaped quotes (what the Python SDK makes of a step result), 1.6 MiB inside the batch.
            let quotes = String(repeating: #"\\\""#, count: 400 << 10)
            let item = { (body: String) in #"[{"destination":"http://127.0.0.1:9/x","headers":{"Upstash-Delay":"1h"},"body":"\#(body)"}]"# }
            let taken = try await send(.POST, stepwise.url("/v2/batch"), body: item(quotes))
            #expect(taken.status == 200, "\(taken.body.prefix(200))")
            let id = try #require(taken.json?.list?.first?["messageId"]?.string)
            #expect(try await send(.GET, stepwise.url("/v2/messages/\(id)")).json?["body"]?.string?.utf8.count == 2 * (400 << 10))
            let tooLarge = try await send(.POST, stepwise.url("/v2/batch"), body: item(String(repeating: "x", count: (1 << 20) + 1)))
            #expect(tooLarge.status == 413)
            #expect(tooLarge.error == "item 0 of the batch: its body is larger than 1048576 bytes")
        }
    }

    @Test(arguments: StoreKind.testable) func aPlainMessageIsDeliveredSignedAndRetried(kind: StoreKind) async throws {
        try await CountingServer.with { endpoint in
            try await RunningServer.with([], store: kind, configuration: Self.fastRetries) { stepwise in
                endpoint.script("/inbox", .status(503))
                let published = try await send(
                    .POST, stepwise.url("/v2/publish/\(endpoint.url("/inbox"))?page=2"), body: "hello",
                    headers: [("Upstash-Forward-X-Custom", "42"), ("Upstash-Retries", "1")])
                #expect(published.status == 200)
                #expect(published.json?["url"]?.string == endpoint.url("/inbox") + "?page=2")
                let attempts = try await eventually("two attempts") { () -> [ReceivedRequest]? in
                    let received = endpoint.requests(to: "/inbox")
                    return received.count == 2 ? received : nil
                }
                #expect(attempts.map { $0.header("Upstash-Retried") } == ["0", "1"])
                #expect(attempts.allSatisfy { $0.body == "hello" && $0.query == "page=2" && $0.header("X-Custom") == "42" })
                let verifier = SignatureVerifier(keys: try await stepwise.engine.signingKeys())
                let signature = attempts[1].header("Upstash-Signature") ?? ""
                #expect(throws: Never.self) {
                    try verifier.verify(token: signature, body: Array("hello".utf8), now: Int64(Date().timeIntervalSince1970), leeway: 5)
                }
            }
        }
    }

    @Test("a message published again with its deduplication id, or its content, is answered with the first one's id and never queued", arguments: StoreKind.testable)
    func deduplicatedMessagesAreQueuedOnce(kind: StoreKind) async throws {
        try await CountingServer.with { endpoint in
            try await RunningServer.with([], store: kind) { stepwise in
                // Delayed an hour, so that every message queued is still in the queue at the end.
                let inbox = stepwise.url("/v2/publish/\(endpoint.url("/inbox"))")
                let byId = [("Upstash-Deduplication-Id", "order-7"), ("Upstash-Delay", "1h")]
                let first = try await send(.POST, inbox, body: "one", headers: byId)
                #expect(first.status == 200)
                #expect(first.json?["deduplicated"] == nil)
                let firstId = try #require(first.json?["messageId"]?.string)
                let again = try await send(.POST, inbox, body: "another body, the same id", headers: byId)
                #expect(again.status == 202)
                #expect(again.json?["messageId"]?.string == firstId)
                #expect(again.json?["deduplicated"] == true)

                // The Python client writes the flag as `True`; the same content twice in one batch
                // is stored once, a different forwarded header makes another message.
                let item = { (tag: String) in
                    #"{"destination": "\#(endpoint.url("/inbox"))", "body": "two", "headers": {"Upstash-Content-Based-Deduplication": "True", "Upstash-Forward-X-Tag": "\#(tag)", "Upstash-Delay": "1h"}}"#
                }
                let batch = try await send(.POST, stepwise.url("/v2/batch"), body: "[\(item("a")), \(item("a")), \(item("b"))]")
                #expect(batch.status == 200)
                let answers = try #require(batch.json?.list)
                #expect(answers.map { $0["deduplicated"] == true } == [false, true, false])
                #expect(answers[1]["messageId"] == answers[0]["messageId"])
                #expect(answers[2]["messageId"] != answers[0]["messageId"])

                let inTwoHours = try WorkflowEngine.systemTime().plus(seconds: 7_200)
                let queued = try await stepwise.store.claimDueQueued(
                    now: inTwoHours, limit: 100, owner: "test", leaseUntil: try inTwoHours.plus(seconds: 60))
                let stored = [firstId] + [answers[0], answers[2]].compactMap { $0["messageId"]?.string }
                #expect(queued.map(\.id).sorted() == stored.sorted(), "a deduplicated message is never queued")
                #expect(queued.compactMap(\.body).map { String(decoding: $0, as: UTF8.self) }.sorted() == ["one", "two", "two"])
            }
        }
    }

    @Test("a trigger's deduplication id answers a repeat with the message that started the run; a new id on a run in progress is refused and not kept", arguments: StoreKind.testable)
    func deduplicationIdOfARepeatedTrigger(kind: StoreKind) async throws {
        try await CountingServer.with { endpoint in
            try await RunningServer.with([], store: kind) { stepwise in
                let sdk = EmulatedSDKEndpoint(stepwise: stepwise, url: endpoint.url("/wf"), steps: ["a"])
                endpoint.handle("/wf") { await sdk.answer($0) }
                // In progress for an hour: its first delivery waits that long.
                let held = [("Upstash-Delay", "1h")]
                let first = try await sdk.trigger(runId: "wfr_dedup", payload: "{}", extraHeaders: held + [("Upstash-Deduplication-Id", "t1")])
                let started = try #require(first.json?.list?.first?["messageId"]?.string)
                let repeated = try await sdk.trigger(runId: "wfr_dedup", payload: "{}", extraHeaders: held + [("Upstash-Deduplication-Id", "t1")])
                #expect(repeated.json?.list?.first?["messageId"]?.string == started)
                #expect(repeated.json?.list?.first?["deduplicated"] == true)
                let another = try await sdk.trigger(runId: "wfr_dedup", payload: "{}", extraHeaders: held + [("Upstash-Deduplication-Id", "t2")])
                #expect(another.status == 400, "the run is in progress: \(another.body)")
                let byKey = try await send(
                    .POST, stepwise.url("/v2/publish/\(endpoint.url("/elsewhere"))"), body: "x", headers: [("Upstash-Deduplication-Id", "t2")])
                #expect(byKey.status == 200, "the refused trigger did not take t2: \(byKey.body)")
                #expect(byKey.json?["messageId"]?.string != started)
                _ = try await eventually("the message t2 let through") { endpoint.requests(to: "/elsewhere").isEmpty ? nil : true }
            }
        }
    }
}

/// The members of a failure-callback body a test checks, decoded.
struct FailureCallbackBodyFields {
    let status: Int64
    let sourceBody: String
    let workflowRunId: String
    let url: String
    let responseBody: String

    init(_ text: String) throws {
        let json = try Value(json: text)
        status = json["status"]?.int ?? -1
        sourceBody = json["sourceBody"]?.string.flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } ?? ""
        workflowRunId = json["workflowRunId"]?.string ?? ""
        url = json["url"]?.string ?? ""
        responseBody = json["body"]?.string.flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } ?? ""
    }
}

extension RunningServer {
    /// The states QStash's message log (`GET /v2/events`) shows for message `id`, newest first.
    func messageStates(of id: String) async throws -> [String] {
        let answer = try await send(.GET, url("/v2/events?messageId=\(id)"))
        #expect(answer.status == 200, "\(answer.body)")
        return answer.json?["events"]?.list?.compactMap { $0["state"]?.string } ?? []
    }
}
