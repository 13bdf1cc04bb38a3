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
                #expect(try await sdk.trigger(runId: "nightly", payload: #"{"n":2}"#).status == 200)
                let third = try await finishedRun("nightly", in: stepwise.store)
                #expect(third.status == .succeeded && third.createdAt != second.createdAt)
                #expect(endpoint.requests(to: "/wf").count == 4, "two deliveries a run, for the two runs that ran")
            }
        }
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
