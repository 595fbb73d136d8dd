import BerthTestSupport
import Compute
import Domain
import Foundation
import Persistence
import Testing

/// `berth backup` and `berth restore` round trip: dump a database a real service used, drop it,
/// restore it, and the service finds the same tenants, keys, workspaces and usage.
@Suite struct BackupProcessTests {
    /// Every row of the tables that matter, as JSON, in a stable order.
    static func snapshot(_ db: Database) async throws -> [String: [String]] {
        try await db.withSystem { scope in
            var tables: [String: [String]] = [:]
            for table in ["tenants", "api_keys", "workspaces", "workspace_events", "usage_intervals", "audit_events", "price_plans",
                          "price_plan_versions", "tenant_plan_assignments", "workspace_servers", "schema_migrations"] {
                tables[table] = try await scope.execute(PostgresQuery(unsafeSQL: "SELECT row_to_json(t)::text AS row FROM \(table) t ORDER BY 1"))
                    .map { try $0.decode("row", as: String.self) }
            }
            return tables
        }
    }

    @Test func aBackupRestoredAfterTheDatabaseWasDroppedHasEverything() async throws {
        let superuser = try TestEnvironment.require("BERTH_TEST_PG_SUPERUSER_URL")
        let testDB = try await TestDatabase.make()
        let berth = try ServedBerth.binary
        let file = NSTemporaryDirectory() + "berth-backup-\(UUID().uuidString.prefix(8)).dump"
        defer { try? FileManager.default.removeItem(atPath: file) }
        var served = try await ServedBerth.start(testDB: testDB, serverName: "backup-1")
        do {
            let tenant = try await served.tenant("kept")
            let plan = try await served.call(.post, "/admin/price-plans", body: #"{"name":"standard","cpu_core_hour_micros":100000}"#, bearer: served.adminToken)
            let planID = try #require(try JSONSerialization.jsonObject(with: plan.body) as? [String: Any])["id"] as? String
            #expect(try await served.call(.patch, "/admin/tenants/\(tenant.id)", body: #"{"price_plan_id":"\#(planID ?? "")"}"#, bearer: served.adminToken).status == 200)
            let created = try await served.call(.post, "/v1/workspaces?wait=running", body: #"{"name":"kept","image":"berth-busybox:latest","resources":{"cpu":0.1,"memory_mb":32,"disk_gb":0}}"#, bearer: tenant.key)
            let id = try #require(try JSONSerialization.jsonObject(with: created.body) as? [String: Any])["id"] as? String ?? ""
            #expect(try await served.call(.post, "/v1/workspaces/\(id)/stop", bearer: tenant.key).status == 200)
            let usageBefore = try await served.call(.get, "/v1/usage", bearer: tenant.key).text
            #expect(served.terminate() == 0)
            let before = try await Self.snapshot(served.db)
            #expect(before["usage_intervals"]?.count == 1 && before["api_keys"]?.count == 1 && before["tenant_plan_assignments"]?.count == 1)

            _ = try TestEnvironment.run([berth, "backup", file, "--database-url", testDB.ownerURL])
            // Drop it, and make an empty one of the same name.
            served.db.shutdown()
            _ = try TestEnvironment.run(["psql", "-X", "-q", superuser, "-c", "DROP DATABASE \(testDB.name) WITH (FORCE)", "-c", "CREATE DATABASE \(testDB.name) OWNER berth_owner"])
            _ = try TestEnvironment.run([berth, "restore", file, "--database-url", testDB.ownerURL])

            served = try await ServedBerth.start(testDB: testDB, serverName: "backup-1")
            let after = try await Self.snapshot(served.db)
            for table in before.keys.sorted() where table != "workspace_servers" {
                #expect(after[table] == before[table], "\(table) differs after the restore")
            }
            // The same service: the key works, the workspace and the usage are there.
            let listed = try await served.call(.get, "/v1/workspaces/\(id)", bearer: tenant.key)
            #expect(listed.status == 200 && listed.text.contains(#""status":"stopped""#), "\(listed.text)")
            let usageAfter = try await served.call(.get, "/v1/usage", bearer: tenant.key).text
            func seconds(_ text: String) -> Double? {
                ((try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]).flatMap { ($0["totals"] as? [String: Any])?["seconds"] as? Double }
            }
            #expect(seconds(usageAfter) != nil && seconds(usageAfter) == seconds(usageBefore), "\(usageBefore) / \(usageAfter)")
            #expect(try await served.call(.get, "/admin/tenants/\(tenant.id)", bearer: served.adminToken).status == 200)
            // A backup that does not exist is refused clearly.
            #expect(throws: TestEnvironment.Missing.self) { try TestEnvironment.run([berth, "restore", "/nonexistent/backup", "--database-url", testDB.ownerURL]) }
            #expect(served.terminate() == 0)
        } catch {
            await served.finish()
            throw error
        }
        await served.finish()
    }
}
