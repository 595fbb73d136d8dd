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

/// A database failure is never a 500: lock waits and timeouts are `503` with `Retry-After`, and
/// nothing unauthenticated repeats libpq's text.
@Suite struct DatabaseErrorTests {
    struct World {
        let testDB: TestDatabase
        let db: Database
        let key: String
        let workspace: WorkspaceID
    }

    static func world(statementTimeout: Duration? = .seconds(30), lockTimeout: Duration? = .seconds(5)) async throws -> World {
        let testDB = try await TestDatabase.make()
        // The data is set up with the usual timeouts; only the application's pool gets the short ones.
        let setup = testDB.app()
        defer { setup.shutdown() }
        let db = Database(
            configuration: .init(connectionString: testDB.appURL, poolSize: 4, statementTimeout: statementTimeout, lockTimeout: lockTimeout),
            logger: TestDatabase.logger
        )
        let server = try await setup.withSystem { scope in
            try await WorkspaceServerStore().upsert(.init(
                name: "ws-dberr", connection: .init(host: "127.0.0.1", dockerPort: 1),
                capacity: Capacity(cpuMillis: 2000, memoryMB: 2048, diskGB: 10, workspaces: 10)
            ), in: scope)
        }
        try await setup.withSystem { try await $0.execute("UPDATE workspace_servers SET status = 'healthy' WHERE id = \(server.id)") }
        let tenant = try await setup.withSystem { try await TenantStore().create(name: "dberr", quota: .standard, in: $0).id }
        let material = APIKeyMaterial.generate()
        _ = try await setup.withSystem { try await APIKeyStore().insert(tenantID: tenant, name: "k", prefix: material.prefix, hash: material.hash, in: $0) }
        let resources = Resources(cpuMillis: 500, memoryMB: 64, diskGB: 1)
        let draft = WorkspaceDraft(tenantID: tenant, name: "locked", image: "berth-busybox:latest", resources: resources, placement: PlacementRequest(resources: resources))
        _ = try await PlacementService(database: setup, logger: TestDatabase.logger).reserve(draft)
        return World(testDB: testDB, db: db, key: material.secret, workspace: draft.id)
    }

    static func app(_ world: World) -> some ApplicationProtocol {
        let placement = PlacementService(database: world.db, logger: TestDatabase.logger)
        let orchestrator = WorkspaceOrchestrator(database: world.db, placement: placement, pool: DockerServerPool(), stopGrace: .seconds(1), logger: TestDatabase.logger)
        let migrator = Migrator(database: world.db, directory: TestEnvironment.repositoryRoot.appendingPathComponent("sql"), logger: TestDatabase.logger)
        return buildApplication(services: AppServices(database: world.db, migrator: migrator, orchestrator: orchestrator), configuration: .init(), logger: TestDatabase.logger)
    }

    static func headers(_ key: String) -> HTTPFields {
        var fields = HTTPFields()
        fields[.authorization] = "Bearer \(key)"
        return fields
    }

    static func error(_ response: TestResponse) throws -> ErrorBody.Inner {
        try JSONDecoder().decode(ErrorBody.self, from: Data(String(buffer: response.body).utf8)).error
    }

    @Test func aLockHeldPastTheLockTimeoutIs503WithRetryAfter() async throws {
        let world = try await Self.world(lockTimeout: .milliseconds(200))
        let holder = world.testDB.superuser()
        try await Self.app(world).test(.router) { client in
            try await holder.withTransaction { transaction in
                try await transaction.execute("SELECT id FROM workspaces WHERE id = \(world.workspace) FOR UPDATE")
                try await client.execute(uri: "/v1/workspaces/\(world.workspace)/activity", method: .post, headers: Self.headers(world.key)) { response in
                    #expect(response.status == .serviceUnavailable)
                    #expect((try? Self.error(response).code) == "database_busy")
                    #expect(response.headers[.retryAfter] == "1")
                }
            }
            // Once the lock is gone the same request succeeds.
            try await client.execute(uri: "/v1/workspaces/\(world.workspace)/activity", method: .post, headers: Self.headers(world.key)) { response in
                #expect(response.status == .ok)
            }
        }
        holder.shutdown()
        world.db.shutdown()
        await world.testDB.drop()
    }

    @Test func aStatementTimeoutIs503WithRetryAfter() async throws {
        let world = try await Self.world(statementTimeout: .milliseconds(300), lockTimeout: nil)
        let holder = world.testDB.superuser()
        try await Self.app(world).test(.router) { client in
            try await holder.withTransaction { transaction in
                // Every read of workspaces now waits; only the statement timeout ends the wait.
                try await transaction.execute("LOCK TABLE workspaces IN ACCESS EXCLUSIVE MODE")
                try await client.execute(uri: "/v1/workspaces", method: .get, headers: Self.headers(world.key)) { response in
                    #expect(response.status == .serviceUnavailable)
                    #expect((try? Self.error(response).code) == "database_timeout")
                    #expect(response.headers[.retryAfter] == "2")
                }
            }
        }
        holder.shutdown()
        world.db.shutdown()
        await world.testDB.drop()
    }

    /// `/ready` is unauthenticated: it says the database is unreachable, not where it is.
    @Test func readyDoesNotRepeatLibpqsText() async throws {
        let port = try TestEnvironment.freePort()
        let db = Database(configuration: .init(connectionString: "postgresql://berth_app:secret-pw@127.0.0.1:\(port)/berth", poolSize: 1, connectTimeoutSeconds: 1), logger: TestDatabase.logger)
        let migrator = Migrator(database: db, directory: TestEnvironment.repositoryRoot.appendingPathComponent("sql"), logger: TestDatabase.logger)
        let app = buildApplication(services: AppServices(database: db, migrator: migrator), configuration: .init(), logger: TestDatabase.logger)
        try await app.test(.router) { client in
            try await client.execute(uri: "/ready", method: .get) { response in
                let body = String(buffer: response.body)
                #expect(response.status == .serviceUnavailable)
                #expect((try? Self.error(response).code) == "database_unavailable")
                #expect(response.headers[.retryAfter] == "2")
                for secret in ["127.0.0.1", String(port), "berth_app", "secret-pw", "connection to server"] {
                    #expect(!body.contains(secret), "/ready names \(secret): \(body)")
                }
            }
        }
        db.shutdown()
    }
}
