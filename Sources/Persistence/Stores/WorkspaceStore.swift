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
        public var resources: Resources
        public var command: [String]?
        public var env: [String: String]
        public var labels: [String: String]
        public var holdsCompute: Bool
        public var holdsSlot: Bool
        public var error: String?
    }

    static let columns = """
        id, tenant_id, name, status, server_id, container_id, image, (cpu * 1000)::bigint AS cpu_millis, memory_mb, disk_gb,
        command, env, labels, holds_compute, holds_slot, error
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

    /// Moves the workspace from one of `from` to `to`, records the event, and sets the given fields.
    /// Returns `false` (changing nothing) when it is not in one of `from`.
    @discardableResult
    public func transition(
        _ id: WorkspaceID, from: Set<WorkspaceStatus>, to: WorkspaceStatus, reason: String? = nil,
        containerID: String? = nil, clearContainer: Bool = false, error: String? = nil, in scope: SystemScope
    ) async throws -> Bool {
        // Text-array input form; the statuses are fixed identifiers.
        let allowed = "{" + from.map(\.rawValue).sorted().joined(separator: ",") + "}"
        guard let row = try await scope.first("""
            UPDATE workspaces w SET status = \(to.rawValue),
                container_id = CASE WHEN \(clearContainer) THEN NULL ELSE coalesce(\(containerID), w.container_id) END,
                error = CASE WHEN \(to.rawValue) = 'error' THEN \(error) ELSE NULL END,
                started_at = CASE WHEN \(to.rawValue) = 'running' THEN now() ELSE w.started_at END,
                stopped_at = CASE WHEN \(to.rawValue) IN ('stopped', 'error') THEN now() ELSE w.stopped_at END,
                deleted_at = CASE WHEN \(to.rawValue) = 'deleted' THEN now() ELSE w.deleted_at END,
                updated_at = now()
            FROM (SELECT id, status AS previous FROM workspaces WHERE id = \(id) FOR UPDATE) old
            WHERE w.id = old.id AND old.previous = ANY(\(allowed)::text[])
            RETURNING w.tenant_id, old.previous
            """) else { return false }
        try await scope.execute("""
            INSERT INTO workspace_events (tenant_id, workspace_id, from_status, to_status, reason)
            VALUES (\(try row.decode("tenant_id", as: TenantID.self)), \(id), \(try row.decode("previous", as: String.self)), \(to.rawValue), \(reason ?? error))
            """)
        try await UsageIntervals.follow(id, to: to, in: scope)
        return true
    }

    /// Sets the workspace's size (the caller has adjusted the server's reservation).
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
            holdsCompute: try row.decode("holds_compute"), holdsSlot: try row.decode("holds_slot"), error: try row.decode("error")
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
        public let repository: String?
        public let labels: [String: String]
        public let created_at: Date
        public let started_at: Date?
        public let stopped_at: Date?
        public let error: String?
    }

    static let viewColumns = """
        w.id, w.name, w.status, w.server_id, s.name AS server_name, w.container_id, w.image, w.cpu::float8 AS cpu,
        w.memory_mb, w.disk_gb, w.labels, w.created_at, w.started_at, w.stopped_at, w.error
        """

    public func view(_ id: WorkspaceID, in scope: TenantScope) async throws -> View? {
        try await scope.first("""
            SELECT \(unsafeRaw: Self.viewColumns) FROM workspaces w LEFT JOIN workspace_servers s ON s.id = w.server_id
            WHERE w.id = \(id) AND w.status <> 'deleted'
            """).map(Self.decodeView)
    }

    /// A page, newest first, after the `(created_at, id)` of the cursor; filtered by status and labels.
    public func list(
        status: WorkspaceStatus?, labels: [String: String], after cursor: (Date, WorkspaceID)?, limit: Int, in scope: TenantScope
    ) async throws -> [View] {
        try await scope.execute("""
            SELECT \(unsafeRaw: Self.viewColumns) FROM workspaces w LEFT JOIN workspace_servers s ON s.id = w.server_id
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
            repository: nil, labels: try row.decode("labels", as: PostgresJSON<[String: String]>.self).value,
            created_at: try row.decode("created_at"), started_at: try row.decode("started_at"),
            stopped_at: try row.decode("stopped_at"), error: try row.decode("error")
        )
    }
}
