import Domain
import Foundation
import Hummingbird
import Persistence
import Secrets

/// Authenticates `Authorization: Bearer <api key>`: lookup by prefix, constant-time hash comparison,
/// revoked keys refused. `last_used_at` is written at most once a minute per key.
///
/// Before the lookup, each key (by its prefix) is held to the tenant limits: a flood of requests
/// with one key is refused with `429` without a database round trip, so refusals cost the shared
/// pool nothing. The tenant's own limits apply after (`TenantLimitMiddleware`), across its keys.
struct APIKeyMiddleware: RouterMiddleware {
    typealias Context = BerthRequestContext
    let database: Database
    let keyLimiter: RequestLimiter<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            throw APIError(.unauthorized, code: "unauthorized", message: "missing Authorization: Bearer <api key>")
        }
        let presented = String(header.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)
        // Never echo the key, however malformed.
        guard let prefix = APIKeyMaterial.lookupPrefix(of: presented) else {
            throw APIError(.unauthorized, code: "unauthorized", message: "the API key is not valid")
        }
        switch keyLimiter.admit(prefix) {
        case .refused(let reason, let retryAfter):
            throw APIError(.tooManyRequests, code: "rate_limited", message: "too many requests with this key: \(reason)", retryAfter: retryAfter)
        case .admitted:
            break
        }
        defer { keyLimiter.finish(prefix) }
        let store = APIKeyStore()
        let credential = try await store.credential(prefix: prefix, in: database)
        guard let credential, APIKeyMaterial.verify(presented, storedHash: credential.hash) else {
            throw APIError(.unauthorized, code: "unauthorized", message: "the API key is not valid")
        }
        guard !credential.record.isRevoked else {
            throw APIError(.unauthorized, code: "unauthorized", message: "the API key has been revoked")
        }
        guard credential.tenantActive else {
            throw APIError(.forbidden, code: "tenant_suspended", message: "the tenant is suspended")
        }
        if credential.record.lastUsedAt.map({ $0.timeIntervalSinceNow < -60 }) ?? true {
            try? await database.withSystem { try await store.touch(credential.record.id, in: $0) }
        }
        var context = context
        context.tenant = credential.record.tenantID
        context.apiKey = credential.record.id
        return try await next(request, context)
    }
}
