import BerthTestSupport
import Compute
import Domain
import Foundation
import Persistence

/// What "the database and the engines agree" means, checked from outside the service: the oracle
/// of the fault suite.
enum Convergence {
    struct Row: Sendable {
        let id: WorkspaceID
        let name: String
        let status: String
        let error: String?
        let serverID: ServerID?
        let containerID: String?
        let settled: Bool
        let holdsCompute: Bool
    }

    static func rows(_ db: Database) async throws -> [Row] {
        try await db.withSystem { scope in
            try await scope.execute("""
                SELECT id, name, status, error, server_id, container_id, observed_generation >= generation AS settled, holds_compute
                FROM workspaces ORDER BY created_at
                """).map { row in
                Row(
                    id: try row.decode("id"), name: try row.decode("name"), status: try row.decode("status"), error: try row.decode("error"),
                    serverID: try row.decode("server_id"), containerID: try row.decode("container_id"),
                    settled: try row.decode("settled"), holdsCompute: try row.decode("holds_compute")
                )
            }
        }
    }

    /// Every way the database and the engines disagree now; empty when they agree:
    /// - every live workspace is settled, and `running`, `stopped` or `error`;
    /// - a workspace's container runs exactly when its row says `running`, and it holds CPU and
    ///   memory exactly then;
    /// - every container of this deployment on every answering engine is claimed by a live row;
    /// - every server's reservations are the sums of what its workspaces hold;
    /// - no usage interval is open for a workspace that is not running, and none overlap.
    static func violations(_ db: Database) async throws -> [String] {
        var found: [String] = []
        let rows = try await rows(db)
        let (servers, deployment, sums) = try await db.withSystem { scope in
            let servers = try await scope.execute("""
                SELECT id, name, host, docker_port, status, (current_cpu_used * 1000)::bigint AS cpu, current_memory_used_mb AS memory,
                       current_disk_used_gb AS disk, current_workspaces AS slots
                FROM workspace_servers WHERE removed_at IS NULL
                """).map { row in
                (id: try row.decode("id", as: ServerID.self), name: try row.decode("name", as: String.self), host: try row.decode("host", as: String.self),
                 port: try row.decode("docker_port", as: Int.self), healthy: try row.decode("status", as: String.self) == "healthy",
                 reserved: [try row.decode("cpu", as: Int.self), try row.decode("memory", as: Int.self), try row.decode("disk", as: Int.self), try row.decode("slots", as: Int.self)])
            }
            let deployment = try await scope.first("SELECT id::text AS id FROM deployment")!.decode("id", as: String.self)
            // What workspaces hold on their own server, and what a pending move holds on its target.
            let sums = try await scope.execute("""
                SELECT server_id, coalesce(sum(cpu) * 1000, 0)::bigint AS cpu, coalesce(sum(memory), 0)::bigint AS memory,
                       coalesce(sum(disk), 0)::bigint AS disk, coalesce(sum(slots), 0)::bigint AS slots
                FROM (SELECT server_id, held_cpu AS cpu, held_memory_mb AS memory, CASE WHEN holds_slot THEN disk_gb ELSE 0 END AS disk,
                             CASE WHEN holds_slot THEN 1 ELSE 0 END AS slots FROM workspaces WHERE server_id IS NOT NULL
                      UNION ALL
                      SELECT move_to_server_id, move_held_cpu, move_held_memory_mb, CASE WHEN move_holds_slot THEN disk_gb ELSE 0 END,
                             CASE WHEN move_holds_slot THEN 1 ELSE 0 END FROM workspaces WHERE move_to_server_id IS NOT NULL) holds
                GROUP BY server_id
                """).map { row in
                (try row.decode("server_id", as: ServerID.self),
                 [try row.decode("cpu", as: Int.self), try row.decode("memory", as: Int.self), try row.decode("disk", as: Int.self), try row.decode("slots", as: Int.self)])
            }
            return (servers, deployment, Dictionary(sums, uniquingKeysWith: { first, _ in first }))
        }
        for server in servers where server.reserved != (sums[server.id] ?? [0, 0, 0, 0]) {
            found.append("\(server.name) reserves \(server.reserved) but its workspaces hold \(sums[server.id] ?? [0, 0, 0, 0])")
        }
        for server in servers where server.healthy {
            let engine = DockerClient(endpoint: .http(host: server.host, port: server.port))
            let containers: [ContainerSummary]
            do {
                containers = try await engine.listContainers(labels: ["berth.deployment=\(deployment)"])
            } catch {
                found.append("\(server.name) is healthy but its engine did not list containers: \(error)")
                continue
            }
            let byID = Dictionary(containers.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            let live = rows.filter { $0.serverID == server.id && $0.status != "deleted" }
            for row in live {
                if !row.settled { found.append("\(row.name) has an intent not applied (\(row.status))") }
                if !["running", "stopped", "error"].contains(row.status) { found.append("\(row.name) is still \(row.status)") }
                let runs = row.containerID.flatMap { byID[$0] }?.state == "running"
                if runs != (row.status == "running") { found.append("\(row.name) is \(row.status) but its container \(runs ? "runs" : "does not run")") }
                if row.holdsCompute != (row.status == "running") { found.append("\(row.name) is \(row.status) and holds compute: \(row.holdsCompute)") }
            }
            let claimed = Set(live.compactMap(\.containerID))
            for container in containers where !claimed.contains(container.id) {
                found.append("container \(container.names.first ?? container.id) on \(server.name) (\(container.state)) is claimed by no live workspace")
            }
        }
        let intervals = try await db.withSystem { scope in
            try await scope.first("""
                SELECT (SELECT count(*) FROM usage_intervals i JOIN workspaces w ON w.id = i.workspace_id
                          WHERE i.ended_at IS NULL AND w.status <> 'running') AS open_not_running,
                       (SELECT count(*) FROM usage_intervals a JOIN usage_intervals b ON a.workspace_id = b.workspace_id AND a.id < b.id
                          AND a.started_at < coalesce(b.ended_at, 'infinity') AND b.started_at < coalesce(a.ended_at, 'infinity')) AS overlapping
                """)!
        }
        let open = try intervals.decode("open_not_running", as: Int.self), overlapping = try intervals.decode("overlapping", as: Int.self)
        if open > 0 { found.append("\(open) usage intervals are open for workspaces that are not running") }
        if overlapping > 0 { found.append("\(overlapping) pairs of usage intervals overlap") }
        return found
    }

    /// Polls until the engines and the database agree, or `limit` passes; the last disagreements and how long it took.
    static func wait(_ db: Database, within limit: Duration) async throws -> (violations: [String], took: Duration) {
        let start = ContinuousClock.now
        var last: [String] = []
        while ContinuousClock.now - start < limit {
            last = (try? await violations(db)) ?? ["the database did not answer"]
            if last.isEmpty { return ([], ContinuousClock.now - start) }
            try await Task.sleep(for: .milliseconds(500))
        }
        return (last, ContinuousClock.now - start)
    }

    static func waitForHealthy(_ db: Database, servers: Int, within limit: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            let healthy = try await db.withSystem { try await $0.first("SELECT count(*) AS n FROM workspace_servers WHERE status = 'healthy'")!.decode("n", as: Int.self) }
            if healthy >= servers { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestEnvironment.Missing(description: "\(servers) servers did not become healthy within \(limit)")
    }

    /// Removes every container of the database's deployment from every registered engine.
    static func removeContainers(_ db: Database) async {
        guard let (deployment, engines) = try? await db.withSystem({ scope in
            (try await scope.first("SELECT id::text AS id FROM deployment")!.decode("id", as: String.self),
             try await scope.execute("SELECT host, docker_port FROM workspace_servers").map {
                 DockerClient(endpoint: .http(host: try $0.decode("host", as: String.self), port: try $0.decode("docker_port", as: Int.self)))
             })
        }) else { return }
        for engine in engines {
            for container in (try? await engine.listContainers(labels: ["berth.deployment=\(deployment)"])) ?? [] {
                try? await engine.removeContainer(container.id)
            }
        }
    }
}
