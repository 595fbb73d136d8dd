import API
import BerthTestSupport
import Billing
import Compute
import Domain
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Persistence
import Secrets
import Testing

/// Every admin route on a real database and real engines: auth, validation, the fleet, tenants,
/// keys, audit and the placement dry run.
@Suite struct AdminRoutesTests {
    static let token = "admin-token-for-tests-0123456789"

    struct Setup {
        let testDB: TestDatabase
        let db: Database
        let tenantKey: String
    }

    /// Runs `body` on a fresh database with its fixtures; the database is dropped afterwards, whatever happens.
    static func withSetup<T>(_ body: (Setup) async throws -> T) async throws -> T {
        try await withTestDatabase(poolSize: 6) { testDB, db in
            let material = APIKeyMaterial.generate()
            try await db.withSystem { scope in
                let tenant = try await TenantStore().create(name: "tenant-a", quota: .standard, in: scope)
                _ = try await APIKeyStore().insert(tenantID: tenant.id, name: "k", prefix: material.prefix, hash: material.hash, in: scope)
            }
            return try await body(Setup(testDB: testDB, db: db, tenantKey: material.secret))
        }
    }

    static func app(_ setup: Setup, token: String? = Self.token) -> some ApplicationProtocol {
        let pool = DockerServerPool()
        let placement = PlacementService(database: setup.db, logger: TestDatabase.logger)
        let orchestrator = WorkspaceOrchestrator(database: setup.db, placement: placement, pool: pool, stopGrace: .seconds(1), logger: TestDatabase.logger)
        let migrator = Migrator(database: setup.db, directory: TestEnvironment.repositoryRoot.appendingPathComponent("sql"), logger: TestDatabase.logger)
        return buildApplication(
            services: AppServices(database: setup.db, migrator: migrator, orchestrator: orchestrator, placement: placement, pool: pool, adminToken: token.flatMap(AdminToken.init)),
            configuration: .init(), logger: TestDatabase.logger
        )
    }

    static func headers(_ bearer: String?) -> HTTPFields {
        var fields = HTTPFields()
        if let bearer { fields[.authorization] = "Bearer \(bearer)" }
        fields[.contentType] = "application/json"
        return fields
    }

    typealias Reply = (status: HTTPResponse.Status, text: String)

    static func call(_ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, _ body: String? = nil, bearer: String? = Self.token) async throws -> Reply {
        try await client.execute(uri: uri, method: method, headers: headers(bearer), body: body.map { ByteBuffer(string: $0) }) {
            ($0.status, String(buffer: $0.body))
        }
    }

    static func json(_ text: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] ?? [:]
    }

    static func plain(_ variable: String) throws -> (host: String, port: Int) {
        let parts = try TestEnvironment.require(variable).split(separator: ":")
        return (String(parts[0]), Int(parts[1])!)
    }

    static func serverBody(_ name: String, _ engine: (host: String, port: Int), cpu: Double = 2, labels: String = #"{"region":"eu"}"#) -> String {
        #"{"name":"\#(name)","host":"\#(engine.host)","docker_port":\#(engine.port),"total_cpu":\#(cpu),"total_memory_mb":2048,"total_disk_gb":20,"max_workspaces":10,"labels":\#(labels)}"#
    }

    @Test func authenticationRefusesMissingWrongAndTenantCredentials() async throws {
        try await Self.withSetup { setup in
            try await Self.app(setup).test(.router) { client in
                for uri in ["/admin/servers", "/admin/cluster", "/admin/tenants", "/admin/audit", "/admin/workspaces"] {
                    let none = try await Self.call(client, .get, uri, bearer: nil)
                    #expect(none.status == .unauthorized && none.text.contains("\"unauthorized\""), "\(uri)")
                    let wrong = try await Self.call(client, .get, uri, bearer: Self.token + "x")
                    #expect(wrong.status == .unauthorized, "\(uri)")
                    let tenant = try await Self.call(client, .get, uri, bearer: setup.tenantKey)
                    #expect(tenant.status == .forbidden && tenant.text.contains("\"forbidden\""), "\(uri)")
                    #expect(!tenant.text.contains(setup.tenantKey) && !wrong.text.contains(Self.token))
                    #expect(try await Self.call(client, .get, uri).status == .ok, "\(uri)")
                }
                // Mutations too.
                #expect(try await Self.call(client, .post, "/admin/tenants", #"{"name":"sneaky"}"#, bearer: setup.tenantKey).status == .forbidden)
                #expect(try await Self.call(client, .post, "/admin/tenants", #"{"name":"sneaky"}"#, bearer: nil).status == .unauthorized)
                // The admin token is not a tenant key either.
                #expect(try await Self.call(client, .get, "/v1/workspaces").status == .unauthorized)
            }
            // Without a configured token the admin API is off.
            try await Self.app(setup, token: nil).test(.router) { client in
                let off = try await Self.call(client, .get, "/admin/servers")
                #expect(off.status == .serviceUnavailable && off.text.contains("admin_disabled"))
            }
        }
    }

    @Test func serversAddValidateUpdateScheduleAndRemove() async throws {
        try await Self.withSetup { setup in
            let engine = try Self.plain("BERTH_TEST_DOCKER_PLAIN_2")
            try await Self.app(setup).test(.router) { client in
                // Add: connects once and says how it went.
                let added = try await Self.call(client, .post, "/admin/servers", Self.serverBody("ws-admin", engine))
                #expect(added.status == .created, "\(added.text)")
                let addedJSON = try Self.json(added.text)
                let connection = addedJSON["connection"] as? [String: Any]
                #expect(connection?["ok"] as? Bool == true && (connection?["docker_version"] as? String)?.isEmpty == false, "\(added.text)")
                let id = (addedJSON["server"] as? [String: Any])?["id"] as? String ?? ""
                #expect(try await Self.call(client, .post, "/admin/servers", Self.serverBody("ws-admin", engine)).status == .conflict)

                // An engine that does not answer is added, and the answer says so.
                let deaf = try await Self.call(client, .post, "/admin/servers", Self.serverBody("ws-deaf", ("127.0.0.1", 1)))
                #expect(deaf.status == .created && deaf.text.contains(#""ok":false"#), "\(deaf.text)")

                // Validation.
                let certs = try TestEnvironment.require("BERTH_TEST_DOCKER_CERTS")
                let mismatched = FileManager.default.temporaryDirectory.appendingPathComponent("berth-mismatch-\(UUID())").path
                try FileManager.default.createDirectory(atPath: mismatched, withIntermediateDirectories: true)
                for (file, from) in [("ca.pem", "client"), ("cert.pem", "client"), ("key.pem", "foreign-client")] {
                    try FileManager.default.copyItem(atPath: "\(certs)/\(from)/\(file)", toPath: "\(mismatched)/\(file)")
                }
                let tls = try Self.plain("BERTH_TEST_DOCKER_TLS")
                for (body, words) in [
                    (#"{"name":"x","host":"bad host!","docker_port":1}"#, "host"),
                    (#"{"name":"x","host":"127.0.0.1","docker_port":70000}"#, "docker_port"),
                    (#"{"name":"Bad_Name","host":"127.0.0.1","docker_port":2375}"#, "name"),
                    (#"{"name":"x","host":"10.1.2.3","docker_port":2375}"#, "plain TCP"),
                    (#"{"name":"x","host":"127.0.0.1","docker_port":2375,"total_cpu":0}"#, "total_cpu"),
                    (#"{"name":"x","host":"127.0.0.1","docker_port":2375,"colour":"red"}"#, "unknown field"),
                    (#"{"name":"x","host":"127.0.0.1","docker_port":2376,"tls_enabled":true}"#, "cert_path"),
                    (#"{"name":"x","host":"127.0.0.1","docker_port":2376,"tls_enabled":true,"cert_path":"/nonexistent/certs"}"#, "not a folder"),
                    (#"{"name":"x","host":"127.0.0.1","docker_port":2376,"tls_enabled":true,"cert_path":"\#(mismatched)"}"#, "does not belong"),
                    ("{", "JSON"),
                ] {
                    let refused = try await Self.call(client, .post, "/admin/servers", body)
                    #expect(refused.status == .badRequest && refused.text.contains("validation_failed") && refused.text.contains(words), "\(body): \(refused.text)")
                }
                try? FileManager.default.removeItem(atPath: mismatched)
                // A TLS engine with the right client certificate.
                let secure = try await Self.call(client, .post, "/admin/servers",
                    #"{"name":"ws-admin-tls","host":"\#(tls.host)","docker_port":\#(tls.port),"tls_enabled":true,"cert_path":"\#(certs)/client"}"#)
                #expect(secure.status == .created && secure.text.contains(#""ok":true"#), "\(secure.text)")

                // List and get.
                let list = try await Self.call(client, .get, "/admin/servers")
                #expect(list.text.contains("ws-admin") && list.text.contains("ws-deaf") && list.text.contains("ws-admin-tls"))
                #expect(!list.text.contains("BEGIN"), "certificate contents never appear")
                #expect(try await Self.call(client, .get, "/admin/servers/\(id)").status == .ok)
                #expect(try await Self.call(client, .get, "/admin/servers/\(UUID())").status == .notFound)
                #expect(try await Self.call(client, .get, "/admin/servers/not-an-id").status == .notFound)

                // Update capacity and labels; connection fields are refused.
                let patched = try await Self.call(client, .patch, "/admin/servers/\(id)", #"{"total_cpu":3,"labels":{"region":"us","gpu":true}}"#)
                #expect(patched.status == .ok && patched.text.contains(#""cpu":3"#) && patched.text.contains(#""gpu":true"#), "\(patched.text)")
                #expect(try await Self.call(client, .patch, "/admin/servers/\(id)", #"{"host":"10.0.0.1"}"#).status == .badRequest)
                #expect(try await Self.call(client, .patch, "/admin/servers/\(id)", #"{"total_cpu":-1}"#).status == .badRequest)

                // Place a workspace on it (the monitor is not running here: mark it healthy).
                try await setup.db.withSystem { try await $0.execute("UPDATE workspace_servers SET status = 'healthy' WHERE name = 'ws-admin'") }
                let created = try await Self.call(client, .post, "/v1/workspaces?wait=running",
                    #"{"name":"busy","image":"berth-busybox:latest","resources":{"cpu":1,"memory_mb":64}}"#, bearer: setup.tenantKey)
                #expect(created.status == .created && created.text.contains("ws-admin"), "\(created.text)")
                let workspaceID = try Self.json(created.text)["id"] as? String ?? ""

                // Capacity below what is held: refused.
                let below = try await Self.call(client, .patch, "/admin/servers/\(id)", #"{"total_cpu":0.5}"#)
                #expect(below.status == .conflict && below.text.contains("capacity_below_reservations"), "\(below.text)")

                // Live stats from Docker beside the reservations.
                let stats = try await Self.call(client, .get, "/admin/servers/\(id)/stats")
                #expect(stats.status == .ok, "\(stats.text)")
                let live = (try Self.json(stats.text)["live"] as? [String: Any])?["workspaces"] as? [String: Any]
                let container = try await setup.db.withSystem { try await $0.first("SELECT container_id FROM workspaces WHERE name = 'busy'")!.decode("container_id", as: String.self) }
                // The engine is shared with other tests: ours runs and is known; anything else is listed as unknown.
                #expect((live?["running"] as? Int ?? 0) >= 1 && (live?["memory_used_mb"] as? Int) != nil, "\(stats.text)")
                #expect((live?["unknown_containers"] as? [String])?.contains(container) == false, "\(stats.text)")
                let deafStats = try await Self.call(client, .get, "/admin/servers/\((try Self.json(deaf.text)["server"] as? [String: Any])?["id"] as? String ?? "")/stats")
                #expect(deafStats.status == .ok && deafStats.text.contains("did not answer") && !deafStats.text.contains(#""live""#), "\(deafStats.text)")

                // Busy: removal refused, naming the workspace.
                let busy = try await Self.call(client, .delete, "/admin/servers/\(id)")
                #expect(busy.status == .conflict && busy.text.contains("server_busy") && busy.text.contains("busy"), "\(busy.text)")

                // Cordon, uncordon, drain.
                let cordoned = try await Self.call(client, .post, "/admin/servers/\(id)/cordon")
                #expect(cordoned.status == .ok && cordoned.text.contains(#""schedulable":"cordoned""#))
                let refused = try await Self.call(client, .post, "/v1/workspaces", #"{"name":"nope","image":"berth-busybox:latest","resources":{"cpu":0.5,"memory_mb":64}}"#, bearer: setup.tenantKey)
                #expect(refused.status == .conflict && refused.text.contains("cordoned"), "\(refused.text)")
                #expect(try await Self.call(client, .post, "/admin/servers/\(id)/uncordon").text.contains(#""schedulable":"active""#))
                let drained = try await Self.call(client, .post, "/admin/servers/\(id)/drain")
                #expect(drained.status == .ok && drained.text.contains(#""schedulable":"draining""#) && drained.text.contains(workspaceID), "\(drained.text)")

                // Once the workspace is gone, removal works; the name is free again.
                #expect(try await Self.call(client, .delete, "/v1/workspaces/\(workspaceID)", bearer: setup.tenantKey).status == .noContent)
                #expect(try await Self.call(client, .delete, "/admin/servers/\(id)").status == .noContent)
                #expect(try await Self.call(client, .get, "/admin/servers/\(id)").status == .notFound)
                #expect(try await Self.call(client, .delete, "/admin/servers/\(id)").status == .notFound)
                #expect(try await Self.call(client, .post, "/admin/servers", Self.serverBody("ws-admin", engine)).status == .created)

                // Every change is in the audit log.
                let audit = try await Self.call(client, .get, "/admin/audit?actor=admin&limit=200")
                for action in ["server.add", "server.update", "server.cordon", "server.uncordon", "server.drain", "server.remove"] {
                    #expect(audit.text.contains(#""action":"\#(action)""#), "\(action)")
                }
            }
        }
    }

    /// A create body's status and limits all take effect: the status too, with or without limits.
    @Test func aTenantCreateSetsItsStatusAndLimits() async throws {
        try await Self.withSetup { setup in
            try await Self.app(setup).test(.router) { client in
                // What a create body sets, it sets in the one INSERT: the status too, with or without limits.
                let dormant = try Self.json(try await Self.call(client, .post, "/admin/tenants", #"{"name":"dormant","status":"suspended"}"#).text)
                #expect(dormant["status"] as? String == "suspended", "\(dormant)")
                let limited = try Self.json(try await Self.call(client, .post, "/admin/tenants", #"{"name":"limited","idle_stop_minutes":30,"max_lifetime_minutes":600}"#).text)
                #expect(limited["status"] as? String == "active" && limited["idle_stop_minutes"] as? Double == 30 && limited["max_lifetime_minutes"] as? Double == 600, "\(limited)")
            }
        }
    }

    @Test func tenantsKeysAndPricePlans() async throws {
        try await Self.withSetup { setup in
            try await Self.app(setup).test(.router) { client in
                let created = try await Self.call(client, .post, "/admin/tenants", #"{"name":"acme","max_workspaces":3,"max_cpu":2.5,"max_memory_mb":4096}"#)
                #expect(created.status == .created && created.text.contains(#""max_cpu":2.5"#), "\(created.text)")
                let tenantID = try Self.json(created.text)["id"] as? String ?? ""
                #expect(try await Self.call(client, .post, "/admin/tenants", #"{"name":"acme"}"#).status == .conflict)
                // Each refusal is a 400 with the right code and the field at fault (none for a body
                // that is not an object), read from the error itself rather than found in the text.
                for (bad, code, field) in [
                    (#"{"name":"Acme Inc"}"#, "validation_failed", "name"), (#"{"name":"ok","max_cpu":"two"}"#, "validation_failed", "max_cpu"),
                    (#"{"name":"ok","max_workspaces":-1}"#, "validation_failed", "max_workspaces"), (#"{"name":"ok","owner":"x"}"#, "validation_failed", "owner"),
                    ("[]", "validation_failed", nil), ("{", "malformed_json", nil),
                ] as [(String, String, String?)] {
                    let refused = try await Self.call(client, .post, "/admin/tenants", bad)
                    let error = try Self.json(refused.text)["error"] as? [String: Any]
                    #expect(refused.status == .badRequest, "\(bad): \(refused.status) \(refused.text)")
                    #expect(error?["code"] as? String == code, "\(bad): \(refused.text)")
                    #expect((error?["details"] as? [String: Any])?["field"] as? String == field, "\(bad): \(refused.text)")
                }
                let names = (try Self.json(try await Self.call(client, .get, "/admin/tenants?limit=200").text)["items"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
                #expect(names.sorted() == ["acme", "tenant-a"], "a refused create made a tenant: \(names)")

                // Keys: the secret once, then only its prefix.
                let issued = try await Self.call(client, .post, "/admin/tenants/\(tenantID)/api-keys", #"{"name":"ci"}"#)
                #expect(issued.status == .created, "\(issued.text)")
                let secret = try Self.json(issued.text)["secret"] as? String ?? ""
                let keyID = (try Self.json(issued.text)["key"] as? [String: Any])?["id"] as? String ?? ""
                #expect(secret.hasPrefix("berth_"))
                #expect(try await Self.call(client, .get, "/v1/workspaces", bearer: secret).status == .ok)
                let shown = try await Self.call(client, .get, "/admin/tenants/\(tenantID)")
                #expect(shown.status == .ok && shown.text.contains(keyID) && !shown.text.contains(secret))
                let stored = try await setup.db.withSystem { try await $0.first("SELECT count(*) AS n FROM api_keys WHERE key_hash = \(PostgresBytes(Digest.sha256(secret)))")!.decode("n", as: Int.self) }
                #expect(stored == 1, "only the hash is stored")

                // Suspension refuses the tenant's keys; reactivation lets them in again.
                let suspended = try await Self.call(client, .patch, "/admin/tenants/\(tenantID)", #"{"status":"suspended","max_workspaces":5}"#)
                #expect(suspended.status == .ok && suspended.text.contains(#""max_workspaces":5"#) && suspended.text.contains(#""max_cpu":2.5"#))
                let blocked = try await Self.call(client, .get, "/v1/workspaces", bearer: secret)
                #expect(blocked.status == .forbidden && blocked.text.contains("tenant_suspended"))
                #expect(try await Self.call(client, .patch, "/admin/tenants/\(tenantID)", #"{"status":"active"}"#).status == .ok)
                #expect(try await Self.call(client, .get, "/v1/workspaces", bearer: secret).status == .ok)
                #expect(try await Self.call(client, .patch, "/admin/tenants/\(tenantID)", #"{"name":"renamed"}"#).status == .badRequest)
                #expect(try await Self.call(client, .patch, "/admin/tenants/\(tenantID)", #"{"status":"deleted"}"#).status == .badRequest)
                #expect(try await Self.call(client, .patch, "/admin/tenants/\(UUID())", #"{"status":"active"}"#).status == .notFound)

                // Price plans: create, assign, refuse an unknown one.
                let plan = try await Self.call(client, .post, "/admin/price-plans", #"{"name":"standard","currency":"EUR","cpu_core_hour_micros":20000,"memory_gb_hour_micros":5000}"#)
                #expect(plan.status == .created, "\(plan.text)")
                let planID = try Self.json(plan.text)["id"] as? String ?? ""
                let assigned = try await Self.call(client, .patch, "/admin/tenants/\(tenantID)", #"{"price_plan_id":"\#(planID)"}"#)
                #expect(assigned.status == .ok && assigned.text.contains(planID))
                let unknown = try await Self.call(client, .patch, "/admin/tenants/\(tenantID)", #"{"price_plan_id":"\#(UUID())"}"#)
                #expect(unknown.status == .badRequest && unknown.text.contains("price_plan_id"), "\(unknown.text)")
                #expect(try await Self.call(client, .post, "/admin/price-plans", #"{"name":"bad","currency":"euro"}"#).status == .badRequest)
                #expect(try await Self.call(client, .post, "/admin/price-plans", #"{"name":"standard"}"#).status == .conflict)
                let plans = try await Self.call(client, .get, "/admin/price-plans")
                #expect(plans.status == .ok && plans.text.contains(#""cpu_core_hour_micros":20000"#), "\(plans.text)")

                // Prices and plans change from a moment that has not passed, never before.
                let later = RFC3339.format(Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 86_400).rounded()))
                let version = try await Self.call(client, .post, "/admin/price-plans/\(planID)/versions", #"{"effective_from":"\#(later)","cpu_core_hour_micros":30000}"#)
                #expect(version.status == .created, "\(version.text)")
                let versions = try Self.json(version.text)["versions"] as? [[String: Any]] ?? []
                #expect(versions.count == 2 && versions[0]["effective_from"] is NSNull && versions[1]["effective_from"] as? String == later, "\(version.text)")
                // The prices in force now are still the first version's.
                #expect(try Self.json(version.text)["cpu_core_hour_micros"] as? Int == 20000)
                let again = try await Self.call(client, .post, "/admin/price-plans/\(planID)/versions", #"{"effective_from":"\#(later)"}"#)
                #expect(again.status == .conflict && again.text.contains("version_exists"), "\(again.text)")
                let past = try await Self.call(client, .post, "/admin/price-plans/\(planID)/versions", #"{"effective_from":"2020-01-01T00:00:00Z"}"#)
                #expect(past.status == .badRequest && past.text.contains("effective_from"), "\(past.text)")
                #expect(try await Self.call(client, .post, "/admin/price-plans/\(UUID())/versions", #"{"effective_from":"\#(later)"}"#).status == .notFound)
                let other = try await Self.call(client, .post, "/admin/price-plans", #"{"name":"premium","currency":"EUR","cpu_core_hour_micros":90000}"#)
                let otherID = try Self.json(other.text)["id"] as? String ?? ""
                let scheduled = try await Self.call(client, .patch, "/admin/tenants/\(tenantID)", #"{"price_plan_id":"\#(otherID)","price_plan_effective_from":"\#(later)"}"#)
                // Until then the tenant keeps the plan it has.
                let inForce = try Self.json(scheduled.text)["price_plan_id"] as? String
                #expect(scheduled.status == .ok && inForce == planID, "\(scheduled.text)")
                let history = try Self.json(try await Self.call(client, .get, "/admin/tenants/\(tenantID)").text)["tenant"] as? [String: Any]
                let entries = history?["plan_history"] as? [[String: Any]] ?? []
                #expect(entries.map { $0["price_plan_id"] as? String } == [planID, otherID] && entries.last?["effective_from"] as? String == later, "\(entries)")
                let backdated = try await Self.call(client, .patch, "/admin/tenants/\(tenantID)", #"{"price_plan_id":"\#(otherID)","price_plan_effective_from":"2020-01-01T00:00:00Z"}"#)
                #expect(backdated.status == .badRequest && backdated.text.contains("price_plan_effective_from"), "\(backdated.text)")
                let chf = try await Self.call(client, .post, "/admin/price-plans", #"{"name":"swiss","currency":"CHF"}"#)
                let chfID = try Self.json(chf.text)["id"] as? String ?? ""
                let mismatch = try await Self.call(client, .patch, "/admin/tenants/\(tenantID)", #"{"price_plan_id":"\#(chfID)"}"#)
                #expect(mismatch.status == .conflict && mismatch.text.contains("currency_mismatch"), "\(mismatch.text)")

                // Revocation is immediate; a second revoke or a foreign key id is 404.
                #expect(try await Self.call(client, .delete, "/admin/tenants/\(tenantID)/api-keys/\(keyID)").status == .noContent)
                #expect(try await Self.call(client, .get, "/v1/workspaces", bearer: secret).status == .unauthorized)
                #expect(try await Self.call(client, .delete, "/admin/tenants/\(tenantID)/api-keys/\(keyID)").status == .notFound)
                #expect(try await Self.call(client, .delete, "/admin/tenants/\(tenantID)/api-keys/\(UUID())").status == .notFound)

                // List with pagination by name.
                let first = try await Self.call(client, .get, "/admin/tenants?limit=1")
                let next = try Self.json(first.text)["next_cursor"] as? String
                #expect(next == "acme")
                let second = try await Self.call(client, .get, "/admin/tenants?limit=1&cursor=acme")
                #expect(second.text.contains("tenant-a"))
                #expect(try await Self.call(client, .get, "/admin/tenants?limit=0").status == .badRequest)

                // The audit trail names each step and never the secret.
                let audit = try await Self.call(client, .get, "/admin/audit?tenant=\(tenantID)&limit=200")
                for action in ["tenant.create", "api_key.issue", "tenant.update", "api_key.revoke"] {
                    #expect(audit.text.contains(#""action":"\#(action)""#), "\(action)")
                }
                #expect(!audit.text.contains(secret))
            }
        }
    }

    @Test func clusterWorkspacesAuditFiltersAndDryRun() async throws {
        try await Self.withSetup { setup in
            let one = try Self.plain("BERTH_TEST_DOCKER_PLAIN_1"), two = try Self.plain("BERTH_TEST_DOCKER_PLAIN_2")
            try await Self.app(setup).test(.router) { client in
                #expect(try await Self.call(client, .post, "/admin/servers", Self.serverBody("ws-eu", one, cpu: 2)).status == .created)
                #expect(try await Self.call(client, .post, "/admin/servers", Self.serverBody("ws-us", two, cpu: 4, labels: #"{"region":"us"}"#)).status == .created)
                try await setup.db.withSystem { try await $0.execute("UPDATE workspace_servers SET status = 'healthy'") }
                let made = try await Self.call(client, .post, "/v1/workspaces?wait=running",
                    #"{"name":"w1","image":"berth-busybox:latest","resources":{"cpu":1,"memory_mb":128,"disk_gb":2},"placement":{"constraints":{"region":"eu"}}}"#, bearer: setup.tenantKey)
                #expect(made.status == .created && made.text.contains("ws-eu"), "\(made.text)")

                let cluster = try Self.json(try await Self.call(client, .get, "/admin/cluster").text)
                let total = cluster["total"] as? [String: Any], reserved = cluster["reserved"] as? [String: Any]
                #expect(total?["cpu"] as? Double == 6 && total?["memory_mb"] as? Int == 4096 && total?["workspaces"] as? Int == 20, "\(cluster)")
                #expect(reserved?["cpu"] as? Double == 1 && reserved?["memory_mb"] as? Int == 128 && reserved?["disk_gb"] as? Int == 2)
                #expect((cluster["servers_by_status"] as? [String: Int])?["healthy"] == 2)
                #expect((cluster["workspaces_by_status"] as? [String: Int])?["running"] == 1)

                let all = try await Self.call(client, .get, "/admin/workspaces")
                #expect(all.status == .ok && all.text.contains("w1") && all.text.contains("tenant-a"))
                let eu = try Self.json(try await Self.call(client, .get, "/admin/servers").text)["items"] as? [[String: Any]] ?? []
                let usID = eu.first { $0["name"] as? String == "ws-us" }?["id"] as? String ?? ""
                #expect(!(try await Self.call(client, .get, "/admin/workspaces?server=\(usID)").text.contains("w1")))
                #expect(!(try await Self.call(client, .get, "/admin/workspaces?status=stopped").text.contains("w1")))
                #expect(try await Self.call(client, .get, "/admin/workspaces?tenant=nope").status == .badRequest)
                #expect(try await Self.call(client, .get, "/admin/workspaces?status=sleeping").status == .badRequest)

                // Dry run: the explanation per server, and nothing reserved.
                let dry = try await Self.call(client, .post, "/admin/placement/dry-run",
                    #"{"name":"probe","image":"berth-busybox:latest","resources":{"cpu":0.5,"memory_mb":64},"placement":{"strategy":"best_fit","constraints":{"region":"eu"}}}"#)
                #expect(dry.status == .ok, "\(dry.text)")
                let decision = try Self.json(dry.text)
                #expect((decision["chosen"] as? [String: Any])?["name"] as? String == "ws-eu", "\(dry.text)")
                let lines = decision["servers"] as? [[String: Any]] ?? []
                let us = lines.first { ($0["server"] as? [String: Any])?["name"] as? String == "ws-us" }
                #expect(us?["outcome"] as? String == "excluded" && (us?["reasons"] as? [String])?.contains { $0.contains("region") } == true, "\(dry.text)")
                let full = try Self.json(try await Self.call(client, .post, "/admin/placement/dry-run",
                    #"{"name":"probe","image":"berth-busybox:latest","resources":{"cpu":3,"memory_mb":64},"placement":{"constraints":{"region":"eu"}}}"#).text)
                #expect(full["chosen"] == nil && full["would_fail"] as? String == "insufficient_capacity", "\(full)")
                #expect(try await Self.call(client, .post, "/admin/placement/dry-run", #"{"name":"x"}"#).status == .badRequest)
                let after = try Self.json(try await Self.call(client, .get, "/admin/cluster").text)["reserved"] as? [String: Any]
                #expect(after?["cpu"] as? Double == 1 && after?["workspaces"] as? Int == 1)

                // Audit filters and pagination.
                let tenantRows = try await Self.call(client, .get, "/admin/audit?actor=tenant")
                #expect(tenantRows.text.contains("workspace.create") && !tenantRows.text.contains("server.add"))
                let byAction = try Self.json(try await Self.call(client, .get, "/admin/audit?action=server.add&limit=1").text)
                #expect((byAction["items"] as? [[String: Any]])?.count == 1)
                let cursor = byAction["next_cursor"] as? String ?? ""
                let page2 = try Self.json(try await Self.call(client, .get, "/admin/audit?action=server.add&limit=1&cursor=\(cursor)").text)
                #expect((page2["items"] as? [[String: Any]])?.count == 1 && page2["next_cursor"] == nil)
                let future = try Self.json(try await Self.call(client, .get, "/admin/audit?from=2999-01-01T00:00:00Z").text)
                #expect((future["items"] as? [[String: Any]])?.isEmpty == true)
                for bad in ["from=yesterday", "actor=someone", "tenant=x", "cursor=-1", "from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z"] {
                    #expect(try await Self.call(client, .get, "/admin/audit?\(bad)").status == .badRequest, "\(bad)")
                }
                let id = try Self.json(made.text)["id"] as? String ?? ""
                #expect(try await Self.call(client, .delete, "/v1/workspaces/\(id)", bearer: setup.tenantKey).status == .noContent)
            }
        }
    }

    @Test func financeExportsPerTenantAndForEveryTenant() async throws {
        try await Self.withSetup { setup in
            let fixture = UsageFixture(db: setup.db)
            let acme = try await fixture.tenant("acme"), globex = try await fixture.tenant("globex")
            try await fixture.plan("standard", cpuCoreHour: 10_000, for: [acme, globex])
            let server = try await fixture.server("ws-billing")
            let a = try await fixture.workspace("alpha", tenant: acme, server: server, cpu: "1", memoryMB: 1024, diskGB: 1)
            let g = try await fixture.workspace("gamma", tenant: globex, server: server, cpu: "2", memoryMB: 1024, diskGB: 1)
            try await fixture.interval(a, from: "2026-03-10T10:00:00Z", to: "2026-03-10T12:00:00Z")
            try await fixture.interval(g, from: "2026-03-11T10:00:00Z", to: "2026-03-11T11:00:00Z")
            let period = "from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z"
            try await Self.app(setup).test(.router) { client in
                let one = try await Self.call(client, .get, "/admin/tenants/\(acme)/usage/export?\(period)&format=csv")
                #expect(one.status == .ok, "\(one.text)")
                let lines = one.text.split(separator: "\r\n")
                #expect(lines.count == 2 && lines[1].contains("alpha") && lines[1].hasSuffix(",EUR,20000"), "\(one.text)")
                #expect(!one.text.contains("gamma"))
                let all = try await Self.call(client, .get, "/admin/billing/export?\(period)")
                #expect(all.status == .ok && all.text.contains("alpha") && all.text.contains("gamma"), "\(all.text)")
                #expect(try await Self.call(client, .get, "/admin/billing/export?\(period)", bearer: setup.tenantKey).status == .forbidden)
                #expect(try await Self.call(client, .get, "/admin/tenants/\(UUID())/usage/export?\(period)").status == .notFound)
                #expect(try await Self.call(client, .get, "/admin/billing/export?from=2026-03-01T00:00:00Z").status == .badRequest)
                #expect(try await Self.call(client, .get, "/admin/billing/export?\(period)&format=xml").status == .badRequest)
            }
        }
    }

    /// The summary's totals are the sums of the exports' lines, to the micro, however the lines round.
    @Test func theBillingSummaryIsWhatTheExportsAddUpTo() async throws {
        try await Self.withSetup { setup in
            let fixture = UsageFixture(db: setup.db)
            let acme = try await fixture.tenant("acme"), globex = try await fixture.tenant("globex"), idle = try await fixture.tenant("idle")
            let plan = try await fixture.plan("thirds", currency: "CHF", cpuCoreHour: 1_001, memoryGBHour: 7, workspaceHour: 3, for: [acme])
            try await fixture.version(of: plan, from: "2026-03-15T00:00:00Z", cpuCoreHour: 2_003)
            try await fixture.plan("other", cpuCoreHour: 17, for: [globex])
            // Intervals of 7, 14, 21… minutes: thirds and sevenths of micros, rounded line by line.
            for (tenant, count) in [(acme, 9), (globex, 4)] {
                for n in 1...count {
                    let id = try await fixture.workspace("w\(n)", tenant: tenant, server: nil, cpu: "0.\(n)", memoryMB: 100 * n, diskGB: 0)
                    let start = String(format: "2026-03-%02dT10:00:00Z", 10 + n)
                    let end = String(format: "2026-03-%02dT%02d:%02d:00Z", 10 + n, 10 + 7 * n / 60, 7 * n % 60)
                    try await fixture.interval(id, from: start, to: end)
                }
            }
            // One across the price change: two lines.
            let spanning = try await fixture.workspace("spanning", tenant: acme, server: nil, cpu: "1.5", memoryMB: 333, diskGB: 0)
            try await fixture.interval(spanning, from: "2026-03-14T23:30:00Z", to: "2026-03-15T00:30:00Z")
            let period = "from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z"
            try await Self.app(setup).test(.router) { client in
                let response = try await Self.call(client, .get, "/admin/billing/summary?\(period)")
                #expect(response.status == .ok, "\(response.text)")
                // The set-up's own tenant is listed too, at zero.
                let tenants = (try Self.json(response.text)["tenants"] as? [[String: Any]] ?? []).filter { $0["tenant_name"] as? String != "tenant-a" }
                #expect(tenants.map { $0["tenant_name"] as? String } == ["acme", "globex", "idle"])
                let export = try Self.json(try await Self.call(client, .get, "/admin/billing/export?\(period)").text)["rows"] as? [[String: Any]] ?? []
                for (tenant, line) in zip([acme, globex, idle], tenants) {
                    let rows = export.filter { $0["tenant_id"] as? String == tenant.description }
                    let cost = line["cost"] as? [String: Any]
                    #expect(line["lines"] as? Int == rows.count, "\(line)")
                    #expect(cost?["micros"] as? Int == rows.reduce(0) { $0 + ($1["cost_micros"] as? Int ?? 0) }, "\(line)")
                    // And what the tenant's own report says.
                    let report = try await setup.db.withSystem {
                        try await UsageReports().report(tenant: tenant, for: try UsagePeriod(from: RFC3339.parse("2026-03-01T00:00:00Z")!, to: RFC3339.parse("2026-04-01T00:00:00Z")!), in: $0)
                    }
                    #expect(cost?["micros"] as? Int == Int(report.costMicros))
                }
                #expect(tenants.map { $0["currency"] as? String } == ["CHF", "EUR", "EUR"])
                #expect(tenants.map { $0["lines"] as? Int } == [9 + 2, 4, 0], "the interval across the price change is two lines")
                #expect(((tenants[0]["cost"] as? [String: Any])?["micros"] as? Int ?? 0) > 0)
                #expect(try await Self.call(client, .get, "/admin/billing/summary?from=2026-03-01T00:00:00Z").status == .badRequest)
                #expect(try await Self.call(client, .get, "/admin/billing/summary?\(period)", bearer: setup.tenantKey).status == .forbidden)
            }
        }
    }
}
