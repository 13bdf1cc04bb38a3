import CoreMetrics
import Metrics
import StepwiseExpressions

/// The engine's measurements, made through swift-metrics handlers of one explicit factory (no
/// global bootstrap), so each engine reports to its own registry: deliveries by kind and outcome,
/// their duration and lag (due → started), store commits, deliveries in flight.
public struct EngineMetrics: Sendable {
    private let handles: MetricHandles
    private let gauge: Gauge

    static let deliveries = "stepwise_deliveries_total"
    static let deliveryDuration = "stepwise_delivery_duration_seconds"
    static let deliveryLag = "stepwise_delivery_lag_seconds"
    static let storeCommit = "stepwise_store_commit_seconds"
    static let inFlightDeliveries = "stepwise_deliveries_in_flight"

    /// What each of the engine's metrics measures, its `# HELP` where the factory takes one.
    public static let descriptions: [String: String] = [
        deliveries: "Deliveries that ended, by kind (run, timer, call, or a queued message's role) and outcome.",
        deliveryDuration: "How long a delivery took, from its claim to the commit of its outcome, by kind.",
        deliveryLag: "From a message's due time to the start of its delivery, by kind.",
        storeCommit: "The store transaction that commits a delivery's outcome, by operation.",
        inFlightDeliveries: "Deliveries in progress on this node.",
    ]

    /// Measurements made by `factory`; by default nowhere.
    public init(factory: any MetricsFactory = NOOPMetricsHandler.instance) {
        handles = MetricHandles(factory: factory)
        gauge = Gauge(label: Self.inFlightDeliveries, factory: factory)
    }

    /// One delivery ended: a run's (`kind` `run`), a timer's or call's, or a queued message's (its role).
    func delivery(kind: String, outcome: String, started: TimestampValue, finished: TimestampValue, due: TimestampValue?) {
        handles.counter(Self.deliveries, [("kind", kind), ("outcome", outcome)]).increment()
        handles.timer(Self.deliveryDuration, [("kind", kind)]).recordNanoseconds(Self.nanoseconds(from: started, to: finished))
        guard let due else { return }
        handles.timer(Self.deliveryLag, [("kind", kind)]).recordNanoseconds(Self.nanoseconds(from: due, to: started))
    }

    /// A store transaction that commits a delivery's outcome took `duration`.
    func storeCommit(_ operation: String, _ duration: Duration) {
        handles.timer(Self.storeCommit, [("operation", operation)]).record(duration: duration)
    }

    /// Deliveries in flight now.
    func inFlight(_ count: Int) {
        gauge.record(count)
    }

    private static func nanoseconds(from start: TimestampValue, to end: TimestampValue) -> Int64 {
        Int64(clamping: max(0, end.nanosecondsSinceEpoch - start.nanosecondsSinceEpoch))
    }
}
