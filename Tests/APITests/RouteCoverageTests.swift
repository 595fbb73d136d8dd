@testable import API
import BerthTestSupport
import Compute
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Persistence
import Prometheus
import Secrets
import Testing

/// What holds for every route the router has, read from the router itself.
@Suite struct RouteCoverageTests {
    static let token = AdminRoutesTests.token

    /// The application's services, every part switched on, over `db`.
    static func services(_ db: Database) -> AppServices {
        let pool = DockerServerPool()
        let placement = PlacementService(database: db, logger: TestDatabase.logger)
        let orchestrator = WorkspaceOrchestrator(database: db, placement: placement, pool: pool, stopGrace: .seconds(1), logger: TestDatabase.logger)
        let migrator = Migrator(database: db, directory: TestEnvironment.repositoryRoot.appendingPathComponent("sql"), logger: TestDatabase.logger)
        return AppServices(
            database: db, migrator: migrator, orchestrator: orchestrator, placement: placement, pool: pool,
            adminToken: AdminToken(token), metrics: PrometheusCollectorRegistry()
        )
    }

    /// A database nobody answers for: port 1 on loopback.
    static func downDatabase() -> Database {
        Database(
            configuration: DatabaseConfiguration(connectionString: "postgresql://nobody@127.0.0.1:1/none", poolSize: 2, acquireTimeout: .seconds(5), connectTimeoutSeconds: 1),
            logger: TestDatabase.logger
        )
    }

    /// `GET /v1/workspaces/{id}` and so on: the router's routes as `METHOD /path`.
    static func routes(_ router: Router<BerthRequestContext>) -> [String] {
        router.routes.map { "\($0.method.rawValue) \($0.path)" }.sorted()
    }

    /// The panel's pages are HTML for people, not part of the HTTP API the document describes.
    static func isPanel(_ route: String) -> Bool {
        route.split(separator: " ")[1].hasPrefix("/admin/ui")
    }

    @Test func theOpenAPIDocumentListsExactlyTheRoutesOfTheRouter() async throws {
        let db = Self.downDatabase()
        defer { db.shutdown() }
        let router = buildRouter(services: Self.services(db))
        let api = Self.routes(router).filter { !Self.isPanel($0) }
        // The document as the service serves it, not the constant it is made from.
        let served = try await Application(router: buildRouter(services: Self.services(db))).test(.router) { client in
            try await client.execute(uri: "/openapi.json", method: .get) { response in
                #expect(response.status == .ok)
                return String(buffer: response.body)
            }
        }
        let document = try #require(try JSONSerialization.jsonObject(with: Data(served.utf8)) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let methods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
        let documented = paths.flatMap { path, item in
            item.keys.filter(methods.contains).map { "\($0.uppercased()) \(path)" }
        }.sorted()
        #expect(!api.isEmpty && api.count == Set(api).count)
        let undocumented = Set(api).subtracting(documented).sorted(), missing = Set(documented).subtracting(api).sorted()
        #expect(undocumented.isEmpty, "routes the document does not list: \(undocumented)")
        #expect(missing.isEmpty, "operations the router does not have: \(missing)")
        // Every operation declares its path's parameters, and only those ($refs resolved).
        let shared = (document["components"] as? [String: Any])?["parameters"] as? [String: [String: Any]] ?? [:]
        func resolved(_ parameter: [String: Any]) -> [String: Any] {
            guard let ref = parameter["$ref"] as? String else { return parameter }
            return shared[String(ref.split(separator: "/").last ?? "")] ?? [:]
        }
        for (path, item) in paths {
            let inPath = Set(path.split(separator: "/").filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) })
            let common = (item["parameters"] as? [[String: Any]] ?? []).map(resolved)
            for (method, operation) in item where methods.contains(method) {
                let own = ((operation as? [String: Any])?["parameters"] as? [[String: Any]] ?? []).map(resolved)
                let declared = Set((common + own).filter { $0["in"] as? String == "path" }.compactMap { $0["name"] as? String })
                #expect(declared == inPath, "\(method) \(path) declares path parameters \(declared.sorted())")
            }
        }
    }
}
