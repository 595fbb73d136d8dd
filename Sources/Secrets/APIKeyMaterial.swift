/// A freshly generated API key: the secret is shown once, only the prefix and hash are stored.
public struct APIKeyMaterial: Sendable {
    /// The full key handed to the tenant, e.g. `berth_3f9c1a2b7d4e6f80_…`: the scheme, the lookup
    /// prefix, 43 characters of secret and a 6-character check of the two, so a mistyped or made-up
    /// key is refused without asking the database.
    public let secret: String
    /// The public lookup prefix stored beside the hash.
    public let prefix: String
    /// SHA-256 of the full key; the only thing that proves it.
    public let hash: [UInt8]

    static let scheme = "berth"
    static let prefixBytes = 8
    static let secretBytes = 32
    /// Base64url of 32 bytes, unpadded.
    static let secretLength = 43
    static let checkLength = 6

    /// A new key from OpenSSL's random source.
    public static func generate() -> APIKeyMaterial {
        let prefix = Digest.hex(SecureRandom.bytes(prefixBytes))
        let body = Base64URL.encode(SecureRandom.bytes(secretBytes))
        let secret = "\(scheme)_\(prefix)_\(body)\(check(prefix: prefix, body: body))"
        return APIKeyMaterial(secret: secret, prefix: prefix, hash: Digest.sha256(secret))
    }

    /// The check characters of a key: not a secret (anyone can compute them), only a proof of shape.
    static func check(prefix: String, body: Substring) -> String {
        String(Base64URL.encode(Array(Digest.sha256("berth-key-check:\(prefix)_\(body)").prefix(4))).prefix(checkLength))
    }

    static func check(prefix: String, body: String) -> String { check(prefix: prefix, body: body[...]) }

    /// Splits a presented key into its lookup prefix, or `nil` when it is not shaped like a Berth key
    /// or its check characters do not match. Keys issued before the check existed (43 characters of
    /// secret, no check) are still accepted here and proven by their hash alone.
    public static func lookupPrefix(of presented: String) -> String? {
        let parts = presented.split(separator: "_", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == scheme,
            parts[1].count == prefixBytes * 2,
            parts[1].allSatisfy({ $0.isHexDigit && !$0.isUppercase }),
            parts[2].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        else { return nil }
        let prefix = String(parts[1]), rest = parts[2]
        switch rest.count {
        case secretLength:
            return prefix
        case secretLength + checkLength:
            let body = rest.prefix(secretLength)
            guard Digest.constantTimeEquals(Array(rest.suffix(checkLength).utf8), Array(check(prefix: prefix, body: body).utf8)) else { return nil }
            return prefix
        default:
            return nil
        }
    }

    /// Whether `presented` is the key whose stored hash is `storedHash`, compared in constant time.
    public static func verify(_ presented: String, storedHash: [UInt8]) -> Bool {
        Digest.constantTimeEquals(Digest.sha256(presented), storedHash)
    }
}
