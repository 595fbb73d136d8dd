import BerthTestSupport
import Compute
import Domain
import Foundation
import Persistence
import Secrets
import Testing

/// `berth serve`'s configuration as a real process reads it: secrets from `<VAR>_FILE`, flags over
/// the environment, `--pool-size`, and the admin token's minimum length.
@Suite struct ServeConfigurationTests {
    static let binary = TestEnvironment.repositoryRoot.appendingPathComponent(".build/debug/berth").path

    /// Every setting the test process inherited (the suite's own database, the fleet's servers) is
    /// cleared, so a serve sees only what a test gives it.
    static func spawn(_ arguments: [String], _ environment: [String: String], log: String) throws -> SpawnedProcess {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw TestEnvironment.Missing(description: "\(binary) is not built: run `swift build` (make test does)")
        }
        var cleared: [String: String] = ["BERTH_SQL_DIR": TestEnvironment.repositoryRoot.appendingPathComponent("sql").path]
        for name in ["BERTH_DATABASE_URL", "BERTH_ADMIN_TOKEN", "BERTH_HTTP_ADDRESS", "BERTH_HEALTH_INTERVAL", "BERTH_WORKSPACE_SERVERS"] {
            cleared[name] = ""
            cleared[name + "_FILE"] = ""
        }
        let pid = try TestEnvironment.spawn([binary, "serve"] + arguments, environment: cleared.merging(environment) { $1 }, logPath: log)
        return SpawnedProcess(pid: pid)
    }

    static func call(_ port: Int, _ path: String, bearer: String? = nil, timeout: Duration = .seconds(10)) async throws -> CurlResponse {
        try await CurlEngine.shared.perform(CurlRequest(
            method: .get, url: "http://127.0.0.1:\(port)\(path)",
            headers: bearer.map { [("Authorization", "Bearer \($0)")] } ?? [], timeout: timeout
        ))
    }

    /// Until the service answers /health on `port`.
    static func waitForService(_ process: SpawnedProcess, port: Int, log: String) async throws {
        try await TestEnvironment.waitUntilReady(within: .seconds(30), logs: [log]) {
            if let code = process.exitCode(within: .zero) { return "berth serve exited with \(code)" }
            do {
                let status = try await call(port, "/health").status
                return status == 200 ? nil : "/health answered \(status)"
            } catch {
                return "/health did not answer on port \(port) (\(error))"
            }
        }
    }

    static func temporaryFile(_ contents: String) throws -> String {
        let path = NSTemporaryDirectory() + "berth-config-\(UUID().uuidString.prefix(8))"
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func serverJSON(_ name: String) throws -> String {
        let parts = try TestEnvironment.require("BERTH_TEST_DOCKER_PLAIN_1").split(separator: ":")
        return #"[{"name":"\#(name)","host":"\#(parts[0])","docker_port":\#(parts[1])}]"#
    }

    static func serverNames(_ db: Database) async throws -> [String] {
        try await db.withSystem { try await $0.execute("SELECT name FROM workspace_servers ORDER BY name").map { try $0.decode("name", as: String.self) } }
    }

    @Test func anAdminTokenShorterThan16CharactersIsRefusedAtStart() async throws {
        try await withTestDatabase { testDB in
            let log = NSTemporaryDirectory() + "berth-config-\(UUID().uuidString.prefix(8)).log"
            let short = "fifteen-chars-x"
            #expect(short.count == 15)
            let refused = try Self.spawn(["--address", "127.0.0.1:\(try TestEnvironment.freePort())"],
                                         ["BERTH_DATABASE_URL": testDB.appURL, "BERTH_ADMIN_TOKEN": short], log: log)
            let code = refused.exitCode(within: .seconds(30))
            if code == nil { refused.terminate() }
            #expect(code == 1, "berth serve with a 15-character token: \(code.map(String.init) ?? "still running")")
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            #expect(text.contains("BERTH_ADMIN_TOKEN must be at least 16 characters"), "\(text)")
            #expect(!text.contains(short), "the refused token appears in the output")

            // Sixteen characters are enough: the admin API opens with them.
            let sixteen = "sixteen-chars-xy"
            #expect(sixteen.count == 16)
            let port = try TestEnvironment.freePort()
            let served = try Self.spawn(["--address", "127.0.0.1:\(port)"], ["BERTH_DATABASE_URL": testDB.appURL, "BERTH_ADMIN_TOKEN": sixteen], log: log)
            defer { served.terminate() }
            try await Self.waitForService(served, port: port, log: log)
            #expect(try await Self.call(port, "/admin/cluster", bearer: sixteen).status == 200)
            #expect(try await Self.call(port, "/admin/cluster", bearer: short).status == 401)
        }
    }

    @Test func secretsAndSettingsComeFromTheFilesNamedByVarFile() async throws {
        try await withTestDatabase { testDB, db in
            let log = NSTemporaryDirectory() + "berth-config-\(UUID().uuidString.prefix(8)).log"
            let token = "from-a-file-" + Digest.hex(SecureRandom.bytes(8))
            // As secrets are usually mounted: the value and a final newline.
            let files = [
                "BERTH_DATABASE_URL_FILE": try Self.temporaryFile(testDB.appURL + "\n"),
                "BERTH_ADMIN_TOKEN_FILE": try Self.temporaryFile(token + "\n"),
                "BERTH_WORKSPACE_SERVERS_FILE": try Self.temporaryFile(try Self.serverJSON("ws-from-file")),
            ]
            defer { for path in files.values { try? FileManager.default.removeItem(atPath: path) } }
            let port = try TestEnvironment.freePort()
            let served = try Self.spawn(["--address", "127.0.0.1:\(port)"], files, log: log)
            defer { served.terminate() }
            try await Self.waitForService(served, port: port, log: log)
            // The database named by the file is the one in use: the servers from the file are in it.
            #expect(try await Self.call(port, "/ready").status == 200)
            #expect(try await Self.serverNames(db) == ["ws-from-file"])
            // The token from the file, without its newline, opens the admin API.
            #expect(try await Self.call(port, "/admin/cluster", bearer: token).status == 200)
            #expect(try await Self.call(port, "/admin/cluster", bearer: token + "\n").status != 200)
            #expect(served.terminate() == 0)
            #expect(!((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains(token), "the token appears in the log")

            // A file that cannot be read is refused at start, naming the variable.
            let missing = try Self.spawn(["--address", "127.0.0.1:\(try TestEnvironment.freePort())"],
                                         ["BERTH_DATABASE_URL": testDB.appURL, "BERTH_ADMIN_TOKEN_FILE": "/nonexistent/berth-token"], log: log)
            let code = missing.exitCode(within: .seconds(30))
            if code == nil { missing.terminate() }
            #expect(code == 1)
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            #expect(text.contains("BERTH_ADMIN_TOKEN_FILE names /nonexistent/berth-token, which cannot be read"), "\(text)")
        }
    }

    @Test func flagsOverrideTheEnvironmentAndItsFiles() async throws {
        try await withTestDatabase { testDB, db in
            let log = NSTemporaryDirectory() + "berth-config-\(UUID().uuidString.prefix(8)).log"
            let envPort = try TestEnvironment.freePort(), flagPort = try TestEnvironment.freePort()
            let nowhere = "postgresql://nobody@127.0.0.1:1/none"
            let nowhereFile = try Self.temporaryFile(nowhere)
            defer { try? FileManager.default.removeItem(atPath: nowhereFile) }
            // The environment says: another address, a database nobody answers for (directly and
            // through a file), checks once an hour. The flags say otherwise, and win.
            let served = try Self.spawn(
                ["--address", "127.0.0.1:\(flagPort)", "--database-url", testDB.appURL, "--health-interval", "0.2"],
                ["BERTH_HTTP_ADDRESS": "127.0.0.1:\(envPort)", "BERTH_DATABASE_URL_FILE": nowhereFile,
                 "BERTH_HEALTH_INTERVAL": "3600", "BERTH_WORKSPACE_SERVERS": try Self.serverJSON("ws-flags")],
                log: log
            )
            defer { served.terminate() }
            try await Self.waitForService(served, port: flagPort, log: log)
            await #expect(throws: (any Error).self, "the address from the environment answers") { _ = try await Self.call(envPort, "/health") }
            #expect(try await Self.call(flagPort, "/ready").status == 200)
            #expect(try await Self.serverNames(db) == ["ws-flags"])
            // Checked every 0.2 s, not once an hour: several distinct check times within seconds.
            var seen = Set<Date>()
            try await TestEnvironment.waitUntilReady(within: .seconds(20), logs: [log]) {
                let checked = try await db.withSystem { try await $0.first("SELECT last_health_check FROM workspace_servers")!.decode("last_health_check", as: Date?.self) }
                if let checked { seen.insert(checked) }
                return seen.count >= 4 ? nil : "\(seen.count) health checks seen"
            }

            // A direct setting beats its _FILE: the environment's URL, not the file's, is used.
            served.terminate()
            let direct = try Self.spawn(["--address", "127.0.0.1:\(flagPort)"], [
                "BERTH_DATABASE_URL": testDB.appURL, "BERTH_DATABASE_URL_FILE": nowhereFile,
            ], log: log)
            defer { direct.terminate() }
            try await Self.waitForService(direct, port: flagPort, log: log)
            #expect(try await Self.call(flagPort, "/ready").status == 200)
        }
    }

    /// With every request stuck on a lock inside the database, the service holds as many
    /// connections as its pool allows, and no more: `--pool-size N`, default 10.
    @Test(arguments: [(["--pool-size", "3"], 3), ([], 10)])
    func poolSizeBoundsTheConnectionsTheServiceOpens(flags: [String], size: Int) async throws {
        try await withTestDatabase { testDB in
            // Set up through a pool of the test's own, closed before counting the service's connections.
            let material = APIKeyMaterial.generate()
            let setup = testDB.app(poolSize: 1)
            do {
                let tenant = try await setup.withSystem { try await TenantStore().create(name: "pool", quota: .standard, in: $0).id }
                _ = try await setup.withSystem { try await APIKeyStore().insert(tenantID: tenant, name: "k", prefix: material.prefix, hash: material.hash, in: $0) }
            } catch {
                setup.shutdown()
                throw error
            }
            setup.shutdown()
            let log = NSTemporaryDirectory() + "berth-config-\(UUID().uuidString.prefix(8)).log"
            let port = try TestEnvironment.freePort()
            // One key sends them all: the per-key and per-tenant limits (half the pool by default) are
            // lifted, so the pool's size is what bounds the connections.
            let served = try Self.spawn(["--address", "127.0.0.1:\(port)"] + flags, [
                "BERTH_DATABASE_URL": testDB.appURL, "BERTH_TENANT_MAX_CONCURRENT": "1000",
            ], log: log)
            defer { served.terminate() }
            try await Self.waitForService(served, port: port, log: log)

            let superuser = testDB.superuser()
            defer { superuser.shutdown() }
            func connections() async throws -> (total: Int, blocked: Int) {
                let row = try await superuser.withConnection { connection in
                    try await connection.first("""
                        SELECT count(*) AS total, count(*) FILTER (WHERE wait_event_type = 'Lock') AS blocked
                        FROM pg_stat_activity WHERE datname = current_database() AND usename = 'berth_app'
                        """)!
                }
                return (try row.decode("total", as: Int.self), try row.decode("blocked", as: Int.self))
            }
            // Authentication reads api_keys: with the table locked, every request waits there,
            // holding its connection.
            let gate = Gate(), locked = Gate()
            let lock = Task {
                try await superuser.withTransaction { tx in
                    _ = try await tx.execute("LOCK TABLE api_keys IN ACCESS EXCLUSIVE MODE")
                    locked.open()
                    await gate.wait()
                }
            }
            await locked.wait()
            let requests = Task {
                try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<(size + 4) {
                        group.addTask { try await Self.call(port, "/v1/workspaces", bearer: material.secret, timeout: .seconds(120)).status }
                    }
                    return try await group.reduce(into: [Int]()) { $0.append($1) }
                }
            }
            do {
                try await TestEnvironment.waitUntilReady(within: .seconds(30), logs: [log]) {
                    let now = try await connections()
                    return now.blocked == size ? nil : "\(now.blocked) of \(size) connections waiting on the lock (\(now.total) open)"
                }
                // However long the other requests wait, the pool opens no more.
                for _ in 0..<10 {
                    let now = try await connections()
                    #expect(now.total == size && now.blocked == size, "\(now.total) connections open, \(now.blocked) waiting, for a pool of \(size)")
                    try await Task.sleep(for: .milliseconds(100))
                }
            } catch {
                gate.open()
                throw error
            }
            gate.open()
            try await lock.value
            let statuses = try await requests.value
            #expect(statuses == Array(repeating: 200, count: size + 4), "\(statuses)")
        }
    }
}
