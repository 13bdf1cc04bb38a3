import Hummingbird
import Prometheus
import StepwiseEngine

/// `GET /metrics`: everything the server's registry holds (the engine's deliveries, commits and
/// in-flight count, the HTTP requests) in Prometheus' text format, with the store's counts read
/// at scrape time (runs by workflow and status, messages due, leased and due later, the
/// entries of both dead-letter queues).
struct MetricsController: Sendable {
    let engine: WorkflowEngine
    let registry: PrometheusCollectorRegistry
    let failures: FailureAnswer
    /// The workflows `stepwise_runs` has series for.
    private let reported = ReportedWorkflows()

    /// Adds the route to `router`.
    func addRoutes(to router: Router<StepwiseRequestContext>) {
        router.get("metrics") { _, _ in await scrape() }
    }

    static var runs: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "stepwise", metricName: "runs", unitName: "", helpText: "Runs in the store by workflow and status, at scrape time.")
    }

    static var messages: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "stepwise", metricName: "messages", unitName: "",
            helpText: "Messages due and free to claim, leased (being delivered), and due later, at scrape time.")
    }

    static var deadLetters: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "stepwise", metricName: "dead_letters", unitName: "",
            helpText: "Entries of the dead-letter queues at scrape time: failed runs (source workflow) and plain messages given up (source message).")
    }

    /// The `workflow` label of runs of `workflow`: an SDK run's endpoint URL without its query
    /// and fragment, so that `…/api/order?tenant=7` does not make a series per tenant.
    static func label(ofWorkflow workflow: String) -> String {
        guard workflow.contains("://"), let end = workflow.firstIndex(where: { $0 == "?" || $0 == "#" }) else { return workflow }
        return String(workflow[..<end])
    }

    private func runsGauge(_ workflow: String, _ status: RunStatus) -> Gauge {
        registry.makeGauge(descriptor: Self.runs, labels: [("workflow", workflow), ("status", status.rawValue)])
    }

    private func scrape() async -> Response {
        do {
            var counts: [String: [RunStatus: Int]] = [:]
            for count in try await engine.store.runCounts() {
                counts[Self.label(ofWorkflow: count.workflow), default: [:]][count.status, default: 0] += count.count
            }
            for (workflow, byStatus) in counts {
                for status in RunStatus.allCases {
                    runsGauge(workflow, status).set(Double(byStatus[status] ?? 0))
                }
            }
            // A workflow whose last run was deleted (retention, the DLQ) has no series, rather than its last counts.
            for workflow in reported.replace(with: Set(counts.keys)) {
                for status in RunStatus.allCases { registry.unregisterGauge(runsGauge(workflow, status)) }
            }
            let messages = try await engine.store.messageCounts(at: WorkflowEngine.systemTime())
            for (state, count) in [("due", messages.due), ("leased", messages.leased), ("later", messages.later)] {
                registry.makeGauge(descriptor: Self.messages, labels: [("state", state)]).set(Double(count))
            }
            let deadLetters = try await engine.store.deadLetterCounts()
            for (source, count) in [("workflow", deadLetters.runs), ("message", deadLetters.messages)] {
                registry.makeGauge(descriptor: Self.deadLetters, labels: [("source", source)]).set(Double(count))
            }
        } catch {
            return failures.answer("cannot read the store's counts for the metrics", error)
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
    }
}
