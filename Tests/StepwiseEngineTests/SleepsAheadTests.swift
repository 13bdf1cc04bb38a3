import Foundation
import StepwiseEngine
import StepwiseExpressions
import StepwiseRuntime
import StepwiseTesting
import Testing

/// The engine fires a run's sleep ahead of its end (`Configuration.sleepLookahead`) and holds the
/// run's delivery until then: the end shows early in the journal, the next step never runs early.
@Suite("Sleeps fired ahead of their end")
struct SleepsAheadTests {
    @Test("a sleep ending within the lookahead has its end recorded ahead, and the step after it waits", arguments: StoreKind.testable)
    func endRecordedAhead(kind: StoreKind) async throws {
        try await CountingServer.with { target in
            let napper = try Self.napper(sleeping: "1h", then: target)
            // An hour's margin: however slowly the machine runs, the end is seen ahead of it.
            try await RunningServer.with([napper], store: kind, configuration: .init(sleepLookahead: .seconds(7200))) { server in
                let id = try await server.startRun("napper", "{}")
                let nap = try await journal(of: id, in: server.store, reaching: 2).last
                #expect(nap?.stepName == "nap")
                #expect(try await server.store.progress(runId: id).pending.isEmpty, "the sleep is no longer pending")
                try await Task.sleep(for: .milliseconds(300))
                #expect(target.requests(to: "/after").isEmpty, "the next step waits for the sleep's end")
                #expect(try await server.store.run(id: id)?.status == .running)
                #expect(try await server.engine.cancel(runId: id))
            }
        }
    }

    @Test("the step after a sleep fired ahead runs at the sleep's end, not before", arguments: StoreKind.testable)
    func nextStepWaitsForTheEnd(kind: StoreKind) async throws {
        try await CountingServer.with { target in
            let napper = try Self.napper(sleeping: "2500ms", then: target)
            try await RunningServer.with([napper], store: kind, configuration: .init(sleepLookahead: .seconds(2))) { server in
                let id = try await server.startRun("napper", "{}")
                let run = try await finishedRun(id, in: server.store)
                #expect(run.status == .succeeded, "\(String(describing: run.error))")
                let end = try await Self.napEnd(of: id, in: server.store)
                let after = try #require(target.requests(to: "/after").first)
                #expect(after.receivedAt >= end, "the step after the sleep ran at \(after.receivedAt), before the end \(end)")
                #expect(target.requests(to: "/after").count == 1)
            }
        }
    }

    @Test("a sleep beside an invoked run is not fired ahead: the child's end would deliver the run before the sleep ends", arguments: StoreKind.testable)
    func sleepBesideAChildFiresWhenDue(kind: StoreKind) async throws {
        let listener = try definition("""
            workflow: listener
            steps:
              - id: hear
                wait_for_event: {event: "beside-go", timeout: 1h}
            """)
        let beside = try definition("""
            workflow: beside
            steps:
              - id: both
                parallel:
                  rest:
                    - id: nap
                      sleep: 1h
                  ask:
                    - id: kid
                      invoke: {workflow: listener}
            """)
        let lone = try definition("""
            workflow: lone
            steps:
              - id: nap
                sleep: 1h
            """)
        // Any sleep fired ahead is fired at once: it ends within the lookahead.
        let configuration = WorkflowEngine.Configuration(sleepLookahead: .seconds(7200))
        try await RunningServer.with([listener, beside, lone], store: kind, configuration: configuration) { server in
            let id = try await server.startRun("beside", "{}")
            try await parked(id, "both.ask.kid", in: server.store)
            try await parked(id, "both.rest.nap", in: server.store)
            let child = try #require(try await server.store.runs(RunFilter(workflow: "listener")).first)
            try await parked(child.id, "hear", in: server.store)
            // A lone sleep parked after it is fired ahead: the engine has looked for sleeps to fire.
            let loneId = try await server.startRun("lone", "{}")
            _ = try await journal(of: loneId, in: server.store, reaching: 2)
            #expect(!(try await server.store.journal(runId: id).map(\.stepName)).contains("both.rest.nap"))
            #expect(try await server.engine.cancel(runId: id))
        }
    }

    @Test("a run canceled while its delivery is held for its sleep's end, here or by another node, does not run its next step", arguments: StoreKind.testable)
    func canceledWhileHeld(kind: StoreKind) async throws {
        try await CountingServer.with { target in
            // The cancels must land before the sleeps end: 30 s leaves room for a loaded machine
            // (at 6 s, a run beside a full build once canceled too late; at 15 s, a PostgreSQL
            // case of the whole suite beside a CI run).
            let napper = try Self.napper(sleeping: "30s", then: target)
            try await RunningServer.with([napper], store: kind, configuration: .init(sleepLookahead: .seconds(29.8))) { server in
                let here = try await server.startRun("napper", "{}")
                let elsewhere = try await server.startRun("napper", "{}")
                var ends: [Date] = []
                for id in [here, elsewhere] { ends.append(try await Self.napEnd(of: id, in: server.store)) }
                #expect(try await server.engine.cancel(runId: here))
                // Through the store, as another node's API would: this engine hears nothing of it.
                #expect(try await server.store.cancel(runId: elsewhere, reason: nil, at: WorkflowEngine.systemTime()))
                try await Task.sleep(for: .seconds(max(0, (ends.max() ?? Date()).timeIntervalSinceNow) + 0.7))
                #expect(target.requests(to: "/after").isEmpty, "a canceled run's next step was run")
                for id in [here, elsewhere] { #expect(try await server.store.run(id: id)?.status == .canceled) }
            }
        }
    }

    @Test("a node that stops gives back the deliveries it held: another node makes them at the sleep's end, not before")
    func stopGivesHeldDeliveriesBack() async throws {
        try await CountingServer.with { target in
            // Node 1 must stop before the sleep ends: 12 s leaves room for a loaded machine (at 6 s,
            // a CI dry run with the whole suite beside it stopped a second too late).
            let napper = try Self.napper(sleeping: "12s", then: target)
            let harness = try EngineHarness()
            let (id, end) = try await harness.withEngine([napper], owner: "node-1", configuration: .init(sleepLookahead: .seconds(11.5))) { node in
                let id = try await node.start("napper").id
                return (id, try await Self.napEnd(of: id, in: node.store))
            }
            #expect(Date() < end, "node-1 stopped while it held the delivery")
            let finished = try await harness.withEngine([napper], owner: "node-2", configuration: .init(sleepLookahead: .zero)) { node in
                try await finishedRun(id, in: node.store, within: .seconds(30))
            }
            #expect(finished.status == .succeeded)
            let after = try #require(target.requests(to: "/after").first)
            #expect(after.receivedAt >= end, "node-2 ran the step at \(after.receivedAt), before the sleep's end \(end)")
        }
    }

    @Test("with no lookahead, a sleep's end is recorded when it is due")
    func noLookahead() async throws {
        let napper = try definition("""
            workflow: napper
            steps:
              - id: nap
                sleep: 800ms
            """)
        let configuration = WorkflowEngine.Configuration(sleepLookahead: .zero)
        try await RunningServer.with([napper], configuration: configuration) { server in
            let id = try await server.startRun("napper", "{}")
            let end = try await Self.napEnd(of: id, in: server.store)
            #expect(Date() >= end)
            #expect(try await finishedRun(id, in: server.store).status == .succeeded)
        }
    }

    /// A workflow that sleeps `duration`, then requests `/after` of `target`, which answers.
    private static func napper(sleeping duration: String, then target: CountingServer) throws -> WorkflowDefinition {
        target.fallback("/after", .json(#"{"ok": true}"#))
        return try definition("""
            workflow: napper
            steps:
              - id: nap
                sleep: \(duration)
              - id: after
                http: {url: "\(target.url("/after"))"}
            """)
    }

    /// When run `id`'s `nap` ends, as its journal records it, once recorded.
    private static func napEnd(of id: String, in store: any Store) async throws -> Date {
        let nap = try await eventually("the sleep's end to be recorded", every: .milliseconds(5)) {
            try await store.journal(runId: id).first { $0.stepName == "nap" }
        }
        let until = try TimestampValue(parsing: try #require(nap.out?["until"]?.string))
        return Date(timeIntervalSince1970: Double(until.nanosecondsSinceEpoch) / 1e9)
    }
}
