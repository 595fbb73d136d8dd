/// The keys stored credentials are sealed with: the current one, which seals, and previous ones,
/// which only open what they sealed until `berth secrets rotate` re-seals it under the current one.
public struct SecretKeyring: Sendable {
    public let current: SecretBox
    public let previous: [SecretBox]

    public init(current: SecretBox, previous: [SecretBox] = []) {
        self.current = current
        self.previous = previous.filter { $0.keyID != current.keyID }
    }

    /// From `BERTH_SECRET_KEY` and a comma-separated `BERTH_SECRET_KEYS_PREVIOUS` (base64 each).
    public init(base64Current: String, base64Previous: String?) throws {
        let previous = try (base64Previous ?? "").split(separator: ",").map { try SecretBox(base64Key: String($0)) }
        self.init(current: try SecretBox(base64Key: base64Current), previous: previous)
    }

    /// Seals `plaintext` under the current key; returns the sealed bytes and the key's id.
    public func seal(_ plaintext: [UInt8], associatedData: [UInt8] = []) throws -> (sealed: [UInt8], keyID: String) {
        (try current.seal(plaintext, associatedData: associatedData), current.keyID)
    }

    /// Opens what the key `keyID` sealed; throws `SecretsError` naming the id when that key is not here.
    public func open(_ sealed: [UInt8], keyID: String, associatedData: [UInt8] = []) throws -> [UInt8] {
        guard let box = ([current] + previous).first(where: { $0.keyID == keyID }) else {
            throw SecretsError("sealed with key \(keyID), which is not configured (BERTH_SECRET_KEY or BERTH_SECRET_KEYS_PREVIOUS)")
        }
        return try box.open(sealed, associatedData: associatedData)
    }
}
