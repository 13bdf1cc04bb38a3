import Testing
import Foundation
import StepwiseExpressions
import StepwiseLanguage
import StepwiseRuntime
import StepwiseTesting

/// Drives one run to its end in memory, the way the engine does: appends submitted entries,
/// redelivers after retries (without waiting), advances a virtual clock over sleeps, and runs
/// `on_failure` once.
struct RunDriver {
    struct Finish: Equatable {
        var status: String
        var output: Value?
        var error: StepError?
        var journal: [JournalEntry]
        var deliveries: Int
    }

    let runner: WorkflowRunner
    let hash = "test-hash"

    /// Loads `yaml` (which must validate) into a runner with the given transport.
    static func make(
        _ yaml: String, transport: ScriptedTransport, warm: Bool, clock: VirtualClock, secrets: [String: String] = [:],
        warmByteBudget: Int = WorkflowRunner.defaultWarmByteBudget, limits: EvaluationLimits = .standard
    ) async throws -> RunDriver {
        let file = WorkflowFile(path: "test.yaml", source: yaml)
        guard let workflow = file.workflow, !file.hasErrors else {
            throw WorkflowLoadError(diagnostics: file.diagnostics.map(\.description))
        }
        let runner = WorkflowRunner(
            http: transport, secrets: EnvironmentSecrets(secrets), warmCapacity: warm ? 100 : 0,
            warmByteBudget: warmByteBudget, limits: limits, clock: { clock.now })
        runner.register(workflow, hash: "test-hash")
        return RunDriver(runner: runner)
    }

    func run(input: Value, clock: VirtualClock, maximumDeliveries: Int = 200) async -> Finish {
        var run = start(input: input, clock: clock)
        for _ in 1...maximumDeliveries {
            if let finish = await run.deliverOnce() { return finish }
        }
        return Finish(status: "unfinished", output: nil, error: nil, journal: run.journal, deliveries: maximumDeliveries)
    }

    /// A run that has not been delivered yet, to be driven one delivery at a time (runs can then
    /// interleave on one runner).
    func start(input: Value, clock: VirtualClock, runId: String = "run-1") -> RunInProgress {
        RunInProgress(runner: runner, hash: hash, runId: runId, clock: clock, journal: [JournalEntry.initial(input)], startedAt: clock.now)
    }

    /// One run's journal and pending operations between deliveries, as the engine keeps them.
    struct RunInProgress {
        let runner: WorkflowRunner
        let hash: String
        let runId: String
        let clock: VirtualClock
        var journal: [JournalEntry]
        let startedAt: TimestampValue
        var pending: [String: (due: TimestampValue, operation: StepOperation)] = [:]
        var failures: [String: Int] = [:]
        var failure: StepError?
        var deliveries = 0

        /// The delivery of the journal from entry `base` on.
        func delivery(from base: Int) -> Delivery {
            Delivery(
                runId: runId, workflow: "test", definitionHash: hash, journal: Array(journal[base...]), journalBase: base,
                startedAt: startedAt, pending: Set(pending.keys), failures: failures, failure: failure)
        }

        /// Delivers the run once and applies the outcome; the finish once the run has ended.
        mutating func deliverOnce() async -> Finish? {
            deliveries += 1
            // As the engine does: a warm runner gets only the journal's end.
            let warm = failure == nil ? runner.warmJournalCount(runId: runId) ?? 0 : 0
            var outcome = await runner.deliver(delivery(from: min(warm, journal.count)))
            if outcome == .needsWholeJournal { outcome = await runner.deliver(delivery(from: 0)) }
            switch outcome {
            case .submitted(let submissions):
                var appended = false
                for submission in submissions {
                    switch submission {
                    case .record(let entry):
                        journal.append(entry)
                        appended = true
                    case .park(let operation):
                        if case .retry = operation.kind { failures[operation.stepName, default: 0] += 1 }
                        if let due = RunDriver.due(of: operation, now: clock.now) {
                            pending[operation.stepName] = (due, operation)
                        } else {
                            journal.append(operation.entry(out: ["waiters": []]))
                            appended = true
                        }
                    case .plan(let name, _):
                        Issue.record("step \(name) was planned in process, where steps are never planned")
                    }
                }
                if !appended { RunDriver.completeEarliest(&pending, &journal, clock) }
            case .blocked:
                RunDriver.completeEarliest(&pending, &journal, clock)
            case .completed(let output):
                return Finish(status: "succeeded", output: output, error: nil, journal: journal, deliveries: deliveries)
            case .finished(let submissions, let output):
                for submission in submissions {
                    guard case .record(let entry) = submission else {
                        Issue.record("the run finished with step \(submission.stepName), which has no result yet")
                        continue
                    }
                    journal.append(entry)
                }
                return Finish(status: "succeeded", output: output, error: nil, journal: journal, deliveries: deliveries)
            case .failed(let error):
                if failure == nil {
                    failure = error
                    return nil
                }
                return Finish(status: "failed", output: nil, error: error, journal: journal, deliveries: deliveries)
            case .canceled(let reason, let step):
                let error = reason.map { StepError(message: $0, type: "Canceled", step: step) }
                return Finish(status: "canceled", output: nil, error: error, journal: journal, deliveries: deliveries)
            case .rejected(let message):
                return Finish(status: "rejected", output: nil, error: StepError(message: message, type: "Rejected"), journal: journal, deliveries: deliveries)
            case .needsWholeJournal:
                return Finish(status: "rejected", output: nil, error: StepError(message: "the whole journal was refused", type: "Rejected"), journal: journal, deliveries: deliveries)
            }
            return nil
        }
    }

    /// When the engine would complete an operation by itself (a timer); `nil` for one it
    /// completes at once (notify). Waits time out: nobody notifies in these tests.
    fileprivate static func due(of operation: StepOperation, now: TimestampValue) -> TimestampValue? {
        switch operation.kind {
        case .sleep(let until): until
        case .retry(let at, _): at
        case .wait(_, let timeoutAt): timeoutAt
        case .call, .invoke: now
        case .notify: nil
        }
    }

    /// Moves the clock to the earliest pending operation and completes it as the engine would.
    fileprivate static func completeEarliest(
        _ pending: inout [String: (due: TimestampValue, operation: StepOperation)], _ journal: inout [JournalEntry], _ clock: VirtualClock
    ) {
        guard let (name, next) = pending.min(by: { $0.value.due < $1.value.due }) else { return }
        pending[name] = nil
        clock.advance(to: next.due)
        switch next.operation.kind {
        case .sleep(let until): journal.append(next.operation.entry(out: ["until": .string(until.description)]))
        case .wait: journal.append(next.operation.entry(out: StepOperation.waitResult(data: nil)))
        case .retry: break
        case .call, .invoke, .notify:
            journal.append(next.operation.entry(out: nil, error: StepError(message: "not simulated", type: "Unsupported")))
        }
    }
}

struct WorkflowLoadError: Error {
    let diagnostics: [String]
}
