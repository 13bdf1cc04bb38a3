import Foundation
import GRDB
@testable import StepwiseEngine
@testable import StepwiseSQLite
import StepwiseExpressions
import StepwiseRuntime
import Testing
import StepwiseTesting

/// The embedded store on a real SQLite file: idempotent starts, due times, leases, fenced and
/// atomic completion, the journal's key, durability across reopening.
@Suite("SQLiteStore", .timeLimit(.minutes(1)))
struct SQLiteStoreTests {
    let directory: TemporaryDirectory
    let path: String
    let store: SQLiteStore
    let definition = StoredDefinition(hash: "hash-v1", workflow: "orders", source: "workflow: orders\n")
    /// A fixed instant: the store is given every time explicitly, so these tests need no clock.
    let t0: TimestampValue

    init() async throws {
        directory = try TemporaryDirectory()
        path = directory.path("store.db")
        store = try SQLiteStore(path: path)
        t0 = try TimestampValue(parsing: "2026-03-01T12:00:00Z")
        try await store.saveDefinition(definition)
    }

    private func at(_ seconds: Double) throws -> TimestampValue { try t0.plus(seconds: seconds) }

    private func newRun(_ id: String, input: Value = [:], at seconds: Double = 0) throws -> RunRecord {
        let created = try at(seconds)
        return RunRecord(id: id, workflow: "orders", definitionHash: definition.hash, input: input, createdAt: created, updatedAt: created)
    }

    private func resolution(
        _ message: PendingMessage, entry: JournalEntry? = nil, sleep until: TimestampValue? = nil, next: (attempt: Int, dueAt: TimestampValue)? = nil,
        status: RunStatus = .running, output: Value? = nil, error: StepError? = nil, finishedAt: TimestampValue, outcome: String
    ) -> DeliveryResolution {
        let record = AttemptRecord(
            runId: message.runId, position: 1, attempt: message.attempt, startedAt: finishedAt, finishedAt: finishedAt,
            outcome: outcome, detail: nil)
        return DeliveryResolution(
            submissions: (entry.map { [.record($0)] } ?? []) + (until.map { [.park(Self.nap($0))] } ?? []), next: next, status: status, phase: .main, output: output, error: error, record: record)
    }

    /// A sleep handed to the engine: its timer is due at `until`.
    static func nap(_ until: TimestampValue) -> StepOperation {
        StepOperation(stepName: "nap", stepType: .sleepFor, kind: .sleep(until: until))
    }

    private func claim(_ owner: String, at seconds: Double, leaseFor lease: Double = 30, limit: Int = 10) async throws -> [PendingMessage] {
        try await store.claimDueMessages(now: at(seconds), limit: limit, owner: owner, leaseUntil: at(seconds + lease))
    }

    private let fetched = JournalEntry(stepId: 1, stepName: "fetch", stepType: .run, out: ["status": 200, "body": ["amount": 21]])

    // MARK: Runs

    @Test("createRun is idempotent by id: the second call returns the first run and adds nothing")
    func createRunIsIdempotent() async throws {
        let first = try await store.createRun(newRun("run-1", input: ["order": "A-7"]))
        #expect(first.created)
        let second = try await store.createRun(newRun("run-1", input: ["order": "B-8"], at: 5))
        #expect(!second.created)
        #expect(second.run.input == ["order": "A-7"])
        #expect(second.run.createdAt == t0)
        #expect(try await store.journal(runId: "run-1") == [.initial(["order": "A-7"])])
        #expect(try await store.runs(RunFilter()).map(\.id) == ["run-1"])
        // One start, one first delivery.
        let messages = try await claim("node-a", at: 10)
        #expect(messages.map(\.runId) == ["run-1"])
        #expect(messages.first?.attempt == 0)
    }

    @Test("runs are listed newest first and filtered by workflow, status and limit")
    func runListing() async throws {
        _ = try await store.createRun(newRun("old", at: 0))
        _ = try await store.createRun(newRun("new", at: 2))
        _ = try await store.createRun(newRun("middle", at: 1))
        #expect(try await store.runs(RunFilter()).map(\.id) == ["new", "middle", "old"])
        #expect(try await store.runs(RunFilter(limit: 2)).map(\.id) == ["new", "middle"])
        #expect(try await store.runs(RunFilter(workflow: "other")).isEmpty)
        #expect(try await store.cancel(runId: "middle", at: at(3)))
        #expect(try await store.runs(RunFilter(status: .canceled)).map(\.id) == ["middle"])
        #expect(try await store.runs(RunFilter(workflow: "orders", status: .running)).map(\.id) == ["new", "old"])
    }

    // MARK: Claiming

    @Test("a message is not claimed before it is due, and is claimed once due")
    func claimRespectsDueTimes() async throws {
        _ = try await store.createRun(newRun("run-1", at: 0))
        #expect(try await claim("node-a", at: -0.001).isEmpty)
        let first = try #require(try await claim("node-a", at: 0).first)
        // The sleep's timer is due in a minute.
        #expect(try await store.complete(first, owner: "node-a", with: resolution(first, sleep: at(60), finishedAt: at(1), outcome: "submitted")))
        #expect(try await store.nextWakeTime() == at(60))
        #expect(try await claim("node-a", at: 59.999).isEmpty)
        let resumed = try await claim("node-a", at: 60)
        #expect(resumed.map(\.runId) == ["run-1"])
        #expect(resumed.first?.dueAt == (try at(60)))
    }

    @Test("a timer's completion can lease the run's delivery in the same commit, so the run goes on before other due timers")
    func timerCompletionLeasesTheDelivery() async throws {
        _ = try await store.createRun(newRun("run-1", at: 0))
        let first = try #require(try await claim("node-a", at: 0).first)
        #expect(try await store.complete(first, owner: "node-a", with: resolution(first, sleep: at(60), finishedAt: at(1), outcome: "submitted")))
        let timer = try #require(try await claim("node-a", at: 60).first)
        #expect(timer.kind == .timer)
        let (completed, next) = try await store.completeOperation(timer, owner: "node-a", entry: nil, record: nil, leasingNextUntil: at(90))
        #expect(completed)
        let delivery = try #require(next)
        #expect(delivery.kind == .deliver && delivery.runId == "run-1")
        #expect(try await claim("node-b", at: 61).isEmpty, "the delivery is already leased to node-a")
    }

    @Test("a message due within a millisecond is not claimed before that instant, and the wake time is not early")
    func claimIsNeverEarlyWithinAMillisecond() async throws {
        _ = try await store.createRun(newRun("run-1", at: 0))
        let first = try #require(try await claim("node-a", at: 0).first)
        let due = try at(60.000_5)
        #expect(try await store.complete(first, owner: "node-a", with: resolution(first, sleep: due, finishedAt: at(1), outcome: "submitted")))
        #expect(try await claim("node-a", at: 60.000_1).isEmpty, "a sleep until 60.0005 s must not end at 60.0001 s")
        let wake = try #require(try await store.nextWakeTime())
        #expect(wake >= due)
        #expect(try await claim("node-a", at: 60.001).count == 1)
    }

    @Test("due messages are claimed oldest first, at most `limit` at a time")
    func claimOrderAndLimit() async throws {
        _ = try await store.createRun(newRun("third", at: 2))
        _ = try await store.createRun(newRun("first", at: 0))
        _ = try await store.createRun(newRun("second", at: 1))
        #expect(try await claim("node-a", at: 10, limit: 2).map(\.runId) == ["first", "second"])
        #expect(try await claim("node-a", at: 10, limit: 2).map(\.runId) == ["third"])
        #expect(try await claim("node-a", at: 10, limit: 2).isEmpty)
    }

    @Test("a leased message is not claimed again until its lease expires")
    func leasesExpire() async throws {
        _ = try await store.createRun(newRun("run-1", at: 0))
        let claimed = try await claim("node-a", at: 0, leaseFor: 30)
        #expect(claimed.count == 1)
        #expect(try await claim("node-a", at: 1).isEmpty, "the owner itself must not get it twice")
        #expect(try await claim("node-b", at: 10).isEmpty)
        #expect(try await claim("node-b", at: 29.999).isEmpty)
        #expect(try await store.nextWakeTime() == at(30), "the scheduler must wake up when the lease expires")
        let taken = try await claim("node-b", at: 30.001)
        #expect(taken.map(\.id) == claimed.map(\.id))
        // node-a lost the message: its late completion is fenced off, node-b's goes through.
        let message = try #require(claimed.first)
        #expect(try await !store.complete(
            message, owner: "node-a", with: resolution(message, entry: fetched, next: (0, at(31)), finishedAt: at(31), outcome: "submitted")))
        #expect(try await store.journal(runId: "run-1").count == 1)
        #expect(try await store.complete(
            message, owner: "node-b", with: resolution(message, entry: fetched, next: (0, at(32)), finishedAt: at(32), outcome: "submitted")))
        #expect(try await store.journal(runId: "run-1").count == 2)
    }

    @Test("releaseLeases frees exactly the leases of its owner")
    func releaseLeases() async throws {
        _ = try await store.createRun(newRun("run-a", at: 0))
        _ = try await store.createRun(newRun("run-b", at: 1))
        #expect(try await claim("node-a", at: 1, leaseFor: 900, limit: 1).map(\.runId) == ["run-a"])
        #expect(try await claim("node-b", at: 1, leaseFor: 900, limit: 1).map(\.runId) == ["run-b"])
        #expect(try await claim("node-c", at: 2).isEmpty)
        try await store.releaseLeases(owner: "node-a")
        #expect(try await claim("node-c", at: 2).map(\.runId) == ["run-a"])
        #expect(try await claim("node-c", at: 2).isEmpty, "node-b's lease must still hold")
    }

    @Test("renewing moves its owner's leases of the messages named to end no sooner than asked, never earlier, and no one else's")
    func renewLeases() async throws {
        _ = try await store.createRun(newRun("run-a", at: 0))
        _ = try await store.createRun(newRun("run-b", at: 1))
        let a = try #require(try await claim("node-a", at: 1, leaseFor: 100, limit: 1).first)
        let b = try #require(try await claim("node-b", at: 1, leaseFor: 10, limit: 1).first)
        try await store.renewLeases(owner: "node-a", messages: [a.id, b.id], queued: [], until: try at(50))
        #expect(try await store.nextWakeTime() == (try at(11)), "a's lease (101 s) is not shortened; b's is not node-a's to renew")
        try await store.renewLeases(owner: "node-b", messages: [b.id], queued: [], until: try at(60))
        #expect(try await claim("node-c", at: 59).isEmpty, "both leases hold")
        #expect(try await claim("node-c", at: 61).map(\.runId) == ["run-b"], "b's renewed lease ended at 60 s")
    }

    // MARK: Completing

    @Test("complete appends the entry, schedules the next delivery, updates the run and records the attempt, together")
    func completeAppliesEverything() async throws {
        _ = try await store.createRun(newRun("run-1", input: ["order": "A-7"], at: 0))
        let message = try #require(try await claim("node-a", at: 0).first)
        let applied = try resolution(message, entry: fetched, finishedAt: at(1), outcome: "submitted")
        #expect(try await store.complete(message, owner: "node-a", with: applied))
        #expect(try await store.journal(runId: "run-1") == [.initial(["order": "A-7"]), fetched])
        #expect(try await store.attempts(runId: "run-1") == [applied.record])
        let run = try #require(try await store.run(id: "run-1"))
        #expect(run.status == .running)
        #expect(run.updatedAt == (try at(1)))
        // An appended entry means the run can go on: it is delivered again at once.
        #expect(try await store.nextWakeTime() == at(1))

        let last = try #require(try await claim("node-a", at: 5).first)
        let finished = try resolution(last, next: nil, status: .succeeded, output: ["charged": true], finishedAt: at(6), outcome: "completed")
        #expect(try await store.complete(last, owner: "node-a", with: finished))
        let done = try #require(try await store.run(id: "run-1"))
        #expect(done.status == .succeeded)
        #expect(done.output == ["charged": true])
        #expect(try await store.nextWakeTime() == nil, "a finished run leaves no message behind")
        #expect(try await store.attempts(runId: "run-1").map(\.outcome) == ["submitted", "completed"])
    }

    @Test("complete can lease the run's next delivery in the same commit: nothing is left to claim, and a final step leases none")
    func completeLeasesTheNextDelivery() async throws {
        _ = try await store.createRun(newRun("run-1", input: ["order": "A-7"], at: 0))
        let message = try #require(try await claim("node-a", at: 0).first)
        let applied = try resolution(message, entry: fetched, finishedAt: at(1), outcome: "submitted")
        let (completed, next) = try await store.complete(message, owner: "node-a", with: applied, leasingNextUntil: at(31))
        #expect(completed)
        let leased = try #require(next)
        #expect(leased.runId == "run-1" && leased.kind == .deliver && leased.attempt == 0)
        #expect(leased.claimedAt == (try at(1)))
        #expect(try await claim("node-b", at: 2).isEmpty, "the next delivery is already leased to node-a")
        #expect(try await store.nextWakeTime() == at(31), "only its lease is pending")
        let finished = try resolution(leased, next: nil, status: .succeeded, output: 1, finishedAt: at(2), outcome: "completed")
        let (done, none) = try await store.complete(leased, owner: "node-a", with: finished, leasingNextUntil: at(32))
        #expect(done)
        #expect(none == nil)
        #expect(try await store.run(id: "run-1")?.status == .succeeded)
    }

    @Test("complete with the wrong owner changes nothing and returns false; the message stays with its owner")
    func completeIsFencedByOwner() async throws {
        _ = try await store.createRun(newRun("run-1", at: 0))
        let message = try #require(try await claim("node-a", at: 0).first)
        let before = try #require(try await store.run(id: "run-1"))
        let applied = try resolution(message, entry: fetched, next: nil, status: .succeeded, output: 1, finishedAt: at(1), outcome: "completed")
        #expect(try await !store.complete(message, owner: "node-b", with: applied))
        #expect(try await store.run(id: "run-1") == before)
        #expect(try await store.journal(runId: "run-1").count == 1)
        #expect(try await store.attempts(runId: "run-1").isEmpty)
        #expect(try await store.nextWakeTime() == at(30), "only the lease of the untouched message is pending")
        // The owner can still complete it, exactly once.
        #expect(try await store.complete(message, owner: "node-a", with: applied))
        #expect(try await !store.complete(message, owner: "node-a", with: applied))
        #expect(try await store.journal(runId: "run-1").count == 2)
        #expect(try await store.attempts(runId: "run-1").count == 1)
    }

    @Test("complete for a canceled run changes nothing and returns false")
    func completeIsFencedByCancel() async throws {
        _ = try await store.createRun(newRun("run-1", at: 0))
        let message = try #require(try await claim("node-a", at: 0).first)
        #expect(try await store.cancel(runId: "run-1", at: at(0.5)))
        #expect(try await !store.cancel(runId: "run-1", at: at(0.6)), "a run is canceled once")
        let applied = try resolution(message, entry: fetched, next: (0, at(1)), finishedAt: at(1), outcome: "submitted")
        #expect(try await !store.complete(message, owner: "node-a", with: applied))
        let run = try #require(try await store.run(id: "run-1"))
        #expect(run.status == .canceled)
        #expect(run.updatedAt == (try at(0.5)))
        #expect(try await store.journal(runId: "run-1").count == 1)
        #expect(try await store.attempts(runId: "run-1").isEmpty)
        #expect(try await store.nextWakeTime() == nil)
        #expect(try await claim("node-a", at: 100).isEmpty)
    }

    @Test("the journal's primary key forbids recording a position twice")
    func journalKeyForbidsDuplicates() async throws {
        _ = try await store.createRun(newRun("run-1", at: 0))
        let message = try #require(try await claim("node-a", at: 0).first)
        #expect(try await store.complete(
            message, owner: "node-a", with: resolution(message, entry: fetched, next: (0, at(1)), finishedAt: at(1), outcome: "submitted")))
        // A second writer (another process on the same file) trying to record position 1 again.
        let other = try DatabaseQueue(path: path)
        for position in [0, 1] {
            let error = #expect(throws: DatabaseError.self) {
                try other.write { db in
                    try db.execute(
                        sql: "INSERT INTO journal (run_id, position, entry, recorded_at) VALUES ('run-1', ?, '{}', 0)",
                        arguments: [position])
                }
            }
            #expect(error?.resultCode == .SQLITE_CONSTRAINT)
        }
        #expect(try await store.journal(runId: "run-1") == [.initial([:]), fetched])
    }

    @Test("everything survives closing and reopening the file; the file is in WAL mode")
    func survivesReopening() async throws {
        let reopenedPath = directory.path("nested/folder/durable.db")
        do {
            let first = try SQLiteStore(path: reopenedPath)
            try await first.saveDefinition(definition)
            _ = try await first.createRun(newRun("run-1", input: ["order": "A-7"], at: 0))
            _ = try await first.createRun(newRun("run-2", at: 1))
            let message = try #require(try await first.claimDueMessages(now: at(0), limit: 1, owner: "node-a", leaseUntil: at(900)).first)
            #expect(try await first.complete(
                message, owner: "node-a",
                with: resolution(message, sleep: at(60), finishedAt: at(2), outcome: "submitted")))
            #expect(try await first.cancel(runId: "run-2", at: at(3)))
        }
        let reopened = try SQLiteStore(path: reopenedPath)
        #expect(try await reopened.definitions() == [definition])
        let run = try #require(try await reopened.run(id: "run-1"))
        #expect(run.input == ["order": "A-7"])
        #expect(run.status == .running)
        #expect(try await reopened.run(id: "run-2")?.status == .canceled)
        #expect(try await reopened.journal(runId: "run-1") == [.initial(["order": "A-7"])])
        #expect(try await reopened.progress(runId: "run-1").pending == ["nap"])
        #expect(try await reopened.attempts(runId: "run-1").map(\.outcome) == ["submitted"])
        #expect(try await reopened.nextWakeTime() == at(60))
        let next = try await reopened.claimDueMessages(now: at(60), limit: 10, owner: "node-b", leaseUntil: at(90))
        #expect(next.map(\.runId) == ["run-1"])
        #expect(next.map(\.kind) == [.timer])

        let raw = try DatabaseQueue(path: reopenedPath)
        let mode = try await raw.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
    }
}
