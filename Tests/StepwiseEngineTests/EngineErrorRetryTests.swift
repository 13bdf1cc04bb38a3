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
            let configuration = WorkflowEngine.Configuration(retryDelayScale: 0.01)
            try await RunningServer.with([twoSteps], directory: directory, configuration: configuration) { server in
                try refuseStepResults(forSeconds: 1, in: directory.path("stepwise.db"))
                let run = try await server.engine.start(workflow: "two-steps", input: [:]).run
                // At scale 0.01 the retries come 0.12 s and 1.6 s after the first try; at scale 1
                // the first would come after 12 s.
                let finished = try await finishedRun(run.id, in: server.store, within: .seconds(8))
                #expect(finished.status == .succeeded && finished.output == 2, "\(finished)")
                let recorded = try await server.store.journal(runId: run.id).map(\.stepName)
                #expect(recorded == ["init", "first", "second"], "each step recorded once: \(recorded)")
                #expect(api.requests(to: "/n").count >= 3, "the refused step was requested again")
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
