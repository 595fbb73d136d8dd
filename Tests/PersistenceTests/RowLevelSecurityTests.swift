import BerthTestSupport
import Domain
import Foundation
import Persistence
import Testing

/// Tenant isolation is enforced by PostgreSQL itself, whatever the code above it does.
@Suite struct RowLevelSecurityTests {
    /// The tables whose rows belong to a tenant, with the column that says which.
    static let tenantTables: [(table: String, column: String)] = [
        ("tenants", "id"), ("api_keys", "tenant_id"), ("workspaces", "tenant_id"),
        ("workspace_events", "tenant_id"), ("usage_intervals", "tenant_id"),
        ("idempotency_keys", "tenant_id"), ("audit_events", "tenant_id"), ("tenant_plan_assignments", "tenant_id"),
    ]

    /// Tenant-owned tables the tenant role may not read at all: tenant code never does.
    static let unreadable: Set<String> = ["api_keys", "audit_events"]

    /// Rows for one tenant in every tenant-owned table; returns the workspace id.
    static func seed(_ tenant: TenantID, name: String, in scope: SystemScope) async throws {
        try await scope.execute("INSERT INTO tenants (id, name) VALUES (\(tenant), \(name))")
        try await scope.execute("""
            INSERT INTO api_keys (tenant_id, prefix, key_hash)
            VALUES (\(tenant), \(String(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16))), \(PostgresBytes([UInt8](repeating: 7, count: 32))))
            """)
        let workspace = WorkspaceID.random()
        try await scope.execute("""
            INSERT INTO workspaces (id, tenant_id, name, image, cpu, memory_mb, disk_gb)
            VALUES (\(workspace), \(tenant), 'ws-one', 'berth-busybox:latest', 1, 256, 1)
            """)
        try await scope.execute("INSERT INTO workspace_events (tenant_id, workspace_id, to_status) VALUES (\(tenant), \(workspace), 'pending')")
        try await scope.execute("""
            INSERT INTO usage_intervals (tenant_id, workspace_id, cpu, memory_mb, disk_gb, started_at)
            VALUES (\(tenant), \(workspace), 1, 256, 1, now())
            """)
        try await scope.execute("INSERT INTO idempotency_keys (tenant_id, key, request_hash) VALUES (\(tenant), 'k1', 'h')")
        try await scope.execute("INSERT INTO audit_events (tenant_id, actor_type, action) VALUES (\(tenant), 'tenant', 'workspace.create')")
        try await scope.execute("INSERT INTO tenant_plan_assignments (tenant_id, effective_from, plan_id) VALUES (\(tenant), '-infinity', NULL)")
    }

    @Test func tenantRoleSeesOnlyItsTenant() async throws {
        try await withTestDatabase { _, db in
            let a = TenantID.random(), b = TenantID.random()
            try await db.withSystem { scope in
                try await Self.seed(a, name: "tenant-a", in: scope)
                try await Self.seed(b, name: "tenant-b", in: scope)
            }

            // The tenant role with no tenant set sees nothing at all.
            try await db.withTransaction { tx in
                try await tx.execute("SET LOCAL ROLE berth_tenant")
                for (table, _) in Self.tenantTables where !Self.unreadable.contains(table) {
                    let count = try await tx.first(PostgresQuery(unsafeSQL: "SELECT count(*) AS n FROM \(table)"))!.decode("n", as: Int.self)
                    #expect(count == 0, "\(table) shows \(count) rows with no tenant set")
                }
            }
            for table in Self.unreadable.sorted() {
                let error = await #expect(throws: PostgresError.self, "the tenant role reads \(table)") {
                    try await db.withTenant(a) { try await $0.execute(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)")) }
                }
                #expect(error?.code == .insufficientPrivilege)
            }

            // With tenant A set, exactly A's rows.
            try await db.withTenant(a) { scope in
                for (table, column) in Self.tenantTables where !Self.unreadable.contains(table) {
                    let rows = try await scope.execute(PostgresQuery(unsafeSQL: "SELECT \(column) AS owner FROM \(table)"))
                    #expect(rows.count == 1, "\(table) shows \(rows.count) rows to tenant A")
                    for row in rows { #expect(try row.decode("owner", as: TenantID.self) == a, "\(table) leaks another tenant's row") }
                }
            }

            // A cannot write B's rows, its tenant row included: inserts are refused (by WITH CHECK, or
            // for lack of the privilege), updates and deletes find nothing, and an update without a
            // WHERE clause (which PostgreSQL checks against the UPDATE policies alone) leaves B's rows
            // as they were.
            let bWorkspace = try await db.withSystem { scope in
                try await scope.first("SELECT id FROM workspaces WHERE tenant_id = \(b)")!.decode("id", as: WorkspaceID.self)
            }
            func rowsOfB() async throws -> [String: [String]] {
                try await db.withSystem { scope in
                    var result: [String: [String]] = [:]
                    for (table, column) in Self.tenantTables {
                        result[table] = try await scope.execute(PostgresQuery(
                            unsafeSQL: "SELECT row_to_json(t)::text AS j FROM \(table) t WHERE \(column) = $1 ORDER BY 1", binds: [b.description]
                        )).map { try $0.decode("j", as: String.self) }
                    }
                    return result
                }
            }
            let before = try await rowsOfB()
            // What an update changes, per table (for api_keys, the one column a tenant may update).
            let changes = [
                "tenants": "status = 'suspended', max_workspaces = 1000", "api_keys": "last_used_at = now()", "workspaces": "name = 'stolen'",
                "workspace_events": "reason = 'forged'", "usage_intervals": "ended_at = now()", "idempotency_keys": "request_hash = 'forged'",
                "audit_events": "action = 'forged'", "tenant_plan_assignments": "effective_from = now()",
            ]
            for (table, column) in Self.tenantTables {
                await #expect(throws: PostgresError.self, "insert into \(table) for tenant B") {
                    try await db.withTenant(a) { scope in
                        switch table {
                        case "tenants":
                            try await scope.execute("INSERT INTO tenants (id, name) VALUES (\(TenantID.random()), 'sneaky')")
                        case "api_keys":
                            try await scope.execute("INSERT INTO api_keys (tenant_id, prefix, key_hash) VALUES (\(b), 'ffffffffffffffff', \(PostgresBytes([UInt8](repeating: 1, count: 32))))")
                        case "workspaces":
                            try await scope.execute("INSERT INTO workspaces (tenant_id, name, image, cpu, memory_mb, disk_gb) VALUES (\(b), 'sneaky', 'x', 1, 1, 0)")
                        case "workspace_events":
                            try await scope.execute("INSERT INTO workspace_events (tenant_id, workspace_id, to_status) VALUES (\(b), \(bWorkspace), 'error')")
                        case "usage_intervals":
                            try await scope.execute("INSERT INTO usage_intervals (tenant_id, workspace_id, cpu, memory_mb, disk_gb, started_at) VALUES (\(b), \(bWorkspace), 1, 1, 0, now())")
                        case "idempotency_keys":
                            try await scope.execute("INSERT INTO idempotency_keys (tenant_id, key, request_hash) VALUES (\(b), 'k2', 'h')")
                        case "audit_events":
                            try await scope.execute("INSERT INTO audit_events (tenant_id, actor_type, action) VALUES (\(b), 'tenant', 'forged')")
                        case "tenant_plan_assignments":
                            try await scope.execute("INSERT INTO tenant_plan_assignments (tenant_id, effective_from) VALUES (\(b), now())")
                        default:
                            Issue.record("no insert written for \(table)")
                        }
                    }
                }
                let setClause = try #require(changes[table], "no update written for \(table)")
                let updated = try await Self.affectedOrRefused(db, a, "UPDATE \(table) SET \(setClause) WHERE \(column) = $1", [b.description])
                let deleted = try await Self.affectedOrRefused(db, a, "DELETE FROM \(table) WHERE \(column) = $1", [b.description])
                #expect(updated == 0 && deleted == 0, "\(table): tenant A touched B's rows")
                _ = try await Self.affectedOrRefused(db, a, "UPDATE \(table) SET \(setClause)", [])
                #expect(try await rowsOfB()[table] == before[table], "\(table): an update as tenant A changed B's rows")
            }
            // Moving one of A's own rows over to B is refused too.
            await #expect(throws: PostgresError.self) {
                try await db.withTenant(a) { scope in
                    try await scope.execute("UPDATE workspaces SET tenant_id = \(b)")
                }
            }
            // B's rows are all still there, exactly as they were.
            let after = try await rowsOfB()
            for (table, _) in Self.tenantTables {
                #expect(after[table]?.count == 1, "\(table) lost tenant B's row")
                #expect(after[table] == before[table], "\(table): B's row changed")
            }
        }
    }

    /// Rows a statement touched as tenant `tenant`, or 0 when PostgreSQL refused it outright.
    static func affectedOrRefused(_ db: Database, _ tenant: TenantID, _ sql: String, _ binds: [String]) async throws -> Int {
        do {
            return try await db.withTenant(tenant) { scope in
                try await scope.execute(PostgresQuery(unsafeSQL: sql, binds: binds)).affectedRows
            }
        } catch let error as PostgresError where error.code == .insufficientPrivilege {
            return 0
        }
    }

    @Test func refusedWriteSurfacesAsPrivilegeError() async throws {
        try await withTestDatabase { _, db in
            let a = TenantID.random(), b = TenantID.random()
            try await db.withSystem { scope in
                try await Self.seed(a, name: "tenant-a", in: scope)
                try await Self.seed(b, name: "tenant-b", in: scope)
            }
            do {
                try await db.withTenant(a) { scope in
                    try await scope.execute("INSERT INTO idempotency_keys (tenant_id, key, request_hash) VALUES (\(b), 'x', 'h')")
                }
                Issue.record("insert for another tenant succeeded")
            } catch let error as PostgresError {
                #expect(error.code == .insufficientPrivilege)
                #expect(error.message.contains("row-level security"))
            }
        }
    }

    @Test func pooledConnectionCarriesNoTenantAfterTenantTransaction() async throws {
        try await withTestDatabase(poolSize: 1) { _, db in
            let a = TenantID.random()
            try await db.withSystem { try await Self.seed(a, name: "tenant-a", in: $0) }
            let tenantPID = try await db.withTenant(a) { scope in
                let row = try await scope.first("SELECT current_user AS role, current_setting('berth.tenant_id', true) AS tenant")!
                #expect(try row.decode("role", as: String.self) == "berth_tenant")
                #expect(try row.decode("tenant", as: String?.self) == a.description)
                return scope.transaction.backendPID
            }
            try await db.withConnection { connection in
                #expect(connection.backendPID == tenantPID, "the pool of one should hand back the same connection")
                let row = try await connection.first("SELECT current_user AS role, current_setting('berth.tenant_id', true) AS tenant")!
                #expect(try row.decode("role", as: String.self) == "berth_app")
                let tenant = try row.decode("tenant", as: String?.self)
                #expect(tenant == nil || tenant == "", "tenant setting survived the transaction: \(tenant ?? "")")
                // And it sees across tenants again, as the system role.
                #expect(try await connection.first("SELECT count(*) AS n FROM workspaces")!.decode("n", as: Int.self) == 1)
            }
            // Same after a tenant transaction that failed half-way.
            await #expect(throws: PostgresError.self) {
                try await db.withTenant(a) { scope in try await scope.execute("SELECT 1/0") }
            }
            try await db.withConnection { connection in
                let row = try await connection.first("SELECT current_user AS role, current_setting('berth.tenant_id', true) AS tenant")!
                #expect(try row.decode("role", as: String.self) == "berth_app")
                #expect((try row.decode("tenant", as: String?.self) ?? "") == "")
            }
        }
    }

    @Test func loginRoleCannotEscapeRowLevelSecurity() async throws {
        try await withTestDatabase { _, db in
            try await db.withConnection { connection in
                let role = try await connection.first("""
                    SELECT rolsuper, rolbypassrls, rolcreaterole FROM pg_roles WHERE rolname = current_user
                    """)!
                #expect(try role.decode("rolsuper", as: Bool.self) == false)
                #expect(try role.decode("rolbypassrls", as: Bool.self) == false)
                #expect(try role.decode("rolcreaterole", as: Bool.self) == false)
                let owned = try await connection.first("""
                    SELECT count(*) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) = current_user
                    """)!
                #expect(try owned.decode("n", as: Int.self) == 0)
                let tenantRole = try await connection.first("""
                    SELECT rolcanlogin, rolbypassrls, rolsuper FROM pg_roles WHERE rolname = 'berth_tenant'
                    """)!
                #expect(try tenantRole.decode("rolcanlogin", as: Bool.self) == false)
                #expect(try tenantRole.decode("rolbypassrls", as: Bool.self) == false)
                #expect(try tenantRole.decode("rolsuper", as: Bool.self) == false)
            }
            for table in Self.tenantTables.map(\.table) {
                do {
                    try await db.withConnection { connection in
                        try await connection.executeScript("ALTER TABLE \(table) DISABLE ROW LEVEL SECURITY")
                    }
                    Issue.record("berth_app disabled row-level security on \(table)")
                } catch let error as PostgresError {
                    #expect(error.code == .insufficientPrivilege, "\(error)")
                    #expect(error.message.contains("must be owner"))
                }
            }
            // Every tenant-owned table has RLS enabled and forced.
            let names = "{" + Self.tenantTables.map(\.table).joined(separator: ",") + "}"
            let flags = try await db.withConnection { connection in
                try await connection.execute("""
                    SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class
                    WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace AND relname = ANY(\(names)::text[])
                    """)
            }
            #expect(flags.count == Self.tenantTables.count)
            // And every table that holds a tenant_id is one of them: a new one cannot be forgotten.
            let owned = try await db.withConnection { connection in
                try await connection.execute("""
                    SELECT table_name::text AS name FROM information_schema.columns
                    WHERE table_schema = 'public' AND column_name = 'tenant_id' ORDER BY 1
                    """).map { try $0.decode("name", as: String.self) }
            }
            #expect(Set(owned).subtracting(Self.tenantTables.map(\.table)).isEmpty, "tables with a tenant_id outside the matrix: \(owned)")
            for row in flags {
                let name = try row.decode("relname", as: String.self)
                #expect(try row.decode("relrowsecurity", as: Bool.self), "\(name) has RLS disabled")
                #expect(try row.decode("relforcerowsecurity", as: Bool.self), "\(name) does not force RLS")
            }
        }
    }
}

/// What the tenant role may do at all, and references that cannot cross tenants.
@Suite struct LeastPrivilegeTests {
    @Test func theTenantRoleMayOnlyDoWhatTenantCodeDoes() async throws {
        let testDB = try await TestDatabase.make()
        let db = testDB.app()
        let a = TenantID.random(), b = TenantID.random()
        try await db.withSystem { scope in
            try await RowLevelSecurityTests.seed(a, name: "tenant-a", in: scope)
            try await RowLevelSecurityTests.seed(b, name: "tenant-b", in: scope)
        }
        let own = try await db.withSystem { try await $0.first("SELECT id FROM workspaces WHERE tenant_id = \(a)")!.decode("id", as: WorkspaceID.self) }
        // Allowed: noting activity on its own workspace.
        let touched = try await db.withTenant(a) { try await $0.execute("UPDATE workspaces SET last_activity_at = now() WHERE id = \(own)").affectedRows }
        #expect(touched == 1)
        // Refused even on its own rows: every other write is the service's, in the system scope.
        let refusals: [PostgresQuery] = [
            "UPDATE workspaces SET status = 'running' WHERE id = \(own)",
            "UPDATE workspaces SET cpu = 64 WHERE id = \(own)",
            "DELETE FROM workspaces WHERE id = \(own)",
            "INSERT INTO workspace_events (tenant_id, workspace_id, to_status) VALUES (\(a), \(own), 'running')",
            "UPDATE usage_intervals SET ended_at = started_at WHERE tenant_id = \(a)",
            "UPDATE tenants SET max_workspaces = 1000 WHERE id = \(a)",
            "SELECT host FROM workspace_servers",
            "UPDATE workspace_servers SET current_cpu_used = 0",
        ]
        for statement in refusals {
            let error = await #expect(throws: PostgresError.self, "\(statement.sql)") {
                try await db.withTenant(a) { try await $0.execute(statement) }
            }
            #expect(error?.code == .insufficientPrivilege, "\(statement.sql): \(String(describing: error))")
        }
        db.shutdown()
        await testDB.drop()
    }

    /// A row naming a workspace names its tenant, and the pair must exist: not even the system
    /// scope can file an event or an interval of B's workspace under A.
    @Test func referencesToAWorkspaceCarryItsTenant() async throws {
        let testDB = try await TestDatabase.make()
        let db = testDB.app()
        let a = TenantID.random(), b = TenantID.random()
        try await db.withSystem { scope in
            try await RowLevelSecurityTests.seed(a, name: "tenant-a", in: scope)
            try await RowLevelSecurityTests.seed(b, name: "tenant-b", in: scope)
        }
        let bWorkspace = try await db.withSystem { try await $0.first("SELECT id FROM workspaces WHERE tenant_id = \(b)")!.decode("id", as: WorkspaceID.self) }
        for statement: PostgresQuery in [
            "INSERT INTO workspace_events (tenant_id, workspace_id, to_status) VALUES (\(a), \(bWorkspace), 'running')",
            "INSERT INTO usage_intervals (tenant_id, workspace_id, cpu, memory_mb, disk_gb, started_at, ended_at) VALUES (\(a), \(bWorkspace), 1, 1, 0, now(), now())",
        ] {
            let error = await #expect(throws: PostgresError.self) { try await db.withSystem { try await $0.execute(statement) } }
            #expect(error?.code == .foreignKeyViolation, "\(statement.sql)")
        }
        db.shutdown()
        await testDB.drop()
    }
}
