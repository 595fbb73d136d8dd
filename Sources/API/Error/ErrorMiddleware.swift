import Foundation
import Hummingbird
import Logging
import NIOCore
import Persistence

/// Turns every error into the JSON error shape; an unexpected one becomes a logged 500 whose
/// body says nothing about internals.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, code: "payload_too_large", message: "the body is larger than \(context.maxUploadSize) bytes")
        } catch let error as PostgresError {
            throw Self.map(error, logger: context.logger)
        } catch let error as HTTPError {
            throw APIError(error.status, code: Self.code(for: error.status), message: error.body ?? error.status.reasonPhrase)
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            throw APIError(.internalServerError, code: "internal_error", message: "an internal error occurred")
        }
    }

    /// A database failure as the client sees it: never a 500. Outages, timeouts and lock waits are
    /// `503` with `Retry-After`; a conflict or a value the database refused that no handler caught
    /// is `409` or `400`. The server's text stays in the log.
    static func map(_ error: PostgresError, logger: Logger) -> APIError {
        logger.warning("database error", metadata: ["code": "\(error.code)", "sqlstate": "\(error.sqlState ?? "")", "error": "\(error.message)"])
        switch error.code {
        case .unavailable, .connectionLost:
            return APIError(.serviceUnavailable, code: "database_unavailable", message: "the database is not reachable; try again", retryAfter: 2)
        case .queryCanceled:
            return APIError(.serviceUnavailable, code: "database_timeout", message: "the database did not answer in time; try again", retryAfter: 2)
        case .lockTimeout, .serializationFailure, .deadlockDetected:
            return APIError(.serviceUnavailable, code: "database_busy", message: "the data is busy with another change; try again", retryAfter: 1)
        case .uniqueViolation, .foreignKeyViolation, .checkViolation:
            return APIError(.conflict, code: "conflict", message: "the change conflicts with the current state")
        default:
            if error.sqlState?.hasPrefix("22") == true {
                return APIError(.badRequest, code: "invalid_value", message: "a value is out of range or malformed")
            }
            return APIError(.serviceUnavailable, code: "database_error", message: "the database could not complete the request; try again", retryAfter: 2)
        }
    }

    static func code(for status: HTTPResponse.Status) -> String {
        switch status.code {
        case 400: "bad_request"
        case 401: "unauthorized"
        case 403: "forbidden"
        case 404: "not_found"
        case 405: "method_not_allowed"
        case 409: "conflict"
        case 413: "payload_too_large"
        case 415: "unsupported_media_type"
        case 422: "unprocessable_entity"
        default: status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "_")
        }
    }
}
