import Foundation
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime
import StepwiseTesting
import Synchronization
import Testing

/// One test suite over the `Store` protocol, run against SQLite always and against PostgreSQL
/// when a server is configured (`StoreKind`): idempotent starts, due times, claims, leases, fenced
/// and atomic completion.
@Suite("Store", .timeLimit(.minutes(3)))
struct StoreTests {
    @Test("the PostgreSQL half of the store suite runs here", .enabled(if: StoreKind.postgresURL != nil || StoreKind.postgresRequired, Comment(rawValue: StoreKind.postgresSkipReason)))
    func postgresIsConfigured() async throws {
        let database = try await PostgresTestDatabase.create()
        await database.drop()
    }

    // MARK: Runs

    @Test("a definition is read by its hash alone: the version kept under it, or none", arguments: StoreKind.testable)
    func definitionByHash(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { s in
            let second = StoredDefinition(hash: "hash-v2", workflow: "orders", source: "workflow: orders\n# v2\n")
            try await s.store.saveDefinition(second)
            #expect(try await s.store.definition(hash: "hash-v2") == second)
            #expect(try await s.store.definition(hash: s.definition.hash) == s.definition)
            #expect(try await s.store.definition(hash: "hash-v3") == nil)
            #expect(try await s.store.definition(hash: "") == nil)
        }
    }

    @Test("createRun is idempotent by id: the second call returns the first run and adds nothing", arguments: StoreKind.testable)
    func createRunIsIdempotent(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { s in
            let first = try await s.store.createRun(s.newRun("run-1", input: ["order": "A-7"]))
            #expect(first.created)
            let second = try await s.store.createRun(s.newRun("run-1", input: ["order": "B-8"], at: 5))
            #expect(!second.created)
            #expect(second.run.input == ["order": "A-7"])
            #expect(second.run.createdAt == s.t0)
            #expect(try await s.store.journal(runId: "run-1") == [.initial(["order": "A-7"])])
            #expect(try await s.store.runs(RunFilter()).map(\.id) == ["run-1"])
            // One start, one first delivery.
            let messages = try await s.claim("node-a", at: 10)
            #expect(messages.map(\.runId) == ["run-1"])
            #expect(messages.first?.attempt == 0)
        }
    }

    @Test("runs are listed newest first and filtered by workflow, status and limit", arguments: StoreKind.testable)
    func runListing(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { s in
            _ = try await s.store.createRun(s.newRun("old", at: 0))
            _ = try await s.store.createRun(s.newRun("new", at: 2))
            _ = try await s.store.createRun(s.newRun("middle", at: 1))
            #expect(try await s.store.runs(RunFilter()).map(\.id) == ["new", "middle", "old"])
            #expect(try await s.store.runs(RunFilter(limit: 2)).map(\.id) == ["new", "middle"])
            #expect(try await s.store.runs(RunFilter(workflow: "other")).isEmpty)
            #expect(try await s.store.cancel(runId: "middle", at: s.at(3)))
            #expect(try await s.store.runs(RunFilter(status: .canceled)).map(\.id) == ["middle"])
            #expect(try await s.store.runs(RunFilter(workflow: "orders", status: .running)).map(\.id) == ["new", "old"])
        }
    }

    // MARK: Claiming

    @Test("a message is not claimed before it is due, and is claimed once due", arguments: StoreKind.testable)
    func claimRespectsDueTimes(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { s in
            _ = try await s.store.createRun(s.newRun("run-1", at: 0))
            #expect(try await s.claim("node-a", at: -0.001).isEmpty)
            let first = try #require(try await s.claim("node-a", at: 0).first)
            // The sleep's timer is due in a minute.
            #expect(try await s.store.complete(first, owner: "node-a", with: s.resolution(first, sleep: s.at(60), finishedAt: s.at(1), outcome: "submitted")))
            #expect(try await s.store.nextWakeTime() == s.at(60))
            #expect(try await s.claim("node-a", at: 59.999).isEmpty)
            let resumed = try await s.claim("node-a", at: 60)
            #expect(resumed.map(\.runId) == ["run-1"])
            #expect(resumed.first?.dueAt == (try s.at(60)))
        }
    }

    @Test("a timer's completion can lease the run's delivery in the same commit, so the run goes on before other due timers", arguments: StoreKind.testable)
    func timerCompletionLeasesTheDelivery(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { s in
            _ = try await s.store.createRun(s.newRun("run-1", at: 0))
            let first = try #require(try await s.claim("node-a", at: 0).first)
            #expect(try await s.store.complete(first, owner: "node-a", with: s.resolution(first, sleep: s.at(60), finishedAt: s.at(1), outcome: "submitted")))
            let timer = try #require(try await s.claim("node-a", at: 60).first)
            #expect(timer.kind == .timer)
            let fired = try await s.store.fireTimer(timer, owner: "node-a", leasingNext: s.lease(until: 90))
            #expect(fired.completed && fired.recorded, "the sleep's end is recorded")
            let delivery = try #require(fired.next)
            #expect(delivery.message.kind == .deliver && delivery.message.runId == "run-1")
            #expect(delivery.read?.progress.journal.map(\.stepName) == ["init", "nap"], "the run's journal is read in the same commit")
            #expect(try await s.claim("node-b", at: 61).isEmpty, "the delivery is already leased to node-a")
        }
    }

    @Test("a timer's completion leases a delivery already due but unclaimed, never one another node holds", arguments: StoreKind.testable)
    func timerCompletionLeasesOnlyAFreeDelivery(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { s in
            _ = try await s.store.createRun(s.newRun("run-1", at: 0))
            let first = try #require(try await s.claim("node-a", at: 0).first)
            // Three branches sleep until the same moment.
            let naps = try ["a", "b", "c"].map { StepOperation(stepName: "nap-\($0)", stepType: .sleepFor, kind: .sleep(until: try s.at(60))) }
            #expect(try await s.store.complete(first, owner: "node-a", with: s.resolution(first, park: naps, finishedAt: s.at(1), outcome: "submitted")))
            let timers = try await s.claim("node-a", at: 60, limit: 2) + s.claim("node-b", at: 60, limit: 1)
            #expect(timers.map(\.stepName) == ["nap-a", "nap-b", "nap-c"] && timers.allSatisfy { $0.kind == .timer })
            let byStep = Dictionary(uniqueKeysWithValues: timers.map { ($0.stepName ?? "", $0) })
            // The first timer leaves the run's delivery due but unleased.
            let unleased = try await s.store.fireTimer(try #require(byStep["nap-a"]), owner: "node-a", leasingNext: nil)
            #expect(unleased.completed && unleased.recorded && unleased.next == nil)
            // The second takes that delivery for its node in its own commit.
            let leased = try await s.store.fireTimer(try #require(byStep["nap-b"]), owner: "node-a", leasingNext: s.lease(until: 90))
            let delivery = try #require(leased.next?.message, "the waiting delivery is leased")
            #expect(delivery.runId == "run-1" && delivery.kind == .deliver)
            // The third finds it held: it gets nothing, and the holder is told to deliver again.
            let held = try await s.store.fireTimer(try #require(byStep["nap-c"]), owner: "node-b", leasingNext: s.lease(until: 90))
            #expect(held.completed && held.recorded && held.next == nil)
            #expect(try await s.claim("node-b", at: 61).isEmpty, "the delivery stays with node-a")
            #expect(try await s.store.journal(runId: "run-1").compactMap(\.stepName).sorted() == ["init", "nap-a", "nap-b", "nap-c"])
            let done = try s.resolution(delivery, finishedAt: s.at(62), outcome: "blocked")
            let (completed, again) = try await s.store.complete(delivery, owner: "node-a", with: done, leasingNext: s.lease(until: 92))
            #expect(completed)
            #expect(again?.message.runId == "run-1", "the delivery that ran while the third sleep ended is followed by another, leased at once")
        }
    }

    @Test("a timer of a run whose delivery this node already holds does not lease it again, even with the same lease end", arguments: StoreKind.testable)
    func timerCompletionNeverLeasesAHeldDeliveryTwice(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { s in
            _ = try await s.store.createRun(s.newRun("run-1", at: 0))
            let first = try #require(try await s.claim("node-a", at: 0).first)
            let naps = try ["a", "b"].map { StepOperation(stepName: "nap-\($0)", stepType: .sleepFor, kind: .sleep(until: try s.at(60))) }
            #expect(try await s.store.complete(first, owner: "node-a", with: s.resolution(first, park: naps, finishedAt: s.at(1), outcome: "submitted")))
            let timers = try await s.claim("node-a", at: 60)
            #expect(timers.count == 2)
            let leased = try await s.store.fireTimer(timers[0], owner: "node-a", leasingNext: s.lease(until: 90))
            let delivery = try #require(leased.next?.message)
            // Fired in the same millisecond by the same node: the delivery is in flight already.
            let again = try await s.store.fireTimer(timers[1], owner: "node-a", leasingNext: s.lease(until: 90))
            #expect(again.completed && again.next == nil, "one delivery of the run at a time")
            let done = try s.resolution(delivery, finishedAt: s.at(61), outcome: "blocked")
            let (completed, next) = try await s.store.complete(delivery, owner: "node-a", with: done, leasingNext: s.lease(until: 91))
            #expect(completed && next?.message.runId == "run-1", "the delivery in flight is followed by one that sees the second sleep's end")
            #expect(next?.read?.progress.journal.compactMap(\.stepName).contains("nap-b") == true)
        }
    }

    @Test("a timer of a run under flow control leaves the run's delivery due for a claim, which admits it under its key", arguments: StoreKind.testable)
    func timerOfAFlowControlledRunLeasesNothing(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { s in
            var run = try s.newRun("run-1", at: 0)
            run.flowControl = FlowControl(concurrencyKey: "payments", concurrencyLimit: 1)
            _ = try await s.store.createRun(run)
            let first = try #require(try await s.claim("node-a", at: 0).first)
            #expect(try await s.store.complete(first, owner: "node-a", with: s.resolution(first, sleep: s.at(60), finishedAt: s.at(1), outcome: "submitted")))
            let timer = try #require(try await s.claim("node-a", at: 60).first)
            let fired = try await s.store.fireTimer(timer, owner: "node-a", leasingNext: s.lease(until: 90))
            #expect(fired.completed && fired.recorded && fired.next == nil, "only a claim applies the key's limit")
            let delivery = try #require(try await s.claim("node-a", at: 60).first, "the run's delivery is due")
            #expect(delivery.runId == "run-1" && delivery.kind == .deliver)
        }
    }

    @Test("a message due within a millisecond is not claimed before that instant, and the wake time is not early", arguments: StoreKind.testable)
    func claimIsNeverEarlyWithinAMillisecond(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { s in
            _ = try await s.store.createRun(s.newRun("run-1", at: 0))
            let first = try #require(try await s.claim("node-a", at: 0).first)
            let due = try s.at(60.000_5)
            #expect(try await s.store.complete(first, owner: "node-a", with: s.resolution(first, sleep: due, finishedAt: s.at(1), outcome: "submitted")))
            #expect(try await s.claim("node-a", at: 60.000_1).isEmpty, "a sleep until 60.0005 s must not end at 60.0001 s")
            let wake = try #require(try await s.store.nextWakeTime())
            #expect(wake >= due)
            #expect(try await s.claim("node-a", at: 60.001).count == 1)
        }
    }

    @Test("due messages are claimed oldest first, at most `limit` at a time", arguments: StoreKind.testable)
    func claimOrderAndLimit(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { s in
            _ = try await s.store.createRun(s.newRun("third", at: 2))
            _ = try await s.store.createRun(s.newRun("first", at: 0))
            _ = try await s.store.createRun(s.newRun("second", at: 1))
            #expect(try await s.claim("node-a", at: 10, limit: 2).map(\.runId) == ["first", "second"])
            #expect(try await s.claim("node-a", at: 10, limit: 2).map(\.runId) == ["third"])
            #expect(try await s.claim("node-a", at: 10, limit: 2).isEmpty)
        }
    }

    @Test("a leased message is not claimed again until its lease expires", arguments: StoreKind.testable)
    func leasesExpire(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { s in
            _ = try await s.store.createRun(s.newRun("run-1", at: 0))
            let claimed = try await s.claim("node-a", at: 0, leaseFor: 30)
            #expect(claimed.count == 1)
            #expect(try await s.claim("node-a", at: 1).isEmpty, "the owner itself must not get it twice")
            #expect(try await s.claim("node-b", at: 10).isEmpty)
            #expect(try await s.claim("node-b", at: 29.999).isEmpty)
            #expect(try await s.store.nextWakeTime() == s.at(30), "the scheduler must wake up when the lease expires")
            let taken = try await s.claim("node-b", at: 30.001)
            #expect(taken.map(\.id) == claimed.map(\.id))
            // node-a lost the message: its late completion is fenced off, node-b's goes through.
            let message = try #require(claimed.first)
            #expect(try await !s.store.complete(
                message, owner: "node-a", with: s.resolution(message, entry: s.fetched, next: (0, s.at(31)), finishedAt: s.at(31), outcome: "submitted")))
            #expect(try await s.store.journal(runId: "run-1").count == 1)
            let current = try #require(taken.first)
            #expect(try await s.store.complete(
                current, owner: "node-b", with: s.resolution(current, entry: s.fetched, next: (0, s.at(32)), finishedAt: s.at(32), outcome: "submitted")))
            #expect(try await s.store.journal(runId: "run-1").count == 2)
        }
    }

    @Test("releaseLeases frees exactly the leases of its owner", arguments: StoreKind.testable)
    func releaseLeases(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { s in
            _ = try await s.store.createRun(s.newRun("run-a", at: 0))
            _ = try await s.store.createRun(s.newRun("run-b", at: 1))
            #expect(try await s.claim("node-a", at: 1, leaseFor: 900, limit: 1).map(\.runId) == ["run-a"])
            #expect(try await s.claim("node-b", at: 1, leaseFor: 900, limit: 1).map(\.runId) == ["run-b"])
            #expect(try await s.claim("node-c", at: 2).isEmpty)
            try await s.store.releaseLeases(owner: "node-a")
            #expect(try await s.claim("node-c", at: 2).map(\.runId) == ["run-a"])
            #expect(try await s.claim("node-c", at: 2).isEmpty, "node-b's lease must still hold")
        }
    }

    @Test("renewing moves its owner's leases of the messages named to end no sooner than asked, never earlier, and no one else's", arguments: StoreKind.testable)
    func renewLeases(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { s in
            _ = try await s.store.createRun(s.newRun("run-a", at: 0))
            _ = try await s.store.createRun(s.newRun("run-b", at: 1))
            let a = try #require(try await s.claim("node-a", at: 1, leaseFor: 100, limit: 1).first)
            let b = try #require(try await s.claim("node-b", at: 1, leaseFor: 10, limit: 1).first)
            try await s.store.renewLeases(owner: "node-a", messages: [a.id, b.id], queued: [], until: try s.at(50))
            #expect(try await s.store.nextWakeTime() == (try s.at(11)), "a's lease (101 s) is not shortened; b's is not node-a's to renew")
            try await s.store.renewLeases(owner: "node-b", messages: [b.id], queued: [], until: try s.at(60))
            #expect(try await s.claim("node-c", at: 59).isEmpty, "both leases hold")
            #expect(try await s.claim("node-c", at: 61).map(\.runId) == ["run-b"], "b's renewed lease ended at 60 s")
        }
    }

    @Test("renewing moves its owner's leases of the queued messages named, never earlier, and no one else's", arguments: StoreKind.testable)
    func renewQueuedLeases(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { s in
            let messages = ["one", "two", "long"].map { body in
                QueuedMessage(role: .plain, runId: nil, destination: "http://127.0.0.1:9/\(body)", body: Array(body.utf8), retries: 0, dueAt: s.t0)
            }
            _ = try await s.store.publish(messages.map { .enqueue($0) }, at: s.t0)
            let mine = try #require(try await s.store.claimDueQueued(now: s.at(1), limit: 1, owner: "node-a", leaseUntil: s.at(10)).first)
            let theirs = try #require(try await s.store.claimDueQueued(now: s.at(1), limit: 1, owner: "node-b", leaseUntil: s.at(10)).first)
            let long = try #require(try await s.store.claimDueQueued(now: s.at(1), limit: 1, owner: "node-a", leaseUntil: s.at(100)).first)
            try await s.store.renewLeases(owner: "node-a", messages: [], queued: [mine.id, theirs.id, long.id], until: s.at(50))
            #expect(try await s.store.claimDueQueued(now: s.at(20), limit: 10, owner: "node-c", leaseUntil: s.at(100)).map(\.id) == [theirs.id])
            #expect(try await s.store.claimDueQueued(now: s.at(49), limit: 10, owner: "node-c", leaseUntil: s.at(60)).isEmpty, "node-a's lease holds")
            #expect(try await s.store.claimDueQueued(now: s.at(51), limit: 10, owner: "node-c", leaseUntil: s.at(60)).map(\.id) == [mine.id], "the lease to 100 s was not shortened")
        }
    }

    // MARK: Completing

    @Test("complete appends the entry, schedules the next delivery, updates the run and records the attempt, together", arguments: StoreKind.testable)
    func completeAppliesEverything(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { s in
            _ = try await s.store.createRun(s.newRun("run-1", input: ["order": "A-7"], at: 0))
            let message = try #require(try await s.claim("node-a", at: 0).first)
            let applied = try s.resolution(message, entry: s.fetched, finishedAt: s.at(1), outcome: "submitted")
            #expect(try await s.store.complete(message, owner: "node-a", with: applied))
            #expect(try await s.store.journal(runId: "run-1") == [.initial(["order": "A-7"]), s.fetched])
            #expect(try await s.store.attempts(runId: "run-1") == [applied.record])
            let run = try #require(try await s.store.run(id: "run-1"))
            #expect(run.status == .running)
            #expect(run.updatedAt == (try s.at(1)))
            // An appended entry means the run can go on: it is delivered again at once.
            #expect(try await s.store.nextWakeTime() == s.at(1))

            let last = try #require(try await s.claim("node-a", at: 5).first)
            let finished = try s.resolution(last, next: nil, status: .succeeded, output: ["charged": true], finishedAt: s.at(6), outcome: "completed")
            #expect(try await s.store.complete(last, owner: "node-a", with: finished))
            let done = try #require(try await s.store.run(id: "run-1"))
            #expect(done.status == .succeeded)
            #expect(done.output == ["charged": true])
            #expect(try await s.store.nextWakeTime() == nil, "a finished run leaves no message behind")
            #expect(try await s.store.attempts(runId: "run-1").map(\.outcome) == ["submitted", "completed"])
        }
    }

    @Test("complete can lease the run's next delivery in the same commit: nothing is left to claim, and a final step leases none", arguments: StoreKind.testable)
    func completeLeasesTheNextDelivery(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { s in
            _ = try await s.store.createRun(s.newRun("run-1", input: ["order": "A-7"], at: 0))
            let message = try #require(try await s.claim("node-a", at: 0).first)
            let applied = try s.resolution(message, entry: s.fetched, finishedAt: s.at(1), outcome: "submitted")
            let lease = NextLease(until: try s.at(31), journalFrom: 1)
            let (completed, next) = try await s.store.complete(message, owner: "node-a", with: applied, leasingNext: lease)
            #expect(completed)
            let leasedDelivery = try #require(next)
            let leased = leasedDelivery.message
            #expect(leased.runId == "run-1" && leased.kind == .deliver && leased.attempt == 0)
            let read = try #require(leasedDelivery.read, "the run and its progress are read in the same commit")
            #expect(read.run.input == ["order": "A-7"])
            #expect(read.progress.journalBase == 1 && read.progress.journal.map(\.stepName) == ["fetch"], "only the entries after journalFrom")
            #expect(leased.claimedAt == (try s.at(1)))
            #expect(try await s.claim("node-b", at: 2).isEmpty, "the next delivery is already leased to node-a")
            #expect(
                try await s.store.nextWakeTime() == s.at(30),
                "only its lease is pending: the claim's, which the node renews, and which a step does not write again")
            let finished = try s.resolution(leased, next: nil, status: .succeeded, output: 1, finishedAt: s.at(2), outcome: "completed")
            let (done, none) = try await s.store.complete(leased, owner: "node-a", with: finished, leasingNext: s.lease(until: 32))
            #expect(done)
            #expect(none == nil)
            #expect(try await s.store.run(id: "run-1")?.status == .succeeded)
        }
    }

    @Test("a chain of steps that outlasts its claim's lease keeps the run's delivery without the node's renewal", arguments: StoreKind.testable)
    func chainOfStepsKeepsItsLease(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { s in
            let second = try await s.keptAfterFirstStep()
            #expect(try await s.store.nextWakeTime() == s.at(30), "29 s of the claim's lease are left: the step writes no lease")
            let later = try s.resolution(second, entry: s.charged, finishedAt: s.at(20), outcome: "submitted")
            let third = try #require(try await s.store.complete(second, owner: "node-a", with: later, leasingNext: s.lease(until: 50)).next?.message)
            #expect(try await s.store.nextWakeTime() == s.at(50), "10 s were left, less than half of a lease: the step renews it")
            #expect(try await s.claim("node-b", at: 40).isEmpty, "the delivery is still node-a's after the claim's lease ended")
            let done = try s.resolution(third, next: nil, status: .succeeded, output: 1, finishedAt: s.at(41), outcome: "completed")
            #expect(try await s.store.complete(third, owner: "node-a", with: done))
        }
    }

    @Test("a retried step keeps the run's delivery with its new attempt number and a lease pushed forward", arguments: StoreKind.testable)
    func retriedStepRenewsTheKeptLease(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { s in
            _ = try await s.store.createRun(s.newRun("run-1", at: 0))
            let first = try #require(try await s.claim("node-a", at: 0, leaseFor: 30).first)
            let failed = try s.resolution(first, next: (attempt: 1, dueAt: try s.at(1)), finishedAt: s.at(1), outcome: "retry")
            let retry = try #require(try await s.store.complete(first, owner: "node-a", with: failed, leasingNext: s.lease(until: 31)).next?.message)
            #expect(retry.id == first.id && retry.attempt == 1)
            #expect(try await s.store.nextWakeTime() == s.at(31), "the row is written for its attempt number, and its lease with it")
            #expect(try await s.claim("node-b", at: 30.5).isEmpty, "the claim's lease would have ended at 30")
            let done = try s.resolution(retry, entry: s.fetched, next: nil, status: .succeeded, output: 1, finishedAt: s.at(30.6), outcome: "completed")
            #expect(try await s.store.complete(retry, owner: "node-a", with: done))
            #expect(try await s.store.attempts(runId: "run-1").map(\.attempt) == [0, 1])
        }
    }

    @Test("a kept delivery whose lease ran out goes to another node's claim, and its old holder can no longer complete it", arguments: StoreKind.testable)
    func expiredKeptDeliveryIsFenced(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { s in
            let kept = try await s.keptAfterFirstStep()
            // node-a stalls past the lease with nobody renewing it: node-b takes the run over.
            let taken = try #require(try await s.claim("node-b", at: 31).first)
            #expect(taken.id == kept.id)
            let late = try s.resolution(kept, entry: s.charged, finishedAt: s.at(32), outcome: "submitted")
            #expect(try await !s.store.complete(kept, owner: "node-a", with: late), "the old holder changes nothing")
            #expect(try await s.store.journal(runId: "run-1").map(\.stepName) == ["init", "fetch"])
            let done = try s.resolution(taken, entry: s.charged, next: nil, status: .succeeded, output: 1, finishedAt: s.at(33), outcome: "completed")
            #expect(try await s.store.complete(taken, owner: "node-b", with: done))
            #expect(try await s.store.journal(runId: "run-1").map(\.stepName) == ["init", "fetch", "charge"])
            #expect(try await s.store.run(id: "run-1")?.status == .succeeded)
        }
    }

    @Test("a holder whose lease ran out cannot complete the same message claimed again, even by its own node", arguments: StoreKind.testable)
    func staleHolderOfTheSameMessageIsFenced(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { s in
            _ = try await s.store.createRun(s.newRun("run-1", at: 0))
            let stale = try #require(try await s.claim("node-a", at: 0, leaseFor: 30).first)
            // Its lease ran out while it still worked; the node claims the run's delivery again.
            let current = try #require(try await s.claim("node-a", at: 31).first)
            #expect(current.id == stale.id, "the same message, claimed again")
            let late = try s.resolution(stale, entry: s.fetched, finishedAt: s.at(32), outcome: "submitted")
            #expect(try await !s.store.complete(stale, owner: "node-a", with: late), "the stale holder changes nothing")
            #expect(try await s.store.journal(runId: "run-1").count == 1)
            let done = try s.resolution(current, entry: s.fetched, finishedAt: s.at(33), outcome: "submitted")
            #expect(try await s.store.complete(current, owner: "node-a", with: done))
            #expect(try await s.store.journal(runId: "run-1").map(\.stepName) == ["init", "fetch"])
        }
    }

    @Test("complete with the wrong owner changes nothing and returns false; the message stays with its owner", arguments: StoreKind.testable)
    func completeIsFencedByOwner(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { s in
            _ = try await s.store.createRun(s.newRun("run-1", at: 0))
            let message = try #require(try await s.claim("node-a", at: 0).first)
            let before = try #require(try await s.store.run(id: "run-1"))
            let applied = try s.resolution(message, entry: s.fetched, next: nil, status: .succeeded, output: 1, finishedAt: s.at(1), outcome: "completed")
            #expect(try await !s.store.complete(message, owner: "node-b", with: applied))
            #expect(try await s.store.run(id: "run-1") == before)
            #expect(try await s.store.journal(runId: "run-1").count == 1)
            #expect(try await s.store.attempts(runId: "run-1").isEmpty)
            #expect(try await s.store.nextWakeTime() == s.at(30), "only the lease of the untouched message is pending")
            // The owner can still complete it, exactly once.
            #expect(try await s.store.complete(message, owner: "node-a", with: applied))
            #expect(try await !s.store.complete(message, owner: "node-a", with: applied))
            #expect(try await s.store.journal(runId: "run-1").count == 2)
            #expect(try await s.store.attempts(runId: "run-1").count == 1)
        }
    }

    @Test("complete for a canceled run changes nothing and returns false", arguments: StoreKind.testable)
    func completeIsFencedByCancel(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { s in
            _ = try await s.store.createRun(s.newRun("run-1", at: 0))
            let message = try #require(try await s.claim("node-a", at: 0).first)
            #expect(try await s.store.cancel(runId: "run-1", at: s.at(0.5)))
            #expect(try await !s.store.cancel(runId: "run-1", at: s.at(0.6)), "a run is canceled once")
            let applied = try s.resolution(message, entry: s.fetched, next: (0, s.at(1)), finishedAt: s.at(1), outcome: "submitted")
            #expect(try await !s.store.complete(message, owner: "node-a", with: applied))
            let run = try #require(try await s.store.run(id: "run-1"))
            #expect(run.status == .canceled)
            #expect(run.updatedAt == (try s.at(0.5)))
            #expect(try await s.store.journal(runId: "run-1").count == 1)
            #expect(try await s.store.attempts(runId: "run-1").isEmpty)
            #expect(try await s.store.nextWakeTime() == nil)
            #expect(try await s.claim("node-a", at: 100).isEmpty)
        }
    }

    @Test("webhook calls kept for a running SDK run are bounded per run and taken oldest first, several of one URL too; YAML runs and ended runs keep none", arguments: StoreKind.testable)
    func keptWebhookCalls(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { (s: StoreFixture) async throws in
            let store = s.store
            let url = "http://127.0.0.1:9/wf"
            let run = RunRecord(id: "wfr_sdk", workflow: url, definitionHash: "", input: .null, createdAt: s.t0, updatedAt: s.t0, endpoint: url)
            let first = QueuedMessage(role: .workflow, runId: "wfr_sdk", destination: url, dueAt: try s.at(86_400_000))
            _ = try await store.publish([.startRun(run, initialBody: [], first: first)], at: s.t0)
            // Two calls of one URL, then more of others, up to the bound.
            #expect(try await store.keepWebhookCall(runId: "wfr_sdk", eventId: "evt_0", request: "first", returned: false, at: s.t0) == .kept)
            #expect(try await store.keepWebhookCall(runId: "wfr_sdk", eventId: "evt_0", request: "second", returned: false, at: s.at(1)) == .kept)
            for index in 2..<WebhookOutcome.maximumKeptCalls {
                #expect(try await store.keepWebhookCall(runId: "wfr_sdk", eventId: "evt_\(index)", request: "{}", returned: false, at: s.t0) == .kept)
            }
            #expect(try await store.keepWebhookCall(runId: "wfr_sdk", eventId: "evt_more", request: "{}", returned: false, at: s.t0) == .refused, "the bound")
            #expect(try await store.keepWebhookCall(runId: "wfr_sdk", eventId: "evt_2", request: "{}", returned: true, at: s.t0) == .kept, "a call taken out goes back")
            #expect(try await store.takeFirstEvent(runId: "wfr_sdk", prefix: WebhookRequest.lookbackPrefix(eventId: "evt_2")) != nil)
            let prefix = WebhookRequest.lookbackPrefix(eventId: "evt_0")
            #expect(try await store.takeFirstEvent(runId: "wfr_sdk", prefix: prefix) == "first")
            #expect(try await store.takeFirstEvent(runId: "wfr_sdk", prefix: prefix) == "second")
            #expect(try await store.takeFirstEvent(runId: "wfr_sdk", prefix: prefix) == nil)
            #expect(try await store.takeKeptNotification(runId: "wfr_sdk", event: "evt_2") == nil, "kept apart from notify's events")
            #expect(try await store.keepWebhookCall(runId: "wfr_sdk", eventId: "evt_more", request: "{}", returned: false, at: s.t0) == .kept, "taken calls free their room")

            _ = try await store.createRun(s.newRun("yaml", at: 0))
            #expect(try await store.keepWebhookCall(runId: "yaml", eventId: "evt_0", request: "{}", returned: false, at: s.t0) == .noRun)
            #expect(try await store.cancel(runId: "wfr_sdk", reason: nil, at: s.at(1)))
            #expect(try await store.keepWebhookCall(runId: "wfr_sdk", eventId: "evt_1", request: "{}", returned: false, at: s.t0) == .noRun)
        }
    }

    @Test("notifications that come before a run's waits are all kept, taken oldest first, up to a bound", arguments: StoreKind.testable)
    func keptNotifications(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { (s: StoreFixture) async throws in
            let store = s.store
            _ = try await store.createRun(s.newRun("early", at: 0))
            for (index, data) in ["first", "second", "third"].enumerated() {
                let result = try await store.notify(event: "paid", data: .string(data), runId: "early", at: s.at(Double(index)))
                #expect(result.stored && !result.refused && result.woken.isEmpty)
            }
            #expect(try await store.takeKeptNotification(runId: "early", event: "paid") == "first")
            #expect(try await store.takeKeptNotification(runId: "early", event: "paid") == "second")
            #expect(try await store.takeKeptNotification(runId: "early", event: "other") == nil)
            for index in 1..<NotifyResult.maximumKeptEvents {
                #expect(try await store.notify(event: "e\(index)", data: .null, runId: "early", at: s.t0).stored)
            }
            let refused = try await store.notify(event: "paid", data: "one too many", runId: "early", at: s.at(9))
            #expect(refused.refused && !refused.stored)
            #expect(try await store.takeKeptNotification(runId: "early", event: "paid") == "third")
            #expect(try await store.takeKeptNotification(runId: "early", event: "paid") == nil, "the refused one was not kept")
        }
    }

    @Test("a new API token has QStash's shape, which the JS SDK reads a user id from, in letters and digits only")
    func freshTokenShape() throws {
        let tokens = (0..<200).map { _ in SharedToken.freshToken() }
        #expect(Set(tokens).count == tokens.count)
        for token in tokens {
            #expect(token.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }, "\(token)")
            let payload = try #require(Data(base64Encoded: token).map { String(decoding: $0, as: UTF8.self) })
            let json = try Value(json: payload)
            #expect(json["UserID"] == "stepwise" && json["Password"]?.string?.count == 64)
        }
    }

    @Test("the API token's digest is stored once, replaced by the node that stored it or when asked, and read back by every node", arguments: StoreKind.testable)
    func sharedTokenDigest(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { (s: StoreFixture) async throws in
            #expect(try await s.store.apiToken(storing: nil, node: "a", replacing: false) == nil)
            #expect(try await s.store.apiToken(storing: "first", node: "a", replacing: false) == StoredToken(digest: "first", node: "a", explicit: false))
            #expect(try await s.store.apiToken(storing: "second", node: "b", replacing: false)?.digest == "first", "another node's own token does not displace it")
            #expect(try await s.store.apiToken(storing: "renewed", node: "a", replacing: false)?.digest == "renewed", "the node that stored it may renew it")
            #expect(try await s.store.apiToken(storing: "third", node: "b", replacing: true) == StoredToken(digest: "third", node: "b", explicit: true), "an explicit token becomes everyone's")
            #expect(try await s.store.apiToken(storing: "fourth", node: "b", replacing: false)?.digest == "third", "an explicit token stays until one is given again")
            #expect(try await s.store.apiToken(storing: nil, node: "a", replacing: true)?.digest == "third")
        }
    }

    @Test("nodes resolve one token: an explicit one is everyone's; a node without one accepts another node's; a node's own file token yields to it; a single node's new file token applies", arguments: StoreKind.testable)
    func sharedTokenResolution(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { s in
            var made = 0
            let fresh = { () throws -> (token: String, source: String) in
                made += 1
                return ("generated-\(made)", "a new file")
            }
            let first = try await SharedToken.resolve(explicit: nil, local: nil, node: "a", store: s.store, fresh: fresh)
            #expect(made == 1)
            #expect(first.token.accepts("generated-1") && !first.token.accepts("other"))
            let second = try await SharedToken.resolve(explicit: nil, local: nil, node: "b", store: s.store, fresh: fresh)
            #expect(made == 1, "a second node without a token takes the stored one and makes none")
            #expect(second.token.accepts("generated-1"))
            let own = try await SharedToken.resolve(explicit: nil, local: ("file-token", ".stepwise/token"), node: "c", store: s.store, fresh: fresh)
            #expect(own.token.accepts("generated-1") && !own.token.accepts("file-token"))
            #expect(own.source.contains("not the shared token"))
            let renewed = try await SharedToken.resolve(explicit: nil, local: nil, node: "a", store: s.store, fresh: fresh)
            #expect(made == 2 && renewed.token.accepts("generated-2"), "node a lost its file: it makes a new token, which replaces its old one")
            #expect(renewed.source.hasPrefix("a new file; it replaces the token this store accepted before, so clients holding that one get 401"), "\(renewed.source)")
            #expect(first.source == "a new file", "a new store's first token replaces none")
            let explicit = try await SharedToken.resolve(explicit: ("rotated", "--token"), local: nil, node: "b", store: s.store, fresh: fresh)
            #expect(explicit.token.accepts("rotated"))
            #expect(explicit.source == "--token; it replaces the token this store accepted before, for every node, and stays until another is given this way", "\(explicit.source)")
            let again = try await SharedToken.resolve(explicit: ("rotated", "--token"), local: nil, node: "b", store: s.store, fresh: fresh)
            #expect(again.source == "--token", "the same token again replaces nothing")
            let after = try await SharedToken.resolve(explicit: nil, local: nil, node: "c", store: s.store, fresh: fresh)
            #expect(after.token.accepts("rotated") && !after.token.accepts("generated-2"), "nodes started afterwards accept the new token only")
            let restarted = try await SharedToken.resolve(explicit: nil, local: nil, node: "b", store: s.store, fresh: fresh)
            #expect(made == 2 && restarted.token.accepts("rotated"), "a node restarted without its explicit token keeps it, making none")
            #expect(try await s.store.apiToken(storing: nil, node: "c", replacing: false)?.digest == SharedToken(token: "rotated").digest,
                    "the store holds the digest, not the token")
        }
    }

    @Test("a running node follows the stored token: another node's new explicit token replaces the old one within the interval", arguments: StoreKind.testable)
    func currentTokenFollowsTheStore(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { (s: StoreFixture) async throws in
            let store = s.store
            let first = try await SharedToken.resolve(explicit: ("old-token", "--token"), local: nil, node: "a", store: store) { ("x", "x") }
            let current = CurrentToken(first.token, interval: .milliseconds(50)) {
                try await store.apiToken(storing: nil, node: "a", replacing: false).map { SharedToken(digest: $0.digest) }
            }
            #expect(current.current().accepts("old-token"))
            _ = try await SharedToken.resolve(explicit: ("new-token", "--token"), local: nil, node: "b", store: store) { ("x", "x") }
            try await Task.sleep(for: .milliseconds(80))
            // The request past the interval gets the token known and starts a read; those after it get what the read found.
            #expect(current.current().accepts("old-token"))
            let now = try await eventually("the node to read the stored token") { () -> SharedToken? in
                let token = current.current()
                return token.accepts("new-token") ? token : nil
            }
            #expect(!now.accepts("old-token"), "the old token is refused once the node has read the store again")
        }
    }

    @Test("a store that does not answer never holds a request: the token known is used while one read waits")
    func currentTokenNeverWaitsForTheStore() async throws {
        let reads = Mutex(0)
        let current = CurrentToken(SharedToken(token: "known"), interval: .zero) {
            reads.withLock { $0 += 1 }
            try await Task.sleep(for: .seconds(3_600))
            return SharedToken(token: "never")
        }
        for _ in 0..<100 { #expect(current.current().accepts("known")) }
        try await Task.sleep(for: .milliseconds(50))
        #expect(reads.withLock { $0 } == 1, "one read at a time, however many requests")
    }

    @Test("two notifies of one event at once complete a wait once: one result journaled, one run woken", arguments: StoreKind.testable)
    func concurrentNotifiesWakeOnce(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { (s: StoreFixture) async throws in
            let store = s.store
            for index in 0..<5 {
                let id = "run-\(index)"
                _ = try await store.createRun(s.newRun(id, at: 0))
                let message = try #require(try await s.claim("node-a", at: 0).first { $0.runId == id })
                let wait = StepOperation(stepName: "approval", stepType: .wait, kind: .wait(event: "go-\(index)", timeoutAt: try s.at(3_600)))
                #expect(try await store.complete(message, owner: "node-a", with: s.resolution(message, park: [wait], finishedAt: s.at(1), outcome: "submitted")))
                let at = try s.at(2)
                async let first = store.notify(event: "go-\(index)", data: ["n": 1], runId: nil, at: at)
                async let second = store.notify(event: "go-\(index)", data: ["n": 2], runId: nil, at: at)
                let woken = try await first.woken.count + second.woken.count
                #expect(woken == 1, "one of the two notifies wakes the run")
                #expect(try await store.journal(runId: id).filter { $0.stepName == "approval" }.count == 1)
            }
        }
    }

    @Test("a deduplication key is forgotten after QStash's 10 minutes; a refused batch keeps none of its keys", arguments: StoreKind.testable)
    func deduplicationWindow(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { fixture in
            let store = fixture.store
            let message = { (id: String) in
                QueuedMessage(id: id, role: .plain, runId: nil, destination: "http://127.0.0.1:9/x", dueAt: fixture.t0)
            }
            #expect(try await store.publish([.enqueue(message("msg_1"))], deduplicatedBy: ["id:k"], at: try fixture.at(0)) == [.stored("msg_1")])
            #expect(try await store.publish([.enqueue(message("msg_2"))], deduplicatedBy: ["id:k"], at: try fixture.at(599)) == [.deduplicated("msg_1")])
            #expect(try await store.publish([.enqueue(message("msg_3"))], deduplicatedBy: ["id:k"], at: try fixture.at(601)) == [.stored("msg_3")])

            let unknownRun = Publication.append(runId: "wfr_none", entry: RawStep(messageId: "msg_5", body: []), dedupeKey: nil, message: message("msg_5"))
            let refused = try await store.publish([.enqueue(message("msg_4")), unknownRun], deduplicatedBy: ["id:refused", nil], at: try fixture.at(602))
            #expect(refused == [.unknownRun("wfr_none")])
            #expect(try await store.publish([.enqueue(message("msg_6"))], deduplicatedBy: ["id:refused"], at: try fixture.at(603)) == [.stored("msg_6")])
        }
    }

    @Test("rate-limit starts no admission can count any more are expired: kept a week, or their own window when longer", arguments: StoreKind.testable)
    func rateStartsExpire(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { fixture in
            let store = fixture.store
            let day = 86_400.0
            // Each run starts once under its rate key when claimed, and ends, so only its start names the key.
            func startAndEnd(_ id: String, key: String, period: Int64, at seconds: Double) async throws {
                var run = try fixture.newRun(id, at: seconds)
                run.flowControl = FlowControl(rateKey: key, rateLimit: 5, ratePeriod: period)
                _ = try await store.createRun(run)
                let message = try #require(try await fixture.claim("node-a", at: seconds).first { $0.runId == id })
                let end = fixture.resolution(message, status: .succeeded, output: [:], finishedAt: try fixture.at(seconds), outcome: "completed")
                #expect(try await store.complete(message, owner: "node-a", with: end))
            }
            try await startAndEnd("run-once", key: "user-1", period: 60_000, at: 0)
            try await startAndEnd("run-monthly", key: "monthly", period: 30 * 86_400_000, at: 0)
            try await startAndEnd("run-recent", key: "user-2", period: 60_000, at: 6 * day)
            #expect(try await store.expireRateStarts(at: fixture.at(7 * day - 1)) == 0, "a start is kept a week, though its window ended")
            #expect(try await store.expireRateStarts(at: fixture.at(7 * day + 1)) == 1, "user-1's, a key used once")
            #expect(try await store.expireRateStarts(at: fixture.at(7 * day + 1)) == 0)
            #expect(try await store.expireRateStarts(at: fixture.at(29 * day)) == 1, "user-2's, a week after it")
            let monthly = try await store.flowKeyReport("monthly", now: fixture.at(29 * day))
            #expect(monthly.rateCount == 1, "a start is kept for its own window when that is longer than a week")
            #expect(try await store.expireRateStarts(at: fixture.at(30 * day + 1)) == 1)
            #expect(try await store.expireRateStarts(at: fixture.at(400 * day)) == 0)
        }
    }

    @Test("runs that ended before the retention go with their journal, attempts and DLQ entry; running runs, later ends (of runs created before too) and runs with a message still queued stay", arguments: StoreKind.testable)
    func endedRunsExpire(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { s in
            let store = s.store
            let day = 86_400.0
            try await s.endRun("succeeded-old", .succeeded, at: 0)
            try await s.endRun("failed-old", .failed, at: 1)
            try await s.endRun("succeeded-later", .succeeded, at: 2 * day)
            try await s.endRun("long", .succeeded, at: 2 * day, createdAt: 0)
            _ = try await store.createRun(s.newRun("running", at: 0))
            _ = try await store.createRun(s.newRun("canceled-old", at: 2))
            #expect(try await store.cancel(runId: "canceled-old", reason: nil, at: s.at(3)))
            // An SDK run canceled with a failure callback still queued for it.
            let url = "http://127.0.0.1:9/wf"
            let sdkRun = RunRecord(id: "wfr_sdk", workflow: url, definitionHash: "", input: .null, createdAt: s.t0, updatedAt: s.t0, endpoint: url)
            let first = QueuedMessage(role: .workflow, runId: "wfr_sdk", destination: url, dueAt: try s.at(day))
            _ = try await store.publish([.startRun(sdkRun, initialBody: [], first: first)], at: s.t0)
            #expect(try await store.cancel(runId: "wfr_sdk", reason: nil, at: s.at(4)))
            let callback = QueuedMessage(role: .failureCallback, runId: "wfr_sdk", destination: url, dueAt: try s.at(5))
            #expect(try await store.publish([.enqueue(callback)], at: s.at(4)) == [.stored(callback.id)])
            #expect(try await store.allDeadLetters().map(\.runId) == ["failed-old"])
            #expect(try await !store.attempts(runId: "succeeded-old", from: 0).isEmpty)

            #expect(try await store.expireEndedRuns(before: s.at(0)) == 0, "nothing ended before the first end")
            #expect(try await store.expireEndedRuns(before: s.at(day)) == 3)
            #expect(try await store.expireEndedRuns(before: s.at(day)) == 0)
            let kept = try await store.runs(RunFilter()).map(\.id).sorted()
            #expect(kept == ["long", "running", "succeeded-later", "wfr_sdk"])
            for id in ["succeeded-old", "failed-old", "canceled-old"] {
                #expect(try await store.journal(runId: id).isEmpty, "\(id)'s journal")
                #expect(try await store.attempts(runId: id, from: 0).isEmpty, "\(id)'s attempts")
            }
            #expect(try await store.allDeadLetters().isEmpty)
            #expect(try await store.journal(runId: "succeeded-later").count == 2)

            // Once its failure callback is delivered, the SDK run goes too.
            let claimed = try await store.claimDueQueued(now: s.at(6), limit: 10, owner: "node-a", leaseUntil: s.at(36))
            #expect(claimed.map(\.id) == [callback.id])
            #expect(try await store.finishAttempt(callback, owner: "node-a", with: AttemptFollowUp(decidedAt: try s.at(7))))
            #expect(try await store.expireEndedRuns(before: s.at(day)) == 1)
            #expect(try await store.run(id: "wfr_sdk") == nil)
        }
    }

    @Test("runs listed by one label or several come newest first, ties by id, a page at a time like any listing", arguments: StoreKind.testable)
    func runsByLabelPages(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { s in
            for (id, created, label) in [("r1", 1.0, "x"), ("r2", 2.0, "y, x"), ("r3a", 3.0, "x"), ("r3b", 3.0, "x"), ("r4", 4.0, "z")] {
                _ = try await s.store.createRun(try { var run = try s.newRun(id, at: created); run.label = label; return run }())
            }
            for labels in [["x"], ["x", "nope"]] {
                var seen: [String] = []
                // A page of one: the tie of r3a and r3b is broken across a cursor.
                var filter = RunFilter(limit: 1, labels: labels)
                while true {
                    let page = try await s.store.runs(filter)
                    seen += page.map(\.id)
                    guard let last = page.last else { break }
                    filter.after = PageCursor(milliseconds: last.createdAt.millisecondsSinceEpoch, id: last.id)
                }
                #expect(seen == ["r3a", "r3b", "r2", "r1"], "\(labels)")
                var since = RunFilter(labels: labels)
                since.createdFrom = try s.at(2)
                since.createdBefore = try s.at(3)
                #expect(try await s.store.runs(since).map(\.id) == ["r2"], "with a creation range: \(labels)")
            }
        }
    }

    @Test("runs are found by any of several flow-control keys: their own, or a YAML run's flow control's where a node before the key's column wrote none", arguments: StoreKind.testable)
    func runsByFlowKey(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { s in
            var sdk = try s.newRun("sdk", at: 1)
            sdk.flowControlKey = "tenant-1"
            let created = try s.at(2)
            let yaml = RunRecord(
                id: "yaml", workflow: "orders", definitionHash: s.definition.hash, input: [:], createdAt: created, updatedAt: created,
                flowControl: FlowControl(concurrencyKey: "tenant-2", concurrencyLimit: 1))
            var older = try s.newRun("older", at: 3)
            older.flowControl = FlowControl(rateKey: "tenant-2", rateLimit: 5, ratePeriod: 1_000)
            for run in [sdk, yaml, older, try s.newRun("none", at: 4)] { _ = try await s.store.createRun(run) }
            #expect(yaml.flowControlKey == "tenant-2", "a YAML run's key is its flow control's")
            var filter = RunFilter()
            filter.flowControlKeys = ["tenant-1", "tenant-2"]
            #expect(try await s.store.runs(filter).map(\.id) == ["older", "yaml", "sdk"])
            filter.flowControlKeys = ["tenant-1"]
            #expect(try await s.store.runs(filter).map(\.id) == ["sdk"])
            #expect(try await s.store.run(id: "older")?.flowControlKey == "tenant-2", "read as the filter reads it")
        }
    }

    @Test("the workflow DLQ is read a page at a time, newest failure first, filtered by run, workflow, labels (any of several) and failure time", arguments: StoreKind.testable)
    func deadLetterPages(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { s in
            let store = s.store
            // Two failures at the same moment break their tie by entry id.
            try await s.endRun("f1", .failed, at: 1)
            try await s.endRun("f2", .failed, at: 2, workflow: "http://127.0.0.1:9/wf", label: "vip", flowControlKey: "tenant-2")
            try await s.endRun("f3", .failed, at: 3, label: "vip, eu", flowControlKey: "tenant-3")
            try await s.endRun("f4a", .failed, at: 4, label: "eu")
            try await s.endRun("f4b", .failed, at: 4)
            try await s.endRun("ok", .succeeded, at: 5)

            var seen: [String] = []
            var cursor: PageCursor?
            repeat {
                // A page of one: the tie of f4a and f4b is broken across a cursor.
                let page = try await store.deadLetters(matching: DeadLetterFilter(), after: cursor, count: 1)
                #expect(page.letters.count == 1)
                seen += page.letters.map(\.runId)
                cursor = page.next
            } while cursor != nil
            #expect(seen == ["f4b", "f4a", "f3", "f2", "f1"])

            func ids(_ change: (inout DeadLetterFilter) -> Void) async throws -> [String] {
                var filter = DeadLetterFilter()
                change(&filter)
                return try await store.deadLetters(matching: filter, after: nil, count: 100).letters.map(\.runId)
            }
            #expect(try await ids { $0.labels = ["vip"] } == ["f3", "f2"])
            #expect(try await ids { $0.labels = ["eu"] } == ["f4a", "f3"], "a run labeled 'vip, eu' has both labels")
            #expect(try await ids { $0.labels = ["vip", "eu"] } == ["f4a", "f3", "f2"], "any of several")
            #expect(try await ids { $0.labels = ["vip, eu"] }.isEmpty, "a label is one of a run's, not its text")
            #expect(try await ids { $0.flowControlKeys = ["tenant-2", "tenant-3", "none"] } == ["f3", "f2"], "any of several keys")
            #expect(try await ids { $0.flowControlKeys = ["tenant-3"]; $0.labels = ["eu"] } == ["f3"])
            #expect(try await store.deadLetters(matching: DeadLetterFilter(), after: nil, count: 100).letters.first { $0.runId == "f2" }?.flowControlKey == "tenant-2")
            #expect(try await store.runs(RunFilter(labels: ["eu", "nope"])).map(\.id).sorted() == ["f3", "f4a"])
            #expect(try await ids { $0.workflows = ["http://127.0.0.1:9/wf"] } == ["f2"])
            #expect(try await ids { $0.workflows = ["nope", "http://127.0.0.1:9/wf"] } == ["f2"], "any of several")
            #expect(try await ids { $0.runId = "f1" } == ["f1"])
            #expect(try await ids { $0.runId = "ok" }.isEmpty, "a run that succeeded is in no DLQ")
            let (from, until) = (try s.at(2).millisecondsSinceEpoch, try s.at(3).millisecondsSinceEpoch)
            #expect(try await ids { $0.failedFrom = from; $0.failedUntil = until } == ["f3", "f2"], "both bounds inclusive")

            let letter = try #require(try await store.deadLetter(id: "dlq_f2"))
            let created = try s.at(2)
            #expect(letter.label == "vip" && letter.runCreatedAt == created)
            #expect(try await store.deadLetter(id: "dlq_none") == nil)
        }
    }

    @Test("an attempt its run's end took the message from logs its end once; one whose lease another node took logs nothing", arguments: StoreKind.testable)
    func attemptsEndedWithTheirRun(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { s in
            let store = s.store
            func start(_ id: String) async throws -> QueuedMessage {
                let url = "http://127.0.0.1:9/wf"
                let run = RunRecord(id: id, workflow: url, definitionHash: "", input: .null, createdAt: s.t0, updatedAt: s.t0, endpoint: url)
                let first = QueuedMessage(role: .workflow, runId: id, destination: url, dueAt: s.t0)
                #expect(try await store.publish([.startRun(run, initialBody: [], first: first)], at: s.t0) == [.stored(first.id)])
                return first
            }
            func states(_ message: QueuedMessage) async throws -> [String] {
                var filter = MessageEventFilter()
                filter.messageIds = [message.id]
                return try await store.messageEvents(matching: filter, before: nil, count: 100).events.map(\.state.rawValue)
            }
            func followUp(_ state: MessageEvent.State, of message: QueuedMessage, at seconds: Double) throws -> AttemptFollowUp {
                var followUp = AttemptFollowUp()
                followUp.decidedAt = try s.at(seconds)
                followUp.events = [MessageEvent(state, of: message, at: try s.at(seconds).millisecondsSinceEpoch)]
                return followUp
            }

            // Claimed, then the run is canceled before the delivery makes its request.
            let first = try await start("wfr_1")
            #expect(try await store.claimDueQueued(now: s.at(1), limit: 10, owner: "node-a", leaseUntil: s.at(10)).map(\.id) == [first.id])
            #expect(try await store.cancel(runId: "wfr_1", reason: nil, at: s.at(2)))
            #expect(try await states(first) == ["CREATED"], "in flight: its attempt logs its end")
            var none = AttemptFollowUp()
            none.decidedAt = try s.at(3)
            #expect(try await store.finishAttempt(first, owner: "node-a", with: none) == false)
            #expect(try await states(first) == ["CANCELED", "CREATED"])

            // Node-a's lease ends; node-b delivers it; the run ends; node-a's late error is not logged after that end.
            let second = try await start("wfr_2")
            _ = try await store.claimDueQueued(now: s.at(1), limit: 10, owner: "node-a", leaseUntil: s.at(10))
            #expect(try await store.claimDueQueued(now: s.at(20), limit: 10, owner: "node-b", leaseUntil: s.at(30)).map(\.id) == [second.id])
            #expect(try await store.finishAttempt(second, owner: "node-a", with: followUp(.error, of: second, at: 21)) == false)
            #expect(try await states(second) == ["CREATED"], "node-b holds it: node-a's attempt is not its end")
            #expect(try await store.finishAttempt(second, owner: "node-b", with: followUp(.delivered, of: second, at: 22)))
            #expect(try await store.cancel(runId: "wfr_2", reason: nil, at: s.at(23)))
            #expect(try await store.finishAttempt(second, owner: "node-a", with: followUp(.error, of: second, at: 24)) == false)
            #expect(try await states(second) == ["DELIVERED", "CREATED"], "node-b ended it: node-a's late attempt adds nothing")
        }
    }

    @Test("a delivery its run's end left in flight, claimed again after its node stopped, passes its paused flow-control key to be dropped, and the run's id is free", arguments: StoreKind.testable)
    func anEndedRunsDeliveryPassesAPausedKey(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { s in
            let store = s.store
            let url = "http://127.0.0.1:9/wf"
            let run = RunRecord(id: "wfr_paused", workflow: url, definitionHash: "", input: .null, createdAt: s.t0, updatedAt: s.t0, endpoint: url)
            let first = QueuedMessage(
                role: .workflow, runId: run.id, destination: url, flowControl: FlowControl(concurrencyKey: "k", concurrencyLimit: 1), dueAt: s.t0)
            #expect(try await store.publish([.startRun(run, initialBody: [], first: first)], at: s.t0) == [.stored(first.id)])
            #expect(try await store.claimDueQueued(now: s.at(1), limit: 10, owner: "node-a", leaseUntil: s.at(10)).map(\.id) == [first.id])
            #expect(try await store.cancel(runId: run.id, reason: nil, at: s.at(2)))
            try await store.changeFlowKey("k", .pause)

            // Node-a stopped; its lease ended.
            #expect(try await store.claimDueQueued(now: s.at(20), limit: 10, owner: "node-b", leaseUntil: s.at(30)).map(\.id) == [first.id])
            var none = AttemptFollowUp()
            none.decidedAt = try s.at(21)
            #expect(try await store.finishAttempt(first, owner: "node-b", with: none) == false)
            #expect(try await store.queuedMessages(runId: run.id).isEmpty, "nothing of the run waits behind the paused key")
            #expect(try await store.flowKeyReport("k", now: s.at(22)).waitlistSize == 0)
        }
    }
}
