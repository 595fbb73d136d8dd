import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Persistence

/// Guards every panel page but the login page and the assets.
///
/// Without a valid session cookie the answer is a redirect to the login page, for a POST too (so
/// it changes nothing). With one, a POST's form is read here, once, and refused with 403 unless
/// its `csrf` field is this session's token: no mutation handler can forget the check.
struct PanelSessionMiddleware: RouterMiddleware {
    typealias Context = PanelRequestContext
    /// `nil` when no admin token is configured: the panel is off.
    let signer: PanelSessionSigner?
    /// Where logged-out sessions are recorded.
    let database: Database

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let signer else { throw PanelError.disabled }
        let presented = request.cookies[PanelSession.cookieName]
        var proven = presented.flatMap { signer.verify($0.value) }
        if let session = proven, try await isRevoked(session) { proven = nil }
        guard let session = proven else {
            var response = Response.redirect(to: "/admin/ui/login", type: .normal)
            // A cookie that no longer proves anything is dropped rather than sent again and again.
            if presented != nil { response.setCookie(PanelCookies.cleared(request)) }
            return response
        }
        var context = context
        context.session = session
        var request = request
        if request.method != .get && request.method != .head {
            let body = try await request.collectBody(upTo: context.maxUploadSize)
            let form = try PanelForm.parse(body)
            guard session.acceptsCSRF(form["csrf"]) else {
                throw PanelError(.forbidden, "The form's security token is missing or does not match this session. Reload the page and try again.")
            }
            context.form = form
        }
        return try await next(request, context)
    }

    /// Whether the session was logged out.
    func isRevoked(_ session: PanelSession) async throws -> Bool {
        try await database.withSystem { scope in
            try await scope.first("SELECT 1 AS revoked FROM panel_revocations WHERE nonce = \(session.nonce)") != nil
        }
    }
}

extension PanelError {
    static let disabled = PanelError(.serviceUnavailable, "The admin panel is off: set BERTH_ADMIN_TOKEN or BERTH_ADMIN_TOKEN_FILE.")
}

/// The session cookie as set and as cleared: HttpOnly, SameSite=Strict, only under `/admin/ui`,
/// and Secure whenever the request came over HTTPS (directly or through a proxy that says so).
enum PanelCookies {
    static func session(_ value: String, _ request: Request) -> Cookie {
        Cookie(name: PanelSession.cookieName, value: value, maxAge: Int(PanelSession.lifetime), path: PanelSession.cookiePath,
               secure: isHTTPS(request), httpOnly: true, sameSite: .strict)
    }

    static func cleared(_ request: Request) -> Cookie {
        Cookie(name: PanelSession.cookieName, value: "", maxAge: 0, path: PanelSession.cookiePath,
               secure: isHTTPS(request), httpOnly: true, sameSite: .strict)
    }

    static func isHTTPS(_ request: Request) -> Bool {
        request.uri.scheme?.rawValue == "https" || request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased() == "https"
    }
}

/// `application/x-www-form-urlencoded` bodies, read with Hummingbird's decoder.
enum PanelForm {
    static func parse(_ body: ByteBuffer) throws -> [String: String] {
        let text = String(buffer: body)
        if text.isEmpty { return [:] }
        do {
            return try URLEncodedFormDecoder().decode([String: String].self, from: text)
        } catch {
            throw PanelError(.badRequest, "The form could not be read.")
        }
    }
}
