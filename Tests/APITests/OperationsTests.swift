import API
import BerthTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Persistence
import Testing

@Suite struct OperationsTests {
    @Test func healthAndReadyAnswer() async throws {
        let testDB = try await TestDatabase.make()
        let db = testDB.app()
        let migrator = Migrator(database: db, directory: TestEnvironment.repositoryRoot.appendingPathComponent("sql"), logger: TestDatabase.logger)
        let app = buildApplication(services: AppServices(database: db, migrator: migrator), configuration: .init(), logger: TestDatabase.logger)
        try await app.test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("\"ok\""))
            }
            try await client.execute(uri: "/ready", method: .get) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/no-such-route", method: .get) { response in
                #expect(response.status == .notFound)
                let body = try JSONDecoder().decode(ErrorBody.self, from: Data(String(buffer: response.body).utf8))
                #expect(body.error.code == "not_found")
            }
        }
        db.shutdown()
        await testDB.drop()
    }

    @Test func readyIsUnavailableWhenMigrationsArePending() async throws {
        let testDB = try await TestDatabase.make()
        let db = testDB.app()
        let directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("berth-sql-\(UUID().uuidString.prefix(8))")
        try FileManager.default.copyItem(at: TestEnvironment.repositoryRoot.appendingPathComponent("sql"), to: directory)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "SELECT 1;".write(to: directory.appendingPathComponent("999_later.sql"), atomically: true, encoding: .utf8)
        let migrator = Migrator(database: db, directory: directory, logger: TestDatabase.logger)
        let app = buildApplication(services: AppServices(database: db, migrator: migrator), configuration: .init(), logger: TestDatabase.logger)
        try await app.test(.router) { client in
            try await client.execute(uri: "/ready", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let body = try JSONDecoder().decode(ErrorBody.self, from: Data(String(buffer: response.body).utf8))
                #expect(body.error.code == "migrations_pending")
            }
        }
        db.shutdown()
        await testDB.drop()
    }
}
