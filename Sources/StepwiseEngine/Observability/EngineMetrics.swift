import CoreMetrics
import Metrics
import StepwiseExpressions

/// The engine's measurements, made through swift-metrics handlers of one explicit factory (no
/// global bootstrap), so each engine reports to its own registry: deliveries by kind and outcome,
/// their duration and lag (due → started), store commits, deliveries in flight.
public struct EngineMetrics: Sendable {
    let factory: any MetricsFactory

    /// Measurements made by `factory`; by default nowhere.
    public init(factory: any MetricsFactory = NOOPMetricsHandler.instance) {
        self.factory = factory
    }

    /// One delivery ended: a run's (`kind` `run`), a timer's or call's, or a queued message's (its role).
    func delivery(kind: String, outcome: String, started: TimestampValue, finished: TimestampValue, due: TimestampValue?) {
        Counter(label: "stepwise_deliveries_total", dimensions: [("kind", kind), ("outcome", outcome)], factory: factory).increment()
        Timer(label: "stepwise_delivery_duration_seconds", dimensions: [("kind", kind)], factory: factory)
            .recordNanoseconds(Self.nanoseconds(from: started, to: finished))
        guard let due else { return }
        Timer(label: "stepwise_delivery_lag_seconds", dimensions: [("kind", kind)], factory: factory)
            .recordNanoseconds(Self.nanoseconds(from: due, to: started))
    }

    /// A store transaction that commits a delivery's outcome took `duration`.
    func storeCommit(_ operation: String, _ duration: Duration) {
        Timer(label: "stepwise_store_commit_seconds", dimensions: [("operation", operation)], factory: factory)
            .record(duration: duration)
    }

    /// Deliveries in flight now.
    func inFlight(_ count: Int) {
        Gauge(label: "stepwise_deliveries_in_flight", factory: factory).record(count)
    }

    private static func nanoseconds(from start: TimestampValue, to end: TimestampValue) -> Int64 {
        Int64(clamping: max(0, end.nanosecondsSinceEpoch - start.nanosecondsSinceEpoch))
    }
}
