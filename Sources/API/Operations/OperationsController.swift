import Foundation
import Hummingbird
import NIOCore
import Persistence

/// `/health` (the process is alive) and `/ready` (the database answers and migrations are current).
struct OperationsController<Context: RequestContext> {
    let services: AppServices

    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("health") { _, _ in Status(status: "ok") }
        routes.get("ready") { _, _ in try await ready() }
        routes.get("openapi.json") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }
        return routes
    }

    struct Status: ResponseCodable {
        let status: String
    }

    func ready() async throws -> Status {
        do {
            let pending = try await services.migrator.pending()
            guard pending.isEmpty else {
                throw APIError(
                    .serviceUnavailable, code: "migrations_pending",
                    message: "\(pending.count) migration(s) not applied; run `berth migrate`",
                    details: ["pending": .array(pending.map { .string($0.fileName) })]
                )
            }
            return Status(status: "ready")
        } catch let error as PostgresError {
            throw APIError(.serviceUnavailable, code: error.code == .migration ? "migrations_changed" : "database_unavailable", message: error.message)
        }
    }
}
