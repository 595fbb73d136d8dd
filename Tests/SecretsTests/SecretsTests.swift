import Foundation
import Secrets
import Testing

@Suite struct SecretsTests {
    @Test func apiKeysAreRandomPrefixedAndVerifiable() {
        let a = APIKeyMaterial.generate(), b = APIKeyMaterial.generate()
        #expect(a.secret != b.secret && a.prefix != b.prefix)
        #expect(a.secret.hasPrefix("berth_\(a.prefix)_"))
        #expect(APIKeyMaterial.lookupPrefix(of: a.secret) == a.prefix)
        #expect(APIKeyMaterial.verify(a.secret, storedHash: a.hash))
        #expect(!APIKeyMaterial.verify(b.secret, storedHash: a.hash))
        #expect(!APIKeyMaterial.verify(a.secret + "x", storedHash: a.hash))
        #expect(a.hash.count == 32)
        #expect(!Digest.hex(a.hash).contains(a.secret))
    }

    /// The check characters prove a key's shape: any one character changed (in the prefix, the
    /// secret or the check) is refused without a lookup, and a key issued before the check existed
    /// (43 characters of secret) still has a prefix to look up.
    @Test func aKeysCheckCatchesEveryChangedCharacter() {
        let key = APIKeyMaterial.generate()
        let body = key.secret.dropFirst("berth_".count + 17)
        #expect(body.count == 49)
        let characters = Array(key.secret)
        for index in "berth_".count..<characters.count where characters[index] != "_" {
            var changed = characters
            changed[index] = changed[index] == "a" ? "b" : "a"
            #expect(APIKeyMaterial.lookupPrefix(of: String(changed)) == nil, "changing character \(index) went unnoticed")
        }
        let legacy = "berth_\(key.prefix)_\(body.prefix(43))"
        #expect(APIKeyMaterial.lookupPrefix(of: legacy) == key.prefix)
        #expect(APIKeyMaterial.lookupPrefix(of: legacy + "x") == nil, "44 characters is neither shape")
    }

    @Test(arguments: ["", "garbage", "berth__x", "berth_XYZ_abc", "berth_0123456789abcdeF_abc", "Bearer berth_0123456789abcdef_abc", "berth_0123456789abcdef_"])
    func malformedKeysHaveNoPrefix(_ text: String) {
        #expect(APIKeyMaterial.lookupPrefix(of: text) == nil)
    }

    @Test func sha256MatchesKnownVector() {
        #expect(Digest.hex(Digest.sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Digest.hex(Digest.hmacSHA256(key: Array("key".utf8), message: Array("The quick brown fox jumps over the lazy dog".utf8)))
            == "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8")
    }

    @Test func constantTimeEquality() {
        #expect(Digest.constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!Digest.constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!Digest.constantTimeEquals([1, 2, 3], [1, 2]))
    }

    @Test func sealedSecretsRoundTripAndDetectTampering() throws {
        let box = try SecretBox(key: SecureRandom.bytes(32))
        let plaintext = Array("ghp_token-value".utf8)
        let sealed = try box.seal(plaintext, associatedData: Array("workspace-1".utf8))
        #expect(!sealed.isEmpty && sealed != plaintext)
        #expect(try box.open(sealed, associatedData: Array("workspace-1".utf8)) == plaintext)
        // Same plaintext twice seals differently (fresh nonce).
        #expect(try box.seal(plaintext) != box.seal(plaintext))
        var tampered = sealed
        tampered[14] ^= 0x01
        #expect(throws: SecretsError.self) { try box.open(tampered, associatedData: Array("workspace-1".utf8)) }
        #expect(throws: SecretsError.self) { try box.open(sealed, associatedData: Array("workspace-2".utf8)) }
        let other = try SecretBox(key: SecureRandom.bytes(32))
        #expect(throws: SecretsError.self) { try other.open(sealed, associatedData: Array("workspace-1".utf8)) }
        #expect(try box.open(box.seal([])) == [])
    }

    @Test func secretKeyMustBe32Bytes() {
        #expect(throws: SecretsError.self) { try SecretBox(base64Key: Data(count: 16).base64EncodedString()) }
        #expect(throws: SecretsError.self) { try SecretBox(base64Key: "not base64!") }
        #expect(throws: Never.self) { try SecretBox(base64Key: Data(count: 32).base64EncodedString()) }
    }
}
