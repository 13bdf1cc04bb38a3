import StepwiseEngine
import StepwiseTesting
import Testing

/// `serve --retry-delay-scale`: every retry delay multiplied, for tests and local development,
/// those of YAML workflows' steps as well as those of queued messages.
@Suite("Retry delays scaled for tests and local development")
struct RetryDelayScaleTests {
    @Test("at scale 0.01 an http step's default backoff (QStash's 12 s + 148 s) and a call step's own policy (a minute a try) take a fraction of a second", arguments: StoreKind.testable)
    func yamlStepRetriesAreScaled(kind: StoreKind) async throws {
        try await CountingServer.with { target in
            target.fallback("/down", .status(503))
            target.script("/flaky", .status(503), .status(503), .json(#"{"ok": true}"#))
            let flaky = try definition("""
                workflow: flaky
                retries: 2
                steps:
                  - id: fetch
                    http: {url: "\(target.url("/down"))"}
                """)
            let caller = try definition("""
                workflow: caller
                steps:
                  - id: ask
                    retry: {attempts: 3, backoff: constant, initial: 60s}
                    call: {url: "\(target.url("/flaky"))", expect: {status: [200]}}
                output: ${{ steps.ask.body.ok }}
                """)
            try await RunningServer.with([flaky, caller], store: kind, configuration: WorkflowEngine.Configuration(retryDelayScale: 0.01)) { server in
                let failing = try await server.startRun("flaky", "{}")
                let calling = try await server.startRun("caller", "{}")
                // Unscaled, the first retries alone would come 12 s and 60 s later.
                let failed = try await finishedRun(failing, in: server.store, within: .seconds(10))
                #expect(failed.status == .failed && failed.error?.status == 503, "\(String(describing: failed.error))")
                #expect(target.requests(to: "/down").count == 3, "the first try and two retries")
                let called = try await finishedRun(calling, in: server.store, within: .seconds(10))
                #expect(called.status == .succeeded && called.output == true, "\(String(describing: called.error))")
                #expect(target.requests(to: "/flaky").count == 3)
            }
        }
    }
}
