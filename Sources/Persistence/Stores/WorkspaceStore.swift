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
        containerID: String? = nil, error: String? = nil, in scope: SystemScope
    ) async throws -> Bool {
        // Text-array input form; the statuses are fixed identifiers.
        let allowed = "{" + from.map(\.rawValue).sorted().joined(separator: ",") + "}"
        guard let row = try await scope.first("""
            UPDATE workspaces w SET status = \(to.rawValue),
                container_id = coalesce(\(containerID), w.container_id),
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
        return true
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
