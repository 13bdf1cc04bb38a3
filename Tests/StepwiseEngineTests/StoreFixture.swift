import Foundation
import StepwiseEngine
import StepwiseExpressions
import StepwiseRuntime
import StepwiseTesting
import Testing

/// A fresh store of one kind with a definition installed, and the helpers store tests share: runs,
/// resolutions and claims at fixed instants (the store is given every time, so no clock is needed).
struct StoreFixture: Sendable {
    let directory: TemporaryDirectory
    let opened: OpenedStore
    var store: any Store { opened.store }
    let definition = StoredDefinition(hash: "hash-v1", workflow: "orders", source: "workflow: orders\n")
    let t0: TimestampValue
    let fetched = JournalEntry(stepId: 1, stepName: "fetch", stepType: .run, out: ["status": 200, "body": ["amount": 21]])
    let charged = JournalEntry(stepId: 2, stepName: "charge", stepType: .run, out: ["charged": true])

    /// Runs `body` with a fresh store of `kind`, removed afterwards (also when `body` throws).
    static func with<T>(_ kind: StoreKind, _ body: (StoreFixture) async throws -> T) async throws -> T {
        let directory = try TemporaryDirectory()
        let fixture = StoreFixture(
            directory: directory, opened: try await kind.open(in: directory), t0: try TimestampValue(parsing: "2026-03-01T12:00:00Z"))
        do {
            try await fixture.store.saveDefinition(fixture.definition)
            let result = try await body(fixture)
            await fixture.opened.close()
            return result
        } catch {
            await fixture.opened.close()
            throw error
        }
    }

    func at(_ seconds: Double) throws -> TimestampValue { try t0.plus(seconds: seconds) }

    func newRun(_ id: String, input: Value = [:], at seconds: Double = 0) throws -> RunRecord {
        let created = try at(seconds)
        return RunRecord(id: id, workflow: "orders", definitionHash: definition.hash, input: input, createdAt: created, updatedAt: created)
    }

    func resolution(
        _ message: PendingMessage, entry: JournalEntry? = nil, sleep until: TimestampValue? = nil, park: [StepOperation] = [],
        next: (attempt: Int, dueAt: TimestampValue)? = nil, status: RunStatus = .running, output: Value? = nil, error: StepError? = nil,
        finishedAt: TimestampValue, outcome: String
    ) -> DeliveryResolution {
        let record = AttemptRecord(
            runId: message.runId, position: 1, attempt: message.attempt, startedAt: finishedAt, finishedAt: finishedAt,
            outcome: outcome, detail: nil)
        let parked = (until.map { [Self.nap($0)] } ?? []) + park
        return DeliveryResolution(
            submissions: (entry.map { [.record($0)] } ?? []) + parked.map { .park($0) }, next: next, status: status, phase: .main,
            output: output, error: error, record: record)
    }

    /// A sleep handed to the engine: its timer is due at `until`.
    static func nap(_ until: TimestampValue) -> StepOperation {
        StepOperation(stepName: "nap", stepType: .sleepFor, kind: .sleep(until: until))
    }

    /// Run `run-1` after its first step: claimed by node-a at 0 with a 30 s lease, its `fetched`
    /// step completed at 1 asking for a lease until 31; the delivery node-a keeps for step two.
    func keptAfterFirstStep() async throws -> PendingMessage {
        _ = try await store.createRun(newRun("run-1", at: 0))
        let first = try #require(try await claim("node-a", at: 0, leaseFor: 30).first)
        let step = try resolution(first, entry: fetched, finishedAt: at(1), outcome: "submitted")
        return try #require(try await store.complete(first, owner: "node-a", with: step, leasingNext: lease(until: 31)).next?.message)
    }

    /// Starts run `id` (created at `created`, else at `seconds`) and ends it with `status` at
    /// `seconds` in its first delivery: a failed run lands in the DLQ.
    func endRun(
        _ id: String, _ status: RunStatus, at seconds: Double, createdAt created: Double? = nil, workflow: String = "orders", label: String? = nil,
        flowControlKey: String? = nil
    ) async throws {
        var run = try newRun(id, at: created ?? seconds)
        run.workflow = workflow
        run.label = label
        run.flowControlKey = flowControlKey
        _ = try await store.createRun(run)
        let message = try #require(try await claim("node-a", at: seconds).first { $0.runId == id })
        let failure = status == .failed ? StepError(message: "out of stock", type: "OutOfStock", step: "fetch") : nil
        let end = resolution(
            message, entry: fetched, status: status, output: failure == nil ? ["ok": true] : nil, error: failure, finishedAt: try at(seconds),
            outcome: "completed")
        #expect(try await store.complete(message, owner: "node-a", with: end))
    }

    /// Publishes a plain message, claims it and gives it up at `failedAt`; its DLQ id.
    func failPlainMessage(_ body: String, at failedAt: TimestampValue) async throws -> String {
        let message = QueuedMessage(role: .plain, runId: nil, destination: "http://127.0.0.1:9/\(body)", body: Array(body.utf8), retries: 0, dueAt: t0)
        _ = try await store.publish([.enqueue(message)], at: t0)
        let claimed = try await store.claimDueQueued(now: failedAt, limit: 10, owner: "node", leaseUntil: failedAt.plus(seconds: 60))
        let held = try #require(claimed.first { $0.id == message.id })
        var followUp = AttemptFollowUp(decidedAt: failedAt)
        followUp.deadLetter = AttemptAnswer(status: 503, headers: [], body: Array("down".utf8))
        #expect(try await store.finishAttempt(held, owner: "node", with: followUp))
        return MessageDeadLetter.id(of: message.id)
    }

    /// A lease of a run's next delivery until `seconds`, reading its whole journal.
    func lease(until seconds: Double) throws -> NextLease {
        NextLease(until: try at(seconds), journalFrom: 0)
    }

    func claim(_ owner: String, at seconds: Double, leaseFor lease: Double = 30, limit: Int = 10) async throws -> [PendingMessage] {
        try await store.claimDueMessages(now: at(seconds), limit: limit, owner: owner, leaseUntil: at(seconds + lease))
    }
}
