import Foundation
import Hummingbird
import Logging
import NIOCore
import Persistence

/// `/health` (the process is alive) and `/ready` (the database answers and migrations are current).
struct OperationsController<Context: RequestContext> {
    let services: AppServices

    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("health") { _, _ in Status(status: "ok") }
        routes.get("ready") { _, context in try await ready(context.logger) }
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

    /// Unauthenticated, so it says what is wrong in Berth's words only: libpq's text (which names
    /// the host, port and role) goes to the log.
    func ready(_ logger: Logger) async throws -> Status {
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
            logger.warning("not ready", metadata: ["error": "\(error)"])
            if error.code == .migration {
                throw APIError(.serviceUnavailable, code: "migrations_changed", message: "an applied migration file has changed; see the service log", retryAfter: 30)
            }
            throw APIError(.serviceUnavailable, code: "database_unavailable", message: "the database is not reachable", retryAfter: 2)
        }
    }
}
