import Foundation
import GRDB
@testable import StepwiseEngine
import StepwiseTesting
import Testing

/// A node cut off from its store cannot renew its leases: before one lapses and another node
/// claims the delivery again, the node gives the delivery up, so a slow step is never made twice
/// at once and flow-control limits hold across nodes.
@Suite("Deliveries whose leases lapse unrenewed")
struct LeaseGuardTests {
    @Test("the guard gives up, once, what no claim, commit or renewal covers any more, never shortens a lease, and forgets what ended")
    func lapsing() {
        var leases = LeaseGuard()
        let start = ContinuousClock.now
        leases.hold("m1", until: start + .seconds(10))
        leases.hold("q1", until: start + .seconds(30))
        #expect(leases.abandonLapsing(before: start + .seconds(5)).isEmpty)
        #expect(leases.abandonLapsing(before: start + .seconds(11)) == ["m1"])
        #expect(leases.abandonLapsing(before: start + .seconds(11)).isEmpty, "given up once")
        leases.renewAll(until: start + .seconds(60))
        leases.hold("q1", until: start + .seconds(20))
        #expect(leases.abandonLapsing(before: start + .seconds(40)).isEmpty, "renewed, and a shorter hold changes nothing")
        leases.release("m1")
        #expect(leases.abandoned.isEmpty)
    }

    @Test("a node whose store stops answering gives up a slow step before its lease lapses; nothing of it is committed, and it is delivered again once the store answers")
    func aSlowStepIsGivenUp() async throws {
        try await CountingServer.with { target in
            target.script("/slow", .json(#"{"n": 1}"#, delay: .seconds(30)), .json(#"{"n": 2}"#))
            let slow = try definition("""
                workflow: slow
                steps:
                  - id: fetch
                    http: {url: "\(target.url("/slow"))", timeout: 60s}
                output: ${{ steps.fetch.body.n }}
                """)
            let harness = try EngineHarness()
            let log = CapturedLog()
            try await harness.withEngine([slow], configuration: .init(lease: .seconds(3)), logger: log.logger) { node in
                let run = try await node.start("slow")
                _ = try await eventually("the slow request") { target.requests(to: "/slow").isEmpty ? nil : true }
                // Another connection holds the store's write lock for 5 s: renewals wait, then it answers again.
                let blocker = try DatabaseQueue(path: harness.databasePath)
                let locked = Task {
                    try await blocker.writeWithoutTransaction { db in
                        try db.execute(sql: "BEGIN EXCLUSIVE")
                        Thread.sleep(forTimeInterval: 5)
                        try db.execute(sql: "COMMIT")
                    }
                }
                _ = try await eventually("the delivery given up while the store is locked", within: .seconds(4)) {
                    await node.engine.inFlightCount == 0 ? true : nil
                }
                #expect(log.text.contains("its request is cancelled and its outcome dropped"), "\(log.text)")
                try await locked.value
                let finished = try await finishedRun(run.id, in: node.store)
                #expect(finished.status == .succeeded && finished.output == 2, "delivered again: \(String(describing: finished.error))")
                #expect(target.requests(to: "/slow").count == 2)
                #expect(try await node.store.journal(runId: run.id).map(\.stepName) == ["init", "fetch"], "the step recorded once")
            }
        }
    }
}
