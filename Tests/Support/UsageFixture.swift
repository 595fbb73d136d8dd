import Domain
import Foundation
import Persistence

/// Tenants, price plans, a server, workspaces and usage intervals written straight into the database
/// in the system scope, with fixed timestamps, for tests of the usage read side.
public struct UsageFixture: Sendable {
    public let db: Database

    public init(db: Database) { self.db = db }

    public func tenant(_ name: String) async throws -> TenantID {
        try await db.withSystem { try await TenantStore().create(name: name, quota: .standard, in: $0).id }
    }

    /// A price plan (prices in micros per hour) assigned to `tenants`.
    @discardableResult
    public func plan(
        _ name: String, currency: String = "EUR", cpuCoreHour: Int64 = 0, memoryGBHour: Int64 = 0,
        diskGBHour: Int64 = 0, workspaceHour: Int64 = 0, for tenants: [TenantID]
    ) async throws -> UUID {
        try await db.withSystem { scope in
            let row = try await scope.first("INSERT INTO price_plans (name, currency) VALUES (\(name), \(currency)) RETURNING id")
            let id = try row!.decode("id", as: UUID.self)
            try await scope.execute("""
                INSERT INTO price_plan_versions (plan_id, effective_from, cpu_core_hour_micros, memory_gb_hour_micros, disk_gb_hour_micros, workspace_hour_micros)
                VALUES (\(id), '-infinity', \(cpuCoreHour), \(memoryGBHour), \(diskGBHour), \(workspaceHour))
                """)
            // Assigned since always: the fixture's intervals lie in the past.
            for tenant in tenants {
                try await TenantStore().assign(PricePlanID(rawValue: id), to: tenant, .always, in: scope)
            }
            return id
        }
    }

    /// New prices for `plan` from `from` (a timestamp PostgreSQL reads) on.
    public func version(
        of plan: UUID, from: String, cpuCoreHour: Int64 = 0, memoryGBHour: Int64 = 0, diskGBHour: Int64 = 0, workspaceHour: Int64 = 0
    ) async throws {
        try await db.withSystem { scope in
            try await scope.execute("""
                INSERT INTO price_plan_versions (plan_id, effective_from, cpu_core_hour_micros, memory_gb_hour_micros, disk_gb_hour_micros, workspace_hour_micros)
                VALUES (\(plan), \(from)::timestamptz, \(cpuCoreHour), \(memoryGBHour), \(diskGBHour), \(workspaceHour))
                """)
        }
    }

    /// Gives `tenant` the plan `plan` (nil: none) from `from` (a timestamp PostgreSQL reads) on.
    public func assign(_ plan: UUID?, to tenant: TenantID, from: String) async throws {
        try await db.withSystem { scope in
            try await scope.execute("""
                INSERT INTO tenant_plan_assignments (tenant_id, effective_from, plan_id) VALUES (\(tenant), \(from)::timestamptz, \(plan))
                """)
        }
    }

    public func server(_ name: String) async throws -> ServerID {
        try await db.withSystem { scope in
            try await scope.first("""
                INSERT INTO workspace_servers (name, host, docker_port, total_cpu, total_memory_mb, total_disk_gb, max_workspaces)
                VALUES (\(name), '127.0.0.1', 1, 64, 262144, 2048, 100) RETURNING id
                """)!.decode("id")
        }
    }

    /// A stopped workspace with the given resources; `cpu` is decimal text such as `"1.5"`.
    public func workspace(
        _ name: String, tenant: TenantID, server: ServerID?, cpu: String, memoryMB: Int, diskGB: Int
    ) async throws -> WorkspaceID {
        try await db.withSystem { scope in
            try await scope.first("""
                INSERT INTO workspaces (tenant_id, name, status, server_id, image, cpu, memory_mb, disk_gb)
                VALUES (\(tenant), \(name), 'stopped', \(server), 'berth-busybox:latest', \(cpu)::numeric, \(memoryMB), \(diskGB))
                RETURNING id
                """)!.decode("id")
        }
    }

    /// An interval with the workspace's resources; `from` and `to` are timestamps PostgreSQL reads
    /// (`2026-03-10T10:00:00Z`); `to` nil leaves it open.
    public func interval(_ workspace: WorkspaceID, from: String, to: String?) async throws {
        try await db.withSystem { scope in
            try await scope.execute("""
                INSERT INTO usage_intervals (tenant_id, workspace_id, server_id, cpu, memory_mb, disk_gb, started_at, ended_at)
                SELECT tenant_id, id, server_id, cpu, memory_mb, disk_gb, \(from)::timestamptz, \(to)::timestamptz
                FROM workspaces WHERE id = \(workspace)
                """)
        }
    }

    /// An open interval that started `secondsAgo` before the database's clock; returns its start.
    public func openInterval(_ workspace: WorkspaceID, secondsAgo: Int) async throws -> Date {
        try await db.withSystem { scope in
            try await scope.first("""
                INSERT INTO usage_intervals (tenant_id, workspace_id, server_id, cpu, memory_mb, disk_gb, started_at)
                SELECT tenant_id, id, server_id, cpu, memory_mb, disk_gb, now() - make_interval(secs => \(secondsAgo))
                FROM workspaces WHERE id = \(workspace)
                RETURNING started_at
                """)!.decode("started_at")
        }
    }
}
