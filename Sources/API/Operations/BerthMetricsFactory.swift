import Foundation
import Metrics
import Prometheus

/// The swift-metrics factory `berth serve` bootstraps: swift-prometheus's collectors, with every
/// family named the Prometheus way (`berth_…`, `_total` on counters, a unit on durations) and given
/// help text, so `promtool check metrics` finds nothing to say. Hummingbird's own HTTP metrics are
/// renamed here; Berth's are created under their final names.
public struct BerthMetricsFactory: CoreMetrics.MetricsFactory {
    public let registry: PrometheusCollectorRegistry

    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    /// Hummingbird's names and labels, and what they become.
    static let renamed: [String: String] = [
        "hb.requests": "berth_http_requests_total",
        "hb.request.errors": "berth_http_request_errors_total",
        "http.server.request.duration": "berth_http_request_duration_seconds",
        "http.server.active_requests": "berth_http_active_requests",
    ]
    static let renamedLabels: [String: String] = [
        "http.route": "route", "http.request.method": "method", "http.response.status_code": "status", "error.type": "status",
    ]

    /// The help text of each family.
    static let help: [String: String] = [
        "berth_http_requests_total": "HTTP requests answered, by route template, method and status",
        "berth_http_request_errors_total": "HTTP requests that ended in an error, by route template, method and status",
        "berth_http_request_duration_seconds": "Time taken to answer HTTP requests, by route template, method and status",
        "berth_http_active_requests": "HTTP requests being answered now, by method",
        "berth_placements_total": "Placement decisions, by outcome and strategy",
        "berth_placement_duration_seconds": "Time taken to place a workspace (quota, choice and reservation), by strategy",
        "berth_docker_requests_total": "Docker Engine API calls, by server, operation and outcome",
        "berth_docker_request_duration_seconds": "Time taken by Docker Engine API calls, by server and operation",
        "berth_db_pool_wait_seconds": "Time spent waiting for a database connection from the pool",
        "berth_reconciler_passes_total": "Reconciler passes run by this replica",
        "berth_reconciler_corrections_total": "What the reconciler's passes did, by kind",
    ]

    static let durationBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
    ]

    /// The final name, labels and help of a metric swift-metrics asks for.
    static func sanitized(_ label: String, _ dimensions: [(String, String)]) -> (name: String, labels: [(String, String)], help: String) {
        let name = renamed[label] ?? label.replacingOccurrences(of: ".", with: "_")
        let labels = dimensions.map { (renamedLabels[$0.0] ?? $0.0.replacingOccurrences(of: ".", with: "_"), $0.1) }
        return (name, labels, help[name] ?? "Berth metric \(name)")
    }

    static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        let (name, labels, help) = Self.sanitized(label, dimensions)
        return registry.makeCounter(descriptor: Self.descriptor(name, help), labels: labels)
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        let (name, labels, help) = Self.sanitized(label, dimensions)
        return registry.makeCounter(descriptor: Self.descriptor(name, help), labels: labels)
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        let (name, labels, help) = Self.sanitized(label, dimensions)
        guard aggregate else { return registry.makeGauge(descriptor: Self.descriptor(name, help), labels: labels) }
        return registry.makeValueHistogram(descriptor: Self.descriptor(name, help), labels: labels, buckets: [0.001, 0.01, 0.1, 1, 10, 100, 1000])
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        let (name, labels, help) = Self.sanitized(label, dimensions)
        return registry.makeGauge(descriptor: Self.descriptor(name, help), labels: labels)
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        let (name, labels, help) = Self.sanitized(label, dimensions)
        return registry.makeDurationHistogram(descriptor: Self.descriptor(name, help), labels: labels, buckets: Self.durationBuckets)
    }

    public func destroyCounter(_ handler: any CounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    public func destroyRecorder(_ handler: any RecorderHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
        if let histogram = handler as? Histogram<Double> { registry.unregisterValueHistogram(histogram) }
    }

    public func destroyMeter(_ handler: any MeterHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
    }

    public func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? Histogram<Duration> { registry.unregisterDurationHistogram(histogram) }
    }
}
