import Compute
import Domain
import Hummingbird
import NIOCore
import Persistence
import Prometheus

/// `GET /metrics` in Prometheus' text format: what swift-metrics recorded (HTTP requests, placements,
/// Docker calls, pool waits, reconciler passes; see `BerthMetricsFactory`) plus the fleet's state,
/// read from the database at scrape time so every replica reports the same figures.
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
        let (cluster, servers, openIntervals) = try await database.withSystem { scope in
            (try await FleetQueries().cluster(in: scope), try await WorkspaceServerStore().list(in: scope),
             try await scope.first("SELECT count(*) AS n FROM usage_intervals WHERE ended_at IS NULL")!.decode("n", as: Int.self))
        }
        // The capacity signals from the same read of the servers.
        let plan = CapacityPlan.plan(servers: servers, headroom: headroom)
        for (status, count) in cluster.servers_by_status {
            gauge("servers", "", "Workspace servers by health", ("status", status)).set(Int64(count))
        }
        for (state, count) in cluster.servers_by_schedulable {
            gauge("servers_schedulable", "", "Workspace servers by schedulable state", ("state", state)).set(Int64(count))
        }
        for (status, count) in cluster.workspaces_by_status {
            gauge("workspaces", "", "Live workspaces by status", ("status", status)).set(Int64(count))
        }
        gauge("usage_intervals_open", "", "Usage intervals still metering (their workspace runs)", []).set(Int64(openIntervals))
        // Each server: its health, and its capacity as set, reserved and (at the last health check) observed.
        for server in servers {
            let name = server.name
            gauge("server_healthy", "", "1 when the server answered its last health checks", ("server", name)).set(Int64(server.status == .healthy ? 1 : 0))
            func capacity(_ metric: String, _ unit: String, _ help: String, _ figures: [(String, Double)]) {
                for (kind, value) in figures { gauge(metric, unit, help, [("server", name), ("kind", kind)]).set(value) }
            }
            capacity("server_cpu", "cores", "CPU of a server: total, reserved by workspaces, used by Berth's running containers", [
                ("total", Double(server.capacity.cpuMillis) / 1000), ("reserved", Double(server.reserved.cpuMillis) / 1000),
            ] + (server.observed?.workspaceCPUCores).map { [("observed", $0)] }.orEmpty)
            capacity("server_memory", "bytes", "Memory of a server: total, reserved by workspaces, used by Berth's running containers", [
                ("total", Double(server.capacity.memoryMB) * 1_048_576), ("reserved", Double(server.reserved.memoryMB) * 1_048_576),
            ] + (server.observed?.workspaceMemoryMB).map { [("observed", Double($0) * 1_048_576)] }.orEmpty)
            capacity("server_disk", "bytes", "Disk of a server: total and reserved by workspaces", [
                ("total", Double(server.capacity.diskGB) * 1_073_741_824), ("reserved", Double(server.reserved.diskGB) * 1_073_741_824),
            ])
            capacity("server_workspaces", "", "Workspace slots of a server: total, reserved, and containers running", [
                ("total", Double(server.capacity.workspaces)), ("reserved", Double(server.reserved.workspaces)),
            ] + (server.observed?.containersRunning).map { [("observed", Double($0))] }.orEmpty)
        }
        let pool = database.poolStatistics
        for (state, count) in [("open", pool.total), ("idle", pool.idle), ("in_use", pool.total - pool.idle)] {
            gauge("db_pool_connections", "", "Database connections of this replica's pool", ("state", state)).set(Int64(count))
        }
        gauge("db_pool_waiting", "", "Callers waiting for a database connection", []).set(Int64(pool.waiting))
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
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
    }
}

extension Optional where Wrapped: RangeReplaceableCollection {
    /// The collection, or an empty one.
    var orEmpty: Wrapped { self ?? Wrapped() }
}
