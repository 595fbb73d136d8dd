/// A freshly generated API key: the secret is shown once, only the prefix and hash are stored.
public struct APIKeyMaterial: Sendable {
    /// The full key handed to the tenant, e.g. `berth_3f9c1a2b7d4e6f80_…`.
    public let secret: String
    /// The public lookup prefix stored beside the hash.
    public let prefix: String
    /// SHA-256 of the full key; the only thing that proves it.
    public let hash: [UInt8]

    static let scheme = "berth"
    static let prefixBytes = 8
    static let secretBytes = 32

    /// A new key from OpenSSL's random source.
    public static func generate() -> APIKeyMaterial {
        let prefix = Digest.hex(SecureRandom.bytes(prefixBytes))
        let body = Base64URL.encode(SecureRandom.bytes(secretBytes))
        let secret = "\(scheme)_\(prefix)_\(body)"
        return APIKeyMaterial(secret: secret, prefix: prefix, hash: Digest.sha256(secret))
    }

    /// Splits a presented key into its lookup prefix, or `nil` when it is not shaped like a Berth key.
    public static func lookupPrefix(of presented: String) -> String? {
        let parts = presented.split(separator: "_", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == scheme,
            parts[1].count == prefixBytes * 2,
            parts[1].allSatisfy({ $0.isHexDigit && !$0.isUppercase }),
            !parts[2].isEmpty, parts[2].count <= 128
        else { return nil }
        return String(parts[1])
    }

    /// Whether `presented` is the key whose stored hash is `storedHash`, compared in constant time.
    public static func verify(_ presented: String, storedHash: [UInt8]) -> Bool {
        Digest.constantTimeEquals(Digest.sha256(presented), storedHash)
    }
}
