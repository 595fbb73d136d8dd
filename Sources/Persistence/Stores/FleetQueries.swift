import Domain
import Foundation

/// Read-only, cross-tenant views of the fleet for admins: the cluster roll-up and workspaces anywhere.
public struct FleetQueries: Sendable {
    public init() {}

    /// A workspace as the admin sees it: the tenant view plus whose it is.
    public struct WorkspaceLine: Sendable, Codable, Equatable {
        public let id: WorkspaceID
        public let tenant: TenantRef
        public let name: String
        public let status: String
        public let server: WorkspaceStore.View.ServerRef?
        public let container_id: String?
        public let image: String
        public let resources: WorkspaceStore.View.ResourcesView
        public let labels: [String: String]
        public let created_at: Date
        public let error: String?
        public let error_code: String?
        /// What Docker or the engine said, which may name the engine: for admins, never for tenants.
        public let error_detail: String?
        public let repository: WorkspaceStore.RepositoryView?
        /// When it stops if idle (running, with an idle period), and at the end of its lifetime.
        public let idle_stop_at: Date?
        public let expires_at: Date?
        /// The server a move is taking it to, and why the last move failed.
        public let moving_to: String?
        public let move_error: String?

        public struct TenantRef: Sendable, Codable, Equatable { public let id: TenantID; public let name: String }
    }

    /// Live workspaces (not deleted), newest first, filtered; keyset after `(created_at, id)`.
    public func workspaces(
        server: ServerID?, tenant: TenantID?, status: WorkspaceStatus?, after cursor: (Date, WorkspaceID)?, limit: Int, in scope: SystemScope
    ) async throws -> [WorkspaceLine] {
        try await scope.execute("""
            SELECT w.id, w.tenant_id, t.name AS tenant_name, w.name, w.status, w.server_id, s.name AS server_name, w.container_id,
                   w.image, w.cpu::float8 AS cpu, w.memory_mb, w.disk_gb, w.labels, w.created_at, w.error, w.error_code, w.error_detail,
                   w.repository_url, w.repository_branch, w.repository_commit, w.repository_path, w.git_status, w.git_error, w.git_error_code,
                   \(unsafeRaw: WorkspaceStore.idleColumns), m.name AS moving_to, w.move_error
            FROM workspaces w JOIN tenants t ON t.id = w.tenant_id LEFT JOIN workspace_servers s ON s.id = w.server_id
            LEFT JOIN workspace_servers m ON m.id = w.move_to_server_id
            WHERE w.status <> 'deleted'
              AND (\(server)::uuid IS NULL OR w.server_id = \(server))
              AND (\(tenant)::uuid IS NULL OR w.tenant_id = \(tenant))
              AND (\(status?.rawValue)::text IS NULL OR w.status = \(status?.rawValue))
              AND (\(cursor?.0)::timestamptz IS NULL OR (w.created_at, w.id) < (\(cursor?.0)::timestamptz, \(cursor?.1)::uuid))
            ORDER BY w.created_at DESC, w.id DESC
            LIMIT \(limit)
            """).map { row in
            let serverID = try row.decode("server_id", as: ServerID?.self)
            return WorkspaceLine(
                id: try row.decode("id"), tenant: .init(id: try row.decode("tenant_id"), name: try row.decode("tenant_name")),
                name: try row.decode("name"), status: try row.decode("status"),
                server: try serverID.map { .init(id: $0, name: try row.decode("server_name", as: String?.self) ?? "") },
                container_id: try row.decode("container_id"), image: try row.decode("image"),
                resources: .init(cpu: try row.decode("cpu"), memory_mb: try row.decode("memory_mb"), disk_gb: try row.decode("disk_gb")),
                labels: try row.decode("labels", as: PostgresJSON<[String: String]>.self).value,
                created_at: try row.decode("created_at"), error: try row.decode("error"),
                error_code: try row.decode("error_code"), error_detail: try row.decode("error_detail"),
                repository: try WorkspaceStore.RepositoryView.decode(row),
                idle_stop_at: try row.decode("idle_stop_at"), expires_at: try row.decode("expires_at"),
                moving_to: try row.decode("moving_to"), move_error: try row.decode("move_error")
            )
        }
    }

    /// The cluster roll-up: totals, reservations and observed usage over the live servers, and counts by status.
    public struct Cluster: Sendable, Codable, Equatable {
        public struct Figures: Sendable, Codable, Equatable {
            public var cpu: Double
            public var memory_mb: Int
            public var disk_gb: Int
            public var workspaces: Int
        }
        public struct Observed: Sendable, Codable, Equatable {
            public var ncpu: Int
            public var memory_total_mb: Int
            public var containers: Int
            public var containers_running: Int
            /// What Berth's workspace containers used at the servers' last checks, summed.
            public var workspace_cpu_cores: Double
            public var workspace_memory_mb: Int
        }
        public var servers: Int
        public var total: Figures
        public var reserved: Figures
        /// Reserved share of the total per resource, 0 to 1.
        public var utilisation: [String: Double]
        public var observed: Observed
        /// Servers by health and by schedulable state.
        public var servers_by_status: [String: Int]
        public var servers_by_schedulable: [String: Int]
        /// Live workspaces by status.
        public var workspaces_by_status: [String: Int]
        /// The totals of only the servers placement may use now (healthy and active).
        public var schedulable_total: Figures
    }

    public func cluster(in scope: SystemScope) async throws -> Cluster {
        let row = try await scope.first("""
            SELECT count(*) AS servers,
                coalesce(sum(total_cpu), 0)::float8 AS total_cpu, coalesce(sum(total_memory_mb), 0)::bigint AS total_mem,
                coalesce(sum(total_disk_gb), 0)::bigint AS total_disk, coalesce(sum(max_workspaces), 0)::bigint AS total_n,
                coalesce(sum(current_cpu_used), 0)::float8 AS cpu, coalesce(sum(current_memory_used_mb), 0)::bigint AS mem,
                coalesce(sum(current_disk_used_gb), 0)::bigint AS disk, coalesce(sum(current_workspaces), 0)::bigint AS n,
                coalesce(sum(observed_ncpu), 0)::bigint AS o_cpu, coalesce(sum(observed_memory_total_mb), 0)::bigint AS o_mem,
                coalesce(sum(observed_containers), 0)::bigint AS o_c, coalesce(sum(observed_containers_running), 0)::bigint AS o_r,
                coalesce(sum(observed_cpu_cores), 0)::float8 AS o_cores, coalesce(sum(observed_memory_used_mb), 0)::bigint AS o_used,
                coalesce(sum(total_cpu) FILTER (WHERE status = 'healthy' AND schedulable = 'active'), 0)::float8 AS s_cpu,
                coalesce(sum(total_memory_mb) FILTER (WHERE status = 'healthy' AND schedulable = 'active'), 0)::bigint AS s_mem,
                coalesce(sum(total_disk_gb) FILTER (WHERE status = 'healthy' AND schedulable = 'active'), 0)::bigint AS s_disk,
                coalesce(sum(max_workspaces) FILTER (WHERE status = 'healthy' AND schedulable = 'active'), 0)::bigint AS s_n
            FROM workspace_servers WHERE removed_at IS NULL
            """)!
        func counts(_ sql: PostgresQuery) async throws -> [String: Int] {
            var result: [String: Int] = [:]
            for row in try await scope.execute(sql) { result[try row.decode("k")] = try row.decode("n", as: Int.self) }
            return result
        }
        let total = Cluster.Figures(cpu: try row.decode("total_cpu"), memory_mb: try row.decode("total_mem"), disk_gb: try row.decode("total_disk"), workspaces: try row.decode("total_n"))
        let reserved = Cluster.Figures(cpu: try row.decode("cpu"), memory_mb: try row.decode("mem"), disk_gb: try row.decode("disk"), workspaces: try row.decode("n"))
        func share(_ used: Double, _ of: Double) -> Double { of > 0 ? (used / of * 1000).rounded() / 1000 : 0 }
        var byStatus = try await counts("SELECT status AS k, count(*) AS n FROM workspace_servers WHERE removed_at IS NULL GROUP BY status")
        var bySchedulable = try await counts("SELECT schedulable AS k, count(*) AS n FROM workspace_servers WHERE removed_at IS NULL GROUP BY schedulable")
        var workspaces = try await counts("SELECT status AS k, count(*) AS n FROM workspaces WHERE status <> 'deleted' GROUP BY status")
        for key in ["healthy", "unhealthy", "offline"] { byStatus[key, default: 0] += 0 }
        for key in WorkspaceServer.Schedulable.allCases.map(\.rawValue) { bySchedulable[key, default: 0] += 0 }
        for key in WorkspaceStatus.allCases.map(\.rawValue) where key != "deleted" { workspaces[key, default: 0] += 0 }
        return Cluster(
            servers: try row.decode("servers"), total: total, reserved: reserved,
            utilisation: [
                "cpu": share(reserved.cpu, total.cpu), "memory": share(Double(reserved.memory_mb), Double(total.memory_mb)),
                "disk": share(Double(reserved.disk_gb), Double(total.disk_gb)), "workspaces": share(Double(reserved.workspaces), Double(total.workspaces)),
            ],
            observed: .init(ncpu: try row.decode("o_cpu"), memory_total_mb: try row.decode("o_mem"), containers: try row.decode("o_c"), containers_running: try row.decode("o_r"),
                            workspace_cpu_cores: try row.decode("o_cores"), workspace_memory_mb: try row.decode("o_used")),
            servers_by_status: byStatus, servers_by_schedulable: bySchedulable, workspaces_by_status: workspaces,
            schedulable_total: .init(cpu: try row.decode("s_cpu"), memory_mb: try row.decode("s_mem"), disk_gb: try row.decode("s_disk"), workspaces: try row.decode("s_n"))
        )
    }
}
