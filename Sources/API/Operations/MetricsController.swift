import Hummingbird
import NIOCore
import Persistence
import Prometheus

/// `GET /metrics` in Prometheus' text format: what swift-metrics recorded (HTTP requests by route
/// and status, durations) plus the fleet's state, read from the database at scrape time so every
/// replica reports the same figures.
struct MetricsController<Context: RequestContext> {
    let database: Database
    let registry: PrometheusCollectorRegistry

    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("metrics") { _, _ in try await scrape() }
        return routes
    }

    /// `berth_<name>_<unit>{label="value"}`.
    func gauge(_ name: String, _ unit: String, _ help: String, _ label: (String, String)) -> Gauge {
        registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "berth", metricName: name, unitName: unit, helpText: help), labels: [label])
    }

    func scrape() async throws -> Response {
        let cluster = try await database.withSystem { try await FleetQueries().cluster(in: $0) }
        for (status, count) in cluster.servers_by_status {
            gauge("servers", "count", "Workspace servers by health", ("status", status)).set(Int64(count))
        }
        for (state, count) in cluster.servers_by_schedulable {
            gauge("servers_schedulable", "count", "Workspace servers by schedulable state", ("state", state)).set(Int64(count))
        }
        for (status, count) in cluster.workspaces_by_status {
            gauge("workspaces", "count", "Live workspaces by status", ("status", status)).set(Int64(count))
        }
        let resources: [(String, Double, Double)] = [
            ("cpu", cluster.total.cpu, cluster.reserved.cpu),
            ("memory_mb", Double(cluster.total.memory_mb), Double(cluster.reserved.memory_mb)),
            ("disk_gb", Double(cluster.total.disk_gb), Double(cluster.reserved.disk_gb)),
            ("workspaces", Double(cluster.total.workspaces), Double(cluster.reserved.workspaces)),
        ]
        for (resource, total, reserved) in resources {
            gauge("capacity", "total", "Capacity of the live servers", ("resource", resource)).set(total)
            gauge("capacity", "reserved", "Capacity reserved by workspaces", ("resource", resource)).set(reserved)
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
    }
}
