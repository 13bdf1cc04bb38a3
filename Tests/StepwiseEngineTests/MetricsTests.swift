import Foundation
import StepwiseEngine
import StepwiseExpressions
@testable import StepwiseServer
import StepwiseTesting
import Testing

/// `GET /metrics` in Prometheus' text format: runs by workflow and status, deliveries by outcome
/// with their durations and lag, store commits, messages, in-flight deliveries and HTTP requests
/// by route and status; behind the token like every route.
@Suite("Metrics")
struct MetricsTests {
    /// The value of the sample `name{labels}` in `text`, if present.
    private func sample(_ text: String, _ series: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    @Test("every metric has a # HELP line before its # TYPE; a workflow whose runs were all deleted loses its series", arguments: StoreKind.testable)
    func helpAndDeletedWorkflows(kind: StoreKind) async throws {
        try await RunningServer.with([try definition(SmallWorkflows.napper)], store: kind) { server in
            _ = try await finishedRun(try await server.startRun("napper", "{}"), in: server.store)
            let text = try await send(.GET, server.url("/metrics")).body
            let lines = text.split(separator: "\n").map(String.init)
            let typed = lines.filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] }
            #expect(Set(typed).isSuperset(of: ["stepwise_runs", "stepwise_deliveries_total", "stepwise_delivery_lag_seconds", "stepwise_http_requests_total"]))
            for name in typed {
                let help = lines.first { $0.hasPrefix("# HELP \(name) ") }
                #expect(help.map { $0.count > "# HELP \(name) ".count + 10 } == true, "\(name) has no help text")
            }
            #expect(sample(text, #"stepwise_runs{workflow="napper",status="succeeded"}"#) == 1)

            #expect(try await server.store.expireEndedRuns(before: TimestampValue(clampingNanosecondsSinceEpoch: WorkflowEngine.systemTime().nanosecondsSinceEpoch + 60_000_000_000)) == 1)
            let after = try await send(.GET, server.url("/metrics")).body
            #expect(!after.contains(#"workflow="napper""#), "the series of a workflow without runs stay at their last counts")
        }
    }

    @Test("a scrape reports the runs, deliveries, commits, messages and requests the server handled", arguments: StoreKind.testable)
    func scrape(kind: StoreKind) async throws {
        let napper = try definition(SmallWorkflows.napper)
        let breaker = try definition("""
            workflow: breaker
            steps:
              - id: boom
                fail: {message: "broken"}
            """)
        try await RunningServer.with([napper, breaker], store: kind) { server in
            for _ in 0..<2 { _ = try await finishedRun(try await server.startRun("napper", "{}"), in: server.store) }
            _ = try await finishedRun(try await server.startRun("breaker", "{}"), in: server.store)
            #expect(try await send(.GET, server.url("/api/runs/nope")).status == 404)

            let answer = try await send(.GET, server.url("/metrics"))
            #expect(answer.status == 200)
            #expect(answer.contentType?.hasPrefix("text/plain") == true)
            let text = answer.body
            #expect(sample(text, #"stepwise_runs{workflow="napper",status="succeeded"}"#) == 2)
            #expect(sample(text, #"stepwise_runs{workflow="breaker",status="failed"}"#) == 1)
            #expect(sample(text, #"stepwise_runs{workflow="napper",status="running"}"#) == 0)
            #expect(sample(text, #"stepwise_dead_letters{source="workflow"}"#) == 1, "the failed run waits in the DLQ")
            #expect(sample(text, #"stepwise_dead_letters{source="message"}"#) == 0)
            #expect((sample(text, #"stepwise_deliveries_total{kind="run",outcome="completed"}"#) ?? 0) >= 2)
            #expect((sample(text, #"stepwise_deliveries_total{kind="timer",outcome="fired"}"#) ?? 0) >= 2)
            #expect((sample(text, #"stepwise_delivery_lag_seconds_count{kind="run"}"#) ?? 0) >= 5)
            #expect((sample(text, #"stepwise_delivery_duration_seconds_count{kind="run"}"#) ?? 0) >= 5)
            #expect((sample(text, #"stepwise_store_commit_seconds_count{operation="complete"}"#) ?? 0) >= 5)
            #expect(sample(text, #"stepwise_messages{state="due"}"#) != nil)
            #expect(sample(text, #"stepwise_deliveries_in_flight"#) != nil)
            #expect((sample(text, #"stepwise_http_requests_total{route="/workflows/{name}",method="POST",status="200"}"#) ?? 0) >= 3)
            #expect((sample(text, #"stepwise_http_requests_total{route="/api/runs/{id}",method="GET",status="404"}"#) ?? 0) >= 1)
            #expect(text.contains("# TYPE stepwise_delivery_lag_seconds histogram"))

            #expect(try await send(.GET, server.url("/no/such/path")).status == 404)
            let unknown = try await send(.GET, server.url("/metrics")).body
            #expect(sample(unknown, #"stepwise_http_requests_total{route="unmatched",method="GET",status="404"}"#) == 1,
                    "a path no route serves counts as unmatched, with the token as without")
            #expect(!unknown.contains("NotFound"))

            let refused = try await send(.GET, server.url("/metrics"), token: nil)
            #expect(refused.status == 401)
            let after = try await send(.GET, server.url("/metrics"))
            #expect((sample(after.body, #"stepwise_http_requests_total{route="/metrics",method="GET",status="401"}"#) ?? 0) >= 1,
                    "refused requests are counted too")
        }
    }

    @Test("a plain message given up counts as failed; SDK endpoints are one workflow label whatever their query")
    func failedMessagesAndEndpointLabels() async throws {
        try await CountingServer.with { target in
            target.fallback("/broken", .status(500))
            try await RunningServer.with([]) { server in
                for _ in 0..<2 {
                    let published = try await send(.POST, server.url("/v2/publish/" + target.url("/broken")), body: "{}", headers: [("Upstash-Retries", "0")])
                    #expect(published.status == 200)
                }
                _ = try await eventually("both messages in the DLQ") {
                    try await send(.GET, server.url("/v2/dlq")).json?["messages"]?.list?.count == 2 ? true : nil
                }
                let text = try await send(.GET, server.url("/metrics")).body
                #expect(sample(text, #"stepwise_deliveries_total{kind="plain",outcome="failed"}"#) == 2, "\(text)")
                #expect(sample(text, #"stepwise_deliveries_total{kind="plain",outcome="delivered"}"#) == nil)
            }
        }
        #expect(MetricsController.label(ofWorkflow: "http://127.0.0.1:9/api/order?tenant=7#x") == "http://127.0.0.1:9/api/order")
        #expect(MetricsController.label(ofWorkflow: "nightly-report") == "nightly-report")
    }

    @Test("requests with unusual methods count under method=\"other\", one series for all of them")
    func unusualMethods() async throws {
        try await RunningServer.with([]) { server in
            // Methods HTTP/1's parser knows (others never reach the server) that no route serves.
            for method in ["PROPFIND", "MKCOL", "LOCK"] {
                #expect(try await send(.RAW(value: method), server.url("/metrics"), token: nil).status == 401)
            }
            let text = try await send(.GET, server.url("/metrics")).body
            #expect(sample(text, #"stepwise_http_requests_total{route="unmatched",method="other",status="401"}"#) == 3)
            #expect(!text.contains("PROPFIND") && !text.contains("MKCOL") && !text.contains("LOCK"))
        }
    }
}
