import Domain
import Foundation

/// Reads and writes `workspace_servers`: registration, health and (later) reservations.
public struct WorkspaceServerStore: Sendable {
    public init() {}

    static let columns = """
        id, name, host, docker_port, tls_enabled, cert_path, socket_path, insecure, network_mode,
        (total_cpu * 1000)::bigint AS total_cpu_millis, total_memory_mb, total_disk_gb, max_workspaces,
        labels, status, schedulable, last_health_check, last_healthy_at, last_error, consecutive_failures,
        (current_cpu_used * 1000)::bigint AS cpu_used_millis, current_memory_used_mb, current_disk_used_gb, current_workspaces,
        observed_ncpu, observed_memory_total_mb, observed_containers, observed_containers_running, docker_version,
        observed_cpu_cores, observed_memory_used_mb, created_at, lost_at
        """

    /// What an admin or `BERTH_WORKSPACE_SERVERS` says about a server.
    public struct Registration: Sendable, Equatable {
        public var name: String
        public var connection: ServerConnection
        public var capacity: Capacity
        public var labels: [String: LabelValue]

        public init(name: String, connection: ServerConnection, capacity: Capacity, labels: [String: LabelValue] = [:]) {
            self.name = name
            self.connection = connection
            self.capacity = capacity
            self.labels = labels
        }
    }

    /// Inserts, or updates the live server of the same name (connection, capacity and labels only:
    /// health and reservations are left as they are).
    public func upsert(_ registration: Registration, in scope: SystemScope) async throws -> WorkspaceServer {
        try await write(registration, replacing: true, in: scope)
    }

    /// A new server; a live server of the same name surfaces as `unique_violation`.
    public func insert(_ registration: Registration, in scope: SystemScope) async throws -> WorkspaceServer {
        try await write(registration, replacing: false, in: scope)
    }

    private func write(_ registration: Registration, replacing: Bool, in scope: SystemScope) async throws -> WorkspaceServer {
        let c = registration.connection
        let onConflict = replacing ? """
            ON CONFLICT (name) WHERE removed_at IS NULL DO UPDATE SET
                host = excluded.host, docker_port = excluded.docker_port, tls_enabled = excluded.tls_enabled,
                cert_path = excluded.cert_path, socket_path = excluded.socket_path, insecure = excluded.insecure,
                network_mode = excluded.network_mode, total_cpu = excluded.total_cpu, total_memory_mb = excluded.total_memory_mb,
                total_disk_gb = excluded.total_disk_gb, max_workspaces = excluded.max_workspaces, labels = excluded.labels,
                updated_at = now()
            """ : ""
        let row = try await scope.first("""
            INSERT INTO workspace_servers (name, host, docker_port, tls_enabled, cert_path, socket_path, insecure, network_mode,
                total_cpu, total_memory_mb, total_disk_gb, max_workspaces, labels)
            VALUES (\(registration.name), \(c.host), \(c.dockerPort), \(c.tlsEnabled), \(c.certPath), \(c.socketPath), \(c.insecure),
                \(c.networkMode), \(registration.capacity.cpuMillis)::numeric / 1000, \(registration.capacity.memoryMB),
                \(registration.capacity.diskGB), \(registration.capacity.workspaces), \(PostgresJSON(registration.labels))::jsonb)
            \(unsafeRaw: onConflict)
            RETURNING \(unsafeRaw: Self.columns)
            """)
        guard let row else { throw PostgresError(code: .other, message: "insert returned no row") }
        return try Self.decode(row)
    }

    public func list(in scope: SystemScope) async throws -> [WorkspaceServer] {
        try await scope.execute("SELECT \(unsafeRaw: Self.columns) FROM workspace_servers WHERE removed_at IS NULL ORDER BY name").map(Self.decode)
    }

    public func get(_ id: ServerID, in scope: SystemScope) async throws -> WorkspaceServer? {
        try await scope.first("SELECT \(unsafeRaw: Self.columns) FROM workspace_servers WHERE id = \(id) AND removed_at IS NULL").map(Self.decode)
    }

    /// Sets capacity and labels. A capacity below what is reserved surfaces as `check_violation`.
    public func update(_ id: ServerID, capacity: Capacity, labels: [String: LabelValue], in scope: SystemScope) async throws -> WorkspaceServer? {
        try await scope.first("""
            UPDATE workspace_servers SET total_cpu = \(capacity.cpuMillis)::numeric / 1000, total_memory_mb = \(capacity.memoryMB),
                total_disk_gb = \(capacity.diskGB), max_workspaces = \(capacity.workspaces), labels = \(PostgresJSON(labels))::jsonb,
                updated_at = now()
            WHERE id = \(id) AND removed_at IS NULL
            RETURNING \(unsafeRaw: Self.columns)
            """).map(Self.decode)
    }

    /// Cordons, drains or re-activates a server for placement. A drain runs until `drainDeadline`
    /// from now; draining again keeps when it began and what it moved, with the new deadline.
    public func setSchedulable(
        _ id: ServerID, _ state: WorkspaceServer.Schedulable, drainDeadline: Duration = .seconds(3600), in scope: SystemScope
    ) async throws -> WorkspaceServer? {
        let draining = state == .draining
        return try await scope.first("""
            UPDATE workspace_servers SET schedulable = \(state.rawValue), updated_at = now(),
                drain_started_at = CASE WHEN \(draining) THEN CASE WHEN schedulable = 'draining' THEN drain_started_at ELSE now() END END,
                drain_deadline = CASE WHEN \(draining) THEN now() + make_interval(secs => \(drainDeadline.inSeconds)) END,
                drain_moved = CASE WHEN \(draining) AND schedulable = 'draining' THEN drain_moved ELSE 0 END
            WHERE id = \(id) AND removed_at IS NULL
            RETURNING \(unsafeRaw: Self.columns)
            """).map(Self.decode)
    }

    /// Marks the server removed, only while nothing is placed on it: `current_workspaces` is on the
    /// server's own row, so a reservation racing with the removal either lands first (and the removal
    /// matches nothing) or finds the server removed. Returns `false` when it was not removed.
    public func remove(_ id: ServerID, in scope: SystemScope) async throws -> Bool {
        try await scope.execute("""
            UPDATE workspace_servers SET removed_at = now(), schedulable = 'cordoned', health_lease_owner = NULL,
                health_lease_until = NULL, updated_at = now()
            WHERE id = \(id) AND removed_at IS NULL AND current_workspaces = 0
            """).affectedRows == 1
    }

    /// Claims every server whose health lease is free, expired or already ours, for `lease`.
    public func claimForHealthCheck(owner: String, lease: Duration, in scope: SystemScope) async throws -> [WorkspaceServer] {
        let seconds = lease.inSeconds
        return try await scope.execute("""
            UPDATE workspace_servers SET health_lease_owner = \(owner), health_lease_until = now() + make_interval(secs => \(seconds))
            WHERE removed_at IS NULL AND (health_lease_until IS NULL OR health_lease_until < now() OR health_lease_owner = \(owner))
            RETURNING \(unsafeRaw: Self.columns)
            """).map(Self.decode)
    }

    /// Writes the outcome of a health check, only while `owner` still holds the lease.
    @discardableResult
    public func recordHealth(
        _ id: ServerID, owner: String, verdict: ServerHealthPolicy.Verdict, checkedAt: Date,
        observed: ObservedUsage?, in scope: SystemScope
    ) async throws -> Bool {
        try await scope.execute("""
            UPDATE workspace_servers SET
                status = \(verdict.status.rawValue), consecutive_failures = \(verdict.consecutiveFailures),
                last_healthy_at = \(verdict.lastHealthyAt), last_error = \(verdict.lastError), last_health_check = \(checkedAt),
                observed_ncpu = coalesce(\(observed?.ncpu), observed_ncpu),
                observed_memory_total_mb = coalesce(\(observed?.memoryTotalMB), observed_memory_total_mb),
                observed_containers = coalesce(\(observed?.containers), observed_containers),
                observed_containers_running = coalesce(\(observed?.containersRunning), observed_containers_running),
                docker_version = coalesce(\(observed?.dockerVersion), docker_version),
                observed_cpu_cores = CASE WHEN \(observed != nil) THEN \(observed?.workspaceCPUCores) ELSE observed_cpu_cores END,
                observed_memory_used_mb = CASE WHEN \(observed != nil) THEN \(observed?.workspaceMemoryMB) ELSE observed_memory_used_mb END,
                updated_at = now()
            WHERE id = \(id) AND health_lease_owner = \(owner)
            """).affectedRows == 1
    }

    static func decode(_ row: PostgresRow) throws -> WorkspaceServer {
        let observed: ObservedUsage? = if let ncpu = try row.decode("observed_ncpu", as: Int?.self) {
            ObservedUsage(
                ncpu: ncpu, memoryTotalMB: try row.decode("observed_memory_total_mb", as: Int?.self) ?? 0,
                containers: try row.decode("observed_containers", as: Int?.self) ?? 0,
                containersRunning: try row.decode("observed_containers_running", as: Int?.self) ?? 0,
                dockerVersion: try row.decode("docker_version", as: String?.self) ?? "",
                workspaceCPUCores: try row.decode("observed_cpu_cores", as: Double?.self),
                workspaceMemoryMB: try row.decode("observed_memory_used_mb", as: Int?.self)
            )
        } else { nil }
        return WorkspaceServer(
            id: try row.decode("id"),
            name: try row.decode("name"),
            connection: ServerConnection(
                host: try row.decode("host"), dockerPort: try row.decode("docker_port"),
                tlsEnabled: try row.decode("tls_enabled"), certPath: try row.decode("cert_path"),
                socketPath: try row.decode("socket_path"), insecure: try row.decode("insecure"),
                networkMode: try row.decode("network_mode")
            ),
            capacity: Capacity(
                cpuMillis: try row.decode("total_cpu_millis"), memoryMB: try row.decode("total_memory_mb"),
                diskGB: try row.decode("total_disk_gb"), workspaces: try row.decode("max_workspaces")
            ),
            labels: try row.decode("labels", as: PostgresJSON<[String: LabelValue]>.self).value,
            status: WorkspaceServer.HealthStatus(rawValue: try row.decode("status")) ?? .unhealthy,
            schedulable: WorkspaceServer.Schedulable(rawValue: try row.decode("schedulable")) ?? .cordoned,
            lastHealthCheck: try row.decode("last_health_check"),
            lastHealthyAt: try row.decode("last_healthy_at"),
            lastError: try row.decode("last_error"),
            consecutiveFailures: try row.decode("consecutive_failures"),
            reserved: Capacity(
                cpuMillis: try row.decode("cpu_used_millis"), memoryMB: try row.decode("current_memory_used_mb"),
                diskGB: try row.decode("current_disk_used_gb"), workspaces: try row.decode("current_workspaces")
            ),
            observed: observed,
            registeredAt: try row.decode("created_at"),
            lostAt: try row.decode("lost_at")
        )
    }
}
