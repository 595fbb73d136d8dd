import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Persistence

/// Wraps every panel response: security headers on all of them, and refusals as HTML pages
/// (an unexpected error is logged by its type only and shown as a bare 500).
struct PanelPageMiddleware: RouterMiddleware {
    typealias Context = PanelRequestContext

    /// Only the panel's own stylesheet and script: no inline code, no other origin, no framing.
    static let contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as PanelError {
            response = PanelRenderer.errorPage(error.status, error.message)
        } catch let error as APIError {
            response = PanelRenderer.errorPage(error.status, error.message)
        } catch let error as PostgresError {
            // The same answer the JSON API gives a database failure, as a page: never a 500.
            let mapped = ErrorMiddleware<Context>.map(error, logger: context.logger)
            response = PanelRenderer.errorPage(mapped.status, mapped.message)
            if let retryAfter = mapped.retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        } catch is NIOTooManyBytesError {
            response = PanelRenderer.errorPage(.contentTooLarge, "The form is larger than \(context.maxUploadSize) bytes.")
        } catch let error as HTTPError {
            response = PanelRenderer.errorPage(error.status, error.status == .notFound ? "There is no such page." : error.status.reasonPhrase)
        } catch {
            context.logger.error("panel: unhandled error", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            response = PanelRenderer.errorPage(.internalServerError, "An internal error occurred.")
        }
        response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}
