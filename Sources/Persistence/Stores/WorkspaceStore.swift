import Domain
import Foundation

/// Reads and writes `workspaces` and their `workspace_events`.
public struct WorkspaceStore: Sendable {
    public init() {}

    /// The lifecycle-relevant fields of a workspace row.
    public struct Row: Sendable, Equatable {
        public var id: WorkspaceID
        public var tenantID: TenantID
        public var name: String
        public var status: WorkspaceStatus
        public var serverID: ServerID?
        public var containerID: String?
        public var image: String
        /// The wanted size (what a resize asked for, once asked).
        public var resources: Resources
        public var command: [String]?
        public var env: [String: String]
        public var labels: [String: String]
        public var holdsCompute: Bool
        public var holdsSlot: Bool
        public var error: String?
        /// What is wanted: `running`, `stopped` or `deleted`.
        public var desired: WorkspaceStatus
        /// Incremented by every change of what is wanted.
        public var generation: Int64
        /// The generation whose intent was last applied and recorded.
        public var observedGeneration: Int64
        /// A restart asked at this generation is pending while `observedGeneration` is below it.
        public var restartGeneration: Int64
        /// The CPU and memory the container has, as Docker confirmed them; nil before it exists.
        public var appliedCPUMillis: Int?
        public var appliedMemoryMB: Int?
        /// What the workspace holds of its server's CPU and memory now.
        public var heldCPUMillis: Int
        public var heldMemoryMB: Int
        /// The actor holding the workspace's lease, if the lease is still running.
        public var actor: String?
        public var errorCode: String?
        public var errorDetail: String?
        /// The server the workspace is wanted on instead of its own (a move pending), and why.
        public var moveTo: ServerID?
        public var moveReason: String?

        /// Whether every intent has been applied.
        public var isSettled: Bool { observedGeneration >= generation }
        /// Whether the container's limits differ from the wanted size.
        public var resizePending: Bool {
            appliedCPUMillis.map { $0 != resources.cpuMillis } ?? false || appliedMemoryMB.map { $0 != resources.memoryMB } ?? false
        }
    }

    static let columns = """
        id, tenant_id, name, status, server_id, container_id, image, (cpu * 1000)::bigint AS cpu_millis, memory_mb, disk_gb,
        command, env, labels, holds_compute, holds_slot, error, desired_status, generation, observed_generation, restart_generation,
        (applied_cpu * 1000)::bigint AS applied_cpu_millis, applied_memory_mb, (held_cpu * 1000)::bigint AS held_cpu_millis,
        held_memory_mb, CASE WHEN actor_until > now() THEN actor END AS live_actor, error_code, error_detail,
        move_to_server_id, move_reason
        """

    /// The workspace, row-locked until the transaction ends.
    public func lock(_ id: WorkspaceID, in scope: SystemScope) async throws -> Row? {
        try await scope.first("SELECT \(unsafeRaw: Self.columns) FROM workspaces WHERE id = \(id) FOR UPDATE").map(Self.decode)
    }

    public func get(_ id: WorkspaceID, in scope: SystemScope) async throws -> Row? {
        try await scope.first("SELECT \(unsafeRaw: Self.columns) FROM workspaces WHERE id = \(id)").map(Self.decode)
    }

    /// The tenant's own workspace; another tenant's id finds nothing, by row-level security.
    public func get(_ id: WorkspaceID, in scope: TenantScope) async throws -> Row? {
        try await scope.first("SELECT \(unsafeRaw: Self.columns) FROM workspaces WHERE id = \(id)").map(Self.decode)
    }

    // MARK: - One writer per workspace

    /// Records a new intent: what is wanted (and a restart, when asked), with the generation
    /// incremented. The lease is claimed for `actor` when it is free or expired; otherwise whoever
    /// holds it will find the new generation when it next records, and apply it.
    /// Returns the new generation and whether `actor` now holds the lease.
    public func intend(
        _ id: WorkspaceID, desired: WorkspaceStatus, restart: Bool = false, actor: String, lease: Duration, in scope: SystemScope
    ) async throws -> (generation: Int64, claimed: Bool) {
        guard let row = try await scope.first("""
            UPDATE workspaces SET desired_status = \(desired.rawValue), generation = generation + 1,
                restart_generation = CASE WHEN \(restart) THEN generation + 1 ELSE restart_generation END,
                actor = CASE WHEN actor IS NULL OR actor_until < now() THEN \(actor) ELSE actor END,
                actor_until = CASE WHEN actor IS NULL OR actor_until < now() THEN now() + make_interval(secs => \(lease.inSeconds))
                                   ELSE actor_until END,
                updated_at = now()
            WHERE id = \(id)
            RETURNING generation, actor = \(actor) AS claimed
            """) else { throw PostgresError(code: .other, message: "no such workspace") }
        return (try row.decode("generation"), try row.decode("claimed"))
    }

    /// Claims (or renews) the workspace's lease for `actor`: when it is free, expired or already its.
    /// Returns the row when `actor` holds the lease, nil when another does or there is no row.
    public func claim(_ id: WorkspaceID, actor: String, lease: Duration, in scope: SystemScope) async throws -> Row? {
        try await scope.first("""
            UPDATE workspaces SET actor = \(actor), actor_until = now() + make_interval(secs => \(lease.inSeconds))
            WHERE id = \(id) AND (actor IS NULL OR actor_until < now() OR actor = \(actor))
            RETURNING \(unsafeRaw: Self.columns)
            """).map(Self.decode)
    }

    /// The row, locked, only while `actor` holds the lease and the generation is still `generation`:
    /// the fence every recorded outcome goes through.
    public func lockFenced(_ id: WorkspaceID, generation: Int64, actor: String, in scope: SystemScope) async throws -> Row? {
        try await scope.first("""
            SELECT \(unsafeRaw: Self.columns) FROM workspaces WHERE id = \(id) AND generation = \(generation) AND actor = \(actor) FOR UPDATE
            """).map(Self.decode)
    }

    /// Marks `generation` applied (the caller holds the fence).
    public func settle(_ id: WorkspaceID, generation: Int64, in scope: SystemScope) async throws {
        try await scope.execute("UPDATE workspaces SET observed_generation = \(generation) WHERE id = \(id)")
    }

    /// Gives the lease up, only when every intent is applied; `false` when a newer one came in (or
    /// the lease is not `actor`'s), in which case the actor carries on.
    public func releaseLease(_ id: WorkspaceID, actor: String, in scope: SystemScope) async throws -> Bool {
        try await scope.execute("""
            UPDATE workspaces SET actor = NULL, actor_until = NULL
            WHERE id = \(id) AND actor = \(actor) AND observed_generation >= generation
            """).affectedRows == 1
    }

    /// Gives the lease up whatever is pending, so another actor (the reconciler) can take over later.
    public func abandonLease(_ id: WorkspaceID, actor: String, in scope: SystemScope) async throws {
        try await scope.execute("UPDATE workspaces SET actor = NULL, actor_until = NULL WHERE id = \(id) AND actor = \(actor)")
    }

    /// Records the limits Docker confirmed the container has.
    public func setApplied(_ id: WorkspaceID, cpuMillis: Int, memoryMB: Int, in scope: SystemScope) async throws {
        try await scope.execute("""
            UPDATE workspaces SET applied_cpu = \(cpuMillis)::numeric / 1000, applied_memory_mb = \(memoryMB), updated_at = now()
            WHERE id = \(id)
            """)
    }

    /// Workspaces with an intent not yet applied whose lease is free or expired, oldest first.
    public func pending(limit: Int, in scope: SystemScope) async throws -> [WorkspaceID] {
        try await scope.execute("""
            SELECT id FROM workspaces
            WHERE observed_generation < generation AND (actor IS NULL OR actor_until < now())
            ORDER BY updated_at LIMIT \(limit)
            """).map { try $0.decode("id") }
    }

    /// Moves the workspace from one of `from` (any status when nil) to `to`, records the event, and
    /// sets the given fields. Returns `false` (changing nothing) when it is not in one of `from`.
    ///
    /// `at` is when the change happened as Docker saw it (a container's `StartedAt` or `FinishedAt`);
    /// the usage interval opens or closes then, and `started_at` or `stopped_at` take it, however
    /// long ago (a container that died during an outage stops being metered when it died). Without
    /// it, or when it is before the workspace existed or in the future (an engine's clock that is
    /// off), now is used.
    @discardableResult
    public func transition(
        _ id: WorkspaceID, from: Set<WorkspaceStatus>?, to: WorkspaceStatus, reason: String? = nil,
        containerID: String? = nil, clearContainer: Bool = false, failure: WorkspaceFailure? = nil, at instant: Date? = nil,
        in scope: SystemScope
    ) async throws -> Bool {
        // Text-array input form; the statuses are fixed identifiers.
        let allowed = from.map { "{" + $0.map(\.rawValue).sorted().joined(separator: ",") + "}" }
        guard let row = try await scope.first("""
            WITH moment AS (
                SELECT CASE WHEN \(instant)::timestamptz BETWEEN (SELECT created_at FROM workspaces WHERE id = \(id)) AND now() + interval '5 seconds'
                            THEN \(instant)::timestamptz ELSE now() END AS at
            )
            UPDATE workspaces w SET status = \(to.rawValue),
                container_id = CASE WHEN \(clearContainer) THEN NULL ELSE coalesce(\(containerID), w.container_id) END,
                error = CASE WHEN \(to.rawValue) = 'error' THEN \(failure?.message) ELSE NULL END,
                error_code = CASE WHEN \(to.rawValue) = 'error' THEN \(failure?.code) ELSE NULL END,
                error_detail = CASE WHEN \(to.rawValue) = 'error' THEN \(failure?.detail) ELSE NULL END,
                started_at = CASE WHEN \(to.rawValue) = 'running' THEN (SELECT at FROM moment) ELSE w.started_at END,
                stopped_at = CASE WHEN \(to.rawValue) IN ('stopped', 'error') THEN (SELECT at FROM moment) ELSE w.stopped_at END,
                deleted_at = CASE WHEN \(to.rawValue) = 'deleted' THEN now() ELSE w.deleted_at END,
                updated_at = now()
            FROM (SELECT id, status AS previous FROM workspaces WHERE id = \(id) FOR UPDATE) old
            WHERE w.id = old.id AND (\(allowed)::text[] IS NULL OR old.previous = ANY(\(allowed)::text[]))
            RETURNING w.tenant_id, old.previous, (SELECT at FROM moment) AS at
            """) else { return false }
        let previous = try row.decode("previous", as: String.self)
        if previous != to.rawValue || failure != nil {
            try await scope.execute("""
                INSERT INTO workspace_events (tenant_id, workspace_id, from_status, to_status, reason)
                VALUES (\(try row.decode("tenant_id", as: TenantID.self)), \(id), \(previous), \(to.rawValue), \(reason ?? failure?.message))
                """)
        }
        try await UsageIntervals.follow(id, to: to, at: try row.decode("at", as: Date.self), in: scope)
        return true
    }

    /// Records an event that changes no status (a move, an idle stop's reason), as `from → to` the
    /// status the workspace has.
    public func note(_ id: WorkspaceID, reason: String, in scope: SystemScope) async throws {
        try await scope.execute("""
            INSERT INTO workspace_events (tenant_id, workspace_id, from_status, to_status, reason)
            SELECT tenant_id, id, status, status, \(reason) FROM workspaces WHERE id = \(id)
            """)
    }

    /// Sets the workspace's wanted size (the caller has reserved any growth on its server).
    public func resize(_ id: WorkspaceID, to resources: Resources, in scope: SystemScope) async throws {
        try await scope.execute("""
            UPDATE workspaces SET cpu = \(resources.cpuMillis)::numeric / 1000, memory_mb = \(resources.memoryMB),
                disk_gb = \(resources.diskGB), updated_at = now()
            WHERE id = \(id)
            """)
    }

    /// Records that the tenant used the workspace now (for idle detection).
    public func touch(_ id: WorkspaceID, in scope: TenantScope) async throws -> Date? {
        try await scope.first("""
            UPDATE workspaces SET last_activity_at = now() WHERE id = \(id) AND status <> 'deleted' RETURNING last_activity_at
            """)?.decode("last_activity_at", as: Date.self)
    }

    /// The events of a workspace, oldest first.
    public func events(_ id: WorkspaceID, in scope: SystemScope) async throws -> [(from: WorkspaceStatus?, to: WorkspaceStatus)] {
        try await scope.execute("SELECT from_status, to_status FROM workspace_events WHERE workspace_id = \(id) ORDER BY id").map { row in
            (try row.decode("from_status", as: String?.self).flatMap(WorkspaceStatus.init(rawValue:)),
             WorkspaceStatus(rawValue: try row.decode("to_status")) ?? .error)
        }
    }

    static func decode(_ row: PostgresRow) throws -> Row {
        Row(
            id: try row.decode("id"), tenantID: try row.decode("tenant_id"), name: try row.decode("name"),
            status: WorkspaceStatus(rawValue: try row.decode("status")) ?? .error,
            serverID: try row.decode("server_id"), containerID: try row.decode("container_id"), image: try row.decode("image"),
            resources: Resources(cpuMillis: try row.decode("cpu_millis"), memoryMB: try row.decode("memory_mb"), diskGB: try row.decode("disk_gb")),
            command: try row.decode("command", as: PostgresJSON<[String]>?.self)?.value,
            env: try row.decode("env", as: PostgresJSON<[String: String]>.self).value,
            labels: try row.decode("labels", as: PostgresJSON<[String: String]>.self).value,
            holdsCompute: try row.decode("holds_compute"), holdsSlot: try row.decode("holds_slot"), error: try row.decode("error"),
            desired: WorkspaceStatus(rawValue: try row.decode("desired_status")) ?? .running,
            generation: try row.decode("generation"), observedGeneration: try row.decode("observed_generation"),
            restartGeneration: try row.decode("restart_generation"),
            appliedCPUMillis: try row.decode("applied_cpu_millis"), appliedMemoryMB: try row.decode("applied_memory_mb"),
            heldCPUMillis: try row.decode("held_cpu_millis"), heldMemoryMB: try row.decode("held_memory_mb"),
            actor: try row.decode("live_actor"), errorCode: try row.decode("error_code"), errorDetail: try row.decode("error_detail"),
            moveTo: try row.decode("move_to_server_id"), moveReason: try row.decode("move_reason")
        )
    }
}

extension WorkspaceStore {
    /// A workspace as the tenant API shows it.
    public struct View: Sendable, Codable, Equatable {
        public struct ServerRef: Sendable, Codable, Equatable { public let id: ServerID; public let name: String }
        public struct ResourcesView: Sendable, Codable, Equatable { public let cpu: Double; public let memory_mb: Int; public let disk_gb: Int }
        public let id: WorkspaceID
        public let name: String
        public let status: String
        public let server: ServerRef?
        public let container_id: String?
        public let image: String
        public let resources: ResourcesView
        public let repository: RepositoryView?
        public let labels: [String: String]
        public let created_at: Date
        public let started_at: Date?
        public let stopped_at: Date?
        public let error: String?
        /// What kind of failure `error` is (`container_exited`, `image_not_found`, `server_lost`, …).
        public let error_code: String?
        /// The idle period in force (the workspace's, else its tenant's); null or 0: never stopped for it.
        public let idle_stop_minutes: Double?
        /// When a running workspace is stopped unless there is activity before (a heartbeat, or CPU use).
        public let idle_stop_at: Date?
        public let max_lifetime_minutes: Double?
        /// When it is stopped for having reached its maximum lifetime.
        public let expires_at: Date?
    }

    /// A workspace's repository as anyone may see it: never the token.
    public struct RepositoryView: Sendable, Codable, Equatable {
        public let url: String
        public let branch: String?
        public let commit: String?
        public let path: String
        public let status: String
        public let error: String?
        public let error_code: String?

        static func decode(_ row: PostgresRow) throws -> RepositoryView? {
            guard let url = try row.decode("repository_url", as: String?.self) else { return nil }
            return RepositoryView(
                url: url, branch: try row.decode("repository_branch"), commit: try row.decode("repository_commit"),
                path: try row.decode("repository_path", as: String?.self) ?? "/workspace/" + RepositorySpec.name(of: url),
                status: try row.decode("git_status"), error: try row.decode("git_error"), error_code: try row.decode("git_error_code")
            )
        }
    }

    static let viewColumns = """
        w.id, w.name, w.status, w.server_id, s.name AS server_name, w.container_id, w.image, w.cpu::float8 AS cpu,
        w.memory_mb, w.disk_gb, w.labels, w.created_at, w.started_at, w.stopped_at, w.error, w.error_code,
        w.repository_url, w.repository_branch, w.repository_commit, w.repository_path, w.git_status, w.git_error, w.git_error_code,
        \(idleColumns)
        """

    /// The idle period and lifetime in force and when they stop the workspace, from a query over
    /// `workspaces w` joined with its `tenants t`.
    public static let idleColumns = """
        coalesce(w.idle_stop_minutes, t.idle_stop_minutes)::float8 AS idle_minutes,
        coalesce(w.max_lifetime_minutes, t.max_lifetime_minutes)::float8 AS lifetime_minutes,
        CASE WHEN w.status = 'running' AND coalesce(w.idle_stop_minutes, t.idle_stop_minutes, 0) > 0
             THEN greatest(w.started_at, w.last_activity_at, w.last_busy_at)
                  + make_interval(secs => coalesce(w.idle_stop_minutes, t.idle_stop_minutes)::float8 * 60) END AS idle_stop_at,
        CASE WHEN coalesce(w.max_lifetime_minutes, t.max_lifetime_minutes, 0) > 0
             THEN w.created_at + make_interval(secs => coalesce(w.max_lifetime_minutes, t.max_lifetime_minutes)::float8 * 60) END AS expires_at
        """

    /// The tables a view reads.
    static let viewSource = """
        workspaces w LEFT JOIN workspace_servers s ON s.id = w.server_id JOIN tenants t ON t.id = w.tenant_id
        """

    public func view(_ id: WorkspaceID, in scope: TenantScope, includingDeleted: Bool = false) async throws -> View? {
        try await scope.first("""
            SELECT \(unsafeRaw: Self.viewColumns) FROM \(unsafeRaw: Self.viewSource)
            WHERE w.id = \(id) AND (\(includingDeleted) OR w.status <> 'deleted')
            """).map(Self.decodeView)
    }

    /// A page, newest first, after the `(created_at, id)` of the cursor; filtered by status and labels.
    public func list(
        status: WorkspaceStatus?, labels: [String: String], after cursor: (Date, WorkspaceID)?, limit: Int, in scope: TenantScope
    ) async throws -> [View] {
        try await scope.execute("""
            SELECT \(unsafeRaw: Self.viewColumns) FROM \(unsafeRaw: Self.viewSource)
            WHERE w.status <> 'deleted'
              AND (\(status?.rawValue)::text IS NULL OR w.status = \(status?.rawValue))
              AND w.labels @> \(PostgresJSON(labels))::jsonb
              AND (\(cursor?.0)::timestamptz IS NULL OR (w.created_at, w.id) < (\(cursor?.0)::timestamptz, \(cursor?.1)::uuid))
            ORDER BY w.created_at DESC, w.id DESC
            LIMIT \(limit)
            """).map(Self.decodeView)
    }

    static func decodeView(_ row: PostgresRow) throws -> View {
        let serverID = try row.decode("server_id", as: ServerID?.self)
        return View(
            id: try row.decode("id"), name: try row.decode("name"), status: try row.decode("status"),
            server: try serverID.map { View.ServerRef(id: $0, name: try row.decode("server_name", as: String?.self) ?? "") },
            container_id: try row.decode("container_id"), image: try row.decode("image"),
            resources: .init(cpu: try row.decode("cpu"), memory_mb: try row.decode("memory_mb"), disk_gb: try row.decode("disk_gb")),
            repository: try RepositoryView.decode(row), labels: try row.decode("labels", as: PostgresJSON<[String: String]>.self).value,
            created_at: try row.decode("created_at"), started_at: try row.decode("started_at"),
            stopped_at: try row.decode("stopped_at"), error: try row.decode("error"), error_code: try row.decode("error_code"),
            idle_stop_minutes: try row.decode("idle_minutes"), idle_stop_at: try row.decode("idle_stop_at"),
            max_lifetime_minutes: try row.decode("lifetime_minutes"), expires_at: try row.decode("expires_at")
        )
    }
}
