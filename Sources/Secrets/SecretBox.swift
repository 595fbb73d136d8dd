import COpenSSL
import Foundation

/// AES-256-GCM sealing of stored credentials (git tokens and the like).
///
/// Sealed layout: 12-byte nonce ‖ ciphertext ‖ 16-byte tag. Each seal draws a fresh nonce.
public struct SecretBox: Sendable {
    private let key: [UInt8]

    /// Names the key without revealing it: the first 8 hex digits of SHA-256("berth-key-id:" ‖ key).
    /// Stored beside each sealed value, so a rotation knows which key sealed what.
    public var keyID: String { String(Digest.hex(Digest.sha256(Array("berth-key-id:".utf8) + key)).prefix(8)) }

    static let nonceLength = 12
    static let tagLength = 16

    /// A box from a 32-byte key.
    public init(key: [UInt8]) throws {
        guard key.count == 32 else { throw SecretsError("secret key must be 32 bytes, got \(key.count)") }
        self.key = key
    }

    /// A box from the base64 text of `BERTH_SECRET_KEY`.
    public init(base64Key: String) throws {
        guard let data = Data(base64Encoded: base64Key.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw SecretsError("secret key is not valid base64")
        }
        try self.init(key: Array(data))
    }

    public func seal(_ plaintext: [UInt8], associatedData: [UInt8] = []) throws -> [UInt8] {
        let nonce = SecureRandom.bytes(Self.nonceLength)
        guard let ctx = EVP_CIPHER_CTX_new() else { throw SecretsError("cannot allocate cipher context") }
        defer { EVP_CIPHER_CTX_free(ctx) }
        var ciphertext = [UInt8](repeating: 0, count: plaintext.count + 16)
        var tag = [UInt8](repeating: 0, count: Self.tagLength)
        var length: Int32 = 0
        var total = 0
        guard EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nil, nil, nil) == 1,
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, Int32(Self.nonceLength), nil) == 1,
            EVP_EncryptInit_ex(ctx, nil, nil, key, nonce) == 1
        else { throw SecretsError("cannot initialise AES-256-GCM") }
        if !associatedData.isEmpty {
            guard EVP_EncryptUpdate(ctx, nil, &length, associatedData, Int32(associatedData.count)) == 1 else {
                throw SecretsError("cannot add associated data")
            }
        }
        if !plaintext.isEmpty {
            let ok = ciphertext.withUnsafeMutableBufferPointer { out in
                EVP_EncryptUpdate(ctx, out.baseAddress, &length, plaintext, Int32(plaintext.count))
            }
            guard ok == 1 else { throw SecretsError("encryption failed") }
            total = Int(length)
        }
        let finalOK = ciphertext.withUnsafeMutableBufferPointer { out in
            EVP_EncryptFinal_ex(ctx, out.baseAddress! + total, &length)
        }
        guard finalOK == 1 else { throw SecretsError("encryption failed") }
        total += Int(length)
        guard EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, Int32(Self.tagLength), &tag) == 1 else {
            throw SecretsError("cannot read GCM tag")
        }
        return nonce + ciphertext.prefix(total) + tag
    }

    public func open(_ sealed: [UInt8], associatedData: [UInt8] = []) throws -> [UInt8] {
        guard sealed.count >= Self.nonceLength + Self.tagLength else { throw SecretsError("sealed value is too short") }
        let nonce = Array(sealed.prefix(Self.nonceLength))
        var tag = Array(sealed.suffix(Self.tagLength))
        let ciphertext = Array(sealed.dropFirst(Self.nonceLength).dropLast(Self.tagLength))
        guard let ctx = EVP_CIPHER_CTX_new() else { throw SecretsError("cannot allocate cipher context") }
        defer { EVP_CIPHER_CTX_free(ctx) }
        var plaintext = [UInt8](repeating: 0, count: ciphertext.count + 16)
        var length: Int32 = 0
        var total = 0
        guard EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nil, nil, nil) == 1,
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, Int32(Self.nonceLength), nil) == 1,
            EVP_DecryptInit_ex(ctx, nil, nil, key, nonce) == 1
        else { throw SecretsError("cannot initialise AES-256-GCM") }
        if !associatedData.isEmpty {
            guard EVP_DecryptUpdate(ctx, nil, &length, associatedData, Int32(associatedData.count)) == 1 else {
                throw SecretsError("cannot add associated data")
            }
        }
        if !ciphertext.isEmpty {
            let ok = plaintext.withUnsafeMutableBufferPointer { out in
                EVP_DecryptUpdate(ctx, out.baseAddress, &length, ciphertext, Int32(ciphertext.count))
            }
            guard ok == 1 else { throw SecretsError("decryption failed") }
            total = Int(length)
        }
        guard EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, Int32(Self.tagLength), &tag) == 1 else {
            throw SecretsError("cannot set GCM tag")
        }
        let finalOK = plaintext.withUnsafeMutableBufferPointer { out in
            EVP_DecryptFinal_ex(ctx, out.baseAddress! + total, &length)
        }
        guard finalOK == 1 else { throw SecretsError("sealed value failed authentication") }
        total += Int(length)
        return Array(plaintext.prefix(total))
    }
}
