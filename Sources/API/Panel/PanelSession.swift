import Foundation
import Secrets

/// A signed-in panel session, as its cookie proved it.
///
/// The cookie is `v1.<expiry, unix seconds>.<nonce>.<HMAC-SHA256(session key, "v1.<expiry>.<nonce>")>`:
/// nothing is stored on the server, so every replica with the same admin token accepts it, and a
/// new token ends every session. The CSRF token is another HMAC of the nonce, so it is bound to
/// this session and useless with any other.
struct PanelSession: Sendable, Equatable {
    static let cookieName = "berth_admin_session"
    static let cookiePath = "/admin/ui"
    static let lifetime: TimeInterval = 12 * 3600

    let expiresAt: Date
    let nonce: String
    /// The value every form of this session carries in its hidden `csrf` field.
    let csrfToken: String

    /// Whether `presented` is this session's CSRF token (in constant time).
    func acceptsCSRF(_ presented: String?) -> Bool {
        guard let presented else { return false }
        return Digest.constantTimeEquals(Array(presented.utf8), Array(csrfToken.utf8))
    }
}

/// Issues and verifies panel session cookies with a key derived from the admin token.
struct PanelSessionSigner: Sendable {
    let key: [UInt8]

    /// A new session and the cookie value that carries it.
    func issue(now: Date = Date()) -> (session: PanelSession, cookie: String) {
        let expiry = Int(now.timeIntervalSince1970 + PanelSession.lifetime)
        let nonce = Base64URL.encode(SecureRandom.bytes(18))
        let payload = "v1.\(expiry).\(nonce)"
        let mac = Base64URL.encode(Digest.hmacSHA256(key: key, message: Array(payload.utf8)))
        return (session(expiry: expiry, nonce: nonce), "\(payload).\(mac)")
    }

    /// The session a cookie value proves, or `nil` when it is malformed, tampered with or expired.
    func verify(_ cookie: String, now: Date = Date()) -> PanelSession? {
        let parts = cookie.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "v1", let expiry = Int(parts[1]), let mac = Base64URL.decode(String(parts[3])) else { return nil }
        let nonce = String(parts[2])
        let expected = Digest.hmacSHA256(key: key, message: Array("v1.\(expiry).\(nonce)".utf8))
        guard Digest.constantTimeEquals(mac, expected) else { return nil }
        let expiresAt = Date(timeIntervalSince1970: TimeInterval(expiry))
        // A signed expiry beyond one lifetime from now was not issued by this code.
        guard expiresAt > now, expiresAt.timeIntervalSince(now) <= PanelSession.lifetime + 60 else { return nil }
        return session(expiry: expiry, nonce: nonce)
    }

    private func session(expiry: Int, nonce: String) -> PanelSession {
        let csrf = Base64URL.encode(Digest.hmacSHA256(key: key, message: Array("csrf.\(nonce)".utf8)))
        return PanelSession(expiresAt: Date(timeIntervalSince1970: TimeInterval(expiry)), nonce: nonce, csrfToken: csrf)
    }
}
