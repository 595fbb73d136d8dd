import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import Persistence

/// A database of its own for one test, created from a template that has every migration applied.
///
/// Creating from a template takes milliseconds, so each test starts from a clean, migrated schema.
public struct TestDatabase: Sendable {
    public let name: String
    public let port: String
    let appPassword: String
    let ownerPassword: String
    public let superuserURL: String

    /// The service's login role on this database.
    public var appURL: String { "postgresql://berth_app:\(appPassword)@127.0.0.1:\(port)/\(name)" }
    /// The owner role on this database.
    public var ownerURL: String { "postgresql://berth_owner:\(ownerPassword)@127.0.0.1:\(port)/\(name)" }
    /// The superuser on this database (for terminating backends and inspecting catalogs).
    public var superuserDatabaseURL: String {
        guard let slash = superuserURL.lastIndex(of: "/") else { return superuserURL }
        return superuserURL[..<slash] + "/" + name
    }

    public static let logger = Logger(label: "berth.tests")

    /// A fresh, migrated database.
    public static func make() async throws -> TestDatabase {
        let template = try await TemplateDatabase.shared.name()
        let base = try TemplateDatabase.connectionSettings()
        let name = "berth_t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20)
        let admin = Database(configuration: .init(connectionString: base.superuserURL, poolSize: 1), logger: logger)
        defer { admin.shutdown() }
        try await admin.withConnection { connection in
            try await connection.executeScript("CREATE DATABASE \(name) TEMPLATE \(template) OWNER berth_owner")
        }
        let database = TestDatabase(
            name: String(name), port: base.port, appPassword: base.appPassword,
            ownerPassword: base.ownerPassword, superuserURL: base.superuserURL
        )
        // Each test database is a deployment of its own, so one test's orphan sweep never takes
        // another's containers on the shared engines.
        let owner = database.owner()
        defer { owner.shutdown() }
        try await owner.withConnection { try await $0.executeScript("UPDATE deployment SET id = gen_random_uuid()") }
        return database
    }

    /// The service's view: the login role, through the pool.
    public func app(poolSize: Int = 4, acquireTimeout: Duration = .seconds(10)) -> Database {
        Database(
            configuration: .init(connectionString: appURL, poolSize: poolSize, acquireTimeout: acquireTimeout),
            logger: Self.logger
        )
    }

    public func owner() -> Database {
        Database(configuration: .init(connectionString: ownerURL, poolSize: 2), logger: Self.logger)
    }

    public func superuser() -> Database {
        Database(configuration: .init(connectionString: superuserDatabaseURL, poolSize: 2), logger: Self.logger)
    }

    /// Drops the database, disconnecting whoever is still on it. Prefer `withTestDatabase`, which
    /// also drops it when the test throws.
    public func drop() async {
        try? await dropOrThrow()
    }

    /// Drops the database, saying why when it could not.
    func dropOrThrow() async throws {
        let admin = Database(configuration: .init(connectionString: superuserURL, poolSize: 1), logger: Self.logger)
        defer { admin.shutdown() }
        try await admin.withConnection { connection in
            try await connection.executeScript("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        }
    }
}

/// Runs `body` on a fresh, migrated database of its own, then drops the database, whether `body`
/// returned or threw (a failed `try` or `#require` included).
///
/// Swift's `defer` cannot await, so an `await testDB.drop()` at the end of a test is skipped as soon
/// as anything before it throws, and the database is left behind. Here the drop runs on both paths,
/// in a task of its own, so that it still runs when the test's task was cancelled (a time limit).
/// A drop that fails after a passing body is an error too: a leak is never silent.
public func withTestDatabase<T>(
    isolation: isolated (any Actor)? = #isolation,
    _ body: (TestDatabase) async throws -> T
) async throws -> T {
    let testDB = try await TestDatabase.make()
    let result: T
    do {
        result = try await body(testDB)
    } catch {
        try? await Task { try await testDB.dropOrThrow() }.value
        throw error
    }
    try await Task { try await testDB.dropOrThrow() }.value
    return result
}

/// `withTestDatabase` with the service's pool on the database (`TestDatabase.app`), shut down
/// before the database is dropped, on both paths.
public func withTestDatabase<T>(
    isolation: isolated (any Actor)? = #isolation,
    poolSize: Int = 4, acquireTimeout: Duration = .seconds(10),
    _ body: (TestDatabase, Database) async throws -> T
) async throws -> T {
    try await withTestDatabase { testDB in
        let db = testDB.app(poolSize: poolSize, acquireTimeout: acquireTimeout)
        defer { db.shutdown() }
        return try await body(testDB, db)
    }
}

/// Builds the migrated template once per test process.
///
/// Concurrent first callers share one creation (an actor alone would let each of them start its
/// own, since it is re-entered at every await). No hook runs when the test process ends, so each
/// creation first drops the templates of test processes that have ended.
actor TemplateDatabase {
    static let shared = TemplateDatabase()
    static let prefix = "berth_tpl_"
    private var creating: Task<String, any Error>?

    struct Settings {
        let port: String
        let appPassword: String
        let ownerPassword: String
        let superuserURL: String
    }

    static func connectionSettings() throws -> Settings {
        Settings(
            port: try TestEnvironment.require("BERTH_PG_PORT"),
            appPassword: try TestEnvironment.require("BERTH_TEST_PG_APP_PASSWORD"),
            ownerPassword: try TestEnvironment.require("BERTH_TEST_PG_OWNER_PASSWORD"),
            superuserURL: try TestEnvironment.require("BERTH_TEST_PG_SUPERUSER_URL")
        )
    }

    func name() async throws -> String {
        if let creating { return try await creating.value }
        let task = Task { try await Self.create() }
        creating = task
        do {
            return try await task.value
        } catch {
            // A later test may try again.
            if creating == task { creating = nil }
            throw error
        }
    }

    private static func create() async throws -> String {
        let settings = try connectionSettings()
        let name = "\(prefix)\(ProcessInfo.processInfo.processIdentifier)_\(Int.random(in: 0..<1_000_000))"
        let admin = Database(configuration: .init(connectionString: settings.superuserURL, poolSize: 1), logger: TestDatabase.logger)
        defer { admin.shutdown() }
        try await admin.withConnection { connection in
            try await connection.executeScript("CREATE DATABASE \(name) OWNER berth_owner")
        }
        // Dropping takes a moment per database: in the background, so no test waits for it.
        Task.detached(priority: .background) { await dropTemplatesOfEndedProcesses(settings.superuserURL) }
        let owner = Database(
            configuration: .init(connectionString: "postgresql://berth_owner:\(settings.ownerPassword)@127.0.0.1:\(settings.port)/\(name)", poolSize: 1),
            logger: TestDatabase.logger
        )
        defer { owner.shutdown() }
        let migrator = Migrator(
            database: owner, directory: TestEnvironment.repositoryRoot.appendingPathComponent("sql"), logger: TestDatabase.logger
        )
        try await migrator.migrate()
        return name
    }

    /// `berth_tpl_<pid>_<n>` whose process no longer exists (PostgreSQL is local). One still in use
    /// by a live process, or that someone is connected to, is left alone.
    private static func dropTemplatesOfEndedProcesses(_ superuserURL: String) async {
        let admin = Database(configuration: .init(connectionString: superuserURL, poolSize: 1), logger: TestDatabase.logger)
        defer { admin.shutdown() }
        _ = try? await admin.withConnection { connection in
            let names = try await connection.execute("SELECT datname FROM pg_database WHERE starts_with(datname, \(prefix))")
                .map { try $0.decode("datname", as: String.self) }
            for name in names {
                let parts = name.dropFirst(prefix.count).split(separator: "_")
                guard parts.count == 2, let pid = pid_t(parts[0]), Int(parts[1]) != nil else { continue }
                guard kill(pid, 0) != 0, errno == ESRCH else { continue }
                _ = try? await connection.executeScript("DROP DATABASE IF EXISTS \(name)")
            }
        }
    }
}
