import BerthTestSupport
import Compute
import Domain
import Foundation
import Persistence
import Secrets
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A real `berth serve` process on a database of its own, for tests that need the whole service:
/// crafted requests that must not kill it, fairness under load, crashes mid-request.
struct ServedBerth {
    /// The database it serves, when it is a test database (dropped by `finish`).
    let testDB: TestDatabase?
    /// The service role's connection string.
    let appURL: String
    let db: Database
    let pid: pid_t
    let port: Int
    let logPath: String
    let adminToken: String
    let environment: [String: String]

    static var binary: String {
        get throws {
            let path = TestEnvironment.repositoryRoot.appendingPathComponent(".build/debug/berth").path
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw TestEnvironment.Missing(description: "\(path) is not built: run `swift build` (make test does)")
            }
            return path
        }
    }

    /// Starts `berth serve` on `testDB` (a new one unless given) with the plain daemon `daemon`
    /// registered, and waits until it answers `/health` and the server is healthy.
    static func start(
        testDB given: TestDatabase? = nil, daemon: String = "BERTH_TEST_DOCKER_PLAIN_2", serverName: String = "served-1",
        environment extra: [String: String] = [:]
    ) async throws -> ServedBerth {
        let testDB: TestDatabase
        if let given { testDB = given } else { testDB = try await TestDatabase.make() }
        return try await start(appURL: testDB.appURL, testDB: testDB, servers: [(serverName, daemon)], environment: extra)
    }

    /// Starts `berth serve` on the database at `appURL` with each `(name, daemon variable)` registered.
    static func start(
        appURL: String, testDB: TestDatabase?, servers: [(name: String, daemon: String)], networkMode: String = "none",
        environment extra: [String: String] = [:]
    ) async throws -> ServedBerth {
        let entries = try servers.map { server in
            let plain = try Self.hostPort(server.daemon)
            return #"{"name":"\#(server.name)","host":"\#(plain.host)","docker_port":\#(plain.port),"network_mode":"\#(networkMode)","total_cpu":8,"total_memory_mb":8192,"total_disk_gb":100,"max_workspaces":100}"#
        }
        let port = try TestEnvironment.freePort()
        let logPath = NSTemporaryDirectory() + "berth-served-\(UUID().uuidString.prefix(8)).log"
        let adminToken = Digest.hex(SecureRandom.bytes(20))
        var environment = [
            "BERTH_DATABASE_URL": appURL, "BERTH_HEALTH_INTERVAL": "0.5", "BERTH_LOG_LEVEL": "info",
            "BERTH_ADMIN_TOKEN": adminToken,
            "BERTH_WORKSPACE_SERVERS": "[" + entries.joined(separator: ",") + "]",
            "BERTH_SQL_DIR": TestEnvironment.repositoryRoot.appendingPathComponent("sql").path,
            "BERTH_STOP_GRACE": "1",
        ]
        environment.merge(extra) { _, new in new }
        let pid = try TestEnvironment.spawn([try binary, "serve", "--address", "127.0.0.1:\(port)"], environment: environment, logPath: logPath)
        let db = Database(configuration: .init(connectionString: appURL, poolSize: 4), logger: TestDatabase.logger)
        let served = ServedBerth(testDB: testDB, appURL: appURL, db: db, pid: pid, port: port, logPath: logPath, adminToken: adminToken, environment: environment)
        try await served.waitUntilServing()
        return served
    }

    /// Waits until the process answers `/health` and at least one server is healthy; fails loudly
    /// with the log's tail otherwise.
    /// Returns once `condition` holds, asking it again every `every`; throws, naming `what`, if it
    /// still does not after `limit`.
    static func waitFor(every pause: Duration, _ what: String, within limit: Duration = .seconds(60), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + limit
        while try await !condition() {
            guard ContinuousClock.now < deadline else { throw TestEnvironment.Missing(description: "\(what): not within \(limit)") }
            try await Task.sleep(for: pause)
        }
    }

    func waitUntilServing(timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let healthy = (try? await db.withSystem { try await $0.first("SELECT count(*) AS n FROM workspace_servers WHERE status = 'healthy'")!.decode("n", as: Int.self) }) ?? 0
            if healthy >= 1, (try? await call(.get, "/health"))?.status == 200 { return }
            guard alive else { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestEnvironment.Missing(description: "berth serve did not become ready (alive: \(alive)); log: \(logTail)")
    }

    var logTail: String {
        String(((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").suffix(3000))
    }

    /// `host:port` from a variable `make test` exports.
    static func hostPort(_ variable: String) throws -> (host: String, port: Int) {
        var text = try TestEnvironment.require(variable)
        // Some name their daemon first: `ws-chaos-1=127.0.0.1:23755`.
        if let equals = text.firstIndex(of: "=") { text = String(text[text.index(after: equals)...]) }
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else {
            throw TestEnvironment.Missing(description: "\(variable)=\(text) is not host:port")
        }
        return (String(text[..<colon]), port)
    }

    /// Whether the process is still running (not exited, not a zombie we reaped).
    var alive: Bool {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == 0
    }

    /// A tenant with an API key, made directly in the database.
    func tenant(_ name: String, quota: Quota = .standard) async throws -> (id: TenantID, key: String) {
        let tenant = try await db.withSystem { try await TenantStore().create(name: name, quota: quota, in: $0).id }
        let material = APIKeyMaterial.generate()
        _ = try await db.withSystem { try await APIKeyStore().insert(tenantID: tenant, name: "k", prefix: material.prefix, hash: material.hash, in: $0) }
        return (tenant, material.secret)
    }

    func call(
        _ method: CurlRequest.Method, _ path: String, body: String? = nil, bearer: String? = nil,
        headers extra: [(name: String, value: String)] = [], timeout: Duration = .seconds(120)
    ) async throws -> CurlResponse {
        var headers = [(name: "Content-Type", value: "application/json")] + extra
        if let bearer { headers.append((name: "Authorization", value: "Bearer \(bearer)")) }
        return try await CurlEngine.shared.perform(CurlRequest(
            method: method, url: "http://127.0.0.1:\(port)\(path)", headers: headers,
            body: body.map { Data($0.utf8) }, timeout: timeout
        ))
    }

    /// SIGTERM (again, if it was sent already), then the exit code (nil if it had to be killed or
    /// died of a signal, or was reaped before).
    func terminate(timeout: Duration = .seconds(10)) -> Int32? { TestEnvironment.terminate(pid, timeout: timeout) }

    /// Kills the process at once, as a crash would.
    func crash() {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }

    /// Removes every container of this deployment from the daemon and drops the database.
    func finish(daemon: String = "BERTH_TEST_DOCKER_PLAIN_2", dropDatabase: Bool = true) async {
        if alive { _ = terminate() }
        if let plain = try? Self.hostPort(daemon),
            let deployment = try? await db.withSystem({ try await $0.first("SELECT id::text AS id FROM deployment")!.decode("id", as: String.self) })
        {
            let engine = DockerClient(endpoint: .http(host: plain.host, port: plain.port))
            for container in (try? await engine.listContainers(labels: ["berth.deployment=\(deployment)"])) ?? [] {
                try? await engine.removeContainer(container.id)
            }
            for network in (try? await engine.listNetworks(labels: ["berth.deployment=\(deployment)"])) ?? [] {
                try? await engine.removeNetwork(network.id)
            }
        }
        db.shutdown()
        try? FileManager.default.removeItem(atPath: logPath)
        if dropDatabase { await testDB?.drop() }
    }
}

extension CurlResponse {
    /// The `error.code` of a JSON error body, if it is one.
    var errorCode: String? {
        (try? JSONDecoder().decode(ErrorBodyShape.self, from: body))?.error.code
    }

    var text: String { String(decoding: body, as: UTF8.self) }

    struct ErrorBodyShape: Decodable {
        struct Inner: Decodable { let code: String }
        let error: Inner
    }
}
