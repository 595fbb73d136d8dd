import Compute
import Domain
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
    /// The fraction of each resource the capacity signals keep free.
    var headroom: Double = 0.2

    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("metrics") { _, _ in try await scrape() }
        return routes
    }

    /// `berth_<name>_<unit>{label="value"}`.
    /// `unit` empty: a name without a unit suffix.
    func gauge(_ name: String, _ unit: String, _ help: String, _ labels: [(String, String)]) -> Gauge {
        registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "berth", metricName: name, unitName: unit, helpText: help), labels: labels)
    }

    func gauge(_ name: String, _ unit: String, _ help: String, _ label: (String, String)) -> Gauge {
        gauge(name, unit, help, [label])
    }

    func scrape() async throws -> Response {
        let (cluster, plan) = try await database.withSystem { scope in
            (try await FleetQueries().cluster(in: scope), try await CapacitySignals.plan(headroom: headroom, in: scope))
        }
        gauge("scaling_servers_needed", "", "Servers of the typical size needed to keep the configured headroom", []).set(Int64(plan.serversNeeded))
        gauge("scaling_servers_schedulable", "", "Healthy servers open to placement", []).set(Int64(plan.servers))
        for resource in CapacityPlan.resources {
            gauge("scaling_utilisation", "ratio", "Reserved over total on the schedulable servers", ("resource", resource)).set(plan.utilisation[resource] ?? 0)
            gauge("scaling_headroom", "ratio", "Free over total on the schedulable servers", ("resource", resource)).set(plan.headroom[resource] ?? 0)
        }
        for recommendation in [CapacityPlan.Recommendation.none, .scaleOut, .scaleIn] {
            gauge("scaling_recommendation", "", "1 for the recommendation in force", ("recommendation", recommendation.rawValue))
                .set(Int64(plan.recommendation == recommendation ? 1 : 0))
        }
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
