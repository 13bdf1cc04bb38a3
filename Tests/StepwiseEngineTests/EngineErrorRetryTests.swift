import Foundation
import GRDB
import StepwiseEngine
import StepwiseTesting
import Testing

/// A message the engine could not process (its store refused a write) is processed again after
/// QStash's backoff, scaled by `retryDelayScale` as queued messages' retries are.
@Suite("The engine's retry of a message it could not process")
struct EngineErrorRetryTests {
    @Test("a step whose result the store refuses for a second is recorded on a retry the scale shortened (12 s + 148 s at scale 1)")
    func storeErrorRetryIsScaled() async throws {
        // At scale 0.01 the retries come 0.12 s and 1.6 s after the first try; at scale 1 the
        // first would come after 12 s, past the run's wait.
        let refused = try await runRefusedForASecond(scale: 0.01)
        #expect(refused.run.status == .succeeded && refused.run.output == 2, "\(refused.run)")
        #expect(refused.recorded == ["init", "first", "second"], "each step recorded once: \(refused.recorded)")
        #expect(refused.requests >= 3, "the refused step was requested again")
    }

    @Test("at scale 0 a store that keeps refusing is tried again every tenth of a second at most, not in a busy loop")
    func storeErrorRetryAtScaleZeroWaits() async throws {
        let refused = try await runRefusedForASecond(scale: 0)
        #expect(refused.run.status == .succeeded)
        // Each try makes the step's request again: a busy loop made hundreds in the second.
        #expect(refused.requests <= 20, "\(refused.requests) tries in the second the store refused")
    }

    /// Runs a workflow of two http steps on a server at retry delay `scale` whose store refuses
    /// step results for the run's first second: the run once it ended (within 8 s), its
    /// journal's step names, and how many requests its steps made.
    private func runRefusedForASecond(scale: Double) async throws -> (run: RunRecord, recorded: [String], requests: Int) {
        try await CountingServer.with { api in
            api.fallback("/n", .json(#"{"n": 1}"#))
            let directory = try TemporaryDirectory()
            let twoSteps = try definition("""
                workflow: two-steps
                steps:
                  - id: first
                    http: {method: GET, url: "\(api.url("/n"))"}
                  - id: second
                    http: {method: GET, url: "\(api.url("/n"))"}
                output: ${{ steps.first.body.n + steps.second.body.n }}
                """)
            return try await RunningServer.with([twoSteps], directory: directory, configuration: WorkflowEngine.Configuration(retryDelayScale: scale)) { server in
                try refuseStepResults(forSeconds: 1, in: directory.path("stepwise.db"))
                let run = try await server.engine.start(workflow: "two-steps", input: [:]).run
                let finished = try await finishedRun(run.id, in: server.store, within: .seconds(8))
                return (finished, try await server.store.journal(runId: run.id).map(\.stepName), api.requests(to: "/n").count)
            }
        }
    }

    /// A trigger another connection makes: every step result (a journal entry past the initial
    /// one) is refused until `seconds` from now.
    private func refuseStepResults(forSeconds seconds: Double, in path: String) throws {
        var waiting = Configuration()
        waiting.busyMode = .timeout(10)
        let other = try DatabaseQueue(path: path, configuration: waiting)
        let until = 2_440_587.5 + (Date().timeIntervalSince1970 + seconds) / 86_400
        try other.write { db in
            try db.execute(sql: """
                CREATE TRIGGER refuse_step_results BEFORE INSERT ON journal
                WHEN NEW.position > 0 AND julianday('now') < \(until)
                BEGIN SELECT RAISE(ABORT, 'step results refused'); END
                """)
        }
        try other.close()
    }
}
