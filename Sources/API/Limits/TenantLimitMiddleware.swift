import Hummingbird

/// Refuses a tenant's request with `429` and `Retry-After` when the tenant is over its limits.
struct TenantLimitMiddleware: RouterMiddleware {
    typealias Context = TenantRequestContext
    let limiter: TenantLimiter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        switch limiter.admit(context.tenant) {
        case .refused(let reason, let retryAfter):
            throw APIError(.tooManyRequests, code: "rate_limited", message: "too many requests: \(reason)", retryAfter: retryAfter)
        case .admitted:
            defer { limiter.finish(context.tenant) }
            return try await next(request, context)
        }
    }
}
