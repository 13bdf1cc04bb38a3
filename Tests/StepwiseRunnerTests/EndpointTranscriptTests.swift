import Foundation
import StepwiseExpressions
import StepwiseProtocol
@testable import StepwiseRunner
import StepwiseRuntime
import StepwiseTesting
import Synchronization
import Testing

/// The runner answering recorded deliveries (§4–§7 of the protocol notes): what it submits to
/// QStash, byte by byte where the protocol fixes it, for every interleaving of a parallel group.
@Suite("Runner endpoint transcripts")
struct EndpointTranscriptTests {
    static let pair = """
        workflow: pair
        steps:
          - id: both
            parallel:
              a: [{id: fa, http: {url: "http://api.test/a"}}]
              b: [{id: fb, http: {url: "http://api.test/b"}}]
          - id: after
            http: {url: "http://api.test/after"}
        output: {a: "${{ steps.both.a.body }}", b: "${{ steps.both.b.body }}", after: "${{ steps.after.body }}"}
        """

    static let apis = [
        "http://api.test/a": answer(200, "1"), "http://api.test/b": answer(200, "2"), "http://api.test/after": answer(200, "3"),
    ]

    @Test("QSTASH_URL's trailing slashes are dropped: the engine refuses a path that starts with //")
    func orchestratorURLsLoseTrailingSlashes() {
        for url in ["http://127.0.0.1:8080", "http://127.0.0.1:8080/", "http://127.0.0.1:8080///"] {
            #expect(OrchestratorConnection(url: url, token: "t").url == "http://127.0.0.1:8080", "\(url)")
        }
    }

    @Test("a QStash connection printed, interpolated or dumped shows its URL without user info, never its token")
    func orchestratorConnectionsHideTheirSecrets() {
        let connection = OrchestratorConnection(url: "https://ops:pa55word@qstash.internal/", token: "qstash-secret-token")
        var dumped = ""
        dump(connection, to: &dumped)
        for shown in ["\(connection)", String(reflecting: connection), dumped] {
            #expect(!shown.contains("qstash-secret-token") && !shown.contains("pa55word"), "\(shown)")
        }
        #expect("\(connection)" == "QStash at https://***@qstash.internal")
    }

    @Test func aFirstInvocationPublishesTheRunsFirstMessageAndAnswersItsId() async throws {
        let transcript = try await EndpointTranscript(Self.pair, api: Self.apis)
        let reply = await transcript.endpoint.handle(EndpointRequest(
            workflow: "pair", url: transcript.workflowURL, headers: HeaderFields([("Content-Type", "application/json")]), body: Array(#"{"x":1}"#.utf8)))
        #expect(reply.status == 200)
        guard case .map(let body) = reply.body, case .string(let runId)? = body[.string("workflowRunId")] else {
            Issue.record("no run id in \(reply.body)")
            return
        }
        #expect(runId.hasPrefix("wfr_"))
        let requests = transcript.qstash.requests
        #expect(requests.map(\.url) == ["http://qstash.test/v2/publish/" + transcript.workflowURL], "the payload travels as raw bytes")
        let trigger = try #require(requests.first)
        #expect(trigger.header("Authorization") == "Bearer qstash-token")
        #expect(trigger.header("Upstash-Workflow-Init") == "true")
        #expect(trigger.header("Upstash-Workflow-RunId") == runId)
        #expect(trigger.header("Upstash-Workflow-Url") == transcript.workflowURL)
        #expect(trigger.header("Upstash-Forward-Upstash-Workflow-Sdk-Version") == "1")
        #expect(trigger.header("Upstash-Forward-Stepwise-Workflow-Version") == transcript.definition.hash)
        #expect(trigger.body == Array(#"{"x":1}"#.utf8))
        #expect(transcript.api.requests.isEmpty, "nothing runs before the first delivery")
    }

    @Test func aParallelGroupIsPlannedThenEachPlanRunsItsStepAndTheLastResultGoesOn() async throws {
        let transcript = try await EndpointTranscript(Self.pair, api: Self.apis)
        typealias T = EndpointTranscript
        let (planA, planB) = (T.plan("both.a.fa"), T.plan("both.b.fb"))
        let resultA = T.result(RunMessages.groupStepId("both.a.fa"), "both.a.fa", out: ["status": 200, "headers": [:], "body": 1])
        let resultB = T.result(RunMessages.groupStepId("both.b.fb"), "both.b.fb", out: ["status": 200, "headers": [:], "body": 2])

        let first = await transcript.deliver([T.initial()])
        #expect(first.status == 200, "\(first.body)")
        let plans = try T.batchSteps(try #require(transcript.qstash.requests.last))
        #expect(plans.map(\.stepName) == ["both.a.fa", "both.b.fb"])
        #expect(plans.map(\.stepId) == [0, 0])
        #expect(plans.map(\.targetStep) == [Int64(RunMessages.groupStepId("both.a.fa")), Int64(RunMessages.groupStepId("both.b.fb"))])
        #expect(transcript.api.requests.isEmpty, "planning runs nothing")

        var seen = transcript.qstash.requests.count
        #expect(await transcript.deliver([T.initial(), planA]).status == 200)
        #expect(transcript.api.requests.map(\.url) == ["http://api.test/a"], "the plan's delivery runs its step only")
        #expect(try T.batchSteps(try #require(transcript.qstashRequests(after: seen).first)).map(\.stepName) == ["both.a.fa"])

        seen = transcript.qstash.requests.count
        #expect(await transcript.deliver([T.initial(), planA, planB]).status == 200)
        #expect(transcript.api.requests.map(\.url) == ["http://api.test/a", "http://api.test/b"])
        #expect(try T.batchSteps(try #require(transcript.qstashRequests(after: seen).first)).map(\.stepName) == ["both.b.fb"])

        for partial in [[T.initial(), planA, planB, resultA], [T.initial(), planA, resultA], [T.initial(), planA, planB, resultB]] {
            seen = transcript.qstash.requests.count
            #expect(await transcript.deliver(partial).status == 200)
            #expect(transcript.qstashRequests(after: seen).isEmpty, "a group with a member in flight waits")
        }
        #expect(transcript.api.requests.count == 2)

        for complete in [[T.initial(), planA, planB, resultA, resultB], [T.initial(), planA, resultA, planB, resultB], [T.initial(), planB, planA, resultB, resultA]] {
            seen = transcript.qstash.requests.count
            #expect(await transcript.deliver(complete).status == 200)
            let next = try T.batchSteps(try #require(transcript.qstashRequests(after: seen).first))
            #expect(next.map(\.stepName) == ["after"])
            #expect(next.map(\.stepId) == [3], "the step after the group is the third result")
        }

        seen = transcript.qstash.requests.count
        let duplicate = await transcript.deliver([T.initial(), planA, planB, resultA, resultB, resultA])
        #expect(duplicate.body["finishCondition"] == "duplicate-step")
        #expect(transcript.qstashRequests(after: seen).isEmpty)

        let after = T.result(3, "after", out: ["status": 200, "headers": [:], "body": 3])
        seen = transcript.qstash.requests.count
        #expect(await transcript.deliver([T.initial(), planA, planB, resultA, resultB, after]).status == 200)
        let cleanup = try #require(transcript.qstashRequests(after: seen).first)
        #expect(cleanup.method == "DELETE")
        #expect(cleanup.url == "http://qstash.test/v2/workflows/runs/wfr_t?cancel=false")
        #expect(try Value(json: String(decoding: cleanup.body ?? [], as: UTF8.self)) == ["a": 1, "b": 2, "after": 3])
    }

    @Test func aSleepInAGroupEntersTheLogOnlyWhenItEndsThroughASecondPlanDueThen() async throws {
        typealias T = EndpointTranscript
        let transcript = try await EndpointTranscript("""
            workflow: napping
            steps:
              - id: both
                parallel:
                  a: [{id: nap, sleep: 10s}]
                  b: [{id: fb, http: {url: "http://api.test/b"}}]
            """, api: Self.apis)
        let (planNap, planB) = (T.plan("both.a.nap", type: .sleepFor), T.plan("both.b.fb"))
        let seen = transcript.qstash.requests.count
        #expect(await transcript.deliver([T.initial(), planNap]).status == 200)
        let delayed = try #require(transcript.qstashRequests(after: seen).first)
        let plan = try #require(try T.batchSteps(delayed).first)
        #expect(plan.isPlan && plan.stepName == "both.a.nap", "the sleep is planned again, not recorded")
        #expect(plan.targetStep == Int64(RunMessages.groupStepId("both.a.nap@until")))
        let notBefore = try T.batchHeaders(delayed).first?["Upstash-Not-Before"].flatMap { Int64($0) }
        #expect(notBefore.map { abs($0 - Int64(Date().timeIntervalSince1970) - 10) <= 2 } == true, "due when the sleep ends")
        let until = try #require(plan.out)

        let resultB = T.result(RunMessages.groupStepId("both.b.fb"), "both.b.fb", out: ["status": 200, "headers": [:], "body": 2])
        let second = RawStep(messageId: "msg_nap_until", body: plan.bytes)
        var count = transcript.qstash.requests.count
        #expect(await transcript.deliver([T.initial(), planNap, planB, second, resultB]).status == 200)
        #expect(transcript.qstashRequests(after: count).isEmpty, "the group waits for the sleep")

        count = transcript.qstash.requests.count
        #expect(await transcript.deliver([T.initial(), planNap, planB, second]).status == 200)
        let recording = try #require(transcript.qstashRequests(after: count).first)
        let result = try #require(try T.batchSteps(recording).first)
        #expect(!result.isPlan && result.stepName == "both.a.nap" && result.out == until, "the second plan's delivery records the result it carries")
        #expect(try T.batchHeaders(recording).first?["Upstash-Not-Before"] == nil)
    }

    @Test func aGroupStepFailingInItsPlansDeliveryIsRecordedAsItsResult() async throws {
        typealias T = EndpointTranscript
        let transcript = try await EndpointTranscript("""
            workflow: broken
            steps:
              - id: both
                parallel:
                  a: [{id: bad, http: {url: "http://api.test/${{ input.missing.path }}"}}]
                  b: [{id: fb, http: {url: "http://api.test/b"}}]
                catch:
                  - {id: recovered, set: {failed: "${{ error.step }}"}}
            output: ${{ steps.both }}
            """, api: Self.apis)
        #expect(await transcript.deliver([T.initial(), T.plan("both.a.bad")]).status == 200)
        let request = try #require(transcript.qstash.requests.last)
        let recorded = try #require(try T.batchSteps(request).first)
        #expect(recorded.stepName == "both.a.bad")
        #expect(recorded.stepId == Int64(RunMessages.groupStepId("both.a.bad")))
        #expect(try recorded.journalEntry().error?.type == "ExpressionError", "every other delivery replays the failure")
        #expect(transcript.api.requests.isEmpty)
    }

    @Test("A failed try of an http step is answered 429 with Retry-After in whole seconds, as HTTP and QStash read it")
    func aRetriedStepAsksForItsDelayInWholeSeconds() async throws {
        let transcript = try await EndpointTranscript("""
            workflow: flaky
            steps:
              - id: fetch
                http: {url: "http://api.test/flaky"}
                retry: {attempts: 3, initial: 1500ms}
            """, api: ["http://api.test/flaky": answer(503, "{}")])
        let reply = await transcript.deliver([EndpointTranscript.initial()])
        #expect(reply.status == 429)
        let retryAfter = try #require(reply.headers.first { $0.name == "Retry-After" }?.value)
        let seconds = try #require(Int(retryAfter), "Retry-After must be a number of seconds, not \(retryAfter)")
        #expect((1...2).contains(seconds), "1.5 s, less what the request took, rounded up")
        #expect(transcript.qstash.requests.isEmpty)
    }

    @Test func aLogThatDoesNotFitTheDefinitionIsAnsweredWith489() async throws {
        let transcript = try await EndpointTranscript("""
            workflow: single
            steps:
              - id: first
                http: {url: "http://api.test/a"}
            """, api: Self.apis)
        let reply = await transcript.deliver([EndpointTranscript.initial(), EndpointTranscript.result(1, "other", out: 1)])
        #expect(reply.status == 489)
        #expect(reply.headers.contains { $0.name == "Upstash-NonRetryable-Error" && $0.value == "true" })
        #expect(reply.body["message"]?.jsonText().contains("journal entry 1 is Run 'other'") == true, "\(reply.body.jsonText())")
        #expect(transcript.qstash.requests.isEmpty)
        #expect(transcript.api.requests.isEmpty)
    }

    @Test func aCallIsHandedToQStashAndEachCallbackIsJudgedByTheStepsRetryPolicy() async throws {
        let transcript = try await EndpointTranscript("""
            workflow: caller
            steps:
              - id: ask
                call: {method: POST, url: "http://api.test/ask", body: {q: 1}, expect: {status: [200]}}
                retry: {attempts: 2, initial: 1s}
            output: ${{ steps.ask.body }}
            """)
        #expect(await transcript.deliver([EndpointTranscript.initial()]).status == 200)
        let call = try #require(transcript.qstash.requests.last)
        let headers = try #require(try EndpointTranscript.batchHeaders(call).first)
        #expect(headers["Upstash-Method"] == "POST")
        #expect(headers["Upstash-Callback"] == transcript.workflowURL)
        #expect(headers["Upstash-Workflow-CallType"] == "toCallback")
        #expect(headers["Upstash-Callback-Forward-Upstash-Workflow-StepName"] == "ask")
        #expect(headers["Upstash-Callback-Forward-Upstash-Workflow-StepId"] == "1")
        #expect(headers["Upstash-Forward-Upstash-Workflow-Sdk-Version"] == nil, "the SDK version header must not reach the third party")
        #expect(try EndpointTranscript.firstItem(call)?["destination"] == "http://api.test/ask")
        #expect(transcript.api.requests.isEmpty, "QStash makes the call, not the runner")

        func callback(status: Int64, attempt: Int) async -> EndpointReply {
            let body = CallbackBody(
                status: status, header: [("Content-Type", ["application/json"])], body: Array(#"{"a":42}"#.utf8), retried: nil, maxRetries: 0,
                sourceMessageId: "msg_call", url: "http://api.test/ask", method: "POST", sourceBody: Array(#"{"q":1}"#.utf8))
            return await transcript.endpoint.handle(EndpointRequest(
                workflow: "caller", url: transcript.workflowURL,
                headers: HeaderFields([
                    ("Upstash-Workflow-Callback", "true"), ("Upstash-Workflow-RunId", "wfr_t"), ("Upstash-Workflow-StepId", "1"),
                    ("Upstash-Workflow-StepName", "ask"), ("Stepwise-Workflow-Version", transcript.definition.hash),
                    ("Stepwise-Call-Attempt", String(attempt)), ("Stepwise-Call-Expect", "200"),
                ]),
                body: body.jsonBytes))
        }
        var seen = transcript.qstash.requests.count
        #expect(await callback(status: 503, attempt: 0).body["finishCondition"] == "call-will-retry")
        let retry = try #require(transcript.qstashRequests(after: seen).first)
        let retryHeaders = try #require(try EndpointTranscript.batchHeaders(retry).first)
        #expect(retryHeaders["Upstash-Callback-Forward-Stepwise-Call-Attempt"] == "1")
        #expect(retryHeaders["Upstash-Not-Before"] != nil, "the retry waits the policy's delay")
        #expect(try EndpointTranscript.firstItem(retry)?["body"] == #"{"q":1}"#)

        seen = transcript.qstash.requests.count
        #expect(await callback(status: 200, attempt: 1).body["finishCondition"] == "fromCallback")
        let result = try #require(transcript.qstashRequests(after: seen).first)
        #expect(result.url == "http://qstash.test/v2/publish/" + transcript.workflowURL)
        let step = try StepJSON(bytes: result.body ?? [])
        #expect(step.stepName == "ask")
        #expect(step.stepType == "Call")
        #expect(try step.journalEntry().out?["body"] == ["a": 42])
    }
}

/// What a runner tells about itself: verbose events, and what it cannot apply.
@Suite("Runner events and limits")
struct RunnerEventTests {
    @Test func verboseEventsNameWhatEachRequestDidWithUpstashsEventTypes() async throws {
        let lines = LineCollector()
        let transcript = try await EndpointTranscript(EndpointTranscriptTests.pair, api: EndpointTranscriptTests.apis, events: lines.append)
        _ = await transcript.endpoint.handle(EndpointRequest(workflow: "pair", url: transcript.workflowURL, headers: HeaderFields(), body: Array("{}".utf8)))
        _ = await transcript.deliver([EndpointTranscript.initial()])
        _ = await transcript.deliver([EndpointTranscript.initial(), EndpointTranscript.plan("both.a.fa")])
        let events = try lines.lines.map { try Value(json: $0) }
        #expect(events.compactMap { $0["eventType"]?.string } == [
            "ENDPOINT_START", "SUBMIT_FIRST_INVOCATION", "ENDPOINT_START", "RUN_SINGLE", "RUN_PARALLEL", "ENDPOINT_START", "RUN_SINGLE", "SUBMIT_STEP",
        ])
        #expect(events.allSatisfy { $0["timestamp"] != nil && $0["logLevel"] != nil && $0["workflowRunId"] != nil })
        #expect(events.last?["details"]?["stepName"] == "both.a.fa")
    }

    static let limited = """
        workflow: limited
        concurrency: {key: "customer-${{ input.customer }}", limit: 2}
        rate_limit: {key: "customer-${{ input.customer }}", limit: 5, period: 1m}
        steps:
          - {id: a, http: {url: "http://api.test/a"}}
          - {id: b, http: {url: "http://api.test/b"}}
        """

    @Test func aRunsFlowControlTravelsOnEveryWorkflowMessageAsQStashFlowControl() async throws {
        let transcript = try await EndpointTranscript(Self.limited, api: EndpointTranscriptTests.apis)
        let reply = await transcript.endpoint.handle(EndpointRequest(
            workflow: "limited", url: transcript.workflowURL, headers: HeaderFields([("Upstash-Message-Id", "msg_tick")]),
            body: Array(#"{"customer":"c7"}"#.utf8)))
        #expect(reply.status == 200)
        let trigger = try #require(transcript.qstash.requests.first)
        #expect(trigger.header("Upstash-Flow-Control-Key") == "customer-c7")
        #expect(trigger.header("Upstash-Flow-Control-Value") == "parallelism=2, rate=5, period=1m")
        #expect(trigger.header("Upstash-Forward-Stepwise-Flow-Control-Key") == "customer-c7")
        let runId = try #require(trigger.header("Upstash-Workflow-RunId"))
        #expect(runId == WorkflowEndpoint.runId(startedBy: "msg_tick"), "a message QStash delivers again starts the same run")
        // Marked as this endpoint's own trigger, which the engine deduplicates: a client's trigger
        // of a run in progress would be refused, and once the run ended would start another.
        #expect(trigger.header("Upstash-Workflow-Trigger-By-Sdk") == "true")

        // A later delivery takes the run's flow control from the headers its trigger forwarded.
        let before = transcript.qstash.requests.count
        _ = await transcript.deliver(
            [EndpointTranscript.initial(#"{"customer":"c7"}"#)], runId: runId,
            headers: [("Stepwise-Flow-Control-Key", "customer-c7"), ("Stepwise-Flow-Control-Value", "parallelism=2, rate=5, period=1m")])
        let step = try #require(transcript.qstashRequests(after: before).first)
        let headers = try #require(try EndpointTranscript.batchHeaders(step).first)
        #expect(headers["Upstash-Flow-Control-Key"] == "customer-c7")
        #expect(headers["Upstash-Flow-Control-Value"] == "parallelism=2, rate=5, period=1m")
    }

    @Test func differentConcurrencyAndRateKeysAreReportedAtStart() throws {
        let split = try definition("""
            workflow: split
            concurrency: {key: "${{ input.k }}", limit: 1}
            rate_limit: {key: mail, limit: 10, period: 1s}
            steps:
              - {id: hello, set: {text: hi}}
            """)
        let plain = try definition("""
            workflow: plain
            steps:
              - {id: hello, set: {text: hi}}
            """)
        let shared = try definition(Self.limited.replacingOccurrences(of: "workflow: limited", with: "workflow: shared"))
        let versions = try DefinitionVersions(
            folder: WorkflowFolder(sources: [("split.yaml", split.source), ("plain.yaml", plain.source), ("shared.yaml", shared.source)]),
            keptIn: nil)
        #expect(versions.runnerDifferences.count == 1, "one key for both limits is no difference: \(versions.runnerDifferences)")
        #expect(versions.runnerDifferences.first?.contains("workflow 'split'") == true)
        let flow = try WorkflowEndpoint.flowControl(of: split.workflow, input: ["k": "a"], runId: "wfr_x")
        #expect(flow == FlowControl(key: "a", parallelism: 1), "different keys: the concurrency limit alone")
    }
}

/// Collects lines written from any thread.
final class LineCollector: Sendable {
    private let collected = Mutex<[String]>([])

    var lines: [String] { collected.withLock { $0 } }

    @Sendable func append(_ line: String) {
        collected.withLock { $0.append(line) }
    }
}
