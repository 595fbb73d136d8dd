import BerthTestSupport
import Compute
import Domain
import Foundation
import Persistence
import Secrets
import Testing

/// The tenant API served by a real `berth serve` process: quotas under concurrency, and secrets kept
/// out of every response and log line.
@Suite struct TenantAPIProcessTests {
    struct Served {
        let testDB: TestDatabase
        let db: Database
        let process: SpawnedProcess
        let port: Int
        let logPath: String
        let key: String
        let tenant: TenantID
    }

    /// Runs `body` against a `berth serve` on a fresh database. Whatever happens, the process is
    /// stopped and the database dropped; when `body` throws, the containers it made are removed on
    /// the engine directly.
    static func withServed<T>(quota: Quota, _ body: (Served) async throws -> T) async throws -> T {
        try await withTestDatabase { testDB, db in
            let binary = TestEnvironment.repositoryRoot.appendingPathComponent(".build/debug/berth").path
            guard FileManager.default.isExecutableFile(atPath: binary) else {
                throw TestEnvironment.Missing(description: "\(binary) is not built: run `swift build` (make test does)")
            }
            let plain = try TestEnvironment.require("BERTH_TEST_DOCKER_PLAIN_2").split(separator: ":")
            let tenant = try await db.withSystem { try await TenantStore().create(name: "proc", quota: quota, in: $0).id }
            let material = APIKeyMaterial.generate()
            _ = try await db.withSystem { try await APIKeyStore().insert(tenantID: tenant, name: "k", prefix: material.prefix, hash: material.hash, in: $0) }
            let port = try TestEnvironment.freePort()
            let logPath = NSTemporaryDirectory() + "berth-proc-\(UUID().uuidString.prefix(8)).log"
            let pid = try TestEnvironment.spawn([binary, "serve", "--address", "127.0.0.1:\(port)"], environment: [
                "BERTH_DATABASE_URL": testDB.appURL, "BERTH_HEALTH_INTERVAL": "0.5", "BERTH_LOG_LEVEL": "trace",
                // 50 creates at once from one tenant: the quota is under test, not the per-tenant limits.
                "BERTH_TENANT_MAX_CONCURRENT": "1000", "BERTH_TENANT_RATE": "100000", "BERTH_TENANT_BURST": "100000",
                "BERTH_WORKSPACE_SERVERS": #"[{"name":"proc-1","host":"\#(plain[0])","docker_port":\#(plain[1]),"total_cpu":8,"total_memory_mb":8192,"total_disk_gb":100,"max_workspaces":100}]"#,
                "BERTH_SQL_DIR": TestEnvironment.repositoryRoot.appendingPathComponent("sql").path,
            ], logPath: logPath)
            let served = Served(testDB: testDB, db: db, process: SpawnedProcess(pid: pid), port: port, logPath: logPath, key: material.secret, tenant: tenant)
            do {
                // The service answers and its server is healthy, or the test fails saying which was not.
                try await TestEnvironment.waitUntilReady(within: .seconds(30), logs: [logPath]) {
                    var missing: [String] = []
                    do {
                        let status = try await call(served, .get, "/health").status
                        if status != 200 { missing.append("/health answered \(status)") }
                    } catch {
                        missing.append("/health did not answer (\(error))")
                    }
                    let servers = try await db.withSystem { scope in
                        try await scope.execute("SELECT name, status FROM workspace_servers ORDER BY name").map { "\(try $0.decode("name", as: String.self)) \(try $0.decode("status", as: String.self))" }
                    }
                    if servers != ["proc-1 healthy"] { missing.append("servers: \(servers)") }
                    return missing.isEmpty ? nil : missing.joined(separator: "; ")
                }
                let result = try await body(served)
                served.process.terminate()
                return result
            } catch {
                served.process.terminate()
                await removeContainers(served)
                throw error
            }
        }
    }

    static func call(_ served: Served, _ method: CurlRequest.Method, _ path: String, body: String? = nil, key: String? = nil) async throws -> CurlResponse {
        try await CurlEngine.shared.perform(CurlRequest(
            method: method, url: "http://127.0.0.1:\(served.port)\(path)",
            headers: [("Authorization", "Bearer \(key ?? served.key)"), ("Content-Type", "application/json")],
            body: body.map { Data($0.utf8) }, timeout: .seconds(120)
        ))
    }

    /// Deletes the workspaces through the service, then stops it and expects a clean exit.
    static func finish(_ served: Served) async {
        let ids = (try? await served.db.withSystem { scope in
            try await scope.execute("SELECT id FROM workspaces WHERE status <> 'deleted'").map { try $0.decode("id", as: WorkspaceID.self) }
        }) ?? []
        for id in ids { _ = try? await call(served, .delete, "/v1/workspaces/\(id)") }
        // SIGTERM is a graceful shutdown: the service group stops its loops and exits 0.
        let exit = served.process.terminate()
        #expect(exit == 0, "berth serve exited with \(exit.map(String.init) ?? "a signal") on SIGTERM")
    }

    /// The service is gone: removes its containers on the engine directly.
    static func removeContainers(_ served: Served) async {
        let plain = (try? TestEnvironment.require("BERTH_TEST_DOCKER_PLAIN_2").split(separator: ":")) ?? []
        let containers = (try? await served.db.withSystem { scope in
            try await scope.execute("SELECT container_id FROM workspaces WHERE container_id IS NOT NULL").map { try $0.decode("container_id", as: String.self) }
        }) ?? []
        if plain.count == 2, let port = Int(plain[1]) {
            let engine = DockerClient(endpoint: .http(host: String(plain[0]), port: port))
            for container in containers { try? await engine.removeContainer(container) }
        }
    }

    @Test func quotaHoldsUnderFiftyConcurrentCreates() async throws {
        try await Self.withServed(quota: Quota(maxWorkspaces: 3, maxCPUMillis: 8000, maxMemoryMB: 8192)) { served in
            let statuses = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for i in 0..<50 {
                    group.addTask {
                        let response = try await Self.call(served, .post, "/v1/workspaces?wait=running",
                            body: #"{"name":"q\#(i)","image":"berth-busybox:latest","resources":{"cpu":0.1,"memory_mb":32,"disk_gb":0}}"#)
                        return (response.status, String(decoding: response.body, as: UTF8.self))
                    }
                }
                return try await group.reduce(into: [(Int, String)]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0.0 == 201 }.count == 3)
            for (status, body) in statuses where status != 201 {
                #expect(status == 403, "\(body)")
                #expect(body.contains("quota_exceeded") && body.contains("\"limit\":3"), "\(body)")
            }
            await Self.finish(served)
        }
    }

    @Test func keysAndTokensNeverAppearInResponsesOrLogs() async throws {
        try await Self.withServed(quota: .standard) { served in
            let token = "ghp_" + Digest.hex(SecureRandom.bytes(16))
            var bodies: [String] = []
            let requests: [(CurlRequest.Method, String, String?, String?)] = [
                (.post, "/v1/workspaces?wait=running", #"{"name":"leak","image":"berth-busybox:latest","resources":{"cpu":0.1,"memory_mb":32},"repository":{"url":"https://example.invalid/r.git","token":"\#(token)"}}"#, nil),
                (.post, "/v1/workspaces?wait=running", #"{"name":"leak","image":"berth-busybox:latest","resources":{"cpu":0.1,"memory_mb":32},"env":{"TOKEN":"\#(token)"}}"#, nil),
                (.post, "/v1/workspaces?wait=running", #"{"name":"\#(token)","image":"x","resources":{"cpu":0.1,"memory_mb":32}}"#, nil),
                (.get, "/v1/workspaces", nil, nil),
                (.get, "/v1/workspaces", nil, served.key + "tampered"),
                (.get, "/v1/workspaces/\(UUID())", nil, nil),
            ]
            for (method, path, body, key) in requests {
                let response = try await Self.call(served, method, path, body: body, key: key)
                bodies.append(String(decoding: response.body, as: UTF8.self))
            }
            // SIGTERM is a graceful shutdown: the service group stops its loops and exits 0.
            #expect(served.process.terminate() == 0)
            let log = try String(contentsOfFile: served.logPath, encoding: .utf8)
            #expect(!log.isEmpty)
            for text in bodies + [log] {
                #expect(!text.contains(served.key), "an API key leaked")
                #expect(!text.contains(String(served.key.split(separator: "_").last!)), "the secret part of a key leaked")
                #expect(!text.contains(token), "a token leaked")
            }
            #expect(!log.contains(served.testDB.appURL), "the database URL (with its password) leaked")
            await Self.removeContainers(served)
        }
    }
}
