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

/// What holds for every route the router has, read from the router itself: the OpenAPI document
/// lists exactly the HTTP API's routes, and a database that is down never makes one answer 500.
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

    /// A request for each route that is valid in every way but the database: right credentials,
    /// a well-formed body, so that only the database can stand in the way.
    struct Call {
        let uri: String
        let headers: HTTPFields
        let body: String?
    }

    static func call(for route: String, tenantKey: String, cookie: String, csrf: String) -> Call? {
        let parts = route.split(separator: " ")
        let method = String(parts[0])
        let path = String(parts[1]).replacingOccurrences(of: "{id}", with: UUID().uuidString.lowercased())
            .replacingOccurrences(of: "{key_id}", with: UUID().uuidString.lowercased())
        var headers = HTTPFields()
        let period = "from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z"
        let create = #"{"name":"w","image":"berth-busybox:latest","resources":{"cpu":0.5,"memory_mb":64}}"#
        if path.hasPrefix("/admin/ui") {
            headers[.cookie] = "\(PanelSession.cookieName)=\(cookie)"
            guard method == "POST" else { return Call(uri: path, headers: headers, body: nil) }
            headers[.contentType] = "application/x-www-form-urlencoded"
            let form: String
            switch route.split(separator: " ")[1] {
            case "/admin/ui/login": form = "token=\(token)"
            case "/admin/ui/servers": form = "name=ws-x&host=127.0.0.1&docker_port=1"
            case "/admin/ui/tenants": form = "name=acme"
            case "/admin/ui/tenants/{id}/keys": form = "name=ci"
            case "/admin/ui/placement": form = "cpu=1&memory_mb=64"
            case "/admin/ui/plans": form = "name=p&currency=EUR"
            case "/admin/ui/plans/{id}/versions": form = "effective_from=2099-01-01T00:00:00Z"
            case "/admin/ui/tenants/{id}/plan": form = "price_plan_id=&effective_from="
            case "/admin/ui/logout", "/admin/ui/servers/{id}/cordon", "/admin/ui/servers/{id}/uncordon", "/admin/ui/servers/{id}/drain",
                 "/admin/ui/servers/{id}/remove", "/admin/ui/tenants/{id}/keys/{key_id}/revoke":
                form = ""
            default: return nil
            }
            return Call(uri: path, headers: headers, body: "csrf=\(csrf)" + (form.isEmpty ? "" : "&" + form))
        }
        headers[.authorization] = "Bearer \(path.hasPrefix("/v1/") ? tenantKey : token)"
        headers[.contentType] = "application/json"
        switch route {
        case "POST /v1/workspaces", "POST /admin/placement/dry-run": return Call(uri: path, headers: headers, body: create)
        case "POST /v1/workspaces/{id}/resize": return Call(uri: path, headers: headers, body: #"{"resources":{"cpu":1,"memory_mb":128}}"#)
        case "GET /v1/usage", "GET /v1/usage/export", "GET /admin/billing/export", "GET /admin/billing/summary", "GET /admin/tenants/{id}/usage/export":
            return Call(uri: path + "?" + period, headers: headers, body: nil)
        case "POST /admin/servers":
            return Call(uri: path, headers: headers, body: #"{"name":"ws-x","host":"127.0.0.1","docker_port":1}"#)
        case "PATCH /admin/servers/{id}": return Call(uri: path, headers: headers, body: #"{"total_cpu":3}"#)
        case "POST /admin/tenants": return Call(uri: path, headers: headers, body: #"{"name":"acme"}"#)
        case "PATCH /admin/tenants/{id}": return Call(uri: path, headers: headers, body: #"{"status":"active"}"#)
        case "POST /admin/tenants/{id}/api-keys": return Call(uri: path, headers: headers, body: #"{"name":"ci"}"#)
        case "POST /admin/price-plans": return Call(uri: path, headers: headers, body: #"{"name":"p","currency":"EUR"}"#)
        case "POST /admin/price-plans/{id}/versions":
            return Call(uri: path, headers: headers, body: #"{"effective_from":"2099-01-01T00:00:00Z","cpu_core_hour_micros":1}"#)
        default:
            // Every other route takes no body; one that does must be added above.
            return method == "GET" || method == "DELETE" || route.hasPrefix("POST /v1/workspaces/{id}/") || route.hasPrefix("POST /admin/servers/{id}/")
                ? Call(uri: path, headers: headers, body: nil) : nil
        }
    }

    /// The routes that never read the database: liveness, the document, and the panel's sign-in and
    /// static assets. (Every page behind a session reads it: the session may have been logged out.)
    static let withoutDatabase: Set<String> = [
        "GET /health", "GET /openapi.json", "GET /admin/ui/login", "POST /admin/ui/login",
        "GET /admin/ui/assets/panel.css", "GET /admin/ui/assets/panel.js",
    ]

    @Test func aDatabaseThatIsDownIs503OnEveryRouteThatNeedsIt() async throws {
        let db = Self.downDatabase()
        defer { db.shutdown() }
        let router = buildRouter(services: Self.services(db))
        let routes = Self.routes(router)
        #expect(Self.withoutDatabase.isSubset(of: Set(routes)), "\(Self.withoutDatabase.subtracting(routes))")
        // A key of the right shape (its lookup needs the database) and a panel session signed by the
        // panel's own signer (signing in needs no database, but its pages do).
        let tenantKey = APIKeyMaterial.generate().secret
        let (session, cookie) = PanelSessionSigner(key: try #require(AdminToken(Self.token)).sessionKey).issue()
        try await Application(router: router).test(.router) { client in
            for route in routes {
                guard let call = Self.call(for: route, tenantKey: tenantKey, cookie: cookie, csrf: session.csrfToken) else {
                    Issue.record("no request written for \(route)")
                    continue
                }
                let method = HTTPRequest.Method(String(route.split(separator: " ")[0]))!
                let (status, text) = try await client.execute(uri: call.uri, method: method, headers: call.headers, body: call.body.map { ByteBuffer(string: $0) }) {
                    ($0.status, String(buffer: $0.body))
                }
                if Self.withoutDatabase.contains(route) {
                    #expect(status.code < 500, "\(route) answered \(status) without needing the database: \(text.prefix(200))")
                } else if Self.isPanel(route) {
                    // Pages, not JSON: the same 503, as an HTML page that says why.
                    #expect(status == .serviceUnavailable, "\(route) answered \(status): \(text.prefix(200))")
                    #expect(text.lowercased().contains("database"), "\(route): \(text.prefix(300))")
                } else {
                    #expect(status == .serviceUnavailable, "\(route) answered \(status): \(text.prefix(200))")
                    let code = ((try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]).flatMap { $0["error"] as? [String: Any] }?["code"] as? String
                    #expect(code == "database_unavailable", "\(route): \(text.prefix(200))")
                }
            }
        }
    }
}
