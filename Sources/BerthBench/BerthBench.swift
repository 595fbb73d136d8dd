import Billing
import Compute
import Domain
import Foundation
import Logging
import Persistence

/// `berth-bench`: the parts of `make bench` that need Berth's own code (scripts/bench.sh runs the
/// rest with wrk, pgbench, psql and curl). Each prints one JSON object.
///
///   placement-decision SERVERS ITERATIONS         in-memory decisions with constraints: p50/p99 (µs)
///   placements URL SERVERS PLACERS SECONDS       committed placements/s against PostgreSQL, overcommit checked
///   create-overhead URL KEY ENGINE N             POST /v1/workspaces?wait=running against raw create+start
///   export-sql TENANT FROM TO                    the export's SQL with its values inlined (for psql \copy)
@main
struct BerthBench {
    static func main() async throws {
        let arguments = Array(CommandLine.arguments.dropFirst())
        LoggingSystem.bootstrap { label in var handler = StreamLogHandler.standardError(label: label); handler.logLevel = .error; return handler }
        switch arguments.first {
        case "placement-decision": try placementDecision(servers: Int(arguments[1])!, iterations: Int(arguments[2])!)
        case "placements": try await placements(url: arguments[1], servers: Int(arguments[2])!, placers: Int(arguments[3])!, seconds: Double(arguments[4])!)
        case "create-overhead": try await createOverhead(url: arguments[1], key: arguments[2], engine: arguments[3], count: Int(arguments[4])!)
        case "export-sql": try exportSQL(tenant: arguments[1], from: arguments[2], to: arguments[3])
        default:
            FileHandle.standardError.write(Data("usage: berth-bench placement-decision|placements|create-overhead|export-sql …\n".utf8))
            exit(2)
        }
    }

    static func emit(_ object: [String: Any]) {
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }

    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
    }

    /// A fleet of `count` servers with labels and varied load.
    static func fleet(_ count: Int) -> [WorkspaceServer] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { index in
            let capacity = Capacity(cpuMillis: 16_000, memoryMB: 65_536, diskGB: 500, workspaces: 50)
            var server = WorkspaceServer(
                id: ServerID.random(), name: String(format: "ws-%05d", index), connection: .init(host: "10.0.0.\(index % 250)", dockerPort: 2375),
                capacity: capacity, labels: ["region": .string(["eu", "us", "ap"][index % 3]), "gpu": .bool(index % 7 == 0)]
            )
            server.status = index % 50 == 0 ? .unhealthy : .healthy
            server.reserved = Capacity(
                cpuMillis: Int.random(in: 0...15_000, using: &generator), memoryMB: Int.random(in: 0...60_000, using: &generator),
                diskGB: Int.random(in: 0...400, using: &generator), workspaces: Int.random(in: 0...45, using: &generator)
            )
            return server
        }
    }

    static func placementDecision(servers count: Int, iterations: Int) throws {
        let servers = fleet(count)
        let request = PlacementRequest(
            resources: Resources(cpuMillis: 2000, memoryMB: 4096, diskGB: 20), strategy: .spread,
            constraints: [.equals("region", .string("eu")), .notEquals("gpu", .bool(true))]
        )
        var timings: [Double] = []
        timings.reserveCapacity(iterations)
        var chosen = 0
        for _ in 0..<iterations {
            let start = ContinuousClock.now
            let plan = Placement.plan(request, servers: servers)
            timings.append((ContinuousClock.now - start).inSeconds * 1e6)
            chosen += plan.candidates.isEmpty ? 0 : 1
        }
        timings.sort()
        emit(["servers": count, "iterations": iterations, "p50_us": percentile(timings, 0.5), "p99_us": percentile(timings, 0.99), "placed": chosen])
    }

    /// `placers` tasks, each for its own tenant, reserving small workspaces on `servers` servers for
    /// `seconds`; then checks that no server holds more than its totals.
    static func placements(url: String, servers count: Int, placers: Int, seconds duration: Double) async throws {
        let db = Database(configuration: .init(connectionString: url, poolSize: 16, acquireTimeout: .seconds(120)), logger: Logger(label: "bench"))
        defer { db.shutdown() }
        let tenants = try await db.withSystem { scope in
            try await scope.execute("""
                INSERT INTO workspace_servers (name, host, docker_port, total_cpu, total_memory_mb, total_disk_gb, max_workspaces, status, last_healthy_at)
                SELECT 'bench-' || n, '10.1.' || (n / 250) || '.' || (n % 250), 2375, 64, 262144, 10000, 100000, 'healthy', now()
                FROM generate_series(1, \(count)) n
                """)
            var ids: [TenantID] = []
            for index in 0..<placers {
                ids.append(try await TenantStore().create(name: "bench-\(index)", quota: Quota(maxWorkspaces: 1_000_000, maxCPUMillis: 1_000_000_000, maxMemoryMB: 1_000_000_000, maxDiskGB: 1_000_000_000), in: scope).id)
            }
            return ids
        }
        let placement = PlacementService(database: db, logger: Logger(label: "bench"))
        let deadline = ContinuousClock.now + .milliseconds(Int(duration * 1000))
        let started = ContinuousClock.now
        let committed = try await withThrowingTaskGroup(of: Int.self) { group in
            for tenant in tenants {
                group.addTask {
                    var done = 0
                    let resources = Resources(cpuMillis: 10, memoryMB: 16, diskGB: 0)
                    while ContinuousClock.now < deadline {
                        _ = try await placement.reserve(WorkspaceDraft(tenantID: tenant, name: "w\(done)", image: "x", resources: resources, placement: PlacementRequest(resources: resources)))
                        done += 1
                    }
                    return done
                }
            }
            return try await group.reduce(0, +)
        }
        let elapsed = (ContinuousClock.now - started).inSeconds
        let overcommitted = try await db.withSystem { scope in
            try await scope.first("""
                SELECT count(*) AS n FROM workspace_servers s WHERE s.current_cpu_used > s.total_cpu OR s.current_memory_used_mb > s.total_memory_mb
                    OR s.current_workspaces > s.max_workspaces
                    OR (s.current_cpu_used * 1000)::bigint <> (SELECT coalesce(sum(held_cpu) * 1000, 0)::bigint FROM workspaces w WHERE w.server_id = s.id)
                """)!.decode("n", as: Int.self)
        }
        emit(["servers": count, "placers": placers, "committed": committed, "seconds": elapsed, "per_second": Double(committed) / elapsed, "overcommitted_servers": overcommitted])
    }

    /// `count` creates through the API (answered once running), each against a raw Docker create
    /// and start of the same image on the same engine.
    static func createOverhead(url: String, key: String, engine: String, count: Int) async throws {
        let parts = engine.split(separator: ":")
        let docker = DockerClient(endpoint: .http(host: String(parts[0]), port: Int(parts[1])!))
        var berth: [Double] = [], raw: [Double] = []
        for index in 0..<(count + 2) {
            // Berth: placement, create, start, recorded; answered once running.
            let start = ContinuousClock.now
            let response = try await CurlEngine.shared.perform(CurlRequest(
                method: .post, url: url + "/v1/workspaces?wait=running", headers: [("Authorization", "Bearer \(key)"), ("Content-Type", "application/json")],
                body: Data(#"{"name":"bench-\#(index)","image":"berth-busybox:latest","resources":{"cpu":0.1,"memory_mb":32,"disk_gb":0}}"#.utf8), timeout: .seconds(120)
            ))
            let took = (ContinuousClock.now - start).inSeconds * 1000
            guard response.status == 201, let id = (try? JSONSerialization.jsonObject(with: response.body) as? [String: Any])?["id"] as? String else {
                throw BenchFailure(description: "create answered \(response.status): \(String(decoding: response.body, as: UTF8.self))")
            }
            // The baseline: the same image created and started straight through the engine's API.
            let rawStart = ContinuousClock.now
            let container = try await docker.createContainer(ContainerSpec(
                name: "bench-raw-\(UUID().uuidString.prefix(8))", image: "berth-busybox:latest", command: ["sleep", "infinity"],
                environment: [:], labels: ["berth.bench": "1"], resources: ContainerResources(cpuMillis: 100, memoryMB: 32), networkMode: "none",
                hardening: .workspace
            ))
            try await docker.startContainer(container)
            let rawTook = (ContinuousClock.now - rawStart).inSeconds * 1000
            try await docker.removeContainer(container)
            _ = try await CurlEngine.shared.perform(CurlRequest(method: .delete, url: url + "/v1/workspaces/\(id)", headers: [("Authorization", "Bearer \(key)")], timeout: .seconds(120)))
            // The first two warm both paths up.
            if index >= 2 {
                berth.append(took)
                raw.append(rawTook)
            }
        }
        berth.sort()
        raw.sort()
        emit([
            "count": count, "berth_p50_ms": percentile(berth, 0.5), "berth_p99_ms": percentile(berth, 0.99),
            "raw_p50_ms": percentile(raw, 0.5), "raw_p99_ms": percentile(raw, 0.99),
            "added_p50_ms": percentile(berth, 0.5) - percentile(raw, 0.5), "added_p99_ms": percentile(berth, 0.99) - percentile(raw, 0.99),
        ])
    }

    /// The export's query with its values written in, for `psql -c "COPY (…) TO STDOUT"`. Its lines
    /// are kept: the query has `--` comments, which would otherwise swallow the rest.
    static func exportSQL(tenant: String, from: String, to: String) throws {
        guard let id = TenantID(tenant), let start = RFC3339.parse(from[...]), let end = RFC3339.parse(to[...]) else {
            throw BenchFailure(description: "export-sql TENANT FROM TO")
        }
        let query = UsageReports.exportQuery(tenant: id, period: try UsagePeriod(from: start, to: end))
        var sql = query.sql
        // $10 before $1: replace the highest numbers first.
        for (index, value) in query.binds.enumerated().reversed() {
            let literal = value.map { "'" + $0.replacingOccurrences(of: "'", with: "''") + "'" } ?? "NULL"
            sql = sql.replacingOccurrences(of: "$\(index + 1)", with: literal)
        }
        print(sql)
    }

    struct BenchFailure: Error, CustomStringConvertible {
        let description: String
    }
}
