import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Secrets

/// The id of the request a piece of work is for: taken from `X-Request-Id` when the client sent a
/// sensible one (1 to 128 of `A-Z a-z 0-9 . _ : -`), made up otherwise; returned on every response
/// and put on every log line of the work the request causes, background work it starts included
/// (a task-local value, which tasks started from the request inherit).
public enum RequestID {
    @TaskLocal public static var current: String?

    /// Adds `request_id` to every log line written while a request's work runs.
    public static let metadataProvider = Logger.MetadataProvider {
        current.map { ["request_id": .string($0)] } ?? [:]
    }

    public static let header = HTTPField.Name("X-Request-Id")!

    /// The client's id when it is one Berth can repeat safely, else a new one.
    static func accepted(_ presented: String?) -> String {
        if let presented, (1...128).contains(presented.utf8.count),
            presented.utf8.allSatisfy({ byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || [UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "-")].contains(byte)
            })
        {
            return presented
        }
        return Digest.hex(SecureRandom.bytes(16))
    }
}

/// Gives every request its id (see `RequestID`) and every response the `X-Request-Id` header.
struct RequestIDMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let id = RequestID.accepted(request.headers[RequestID.header])
        return try await RequestID.$current.withValue(id) {
            var response: Response
            do {
                response = try await next(request, context)
            } catch let error as any HTTPResponseError {
                response = try error.response(from: request, context: context)
            }
            response.headers[RequestID.header] = id
            return response
        }
    }
}
