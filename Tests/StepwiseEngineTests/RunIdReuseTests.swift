import Synchronization
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import StepwiseTesting
import Testing

/// A client's chosen id of an SDK run, as Upstash's singleton workflows use it: reserved while its
/// run is in progress (a trigger is refused with Upstash's 400) and released when the run ends
/// (the next trigger starts a new run in its place, even with the same body).
@Suite("SDK run ids: reserved while in progress, released at the end")
struct RunIdReuseTests {
    private static let inProgress = "a workflow already exists, can not initialize a new one with same id"

    /// A trigger of `runId` once its ended run has let it go: that run's last delivery, in which
    /// the SDK ended it, is answered a moment after the run reads as ended.
    private static func triggerOnceReleased(_ sdk: EmulatedSDKEndpoint, runId: String, payload: String, extraHeaders: [(String, String)] = [])
        async throws -> HTTPAnswer
    {
        try await eventually("run id \(runId) released") {
            let answer = try await sdk.trigger(runId: runId, payload: payload, extraHeaders: extraHeaders)
            return answer.status == 400 && answer.json?["error"] == .string(inProgress) ? nil : answer
        }
    }

    @Test("a trigger of a run in progress is refused with Upstash's 400; once canceled or ended, the id starts a new run", arguments: StoreKind.testable)
    func reservedThenReleased(kind: StoreKind) async throws {
        try await CountingServer.with { endpoint in
            try await RunningServer.with([], store: kind) { stepwise in
                let sdk = EmulatedSDKEndpoint(stepwise: stepwise, url: endpoint.url("/wf"), steps: ["a"])
                endpoint.handle("/wf") { await sdk.answer($0) }
                // In progress for an hour: its first delivery waits that long.
                #expect(try await sdk.trigger(runId: "nightly", payload: #"{"n":1}"#, extraHeaders: [("Upstash-Delay", "1h")]).status == 200)
                let held = try #require(try await stepwise.store.run(id: "nightly"))
                let again = [
                    try await sdk.trigger(runId: "nightly", payload: #"{"n":1}"#),
                    try await send(.POST, stepwise.url("/v2/trigger/\(sdk.url)"), body: "{}", headers: [("Upstash-Workflow-RunId", "nightly")]),
                ]
                for answer in again {
                    #expect(answer.status == 400, "\(answer.body)")
                    #expect(answer.json?["error"] == .string(Self.inProgress))
                }
                let elsewhere = try await send(.POST, stepwise.url("/v2/trigger/\(endpoint.url("/other"))"), body: "{}", headers: [("Upstash-Workflow-RunId", "nightly")])
                #expect(elsewhere.status == 409, "another workflow's run in progress is never adopted: \(elsewhere.body)")
                #expect(try await stepwise.store.run(id: "nightly")?.createdAt == held.createdAt, "the run in progress goes on")

                // Upstash's "replace the running one": cancel, then trigger with the same id.
                #expect(try await send(.DELETE, stepwise.url("/v2/workflows/runs/nightly?cancel=true")).status == 200)
                let replaced = try await sdk.trigger(runId: "nightly", payload: #"{"n":2}"#)
                #expect(replaced.status == 200 && replaced.json?.list?.first?["deduplicated"] == nil, "\(replaced.body)")
                let second = try await finishedRun("nightly", in: stepwise.store)
                #expect(second.status == .succeeded && second.createdAt != held.createdAt)
                let delivered = try #require(endpoint.requests(to: "/wf").first)
                #expect(try RawStepArray(jsonBytes: Array(delivered.body.utf8)).initialPayload == Array(#"{"n":2}"#.utf8))
                let logs = try await send(.GET, stepwise.url("/v2/workflows/logs?workflowRunId=nightly")).json?["runs"]?.list ?? []
                #expect(logs.count == 1 && logs.first?["workflowState"] == "RUN_SUCCESS", "the canceled run made way: \(logs)")

                // Ended, the same body again is a new run too.
                #expect(try await Self.triggerOnceReleased(sdk, runId: "nightly", payload: #"{"n":2}"#).status == 200)
                let third = try await finishedRun("nightly", in: stepwise.store)
                #expect(third.status == .succeeded && third.createdAt != second.createdAt)
                #expect(endpoint.requests(to: "/wf").count == 4, "two deliveries a run, for the two runs that ran")
            }
        }
    }

    @Test("a run canceled while its endpoint runs a step keeps its id until that delivery ends: the step it publishes then is refused, never part of the new run", arguments: StoreKind.testable)
    func aDeliveryInFlightHoldsTheId(kind: StoreKind) async throws {
        let released = Mutex(false)
        try await CountingServer.with { endpoint in
            try await RunningServer.with([], store: kind) { stepwise in
                let sdk = EmulatedSDKEndpoint(stepwise: stepwise, url: endpoint.url("/wf"), steps: ["a"])
                let firstRun = Mutex(true)
                endpoint.handle("/wf") { request in
                    // The first run's first delivery takes its step until the test lets it go.
                    if firstRun.withLock({ $0 }) {
                        while !released.withLock({ $0 }), !Task.isCancelled { try? await Task.sleep(for: .milliseconds(20)) }
                    }
                    return await sdk.answer(request)
                }
                #expect(try await sdk.trigger(runId: "busy", payload: #"{"n":1}"#).status == 200)
                _ = try await eventually("the step in flight") { endpoint.requests(to: "/wf").isEmpty ? nil : true }
                #expect(try await send(.DELETE, stepwise.url("/v2/workflows/runs/busy?cancel=true")).status == 200)
                let held = try await sdk.trigger(runId: "busy", payload: #"{"n":2}"#)
                #expect(held.status == 400 && held.json?["error"] == .string(Self.inProgress), "the canceled run's delivery is in flight: \(held.body)")
                let inFlight = try #require(endpoint.requests(to: "/wf").first?.header("Upstash-Message-Id"))
                let kept = try await send(.DELETE, stepwise.url("/v2/messages/\(inFlight)"))
                #expect(kept.status == 409 && kept.error?.contains("which has ended (canceled)") == true, "\(kept.body)")

                firstRun.withLock { $0 = false }
                released.withLock { $0 = true }
                let started = try await Self.triggerOnceReleased(sdk, runId: "busy", payload: #"{"n":2}"#)
                #expect(started.status == 200 && started.json?.list?.first?["deduplicated"] == nil, "\(started.body)")
                #expect(try await finishedRun("busy", in: stepwise.store).status == .succeeded)
                let delivered = try #require(endpoint.requests(to: "/wf").last)
                let entries = try RawStepArray(jsonBytes: Array(delivered.body.utf8))
                #expect(entries.initialPayload == Array(#"{"n":2}"#.utf8))
                #expect(entries.steps.count == 2, "the new run's payload and its own step, not the canceled run's: \(delivered.body)")
            }
        }
    }

    @Test("an invoke by a new run under a reused id starts a child of its own, not the ended child of the earlier run", arguments: StoreKind.testable)
    func anInvokeOfANewRunStartsItsOwnChild(kind: StoreKind) async throws {
        try await Self.withParentAndChild(kind) { stepwise, parent, child, endpoint in
            for round in 1...2 {
                // In progress until its child reports to it: its own first delivery waits an hour.
                let triggered = try await Self.triggerOnceReleased(parent, runId: "wfr_p", payload: "{}", extraHeaders: Self.held)
                #expect(triggered.status == 200, "round \(round): \(triggered.body)")
                // The earlier child's last delivery may be answered a moment after the parent ended.
                let invoked = try await eventually("the child's id released") {
                    let answer = try await Self.invoke(child, from: parent)
                    return answer.status == 400 && answer.json?["error"] == .string(Self.inProgress) ? nil : answer
                }
                #expect(invoked.status == 200 && invoked.json?.list?.first?["deduplicated"] == nil, "round \(round): \(invoked.body)")
                #expect(try await finishedRun("wfr_c", in: stepwise.store).status == .succeeded)
                #expect(try await finishedRun("wfr_p", in: stepwise.store).status == .succeeded)
            }
            #expect(endpoint.requests(to: "/c").count == 4, "two deliveries for each round's child")
        }
    }

    @Test("a child of the earlier run under a reused id, resumed from the DLQ, reports its end to no one: the new run never invoked it", arguments: StoreKind.testable)
    func anEarlierRunsChildDoesNotReportToTheNewRun(kind: StoreKind) async throws {
        let fixed = Mutex(false)
        try await Self.withParentAndChild(kind, childBroken: { !fixed.withLock { $0 } }) { stepwise, parent, child, _ in
            #expect(try await parent.trigger(runId: "wfr_p", payload: "{}", extraHeaders: Self.held).status == 200)
            #expect(try await Self.invoke(child, from: parent).status == 200)
            #expect(try await finishedRun("wfr_c", in: stepwise.store).status == .failed)
            #expect(try await finishedRun("wfr_p", in: stepwise.store).status == .succeeded, "told of its child's failure, it ended")

            #expect(try await Self.triggerOnceReleased(parent, runId: "wfr_p", payload: "{}", extraHeaders: Self.held).status == 200)
            fixed.withLock { $0 = true }
            #expect(try await send(.POST, stepwise.url("/v2/workflows/dlq/resume/dlq_wfr_c")).status == 200)
            #expect(try await finishedRun("wfr_c", in: stepwise.store).status == .succeeded)
            let log = try RawStepArray(jsonBytes: Array(try await send(.GET, stepwise.url("/v2/workflows/runs/wfr_p")).body.utf8))
            #expect(log.steps.count == 1, "the new run's log holds its payload only: \(log.steps.map { String(decoding: $0.body, as: UTF8.self) })")
            #expect(try await stepwise.store.run(id: "wfr_p")?.status == .running)
        }
    }

    /// Runs `body` with an SDK endpoint at `/p` with no steps (it ends once an invoke reports to
    /// it) and one at `/c` with one step, which fails for good while `childBroken`.
    private static func withParentAndChild(
        _ kind: StoreKind, childBroken: @escaping @Sendable () -> Bool = { false },
        _ body: @escaping @Sendable (RunningServer, EmulatedSDKEndpoint, EmulatedSDKEndpoint, CountingServer) async throws -> Void
    ) async throws {
        try await CountingServer.with { endpoint in
            try await RunningServer.with([], store: kind) { stepwise in
                let parent = EmulatedSDKEndpoint(stepwise: stepwise, url: endpoint.url("/p"), steps: [])
                let child = EmulatedSDKEndpoint(stepwise: stepwise, url: endpoint.url("/c"), steps: ["x"])
                endpoint.handle("/p") { await parent.answer($0) }
                endpoint.handle("/c") { childBroken() ? EmulatedSDKEndpoint.nonRetryable("broken") : await child.answer($0) }
                try await body(stepwise, parent, child, endpoint)
            }
        }
    }

    /// Trigger headers that keep a run in progress for an hour: its first delivery waits that long.
    private static let held = [("Upstash-Delay", "1h")]

    /// `parent`'s invoke of run `wfr_c` at `child` as the JS SDK publishes it, from run `wfr_p`.
    private static func invoke(_ child: EmulatedSDKEndpoint, from parent: EmulatedSDKEndpoint) async throws -> HTTPAnswer {
        let step = try StepJSON(bytes: Array(#"{"stepId":1,"stepName":"child","stepType":"Invoke","concurrent":1}"#.utf8))
        let request = InvokeRequest(
            body: "c", headers: parent.stepHeaders(runId: "wfr_p").map { (name: $0.0, value: $0.1) }, workflowRunId: "wfr_p",
            workflowRunCreatedAt: nil, workflowUrl: parent.url, step: step)
        let trigger = child.stepHeaders(runId: "wfr_c").map { $0.0 == "Upstash-Workflow-Init" ? ($0.0, "true") : $0 }
        return try await parent.batch([(child.url, trigger + [("Upstash-Workflow-Invoke", "true")], String(decoding: request.jsonBytes, as: UTF8.self))])
    }

    @Test("a failed run's id starts a new run, which takes its place in the DLQ too; a batch naming one id twice starts nothing", arguments: StoreKind.testable)
    func failedRunMakesWay(kind: StoreKind) async throws {
        try await CountingServer.with { endpoint in
            try await RunningServer.with([], store: kind) { stepwise in
                endpoint.fallback("/plain", ScriptedResponse(status: 200, body: "not a workflow"))
                let plain = EmulatedSDKEndpoint(stepwise: stepwise, url: endpoint.url("/plain"), steps: ["a"])
                #expect(try await plain.trigger(runId: "sync", payload: "{}", extraHeaders: [("Upstash-Retries", "0")]).status == 200)
                #expect(try await finishedRun("sync", in: stepwise.store).status == .failed)
                // The id is released once nothing of the run is queued, its failure callback included.
                let letter = try await eventually("the failure callback's end") {
                    let entry = try await send(.GET, stepwise.url("/v2/workflows/dlq")).json?["messages"]?.list?.first
                    return entry?["failureCallbackInfo"]?["state"] == "CALLBACK_INPROGRESS" ? nil : entry
                }
                #expect(letter["workflowRunId"] == "sync")

                // Released for any workflow once ended: here a fixed endpoint takes it.
                let sdk = EmulatedSDKEndpoint(stepwise: stepwise, url: endpoint.url("/wf"), steps: ["a"])
                endpoint.handle("/wf") { await sdk.answer($0) }
                #expect(try await sdk.trigger(runId: "sync", payload: "{}").status == 200)
                let run = try await finishedRun("sync", in: stepwise.store)
                #expect(run.status == .succeeded && run.endpoint == sdk.url)
                #expect(try await send(.GET, stepwise.url("/v2/workflows/dlq")).json?["messages"] == [], "the failed run's entry went with it")

                let start = { (payload: String) in
                    (destination: sdk.url, headers: [("Upstash-Workflow-Init", "true"), ("Upstash-Workflow-RunId", "twice")], body: Optional(payload))
                }
                let twice = try await sdk.batch([start("{}"), start("{}")])
                #expect(twice.status == 400 && twice.json?["error"] == .string(Self.inProgress), "\(twice.body)")
                #expect(try await stepwise.store.run(id: "twice") == nil, "the batch is refused whole")
            }
        }
    }
}
