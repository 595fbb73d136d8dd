import BerthTestSupport
import Compute
import Domain
import Foundation
import Persistence
import Secrets
import Testing

/// The overcommit storm: two real `berth serve` replicas on one database, two small servers, 200
/// concurrent creates over HTTP. Nothing may be overcommitted, and the engines must match the database.
@Suite struct OvercommitStormTests {
    @Test func twoHundredConcurrentCreatesNeverOvercommit() async throws {
        try await withTestDatabase { testDB, db in
            let binary = TestEnvironment.repositoryRoot.appendingPathComponent(".build/debug/berth").path
            guard FileManager.default.isExecutableFile(atPath: binary) else {
                throw TestEnvironment.Missing(description: "\(binary) is not built: run `swift build` (make test does)")
            }
            let plain = try ["BERTH_TEST_DOCKER_PLAIN_1", "BERTH_TEST_DOCKER_PLAIN_2"].map { try TestEnvironment.require($0).split(separator: ":") }
            let servers = """
                [{"name":"storm-1","host":"\(plain[0][0])","docker_port":\(plain[0][1]),"total_cpu":2,"total_memory_mb":2048,"total_disk_gb":50,"max_workspaces":10},
                 {"name":"storm-2","host":"\(plain[1][0])","docker_port":\(plain[1][1]),"total_cpu":2,"total_memory_mb":2048,"total_disk_gb":50,"max_workspaces":10}]
                """
            let tenant = try await db.withSystem {
                try await TenantStore().create(name: "storm", quota: Quota(maxWorkspaces: 1000, maxCPUMillis: 1_000_000, maxMemoryMB: 1_000_000), in: $0).id
            }
            let material = APIKeyMaterial.generate()
            _ = try await db.withSystem { try await APIKeyStore().insert(tenantID: tenant, name: "storm", prefix: material.prefix, hash: material.hash, in: $0) }

            let ports = try (0..<2).map { _ in try TestEnvironment.freePort() }
            let logs = NSTemporaryDirectory() + "berth-storm-\(UUID().uuidString.prefix(8))"
            var pids: [pid_t] = []
            for (index, port) in ports.enumerated() {
                pids.append(try TestEnvironment.spawn([binary, "serve", "--address", "127.0.0.1:\(port)"], environment: [
                    "BERTH_DATABASE_URL": testDB.appURL, "BERTH_HEALTH_INTERVAL": "0.5", "BERTH_WORKSPACE_SERVERS": servers,
                    // One tenant sends all 200 at once: the storm is about capacity, not the per-tenant limits.
                    "BERTH_TENANT_MAX_CONCURRENT": "1000", "BERTH_TENANT_RATE": "100000", "BERTH_TENANT_BURST": "100000",
                    "BERTH_SQL_DIR": TestEnvironment.repositoryRoot.appendingPathComponent("sql").path,
                ], logPath: "\(logs)-\(index).log"))
            }
            defer { for pid in pids { TestEnvironment.terminate(pid) } }
            let engine = CurlEngine.shared
            func call(_ port: Int, _ method: CurlRequest.Method, _ path: String, body: String? = nil) async throws -> CurlResponse {
                try await engine.perform(CurlRequest(
                    method: method, url: "http://127.0.0.1:\(port)\(path)",
                    headers: [("Authorization", "Bearer \(material.secret)"), ("Content-Type", "application/json")],
                    body: body.map { Data($0.utf8) }, timeout: .seconds(120)
                ))
            }
            // Both replicas up, both servers healthy, or the test fails saying which was not.
            try await TestEnvironment.waitUntilReady(within: .seconds(30), logs: ports.indices.map { "\(logs)-\($0).log" }) {
                var missing: [String] = []
                for port in ports {
                    do {
                        let status = try await call(port, .get, "/health").status
                        if status != 200 { missing.append("the replica on port \(port) answered /health with \(status)") }
                    } catch {
                        missing.append("the replica on port \(port) did not answer /health (\(error))")
                    }
                }
                let servers = try await db.withSystem { scope in
                    try await scope.execute("SELECT name, status FROM workspace_servers ORDER BY name").map { "\(try $0.decode("name", as: String.self)) \(try $0.decode("status", as: String.self))" }
                }
                if servers != ["storm-1 healthy", "storm-2 healthy"] { missing.append("servers: \(servers)") }
                return missing.isEmpty ? nil : missing.joined(separator: "; ")
            }

            struct Outcome: Sendable { let status: Int; let body: String }
            let outcomes = try await withThrowingTaskGroup(of: Outcome.self) { group in
                for i in 0..<200 {
                    group.addTask {
                        let body = #"{"name":"s\#(i)","image":"berth-busybox:latest","resources":{"cpu":0.25,"memory_mb":128,"disk_gb":1},"placement":{"strategy":"\#(["spread", "best_fit", "round_robin"][i % 3])"}}"#
                        let response = try await call(ports[i % 2], .post, "/v1/workspaces?wait=running", body: body)
                        return Outcome(status: response.status, body: String(decoding: response.body, as: UTF8.self))
                    }
                }
                return try await group.reduce(into: [Outcome]()) { $0.append($1) }
            }
            let created = outcomes.filter { $0.status == 201 }
            let refused = outcomes.filter { $0.status != 201 }
            // 2 servers × 2 cores / 0.25 = 16 by CPU, 2 × 2048 / 128 = 32 by memory, 2 × 10 by slots: 16 fit.
            #expect(created.count == 16, "created \(created.count)")
            for outcome in created { #expect(outcome.body.contains("\"status\":\"running\""), "\(outcome.body)") }
            for outcome in refused {
                #expect(outcome.status == 409 || outcome.status == 503, "\(outcome.status): \(outcome.body)")
                #expect(outcome.body.contains("insufficient_capacity") || outcome.body.contains("no_healthy_servers"), "\(outcome.body)")
                #expect(outcome.body.contains("storm-1") && outcome.body.contains("storm-2"), "refusal without per-server reasons: \(outcome.body)")
            }

            // Reservations within totals, and equal to what the live workspaces hold.
            let rows = try await db.withSystem { scope in
                try await scope.execute("""
                    SELECT s.name, s.current_cpu_used::float8 AS cpu, s.total_cpu::float8 AS total_cpu,
                           s.current_memory_used_mb AS mem, s.total_memory_mb AS total_mem, s.current_workspaces AS n, s.max_workspaces AS max_n,
                           coalesce((SELECT sum(cpu)::float8 FROM workspaces w WHERE w.server_id = s.id AND w.holds_compute), 0) AS held_cpu
                    FROM workspace_servers s WHERE s.name LIKE 'storm-%'
                    """)
            }
            for row in rows {
                let name = try row.decode("name", as: String.self)
                #expect(try row.decode("cpu", as: Double.self) <= row.decode("total_cpu", as: Double.self), "\(name) overcommitted CPU")
                #expect(try row.decode("mem", as: Int.self) <= row.decode("total_mem", as: Int.self), "\(name) overcommitted memory")
                #expect(try row.decode("n", as: Int.self) <= row.decode("max_n", as: Int.self), "\(name) overcommitted slots")
                #expect(try row.decode("cpu", as: Double.self) == row.decode("held_cpu", as: Double.self), "\(name) reservations drifted")
            }

            // The engines match the database exactly, with the reserved limits.
            let live = try await db.withSystem { scope in
                try await scope.execute("SELECT container_id FROM workspaces WHERE tenant_id = \(tenant) AND status = 'running'").map { try $0.decode("container_id", as: String.self) }
            }
            #expect(live.count == 16)
            var onEngines: [String] = []
            for parts in plain {
                let client = DockerClient(endpoint: .http(host: String(parts[0]), port: Int(parts[1])!))
                for container in try await client.listContainers(labels: ["berth.tenant=\(tenant)"]) {
                    onEngines.append(container.id)
                    let details = try await client.inspectContainer(container.id)
                    #expect(details.state.running)
                    #expect(details.hostConfig.nanoCPUs == 250_000_000 && details.hostConfig.memory == 128 << 20)
                }
            }
            #expect(Set(onEngines) == Set(live))
            #expect(onEngines.count == live.count)

            // Clean up through the API.
            let ids = try await db.withSystem { scope in
                try await scope.execute("SELECT id FROM workspaces WHERE tenant_id = \(tenant) AND status <> 'deleted'").map { try $0.decode("id", as: WorkspaceID.self) }
            }
            for (index, id) in ids.enumerated() { _ = try? await call(ports[index % 2], .delete, "/v1/workspaces/\(id)") }
        }
    }
}
