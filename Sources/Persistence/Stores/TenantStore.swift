import Domain
import Foundation

/// Reads and writes `tenants`.
public struct TenantStore: Sendable {
    public init() {}

    static let columns = "id, name, status, max_workspaces, (max_cpu * 1000)::bigint AS max_cpu_millis, max_memory_mb, price_plan_id, created_at"

    /// Creates a tenant; a taken name surfaces as `unique_violation`.
    public func create(name: String, quota: Quota, pricePlan: PricePlanID? = nil, in scope: SystemScope) async throws -> Tenant {
        let row = try await scope.first("""
            INSERT INTO tenants (name, max_workspaces, max_cpu, max_memory_mb, price_plan_id)
            VALUES (\(name), \(quota.maxWorkspaces), \(quota.maxCPUMillis)::numeric / 1000, \(quota.maxMemoryMB), \(pricePlan))
            RETURNING \(unsafeRaw: Self.columns)
            """)
        guard let row else { throw PostgresError(code: .other, message: "insert returned no row") }
        return try Self.decode(row)
    }

    public func get(_ id: TenantID, in scope: SystemScope) async throws -> Tenant? {
        try await scope.first("SELECT \(unsafeRaw: Self.columns) FROM tenants WHERE id = \(id)").map(Self.decode)
    }

    /// Reads and row-locks the tenant until the transaction ends, serialising its quota checks.
    public func lock(_ id: TenantID, in scope: SystemScope) async throws -> Tenant? {
        try await scope.first("SELECT \(unsafeRaw: Self.columns) FROM tenants WHERE id = \(id) FOR UPDATE").map(Self.decode)
    }

    public func get(named name: String, in scope: SystemScope) async throws -> Tenant? {
        try await scope.first("SELECT \(unsafeRaw: Self.columns) FROM tenants WHERE name = \(name)").map(Self.decode)
    }

    /// The calling tenant's own row, as row-level security lets it see.
    public func current(in scope: TenantScope) async throws -> Tenant? {
        try await scope.first("SELECT \(unsafeRaw: Self.columns) FROM tenants WHERE id = \(scope.tenantID)").map(Self.decode)
    }

    /// Tenants by name, after `afterName` (keyset pagination).
    public func list(after afterName: String?, limit: Int, in scope: SystemScope) async throws -> [Tenant] {
        try await scope.execute("""
            SELECT \(unsafeRaw: Self.columns) FROM tenants
            WHERE \(afterName)::text IS NULL OR name > \(afterName)
            ORDER BY name LIMIT \(limit)
            """).map(Self.decode)
    }

    /// Sets status, quota and price plan; an unknown plan surfaces as `foreign_key_violation`.
    public func update(_ id: TenantID, status: Tenant.Status, quota: Quota, pricePlan: PricePlanID?, in scope: SystemScope) async throws -> Tenant? {
        try await scope.first("""
            UPDATE tenants SET status = \(status.rawValue), max_workspaces = \(quota.maxWorkspaces),
                max_cpu = \(quota.maxCPUMillis)::numeric / 1000, max_memory_mb = \(quota.maxMemoryMB),
                price_plan_id = \(pricePlan), updated_at = now()
            WHERE id = \(id)
            RETURNING \(unsafeRaw: Self.columns)
            """).map(Self.decode)
    }

    static func decode(_ row: PostgresRow) throws -> Tenant {
        Tenant(
            id: try row.decode("id"),
            name: try row.decode("name"),
            status: Tenant.Status(rawValue: try row.decode("status", as: String.self)) ?? .suspended,
            quota: Quota(
                maxWorkspaces: try row.decode("max_workspaces"),
                maxCPUMillis: try row.decode("max_cpu_millis"),
                maxMemoryMB: try row.decode("max_memory_mb")
            ),
            pricePlanID: try row.decode("price_plan_id"),
            createdAt: try row.decode("created_at")
        )
    }
}
