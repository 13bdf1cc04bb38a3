import Foundation
import StepwiseEngine
import StepwiseExpressions
import StepwiseTesting
import Testing

/// `on_failure` runs after every kind of failure, in process and behind `stepwise runner`,
/// however far the run's steps had got: the state is rebuilt from the journal, and the handler's
/// own entries, which follow, must not be mistaken for the failed steps'.
@Suite("on_failure after any failure")
struct FailureHandlerTests {
    static let child = """
        workflow: child
        steps:
          - id: nap
            sleep: 60s
        """

    @Test("a failed run leaves one warning line naming the run, its workflow, the failed step and the error, also when on_failure then runs")
    func failuresAreLogged() async throws {
        let failing = try definition("""
            workflow: failing
            steps:
              - id: check
                fail: {message: "order 7 is missing", type: NotFound}
            on_failure:
              - id: note
                set: {noted: true}
            """)
        let log = CapturedLog()
        try await RunningServer.with([failing], logger: log.logger) { server in
            let id = try await server.startRun("failing", "{}")
            #expect(try await finishedRun(id, in: server.store).status == .failed)
            let lines = log.text.split(separator: "\n").filter { $0.hasPrefix("warning") && $0.contains(id) }
            #expect(lines.count == 1, "\(lines)")
            let line = try #require(lines.first)
            #expect(line.contains("run \(id) of failing failed at step check: NotFound: order 7 is missing"), "\(line)")
            #expect(line.contains(#""error_type": NotFound"#) && line.contains(#""step": check"#), "\(line)")
        }
    }

    @Test("a cancel while on_failure runs ends the handler: the run stays failed with its error, lands in the DLQ, failure_url is told", arguments: StoreKind.testable)
    func cancelDuringTheHandler(kind: StoreKind) async throws {
        try await CountingServer.with { api in
            api.fallback("/undo1", .json("{}", delay: .seconds(4)))
            api.fallback("/undo2", .json("{}"))
            api.fallback("/failed", .json("{}"))
            let compensating = try definition("""
                workflow: compensating
                failure_url: \(api.url("/failed"))
                steps:
                  - id: boom
                    fail: {message: "boom"}
                on_failure:
                  - id: undo1
                    http: {method: POST, url: "\(api.url("/undo1"))"}
                  - id: undo2
                    http: {method: POST, url: "\(api.url("/undo2"))"}
                """)
            try await RunningServer.with([compensating], store: kind) { server in
                let id = try await server.startRun("compensating", "{}")
                _ = try await eventually("the handler's first request") { api.requests(to: "/undo1").first }
                let answer = try await send(.DELETE, server.url("/v2/workflows/runs/\(id)?cancel=true"))
                #expect(answer.status == 200 && answer.json?["status"] == "failed", "the API says what the run is: \(answer.body)")
                let run = try await finishedRun(id, in: server.store)
                #expect(run.status == .failed)
                #expect(run.error?.message == "boom" && run.error?.step == "boom", "\(String(describing: run.error))")
                #expect(try await server.store.deadLetter(id: DeadLetter.id(ofRun: id)) != nil, "the failed run is in the DLQ")
                _ = try await eventually("failure_url's notice") { api.requests(to: "/failed").first }
                try await Task.sleep(for: .seconds(4))
                #expect(api.requests(to: "/undo2").isEmpty, "the handler ended at the cancel")
                #expect(api.requests(to: "/failed").count == 1)
            }
        }
    }

    @Test("a run resumed from the DLQ while the handler request a cancel left in flight runs: that request's end changes nothing, the resumed run goes on once its lease ends", arguments: StoreKind.testable)
    func resumeWhileACanceledHandlerRequestRuns(kind: StoreKind) async throws {
        try await CountingServer.with { api in
            api.script("/flaky", .json("{}", status: 500))
            api.fallback("/flaky", .json(#"{"ok": true}"#))
            api.fallback("/undo", .json("{}", delay: .seconds(4)))
            let guarded = try definition("""
                workflow: guarded
                concurrency: {key: ledger, limit: 1}
                steps:
                  - id: book
                    http: {method: POST, url: "\(api.url("/flaky"))"}
                on_failure:
                  - id: undo
                    http: {method: POST, url: "\(api.url("/undo"))"}
                output: ${{ steps.book.body.ok }}
                """)
            // A delivery the store could not take (no free connection while the whole suite runs on
            // two cores) is retried in 0.12 s rather than QStash's 12 s + 148 s.
            try await RunningServer.with([guarded], store: kind, configuration: .init(lease: .seconds(6), retryDelayScale: 0.01)) { server in
                let id = try await server.startRun("guarded", "{}")
                _ = try await eventually("the handler's request") { api.requests(to: "/undo").first }
                #expect(try await server.engine.cancel(runId: id))
                #expect(try await server.store.run(id: id)?.status == .failed)
                #expect(try await server.engine.resume(deadLetter: DeadLetter.id(ofRun: id)) != nil)
                let resumed = try await eventually("the resumed run to end", within: .seconds(60)) { () async throws -> RunRecord? in
                    let run = try await server.store.run(id: id)
                    return run?.status == .running ? nil : run
                }
                #expect(resumed.status == .succeeded && resumed.output == true, "\(resumed.status) \(resumed.phase): \(String(describing: resumed.error))")
                #expect(try await !server.store.journal(runId: id).map(\.stepName).contains("on_failure.undo"), "the ended handler's request was recorded")
            }
        }
    }

    @Test("a run timeout that stops a parallel at a pending invoke, beside a branch that has its result: on_failure runs once")
    func afterATimeoutInAGroup() async throws {
        try await CountingServer.with { api in
            api.fallback("/x", .json("{}"))
            api.fallback("/alert", .json("{}"))
            let timed = try definition("""
                workflow: timed
                timeout: 2s
                steps:
                  - id: par
                    parallel:
                      kid:
                        - id: k
                          invoke: {workflow: child}
                      other:
                        - id: x
                          http: {url: "\(api.url("/x"))"}
                on_failure:
                  - id: alert
                    http: {method: POST, url: "\(api.url("/alert"))", body: {error: "${{ error.message }}"}}
                """)
            try await RunningServer.with([timed, try definition(Self.child)]) { server in
                let id = try await server.startRun("timed", "{}")
                let run = try await finishedRun(id, in: server.store)
                #expect(run.status == .failed)
                #expect(run.error?.type == "Timeout", "\(String(describing: run.error))")
                let alert = try await eventually("on_failure's request") { api.requests(to: "/alert").first }
                #expect(try Value(json: alert.body)["error"]?.string?.contains("exceeded its timeout") == true, "\(alert.body)")
                // Whether `x` had its result by the deadline depends on the machine's load (it
                // has, in milliseconds, unless the whole suite crowds it): either way the handler's
                // entry comes last and nothing was rejected.
                _ = try await eventually("on_failure's entry") {
                    try await server.store.journal(runId: id).last?.stepName == "on_failure.alert" ? true : nil
                }
                #expect(!(try await server.store.attempts(runId: id)).contains { $0.detail?.contains("was the definition changed") == true })
            }
            #expect(api.requests(to: "/alert").count == 1)
        }
    }

    @Test("behind stepwise runner, a failed http step (which has no journal entry there): on_failure's request runs once and failure_url is told")
    func afterAFailedRequestBehindTheRunner() async throws {
        try await CountingServer.with { api in
            api.fallback("/boom", .json("{}", status: 500))
            api.fallback("/alert", .json("{}"))
            api.fallback("/failed", .json("{}"))
            let failing = try definition("""
                workflow: failing
                failure_url: \(api.url("/failed"))
                steps:
                  - id: boom
                    http: {url: "\(api.url("/boom"))"}
                on_failure:
                  - id: alert
                    http: {method: POST, url: "\(api.url("/alert"))", body: {error: "${{ error.message }}"}}
                """)
            try await RunningServer.with([]) { engine in
                try await RunningRunner.with([failing], engine: engine) { runner in
                    let id = try await runner.start("failing", "{}")
                    let notice = try await eventually("failure_url's notice") { api.requests(to: "/failed").first }
                    #expect(notice.header("Upstash-Workflow-RunId") == id)
                    #expect(try await finishedRun(id, in: engine.store).status == .failed)
                }
            }
            #expect(api.requests(to: "/alert").count == 1, "on_failure ran once")
            #expect(api.requests(to: "/failed").count == 1, "failure_url was told once")
        }
    }

    @Test("behind stepwise runner, a run past its timeout fails at its next delivery before any further step, and on_failure runs")
    func runTimeoutBehindTheRunner() async throws {
        try await CountingServer.with { api in
            api.fallback("/after", .json("{}"))
            api.fallback("/alert", .json("{}"))
            let timed = try definition("""
                workflow: timed
                timeout: 1s
                steps:
                  - id: nap
                    sleep: 2s
                  - id: after
                    http: {url: "\(api.url("/after"))"}
                on_failure:
                  - id: alert
                    http: {method: POST, url: "\(api.url("/alert"))", body: {type: "${{ error.type }}"}}
                """)
            try await RunningServer.with([]) { engine in
                try await RunningRunner.with([timed], engine: engine) { runner in
                    let id = try await runner.start("timed", "{}")
                    let run = try await finishedRun(id, in: engine.store)
                    #expect(run.status == .failed)
                    let alert = try await eventually("on_failure's request") { api.requests(to: "/alert").first }
                    #expect(try Value(json: alert.body) == ["type": "Timeout"])
                }
            }
            #expect(api.requests(to: "/after").isEmpty, "no step ran after the deadline")
        }
    }
}
