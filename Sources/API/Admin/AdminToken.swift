import Secrets

/// The admin token, held only as its SHA-256: the comparison is between digests, in constant time.
public struct AdminToken: Sendable {
    private let digest: [UInt8]

    /// `nil` for an empty token: an admin API with an empty password is never enabled.
    public init?(_ token: String) {
        guard !token.isEmpty else { return nil }
        digest = Digest.sha256(token)
    }

    public func matches(_ presented: String) -> Bool {
        Digest.constantTimeEquals(Digest.sha256(presented), digest)
    }

    /// A key derived from the token for signing panel sessions: every replica with the same token
    /// derives the same key, and changing the token ends every session.
    var sessionKey: [UInt8] { Digest.hmacSHA256(key: digest, message: Array("berth admin panel session".utf8)) }
}
