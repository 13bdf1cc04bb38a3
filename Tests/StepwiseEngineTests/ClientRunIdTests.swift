import Foundation
import StepwiseEngine
import StepwiseExpressions
import Testing
import StepwiseTesting

/// Run ids chosen by clients (`Upstash-Workflow-RunId`) cannot collide with the ids the engine
/// derives (schedule ticks, `invoke` children), cannot adopt a run of another workflow, and are
/// limited in length and characters.
@Suite("Client-chosen run ids")
struct ClientRunIdTests {
    static let ticker = """
        workflow: ticker
        schedule: [{cron: "* * * * *"}]
        steps:
          - id: done
            return: tick
        """

    static let parent = """
        workflow: parent
        steps:
          - id: child
            invoke: {workflow: ticker}
        output: ${{ steps.child.status }}
        """

    @Test("ids in the engine's namespaces, too long, empty or with other characters are refused with 400 and start nothing")
    func refusedIds() async throws {
        try await RunningServer.with([try definition(Self.ticker)]) { server in
            // A tick an hour ahead: the schedule cannot have fired it while the test runs, however slowly.
            let tick = "wfr_sched_ticker_0_\(Int(Date().timeIntervalSince1970) / 60 * 60 + 3_600)"
            let refused = [tick, "wfr_invoke_0123456789abcdef", String(repeating: "a", count: 129), "a b", "../etc", "ü", "x/y", "x%y", ".", ".."]
            for id in refused + [""] {
                let answer = try await send(.POST, server.url("/workflows/ticker"), body: "{}", headers: [("Upstash-Workflow-RunId", id)])
                #expect(answer.status == 400, "\(id.debugDescription): \(answer.body)")
                #expect(answer.error?.contains("run id") == true)
            }
            // An SDK run started through the QStash routes is held to the same rule.
            let endpoint = "http://127.0.0.1:9/wf"
            let workflowStart = [("Upstash-Workflow-Init", "true"), ("Upstash-Workflow-Url", endpoint)]
            for id in refused {
                let headers = workflowStart + [("Upstash-Workflow-RunId", id)]
                let published = try await send(.POST, server.url("/v2/publish/\(endpoint)"), body: "{}", headers: headers)
                let batch = try await send(.POST, server.url("/v2/batch"), body: Value.list([
                    ["destination": .string(endpoint), "headers": .map(ValueMap(headers.map { ($0.0, Value.string($0.1)) })), "body": "{}"],
                ]).jsonText())
                let scheduled = try await send(
                    .POST, server.url("/v2/schedules/\(endpoint)"), body: "{}", headers: headers + [("Upstash-Cron", "* * * * *")])
                for answer in [published, batch, scheduled] {
                    #expect(answer.status == 400, "\(id.debugDescription): \(answer.body)")
                    #expect(answer.error?.contains("Upstash-Workflow-RunId") == true, "\(answer.body)")
                }
            }
            #expect(try await server.store.run(id: tick) == nil, "the future tick's id is still free")
            #expect(try await server.store.queueSchedules().isEmpty)
            let longest = String(repeating: "a", count: 128)
            for id in [longest, "wfr_order-42", "tenant:7.run_1"] {
                let answer = try await send(.POST, server.url("/workflows/ticker"), body: "{}", headers: [("Upstash-Workflow-RunId", id)])
                #expect(answer.status == 200, "\(id): \(answer.body)")
            }
        }
    }

    @Test("an id that belongs to a run of another workflow is a 409, not an adoption; the same workflow deduplicates")
    func idOfAnotherWorkflow() async throws {
        try await RunningServer.with([try definition(Self.ticker), try definition(Self.parent)]) { server in
            let id = try await server.startRun("parent", "{}", headers: [("Upstash-Workflow-RunId", "order-7")])
            let foreign = try await send(.POST, server.url("/workflows/ticker"), body: "{}", headers: [("Upstash-Workflow-RunId", id)])
            #expect(foreign.status == 409, "\(foreign.body)")
            #expect(foreign.error?.contains("another workflow") == true)
            let again = try await send(.POST, server.url("/workflows/parent"), body: "{}", headers: [("Upstash-Workflow-RunId", id)])
            #expect(again.json?["deduplicated"] == true)
            let run = try await finishedRun(id, in: server.store)
            #expect(run.workflow == "parent" && run.status == .succeeded && run.output == "succeeded")
        }
    }

    @Test("an invoke child's id starts with the engine's reserved prefix, so no client can have taken it")
    func childIdsAreReserved() async throws {
        try await RunningServer.with([try definition(Self.ticker), try definition(Self.parent)]) { server in
            let id = try await server.startRun("parent", "{}")
            #expect(try await finishedRun(id, in: server.store).status == .succeeded)
            let children = try await server.store.runs(.init()).filter { $0.parent?.runId == id }
            #expect(children.count == 1)
            #expect(children.allSatisfy { $0.id.hasPrefix("wfr_invoke_") && RunIdentifier.clientProblem($0.id) != nil })
            let adopt = try await send(
                .POST, server.url("/workflows/ticker"), body: "{}", headers: [("Upstash-Workflow-RunId", children.first?.id ?? "")])
            #expect(adopt.status == 400, "\(adopt.body)")
        }
    }
}
