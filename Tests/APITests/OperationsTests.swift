import API
import Domain
import BerthTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Persistence
import Prometheus
import Testing

@Suite struct OperationsTests {
    @Test func healthAndReadyAnswer() async throws {
        try await withTestDatabase { _, db in
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
        }
    }

    @Test func metricsReportTheFleetInPrometheusFormat() async throws {
        try await withTestDatabase { _, db in
            try await db.withSystem { scope in
                _ = try await WorkspaceServerStore().upsert(.init(
                    name: "ws-metrics", connection: .init(host: "127.0.0.1", dockerPort: 1),
                    capacity: Capacity(cpuMillis: 2500, memoryMB: 1024, diskGB: 10, workspaces: 4)
                ), in: scope)
                try await scope.execute("UPDATE workspace_servers SET status = 'healthy', current_cpu_used = 1.5")
            }
            let migrator = Migrator(database: db, directory: TestEnvironment.repositoryRoot.appendingPathComponent("sql"), logger: TestDatabase.logger)
            let app = buildApplication(services: AppServices(database: db, migrator: migrator, metrics: PrometheusCollectorRegistry()), configuration: .init(), logger: TestDatabase.logger)
            try await app.test(.router) { client in
                try await client.execute(uri: "/metrics", method: .get) { response in
                    let text = String(buffer: response.body)
                    #expect(response.status == .ok && response.headers[.contentType]?.hasPrefix("text/plain") == true)
                    #expect(text.contains(#"berth_servers{status="healthy"} 1"#), "\(text)")
                    #expect(text.contains(#"berth_servers{status="offline"} 0"#))
                    #expect(text.contains(#"berth_server_cpu_cores{server="ws-metrics",kind="total"} 2.5"#))
                    #expect(text.contains(#"berth_server_cpu_cores{server="ws-metrics",kind="reserved"} 1.5"#))
                    #expect(text.contains(#"berth_server_memory_bytes{server="ws-metrics",kind="total"} 1073741824"#))
                    #expect(text.contains("# HELP berth_workspaces Live workspaces by status"))
                }
            }
        }
    }

    @Test func aDatabaseThatIsDownIs503NotA500() async throws {
        let db = Database(configuration: DatabaseConfiguration(connectionString: "postgresql://nobody@127.0.0.1:1/none", poolSize: 1, acquireTimeout: .seconds(2), connectTimeoutSeconds: 1), logger: TestDatabase.logger)
        let migrator = Migrator(database: db, directory: TestEnvironment.repositoryRoot.appendingPathComponent("sql"), logger: TestDatabase.logger)
        let app = buildApplication(services: AppServices(database: db, migrator: migrator, metrics: PrometheusCollectorRegistry()), configuration: .init(), logger: TestDatabase.logger)
        try await app.test(.router) { client in
            for uri in ["/metrics", "/ready"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .serviceUnavailable, "\(uri)")
                    #expect(String(buffer: response.body).contains("database_unavailable"), "\(uri): \(String(buffer: response.body))")
                }
            }
        }
        db.shutdown()
    }

    @Test func readyIsUnavailableWhenMigrationsArePending() async throws {
        try await withTestDatabase { _, db in
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
        }
    }
}
