import AsyncHTTPClient
import Foundation
import NIOCore
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime
import StepwiseTesting
import Testing

/// The change feed as Server-Sent Events, and the CLI commands that follow runs on it instead of
/// polling (`trigger --wait`, `logs --follow`).
@Suite("Change feed", .timeLimit(.minutes(3)))
struct ChangeFeedTests {
    static let waiter = """
        workflow: waiter
        steps:
          - id: nap
            sleep: 10ms
          - id: ready
            wait_for_event: {event: "ready-${{ input.n }}", timeout: 1h}
        output: done
        """

    /// The frames (`event` name, `data` JSON) of the SSE stream at `url` until the server ends it
    /// or `stop` says so.
    private func frames(_ url: String, stop: @Sendable (String, Value) -> Bool = { _, _ in false }) async throws -> [(String, Value)] {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Authorization", value: "Bearer \(RunningServer.token)")
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        #expect(response.status == .ok)
        #expect(response.headers.first(name: "Content-Type") == "text/event-stream")
        var collected: [(String, Value)] = []
        var parser = ServerSentEventParser()
        for try await buffer in response.body {
            for event in parser.feed(buffer.readableBytesView) {
                let data = try Value(json: event.data)
                collected.append((event.name, data))
                if stop(event.name, data) { return collected }
            }
        }
        return collected
    }

    /// Waits until a stream is connected to `server`'s feed: what happens next is on it.
    private func following(_ server: RunningServer) async throws {
        _ = try await eventually("the stream to follow the feed") { server.engine.events.subscriberCount >= 1 ? true : nil }
    }

    @Test("a run's stream gives its snapshot, each step as it is recorded or waited on, and ends with the run", arguments: StoreKind.testable)
    func oneRun(kind: StoreKind) async throws {
        // The run's first step waits for the gate, which opens once the stream follows the
        // feed: every step after it is on the stream, whatever the machine's load.
        try await SmallWorkflows.withGatedWait("gated", event: "ready-${{ input.n }}", output: "done") { gated, open in
            try await followOneRun(gated, opening: open, store: kind)
        }
    }

    private func followOneRun(_ gated: WorkflowDefinition, opening open: @Sendable () -> Void, store kind: StoreKind) async throws {
        try await RunningServer.with([gated], store: kind) { server in
            let id = try await server.startRun("gated", #"{"n": 1}"#)
            let stream = Task { try await frames(server.url("/api/runs/\(id)/events")) }
            try await following(server)
            open()
            try await parked(id, "ready", in: server.store)
            _ = try await send(.POST, server.url("/v2/notify/ready-1"), body: "{}")
            let received = try await stream.value
            #expect(received.first?.0 == "snapshot")
            #expect(received.first?.1["workflowRunId"] == .string(id))
            let gateRecorded = try #require(received.firstIndex { $0.0 == "step" && $0.1["step"] == "gate" })
            let waited = try #require(received.firstIndex { $0.0 == "waiting" && $0.1["step"] == "ready" })
            #expect(gateRecorded < waited)
            #expect(received[waited...].contains { $0.0 == "step" }, "the event's arrival is recorded")
            #expect(received.last?.0 == "finished")
            #expect(received.last?.1["status"] == "succeeded")

            let ended = try await frames(server.url("/api/runs/\(id)/events"))
            #expect(ended.map(\.0) == ["snapshot"], "a finished run's stream is its snapshot alone")
            #expect(try await send(.GET, server.url("/api/runs/nope/events")).status == 404)
            #expect(try await send(.GET, server.url("/api/runs/\(id)/events"), token: nil).status == 401)
            // A dashboard's EventSource keeps asking for an ended run's stream: none may stay subscribed.
            _ = try await eventually("every stream to let go of the feed", within: .seconds(10)) {
                server.engine.events.subscriberCount == 0 ? true : nil
            }
        }
    }

    @Test("the feed of every run reports runs started after connecting, narrowed to a workflow")
    func everyRun() async throws {
        let other = try definition("""
            workflow: other
            steps:
              - id: nap
                sleep: 10ms
            """)
        try await RunningServer.with([try definition(Self.waiter), other]) { server in
            let stream = Task { try await frames(server.url("/api/events?workflow=other")) { name, _ in name == "finished" } }
            try await following(server)
            _ = try await server.startRun("waiter", #"{"n": 2}"#)
            let id = try await server.startRun("other", "{}")
            let received = try await stream.value
            #expect(received.allSatisfy { $0.1["workflowRunId"] == .string(id) }, "only runs of `other`")
            #expect(received.map(\.0) == ["started", "waiting", "step", "finished"], "its sleep: waiting, then its timer recorded")
        }
    }

    @Test("trigger --wait and logs --follow follow a run on the feed to its end")
    func followingCommands() async throws {
        try await RunningServer.with([try definition(Self.waiter)]) { server in
            let options = ["--server", server.url(""), "--token", RunningServer.token]
            let waiting = Task {
                try await onOwnThread { try stepwise(arguments: ["trigger", "waiter", "--input", #"{"n": 3}"#, "--run-id", "wfr_feed_3", "--wait"] + options) }
            }
            try await parked("wfr_feed_3", "ready", in: server.store)
            let following = Task { try await onOwnThread { try stepwise(arguments: ["logs", "wfr_feed_3", "--follow"] + options) } }
            // Both commands follow the feed before the event comes: the run is seen running, then ending.
            _ = try await eventually("both commands to follow the feed") { server.engine.events.subscriberCount >= 2 ? true : nil }
            _ = try await send(.POST, server.url("/v2/notify/ready-3"), body: #"{"ok": true}"#)
            let waited = try await waiting.value
            #expect(waited.status == 0, "\(waited.standardError)")
            #expect(try Value(json: waited.standardOutput)["status"] == "succeeded")
            #expect(waited.standardError.contains("started wfr_feed_3"), "the run's id comes first, should the wait fail: \(waited.standardError)")
            let followed = try await following.value
            #expect(followed.status == 0, "\(followed.standardError)")
            #expect(followed.standardOutput.contains("running") && followed.standardOutput.contains("succeeded"), "\(followed.standardOutput)")
            #expect(followed.standardOutput.contains("ready"), "\(followed.standardOutput)")
        }
    }

    @Test("an SDK run's start, each step its endpoint publishes and its end are on the feed too", arguments: StoreKind.testable)
    func sdkRun(kind: StoreKind) async throws {
        try await CountingServer.with { endpoint in
            try await RunningServer.with([], store: kind) { server in
                let url = endpoint.url("/wf")
                let sdk = EmulatedSDKEndpoint(stepwise: server, url: url, steps: ["a", "b"])
                endpoint.handle("/wf") { await sdk.answer($0) }
                let query = "workflow=" + (url.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? url)
                let stream = Task { try await frames(server.url("/api/events?\(query)")) { name, _ in name == "finished" } }
                try await following(server)
                #expect(try await sdk.trigger(runId: "wfr_feed_sdk", payload: "{}").status == 200)
                let received = try await stream.value
                #expect(received.map(\.0) == ["started", "step", "step", "finished"])
                #expect(received.compactMap { $0.1["step"]?.string } == ["a", "b"])
                #expect(received.allSatisfy { $0.1["workflowRunId"] == "wfr_feed_sdk" })
            }
        }
    }
}
