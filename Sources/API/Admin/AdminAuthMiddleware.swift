import Domain
import Foundation
import Hummingbird
import Persistence
import Secrets

/// Authenticates `Authorization: Bearer <admin token>` on `/admin/…`.
///
/// No token: 401. A tenant's API key: 403, so a tenant learns its key is valid but not an admin's.
/// Anything else: 401. When no admin token is configured the admin API is off: 503.
struct AdminAuthMiddleware: RouterMiddleware {
    typealias Context = BerthRequestContext
    let token: AdminToken?
    let database: Database

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token else {
            throw APIError(.serviceUnavailable, code: "admin_disabled", message: "the admin API is off: set BERTH_ADMIN_TOKEN or BERTH_ADMIN_TOKEN_FILE")
        }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            throw APIError(.unauthorized, code: "unauthorized", message: "missing Authorization: Bearer <admin token>")
        }
        let presented = String(header.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)
        if token.matches(presented) {
            var context = context
            context.isAdmin = true
            return try await next(request, context)
        }
        if try await isTenantKey(presented) {
            throw APIError(.forbidden, code: "forbidden", message: "a tenant API key cannot use the admin API")
        }
        throw APIError(.unauthorized, code: "unauthorized", message: "the admin token is not valid")
    }

    private func isTenantKey(_ presented: String) async throws -> Bool {
        guard let prefix = APIKeyMaterial.lookupPrefix(of: presented) else { return false }
        let credential = try await APIKeyStore().credential(prefix: prefix, in: database)
        guard let credential, !credential.record.isRevoked else { return false }
        return APIKeyMaterial.verify(presented, storedHash: credential.hash)
    }
}
