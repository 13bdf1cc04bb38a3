import CoreMetrics
import Prometheus
import StepwiseEngine

/// Prometheus's swift-metrics factory with help text: each metric whose label `help` describes is
/// registered with it, so `/metrics` gives it a `# HELP` line (swift-metrics' own API has no place
/// for one). Every metric of a registry must be made through one such factory: the registry
/// refuses a second help text for a name.
public struct DescribedMetricsFactory: MetricsFactory {
    private let prometheus: PrometheusMetricsFactory
    private let help: [String: String]

    /// Metrics registered in `registry`, described by `help` (label → text): by default the
    /// engine's and the server's.
    public init(registry: PrometheusCollectorRegistry, help: [String: String] = Self.stepwise) {
        prometheus = PrometheusMetricsFactory(registry: registry)
        self.help = help
    }

    /// What every metric the engine and the server make through swift-metrics measures.
    public static let stepwise = EngineMetrics.descriptions.merging(RequestMetricsMiddleware<StepwiseRequestContext>.descriptions) { first, _ in first }

    private var registry: PrometheusCollectorRegistry { prometheus.registry }

    private func descriptor(_ label: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: label, unitName: "", helpText: help[label] ?? "")
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return registry.makeGauge(descriptor: descriptor(label), labels: dimensions) }
        let buckets = prometheus.valueHistogramBuckets[label] ?? prometheus.defaultValueHistogramBuckets
        return registry.makeValueHistogram(descriptor: descriptor(label), labels: dimensions, buckets: buckets)
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: descriptor(label), labels: dimensions)
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        let buckets = prometheus.durationHistogramBuckets[label] ?? prometheus.defaultDurationHistogramBuckets
        return registry.makeDurationHistogram(descriptor: descriptor(label), labels: dimensions, buckets: buckets)
    }

    public func destroyCounter(_ handler: any CounterHandler) { prometheus.destroyCounter(handler) }
    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) { prometheus.destroyFloatingPointCounter(handler) }
    public func destroyRecorder(_ handler: any RecorderHandler) { prometheus.destroyRecorder(handler) }
    public func destroyMeter(_ handler: any MeterHandler) { prometheus.destroyMeter(handler) }
    public func destroyTimer(_ handler: any TimerHandler) { prometheus.destroyTimer(handler) }
}
