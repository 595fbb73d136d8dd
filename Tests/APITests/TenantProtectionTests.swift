import API
import BerthTestSupport
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

/// What keeps one tenant, or a stranger, from holding what everyone needs.
@Suite struct TenantProtectionTests {
    static func headers(_ key: String, idempotency: String? = nil) -> HTTPFields {
        var fields = HTTPFields()
        fields[.authorization] = "Bearer \(key)"
        fields[.contentType] = "application/json"
        if let idempotency { fields[HTTPField.Name("Idempotency-Key")!] = idempotency }
        return fields
    }

    static func code(_ response: TestResponse) -> String? {
        try? JSONDecoder().decode(ErrorBody.self, from: Data(String(buffer: response.body).utf8)).error.code
    }

    /// A key whose check characters are wrong is refused before the database is asked: with the
    /// database unreachable it is still a `401`, while a key of the older, unchecked shape needs
    /// the lookup and gets `503`.
    @Test func aGarbageKeyIsRefusedWithoutTheDatabase() async throws {
        let port = try TestEnvironment.freePort()
        let db = Database(configuration: .init(connectionString: "postgresql://berth_app:pw@127.0.0.1:\(port)/berth", poolSize: 1, connectTimeoutSeconds: 1), logger: TestDatabase.logger)
        let placement = PlacementService(database: db, logger: TestDatabase.logger)
        let orchestrator = WorkspaceOrchestrator(database: db, placement: placement, pool: DockerServerPool(), stopGrace: .seconds(1), logger: TestDatabase.logger)
        let migrator = Migrator(database: db, directory: TestEnvironment.repositoryRoot.appendingPathComponent("sql"), logger: TestDatabase.logger)
        let app = buildApplication(services: AppServices(database: db, migrator: migrator, orchestrator: orchestrator), configuration: .init(), logger: TestDatabase.logger)
        let real = APIKeyMaterial.generate().secret
        var characters = Array(real)
        characters[characters.count - 10] = characters[characters.count - 10] == "a" ? "b" : "a"
        let forged = String(characters)
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/workspaces", method: .get, headers: Self.headers(forged)) { response in
                #expect(response.status == .unauthorized)
                #expect(Self.code(response) == "unauthorized")
            }
            // The same shape without a check: only the database can say, and it is down.
            try await client.execute(uri: "/v1/workspaces", method: .get, headers: Self.headers(String(real.dropLast(6)))) { response in
                #expect(response.status == .serviceUnavailable)
            }
        }
        db.shutdown()
    }

    static let adminToken = "admin-token-for-protection-tests"

    static func world(quota: Quota = .standard, limits: TenantLimits = TenantLimits()) async throws -> (TestDatabase, Database, String, some ApplicationProtocol) {
        let testDB = try await TestDatabase.make()
        let db = testDB.app(poolSize: 6)
        let parts = try TestEnvironment.require("BERTH_TEST_DOCKER_PLAIN_1").split(separator: ":")
        let server = try await db.withSystem { scope in
            try await WorkspaceServerStore().upsert(.init(
                name: "ws-protect", connection: .init(host: String(parts[0]), dockerPort: Int(parts[1])!),
                capacity: Capacity(cpuMillis: 4000, memoryMB: 4096, diskGB: 20, workspaces: 10)
            ), in: scope)
        }
        try await db.withSystem { try await $0.execute("UPDATE workspace_servers SET status = 'healthy' WHERE id = \(server.id)") }
        let tenant = try await db.withSystem { try await TenantStore().create(name: "protect", quota: quota, in: $0).id }
        let material = APIKeyMaterial.generate()
        _ = try await db.withSystem { try await APIKeyStore().insert(tenantID: tenant, name: "k", prefix: material.prefix, hash: material.hash, in: $0) }
        let placement = PlacementService(database: db, logger: TestDatabase.logger)
        let orchestrator = WorkspaceOrchestrator(database: db, placement: placement, pool: DockerServerPool(), stopGrace: .seconds(1), logger: TestDatabase.logger)
        let migrator = Migrator(database: db, directory: TestEnvironment.repositoryRoot.appendingPathComponent("sql"), logger: TestDatabase.logger)
        let app = buildApplication(
            services: AppServices(
                database: db, migrator: migrator, orchestrator: orchestrator, placement: placement, pool: DockerServerPool(),
                adminToken: AdminToken(adminToken), tenantLimits: limits
            ),
            configuration: .init(), logger: TestDatabase.logger
        )
        return (testDB, db, material.secret, app)
    }

    /// Over its rate a tenant gets `429` with `Retry-After`.
    @Test func aTenantOverItsRateIsTold429WithRetryAfter() async throws {
        let (testDB, db, key, app) = try await Self.world(limits: TenantLimits(maxConcurrent: 10, ratePerSecond: 0.1, burst: 2))
        try await app.test(.router) { client in
            for _ in 0..<2 {
                try await client.execute(uri: "/v1/workspaces", method: .get, headers: Self.headers(key)) { #expect($0.status == .ok) }
            }
            try await client.execute(uri: "/v1/workspaces", method: .get, headers: Self.headers(key)) { response in
                #expect(response.status == .tooManyRequests)
                #expect(Self.code(response) == "rate_limited")
                #expect(Int(response.headers[.retryAfter] ?? "") ?? 0 >= 1, "Retry-After: \(response.headers[.retryAfter] ?? "none")")
            }
        }
        db.shutdown()
        await testDB.drop()
    }

    /// A refusal that depends on the moment (here the quota) is not stored as the key's answer:
    /// once there is room, the same request with the same key succeeds.
    @Test func aTransientRefusalIsNotReplayed() async throws {
        let (testDB, db, key, app) = try await Self.world(quota: Quota(maxWorkspaces: 1, maxCPUMillis: 8000, maxMemoryMB: 16384))
        let body = { @Sendable (name: String) in ByteBuffer(string: #"{"name":"\#(name)","image":"berth-busybox:latest","resources":{"cpu":0.5,"memory_mb":64,"disk_gb":1}}"#) }
        try await app.test(.router) { client in
            let first = try await client.execute(uri: "/v1/workspaces?wait=running", method: .post, headers: Self.headers(key, idempotency: "one"), body: body("one")) { response in
                #expect(response.status == .created)
                return try JSONDecoder().decode(IDOnly.self, from: Data(String(buffer: response.body).utf8)).id
            }
            try await client.execute(uri: "/v1/workspaces", method: .post, headers: Self.headers(key, idempotency: "two"), body: body("two")) { response in
                #expect(response.status == .forbidden)
                #expect(Self.code(response) == "quota_exceeded")
            }
            try await client.execute(uri: "/v1/workspaces/\(first)", method: .delete, headers: Self.headers(key)) { #expect($0.status == .noContent) }
            let second = try await client.execute(uri: "/v1/workspaces?wait=running", method: .post, headers: Self.headers(key, idempotency: "two"), body: body("two")) { response in
                #expect(response.status == .created, "\(String(buffer: response.body))")
                return try JSONDecoder().decode(IDOnly.self, from: Data(String(buffer: response.body).utf8)).id
            }
            // And from now on the key replays its success.
            try await client.execute(uri: "/v1/workspaces?wait=running", method: .post, headers: Self.headers(key, idempotency: "two"), body: body("two")) { response in
                #expect(response.status == .created)
                #expect((try? JSONDecoder().decode(IDOnly.self, from: Data(String(buffer: response.body).utf8)).id) == second)
            }
            try await client.execute(uri: "/v1/workspaces/\(second)", method: .delete, headers: Self.headers(key)) { #expect($0.status == .noContent) }
        }
        db.shutdown()
        await testDB.drop()
    }

    /// A create Docker refuses tells the tenant why in Berth's words, without the engine's address
    /// or Docker's text; the admin API has the detail.
    @Test func theTenantReadsAGenericErrorAndTheAdminTheDetail() async throws {
        let (testDB, db, key, app) = try await Self.world()
        let engine = try TestEnvironment.require("BERTH_TEST_DOCKER_PLAIN_1")
        try await app.test(.router) { client in
            let body = ByteBuffer(string: #"{"name":"missing","image":"berth-no-such-image:latest","resources":{"cpu":0.5,"memory_mb":64,"disk_gb":1}}"#)
            let text = try await client.execute(uri: "/v1/workspaces?wait=running", method: .post, headers: Self.headers(key), body: body) { response in
                #expect(response.status == .created)
                return String(buffer: response.body)
            }
            #expect(text.contains("the image was not found on the workspace server"), "\(text)")
            #expect(text.contains(#""error_code":"image_not_found""#), "the tenant reads the code: \(text)")
            for leak in [engine, "No such image", "docker http"] { #expect(!text.contains(leak), "the tenant reads \(leak): \(text)") }
            var admin = HTTPFields()
            admin[.authorization] = "Bearer \(Self.adminToken)"
            try await client.execute(uri: "/admin/workspaces", method: .get, headers: admin) { response in
                let page = String(buffer: response.body)
                #expect(response.status == .ok)
                #expect(page.contains("image_not_found") && page.contains("No such image") && page.contains(engine), "\(page)")
            }
        }
        db.shutdown()
        await testDB.drop()
    }

    struct IDOnly: Decodable { let id: String }
}
