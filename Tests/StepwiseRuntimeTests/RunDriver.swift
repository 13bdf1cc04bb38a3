import Foundation
import StepwiseExpressions
import StepwiseLanguage
import StepwiseRuntime

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
    static func make(_ yaml: String, transport: ScriptedTransport, warm: Bool, clock: VirtualClock, secrets: [String: String] = [:]) async throws -> RunDriver {
        let file = WorkflowFile(path: "test.yaml", source: yaml)
        guard let workflow = file.workflow, !file.hasErrors else {
            throw WorkflowLoadError(diagnostics: file.diagnostics.map(\.description))
        }
        let runner = WorkflowRunner(
            http: transport, secrets: EnvironmentSecrets(secrets), warmCapacity: warm ? 100 : 0, clock: { clock.now })
        await runner.register(workflow, hash: "test-hash")
        return RunDriver(runner: runner)
    }

    func run(input: Value, clock: VirtualClock, maximumDeliveries: Int = 200) async -> Finish {
        var journal = [JournalEntry.initial(input)]
        var attempt = 0
        var failure: StepError?
        let startedAt = clock.now
        for count in 1...maximumDeliveries {
            let delivery = Delivery(
                runId: "run-1", workflow: "test", definitionHash: hash, journal: journal, startedAt: startedAt,
                attempt: attempt, failure: failure)
            switch await runner.deliver(delivery) {
            case .submitted(let submission):
                journal.append(submission.entry)
                attempt = 0
                if case .resume(let instant) = submission.action { clock.advance(to: instant) }
            case .retry:
                attempt += 1
            case .completed(let output):
                return Finish(status: "succeeded", output: output, error: nil, journal: journal, deliveries: count)
            case .failed(let error):
                if failure == nil {
                    failure = error
                    attempt = 0
                    continue
                }
                return Finish(status: "failed", output: nil, error: error, journal: journal, deliveries: count)
            case .rejected(let message):
                return Finish(status: "rejected", output: nil, error: StepError(message: message, type: "Rejected"), journal: journal, deliveries: count)
            }
        }
        return Finish(status: "unfinished", output: nil, error: nil, journal: journal, deliveries: maximumDeliveries)
    }
}

struct WorkflowLoadError: Error {
    let diagnostics: [String]
}

/// A clock tests move by hand.
final class VirtualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: TimestampValue

    init(_ start: TimestampValue) {
        current = start
    }

    /// A clock at `text` (RFC 3339).
    static func at(_ text: String = "2026-01-01T00:00:00Z") throws -> VirtualClock {
        VirtualClock(try TimestampValue(parsing: text))
    }

    var now: TimestampValue { lock.withLock { current } }

    func advance(to instant: TimestampValue) {
        lock.withLock { if instant > current { current = instant } }
    }
}
