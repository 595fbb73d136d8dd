import BerthTestSupport
import Foundation
import Persistence
import Testing

@Suite struct MigrationTests {
    /// A copy of sql/ that a test may edit.
    static func copyOfSQL() throws -> URL {
        let copy = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("berth-sql-\(UUID().uuidString.prefix(8))")
        try FileManager.default.copyItem(at: TestEnvironment.repositoryRoot.appendingPathComponent("sql"), to: copy)
        return copy
    }

    @Test func secondRunIsANoOpAndReadyReportsNothingPending() async throws {
        // The template already holds every migration; running again must change nothing.
        try await withTestDatabase { testDB in
            let owner = testDB.owner()
            defer { owner.shutdown() }
            let migrator = Migrator(database: owner, directory: TestEnvironment.repositoryRoot.appendingPathComponent("sql"), logger: TestDatabase.logger)
            let before = try await owner.withConnection { try await $0.first("SELECT count(*) AS n, max(applied_at) AS at FROM schema_migrations")! }
            #expect(try await migrator.migrate().isEmpty)
            #expect(try await migrator.pending().isEmpty)
            let after = try await owner.withConnection { try await $0.first("SELECT count(*) AS n, max(applied_at) AS at FROM schema_migrations")! }
            #expect(try before.decode("n", as: Int.self) == migrator.files().count)
            #expect(try after.decode("n", as: Int.self) == before.decode("n", as: Int.self))
            #expect(try after.decode("at", as: Date.self) == before.decode("at", as: Date.self))
        }
    }

    @Test func editedAppliedFileIsRefused() async throws {
        try await withTestDatabase { testDB in
            let owner = testDB.owner()
            defer { owner.shutdown() }
            let directory = try Self.copyOfSQL()
            defer { try? FileManager.default.removeItem(at: directory) }
            let file = directory.appendingPathComponent("001_schema.sql")
            let original = try String(contentsOf: file, encoding: .utf8)
            try (original + "\n-- an edit after the fact\n").write(to: file, atomically: true, encoding: .utf8)
            let migrator = Migrator(database: owner, directory: directory, logger: TestDatabase.logger)
            do {
                try await migrator.migrate()
                Issue.record("an edited migration was accepted")
            } catch let error as PostgresError {
                #expect(error.code == .migration)
                #expect(error.message.contains("001_schema.sql"))
                #expect(error.message.contains("changed after it was applied"))
            }
            await #expect(throws: PostgresError.self) { try await migrator.pending() }
        }
    }

    @Test func newFileIsAppliedInOrderAndAFailingOneLeavesNothingBehind() async throws {
        try await withTestDatabase { testDB in
            let owner = testDB.owner()
            defer { owner.shutdown() }
            let directory = try Self.copyOfSQL()
            defer { try? FileManager.default.removeItem(at: directory) }
            try "CREATE TABLE extra_one (id int);".write(to: directory.appendingPathComponent("900_extra.sql"), atomically: true, encoding: .utf8)
            try "CREATE TABLE extra_two (id int); SELECT 1/0;".write(to: directory.appendingPathComponent("901_broken.sql"), atomically: true, encoding: .utf8)
            let migrator = Migrator(database: owner, directory: directory, logger: TestDatabase.logger)
            #expect(try await migrator.pending().map(\.fileName) == ["900_extra.sql", "901_broken.sql"])
            do {
                try await migrator.migrate()
                Issue.record("a failing migration succeeded")
            } catch let error as PostgresError {
                #expect(error.code == .migration)
                #expect(error.message.contains("901_broken.sql"))
            }
            try await owner.withConnection { connection in
                let row = try await connection.first("SELECT to_regclass('extra_one') IS NOT NULL AS one, to_regclass('extra_two') IS NOT NULL AS two")!
                #expect(try row.decode("one", as: Bool.self))
                #expect(try row.decode("two", as: Bool.self) == false, "the failed migration's table survived")
            }
            #expect(try await migrator.pending().map(\.fileName) == ["901_broken.sql"])
        }
    }

    @Test func malformedFileNameIsRefused() throws {
        let directory = try Self.copyOfSQL()
        defer { try? FileManager.default.removeItem(at: directory) }
        try "SELECT 1;".write(to: directory.appendingPathComponent("3_bad.sql"), atomically: true, encoding: .utf8)
        let db = Database(configuration: .init(connectionString: "host=127.0.0.1"), logger: TestDatabase.logger)
        #expect(throws: PostgresError.self) { try Migrator(database: db, directory: directory, logger: TestDatabase.logger).files() }
    }
}
