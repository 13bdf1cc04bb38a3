import StepwiseEngine
import StepwiseExpressions
import StepwiseRuntime
import StepwiseTesting
import Testing

/// Sleeps fired ahead of their end (`Store.fireSleepsAhead`): which sleeps qualify, and that the
/// run's delivery never becomes claimable before the sleep ends, whoever holds it.
@Suite("Sleeps fired ahead in the store")
struct SleepsAheadStoreTests {
    @Test("a lone sleep ending by the horizon fires: its end is recorded as of its due time, the delivery is due then and leased", arguments: StoreKind.testable)
    func loneSleepFires(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { s in
            try await Self.sleep(["run-1"], in: s)
            #expect(try await s.store.fireSleepsAhead(after: s.at(2), dueBy: s.at(59.999), limit: 10, owner: "node-a", leaseUntil: s.at(120)).isEmpty)
            #expect(try await s.store.fireSleepsAhead(after: s.at(60), dueBy: s.at(61), limit: 10, owner: "node-a", leaseUntil: s.at(120)).isEmpty, "a due timer is the claim's")
            let fired = try await s.store.fireSleepsAhead(after: s.at(2), dueBy: s.at(60), limit: 10, owner: "node-a", leaseUntil: s.at(120))
            let sleep = try #require(fired.first)
            let delivery = try #require(sleep.delivery)
            #expect(fired.count == 1 && sleep.timer.stepName == "nap" && delivery.runId == "run-1" && delivery.kind == .deliver)
            #expect(delivery.dueAt == (try s.at(60)), "the delivery is due when the sleep ends")
            #expect(try await s.store.journal(runId: "run-1").map(\.stepName) == ["init", "nap"])
            #expect(try await s.store.fireSleepsAhead(after: s.at(2), dueBy: s.at(60), limit: 10, owner: "node-b", leaseUntil: s.at(120)).isEmpty, "fired once")
            #expect(try await s.claim("node-b", at: 90).isEmpty, "the delivery is leased to node-a")
        }
    }

    @Test("a held delivery is reported held to its owner under its lease, and no longer once its run is canceled", arguments: StoreKind.testable)
    func heldUntilCanceled(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { s in
            try await Self.sleep(["run-1"], in: s)
            let delivery = try #require(try await s.store.fireSleepsAhead(after: s.at(2), dueBy: s.at(60), limit: 10, owner: "node-a", leaseUntil: s.at(120)).first?.delivery)
            #expect(try await s.store.messagesHeld([delivery], owner: "node-a") == [delivery.id])
            #expect(try await s.store.messagesHeld([delivery], owner: "node-b").isEmpty, "another node's")
            var otherLease = delivery
            otherLease.lease = (delivery.lease ?? 0) + 1
            #expect(try await s.store.messagesHeld([otherLease], owner: "node-a").isEmpty, "a later lease of the same message")
            #expect(try await s.store.cancel(runId: "run-1", reason: nil, at: s.at(30)))
            #expect(try await s.store.messagesHeld([delivery], owner: "node-a").isEmpty)
        }
    }

    @Test("a fired sleep's delivery, released by a stop or a dead node, is claimable at the sleep's end and not before", arguments: StoreKind.testable)
    func releasedDeliveryWaitsForTheEnd(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { s in
            try await Self.sleep(["run-1"], in: s)
            let fired = try await s.store.fireSleepsAhead(after: s.at(2), dueBy: s.at(60.5), limit: 10, owner: "node-a", leaseUntil: s.at(120))
            #expect(fired.count == 1)
            try await s.store.releaseLeases(owners: ["node-a"])
            #expect(try await s.claim("node-b", at: 59.999).isEmpty, "not before the sleep ends")
            let claimed = try await s.claim("node-b", at: 60)
            #expect(claimed.map(\.runId) == ["run-1"] && claimed.first?.kind == .deliver)
        }
    }

    @Test("a sleep is not fired ahead while its run waits for anything else or is under flow control, nor a wait's timeout", arguments: StoreKind.testable)
    func onlyLoneSleepsFire(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { s in
            _ = try await s.store.createRun(s.newRun("beside-a-wait", at: 0))
            _ = try await s.store.createRun(s.newRun("two-naps", at: 0))
            _ = try await s.store.createRun(s.newRun("waits", at: 0))
            _ = try await s.store.createRun(s.newRun("busy", at: 0))
            var limited = try s.newRun("limited", at: 0)
            limited.flowControl = FlowControl(concurrencyKey: "tenant", concurrencyLimit: 5)
            _ = try await s.store.createRun(limited)
            let claimed = Dictionary(uniqueKeysWithValues: try await s.claim("node-a", at: 0).map { ($0.runId, $0) })
            let wait = StepOperation(stepName: "hear", stepType: .wait, kind: .wait(event: "go", timeoutAt: try s.at(60)))
            let besideWait = try #require(claimed["beside-a-wait"])
            #expect(try await s.store.complete(besideWait, owner: "node-a", with: s.resolution(besideWait, sleep: s.at(60), park: [wait], finishedAt: s.at(1), outcome: "submitted")))
            let naps = try ["a", "b"].map { StepOperation(stepName: "nap-\($0)", stepType: .sleepFor, kind: .sleep(until: try s.at($0 == "a" ? 60 : 600))) }
            let twoNaps = try #require(claimed["two-naps"])
            #expect(try await s.store.complete(twoNaps, owner: "node-a", with: s.resolution(twoNaps, park: naps, finishedAt: s.at(1), outcome: "submitted")))
            let waits = try #require(claimed["waits"])
            #expect(try await s.store.complete(waits, owner: "node-a", with: s.resolution(waits, park: [wait], finishedAt: s.at(1), outcome: "submitted")))
            // Another branch of this run goes on: its delivery is due while it sleeps.
            let busy = try #require(claimed["busy"])
            let goesOn = try s.resolution(busy, sleep: s.at(60), next: (attempt: 0, dueAt: s.at(30)), finishedAt: s.at(1), outcome: "submitted")
            #expect(try await s.store.complete(busy, owner: "node-a", with: goesOn))
            // A run under flow control: only a claim may admit its delivery.
            let limitedDelivery = try #require(claimed["limited"])
            #expect(try await s.store.complete(limitedDelivery, owner: "node-a", with: s.resolution(limitedDelivery, sleep: s.at(60), finishedAt: s.at(1), outcome: "submitted")))
            #expect(try await s.store.fireSleepsAhead(after: s.at(2), dueBy: s.at(3600), limit: 10, owner: "node-a", leaseUntil: s.at(7200)).isEmpty)
            for run in ["beside-a-wait", "two-naps", "waits", "busy", "limited"] {
                #expect(try await s.store.journal(runId: run).map(\.stepName) == ["init"], "\(run): nothing recorded ahead")
            }
            let due = try await s.claim("node-a", at: 60)
            #expect(due.filter { $0.kind == .timer }.count == 6, "each timer is still there, due at its time")
        }
    }

    @Test("at most `limit` sleeps fire in one transaction, earliest first", arguments: StoreKind.testable)
    func limitPerTransaction(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { s in
            try await Self.sleep(["run-2", "run-0", "run-1"], in: s, endingOneSecondApart: true)
            let first = try await s.store.fireSleepsAhead(after: s.at(2), dueBy: s.at(70), limit: 2, owner: "node-a", leaseUntil: s.at(120))
            #expect(first.map(\.delivery?.runId) == ["run-0", "run-1"])
            let rest = try await s.store.fireSleepsAhead(after: s.at(2), dueBy: s.at(70), limit: 2, owner: "node-a", leaseUntil: s.at(120))
            #expect(rest.map(\.delivery?.runId) == ["run-2"])
        }
    }

    /// Starts `runs` at 0 and parks each on a sleep ending at 60 s (or at 60, 61, 62… by name when
    /// `endingOneSecondApart`, `run-0` first).
    private static func sleep(_ runs: [String], in s: StoreFixture, endingOneSecondApart: Bool = false) async throws {
        for run in runs { _ = try await s.store.createRun(s.newRun(run, at: 0)) }
        for message in try await s.claim("node-a", at: 0) {
            let offset = endingOneSecondApart ? Double(message.runId.split(separator: "-").last ?? "") ?? 0 : 0
            let resolution = try s.resolution(message, sleep: s.at(60 + offset), finishedAt: s.at(1), outcome: "submitted")
            #expect(try await s.store.complete(message, owner: "node-a", with: resolution))
        }
    }
}
