import Domain
import Foundation

/// Reads and writes `tenants`.
public struct TenantStore: Sendable {
    public init() {}

    /// The plan in force now comes from the tenant's plan history.
    static let columns = """
        id, name, status, max_workspaces, (max_cpu * 1000)::bigint AS max_cpu_millis, max_memory_mb, max_disk_gb, created_at,
        idle_stop_minutes::float8 AS idle_stop_minutes, max_lifetime_minutes::float8 AS max_lifetime_minutes,
        (SELECT a.plan_id FROM tenant_plan_assignments a WHERE a.tenant_id = tenants.id AND a.effective_from <= now()
         ORDER BY a.effective_from DESC LIMIT 1) AS price_plan_id
        """

    /// Creates a tenant, with `pricePlan` in force since always; a taken name surfaces as `unique_violation`.
    public func create(
        name: String, quota: Quota, pricePlan: PricePlanID? = nil, status: Tenant.Status = .active,
        idleStopMinutes: Double? = nil, maxLifetimeMinutes: Double? = nil, in scope: SystemScope
    ) async throws -> Tenant {
        let row = try await scope.first("""
            INSERT INTO tenants (name, status, max_workspaces, max_cpu, max_memory_mb, max_disk_gb, idle_stop_minutes, max_lifetime_minutes)
            VALUES (\(name), \(status.rawValue), \(quota.maxWorkspaces), \(quota.maxCPUMillis)::numeric / 1000, \(quota.maxMemoryMB), \(quota.maxDiskGB),
                \(idleStopMinutes)::numeric, \(maxLifetimeMinutes)::numeric)
            RETURNING id
            """)
        guard let id = try row?.decode("id", as: TenantID.self) else { throw PostgresError(code: .other, message: "insert returned no row") }
        if let pricePlan { try await assign(pricePlan, to: id, .always, in: scope) }
        return try await get(id, in: scope)!
    }

    /// From when a plan assignment is in force.
    public enum Effective: Sendable {
        /// Since always: for a tenant's first plan, so all its usage is rated.
        case always
        /// From this transaction's time on.
        case now
        case from(Date)
    }

    /// Gives `tenant` the plan `plan` (nil: none, rated at zero) from `effective` on. A later
    /// assignment for the same instant replaces this one.
    public func assign(_ plan: PricePlanID?, to tenant: TenantID, _ effective: Effective, in scope: SystemScope) async throws {
        let instant: Date? = if case .from(let date) = effective { date } else { nil }
        let always = if case .always = effective { true } else { false }
        try await scope.execute("""
            INSERT INTO tenant_plan_assignments (tenant_id, effective_from, plan_id)
            VALUES (\(tenant), CASE WHEN \(always) THEN '-infinity' ELSE coalesce(\(instant)::timestamptz, now()) END, \(plan))
            ON CONFLICT (tenant_id, effective_from) DO UPDATE SET plan_id = excluded.plan_id, created_at = now()
            """)
    }

    /// The tenant's plan history, oldest first: from when, which plan (nil: none).
    public func assignments(of tenant: TenantID, in scope: SystemScope) async throws -> [(from: Date, plan: PricePlanID?)] {
        try await scope.execute("""
            SELECT effective_from, plan_id FROM tenant_plan_assignments WHERE tenant_id = \(tenant) ORDER BY effective_from
            """).map { (try $0.decode("effective_from", as: Date.self), try $0.decode("plan_id", as: PricePlanID?.self)) }
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

    /// Sets status, quota, idle stop and lifetime (the plan is assigned with `assign`).
    public func update(
        _ id: TenantID, status: Tenant.Status, quota: Quota, idleStopMinutes: Double?, maxLifetimeMinutes: Double?, in scope: SystemScope
    ) async throws -> Tenant? {
        guard try await scope.execute("""
            UPDATE tenants SET status = \(status.rawValue), max_workspaces = \(quota.maxWorkspaces),
                max_cpu = \(quota.maxCPUMillis)::numeric / 1000, max_memory_mb = \(quota.maxMemoryMB), max_disk_gb = \(quota.maxDiskGB),
                idle_stop_minutes = \(idleStopMinutes)::numeric, max_lifetime_minutes = \(maxLifetimeMinutes)::numeric, updated_at = now()
            WHERE id = \(id)
            """).affectedRows == 1 else { return nil }
        return try await get(id, in: scope)
    }

    static func decode(_ row: PostgresRow) throws -> Tenant {
        Tenant(
            id: try row.decode("id"),
            name: try row.decode("name"),
            status: Tenant.Status(rawValue: try row.decode("status", as: String.self)) ?? .suspended,
            quota: Quota(
                maxWorkspaces: try row.decode("max_workspaces"),
                maxCPUMillis: try row.decode("max_cpu_millis"),
                maxMemoryMB: try row.decode("max_memory_mb"), maxDiskGB: try row.decode("max_disk_gb")
            ),
            pricePlanID: try row.decode("price_plan_id"),
            createdAt: try row.decode("created_at"),
            idleStopMinutes: try row.decode("idle_stop_minutes"), maxLifetimeMinutes: try row.decode("max_lifetime_minutes")
        )
    }
}
