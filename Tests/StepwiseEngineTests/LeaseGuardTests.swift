import Foundation
import GRDB
@testable import StepwiseEngine
import StepwiseExpressions
import StepwiseRuntime
import StepwiseTesting
import Synchronization
import Testing

/// A node cut off from its store cannot renew its leases: before one lapses and another node
/// claims the delivery again, the node gives the delivery up, so a slow step is never made twice
/// at once and flow-control limits hold across nodes.
@Suite("Deliveries whose leases lapse unrenewed")
struct LeaseGuardTests {
    @Test("the guard gives up, once, the held leases no claim, commit or renewal covers any more, forgets those nothing holds, never brings one given up back but by a new claim, and never shortens one")
    func lapsing() {
        var leases = LeaseGuard()
        let start = ContinuousClock.now
        let held: Set<LeaseGuard.Lease> = [.message(1), .queued("q1"), .message(3)]
        leases.take(.message(1), until: start + .seconds(10))
        leases.take(.queued("q1"), until: start + .seconds(30))
        leases.take(.message(2), until: start + .seconds(10))
        #expect(leases.abandonLapsed(at: start + .seconds(5), isHeld: held.contains).isEmpty)
        #expect(leases.abandonLapsed(at: start + .seconds(11), isHeld: held.contains) == [.message(1)], "message 2 is held by nothing any more: forgotten")
        #expect(leases.abandonLapsed(at: start + .seconds(11), isHeld: held.contains).isEmpty, "given up once")
        leases.renew([.queued("q1"), .message(2)], until: start + .seconds(60))
        leases.renew([.queued("q1")], until: start + .seconds(20))
        #expect(leases.abandonLapsed(at: start + .seconds(40), isHeld: held.contains).isEmpty, "renewed; a renewal never shortens, and a forgotten lease is not renewed")
        leases.renew([.message(1)], until: start + .seconds(90))
        leases.extend(.message(1), until: start + .seconds(90))
        #expect(leases.abandoned.contains(.message(1)), "a late renewal or an extension never brings a lease given up back")
        leases.take(.message(1), until: start + .seconds(90))
        #expect(!leases.abandoned.contains(.message(1)), "a new claim holds it anew")
        #expect(leases.abandonLapsed(at: start + .seconds(80), isHeld: { _ in false }).isEmpty)
        #expect(leases.abandoned.isEmpty, "a lease given up and held by nothing is forgotten")
    }

    /// A workflow of one slow request to `target`'s `/slow`, whose answer's `n` is its output.
    private static func slow(at target: CountingServer) throws -> WorkflowDefinition {
        try definition("""
            workflow: slow
            steps:
              - id: fetch
                http: {url: "\(target.url("/slow"))", timeout: 60s}
            output: ${{ steps.fetch.body.n }}
            """)
    }

    @Test("a node whose store stops answering gives up a slow step once its lease went unrenewed for a lease, before the store lets another node take it over; nothing of it is committed, and it is delivered again once the store answers")
    func aSlowStepIsGivenUp() async throws {
        try await CountingServer.with { target in
            target.script("/slow", .json(#"{"n": 1}"#, delay: .seconds(30)), .json(#"{"n": 2}"#))
            let slow = try Self.slow(at: target)
            let harness = try EngineHarness()
            let log = CapturedLog()
            try await harness.withEngine([slow], configuration: .init(lease: .seconds(3)), logger: log.logger) { node in
                let run = try await node.start("slow")
                _ = try await eventually("the slow request") { target.requests(to: "/slow").isEmpty ? nil : true }
                // Another connection holds the store's write lock for 6 s: renewals wait, then it answers again.
                let blocker = try DatabaseQueue(path: harness.databasePath)
                let locked = Task {
                    try await blocker.writeWithoutTransaction { db in
                        try db.execute(sql: "BEGIN EXCLUSIVE")
                        Thread.sleep(forTimeInterval: 6)
                        try db.execute(sql: "COMMIT")
                    }
                }
                _ = try await eventually("the delivery given up while the store is locked", within: .seconds(5)) {
                    await node.engine.inFlightCount == 0 ? true : nil
                }
                #expect(log.text.contains("their requests are cancelled and their outcomes dropped"), "\(log.text)")
                try await locked.value
                let finished = try await finishedRun(run.id, in: node.store)
                #expect(finished.status == .succeeded && finished.output == 2, "delivered again: \(String(describing: finished.error))")
                #expect(target.requests(to: "/slow").count == 2)
                #expect(try await node.store.journal(runId: run.id).map(\.stepName) == ["init", "fetch"], "the step recorded once")
            }
        }
    }

    @Test("a wall clock stepped forward past the lease of a step in flight (an NTP step) never makes the node deliver that step again beside itself")
    func aClockStepForwardClaimsNothingTwice() async throws {
        try await CountingServer.with { target in
            target.script("/slow", .json(#"{"n": 1}"#, delay: .seconds(4)))
            let slow = try Self.slow(at: target)
            let stepped = Mutex(Duration.zero)
            let clock: @Sendable () -> TimestampValue = { WorkflowEngine.systemTime().movedForward(by: stepped.withLock { $0 }) }
            let harness = try EngineHarness()
            try await harness.withEngine([slow], configuration: .init(lease: .seconds(3), maximumIdle: .milliseconds(20)), clock: clock) { node in
                let run = try await node.start("slow")
                _ = try await eventually("the slow request") { target.requests(to: "/slow").first }
                stepped.withLock { $0 = .seconds(3_600) }
                let finished = try await finishedRun(run.id, in: node.store)
                #expect(finished.status == .succeeded && finished.output == 1)
                #expect(target.requests(to: "/slow").count == 1, "the step in flight was not claimed again by its own node")
            }
        }
    }
}
