import COpenSSL

/// A certificate and its private key, in PEM.
public struct IssuedCertificate: Sendable, Equatable {
    public let certificatePEM: String
    public let privateKeyPEM: String

    public init(certificatePEM: String, privateKeyPEM: String) {
        self.certificatePEM = certificatePEM
        self.privateKeyPEM = privateKeyPEM
    }
}

/// Makes the certificates of a mutual-TLS set-up with OpenSSL: a certificate authority, server
/// certificates (with subject alternative names, for Docker Engines' `--tlsverify`) and client
/// certificates (for Berth), all on P-256 keys and signed with SHA-256.
public enum CertificateMaker {
    public enum Purpose: Sendable {
        /// A server reached as any of these DNS names or IP addresses.
        case server(alternativeNames: [String])
        case client
    }

    /// A self-signed certificate authority.
    public static func authority(commonName: String, days: Int) throws(SecretsError) -> IssuedCertificate {
        let key = try newKey()
        defer { EVP_PKEY_free(key) }
        let certificate = try build(commonName: commonName, days: days, publicKey: key, issuer: nil, extensions: [
            (NID_basic_constraints, "critical,CA:TRUE"), (NID_key_usage, "critical,keyCertSign,cRLSign"), (NID_subject_key_identifier, "hash"),
        ], signingKey: key)
        defer { X509_free(certificate) }
        return IssuedCertificate(certificatePEM: try certificatePEM(certificate), privateKeyPEM: try keyPEM(key))
    }

    /// A certificate for `purpose`, signed by `authority`.
    public static func issue(commonName: String, purpose: Purpose, days: Int, by authority: IssuedCertificate) throws(SecretsError) -> IssuedCertificate {
        let issuer = try readCertificate(authority.certificatePEM)
        defer { X509_free(issuer) }
        let issuerKey = try readKey(authority.privateKeyPEM)
        defer { EVP_PKEY_free(issuerKey) }
        let key = try newKey()
        defer { EVP_PKEY_free(key) }
        var extensions: [(Int32, String)] = [(NID_basic_constraints, "critical,CA:FALSE"), (NID_authority_key_identifier, "keyid")]
        switch purpose {
        case .server(let names):
            guard !names.isEmpty else { throw SecretsError("a server certificate needs at least one DNS name or IP address") }
            let entries = try names.map { (name: String) throws(SecretsError) -> String in
                guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || ".-:*".contains($0) }) else {
                    throw SecretsError("\(name) is not a DNS name or an IP address")
                }
                return (isIPAddress(name) ? "IP:" : "DNS:") + name
            }
            extensions += [
                (NID_key_usage, "critical,digitalSignature,keyEncipherment"), (NID_ext_key_usage, "serverAuth"),
                (NID_subject_alt_name, entries.joined(separator: ",")),
            ]
        case .client:
            extensions += [(NID_key_usage, "critical,digitalSignature"), (NID_ext_key_usage, "clientAuth")]
        }
        let certificate = try build(commonName: commonName, days: days, publicKey: key, issuer: issuer, extensions: extensions, signingKey: issuerKey)
        defer { X509_free(certificate) }
        return IssuedCertificate(certificatePEM: try certificatePEM(certificate), privateKeyPEM: try keyPEM(key))
    }

    static func isIPAddress(_ name: String) -> Bool {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 4, parts.allSatisfy({ UInt8($0) != nil }) { return true }
        return name.contains(":")
    }

    // MARK: - OpenSSL

    private static func newKey() throws(SecretsError) -> OpaquePointer {
        guard let context = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else { throw SecretsError("OpenSSL could not make the certificate (" + "EVP_PKEY_CTX_new_from_name" + ")") }
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer?
        guard EVP_PKEY_keygen_init(context) == 1, EVP_PKEY_CTX_set_group_name(context, "P-256") == 1,
            EVP_PKEY_generate(context, &key) == 1, let key
        else { throw SecretsError("OpenSSL could not make the certificate (" + "EVP_PKEY_generate" + ")") }
        return key
    }

    private static func build(
        commonName: String, days: Int, publicKey: OpaquePointer, issuer: OpaquePointer?, extensions: [(Int32, String)], signingKey: OpaquePointer
    ) throws(SecretsError) -> OpaquePointer {
        guard (1...36500).contains(days) else { throw SecretsError("days must be from 1 to 36500") }
        guard !commonName.isEmpty, commonName.utf8.count <= 64 else { throw SecretsError("the common name must be 1 to 64 bytes") }
        guard let certificate = X509_new() else { throw SecretsError("OpenSSL could not make the certificate (" + "X509_new" + ")") }
        var done = false
        defer { if !done { X509_free(certificate) } }
        // Version 3 (its value is 2), a random 64-bit serial number, valid from now.
        guard X509_set_version(certificate, 2) == 1 else { throw SecretsError("OpenSSL could not make the certificate (" + "X509_set_version" + ")") }
        let serial = BN_new()
        defer { BN_free(serial) }
        guard BN_rand(serial, 64, 0, 0) == 1, BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(certificate)) != nil else {
            throw SecretsError("OpenSSL could not make the certificate (" + "serial number" + ")")
        }
        guard X509_gmtime_adj(X509_getm_notBefore(certificate), -300) != nil,
            X509_gmtime_adj(X509_getm_notAfter(certificate), days * 86_400) != nil,
            X509_set_pubkey(certificate, publicKey) == 1
        else { throw SecretsError("OpenSSL could not make the certificate (" + "validity or public key" + ")") }
        let subject = X509_get_subject_name(certificate)
        // MBSTRING_ASC: the name is ASCII (UTF-8 is refused above by OpenSSL if it is not).
        guard X509_NAME_add_entry_by_txt(subject, "CN", 0x1001, commonName, -1, -1, 0) == 1 else { throw SecretsError("OpenSSL could not make the certificate (" + "common name" + ")") }
        guard X509_set_issuer_name(certificate, issuer.map { X509_get_subject_name($0) } ?? subject) == 1 else { throw SecretsError("OpenSSL could not make the certificate (" + "issuer" + ")") }
        var context = X509V3_CTX()
        X509V3_set_ctx(&context, issuer ?? certificate, certificate, nil, nil, 0)
        for (nid, value) in extensions {
            let made = value.withCString { text in X509V3_EXT_conf_nid(nil, &context, nid, UnsafeMutablePointer(mutating: text)) }
            guard let made else { throw SecretsError("OpenSSL could not make the certificate (" + "extension \(value)" + ")") }
            defer { X509_EXTENSION_free(made) }
            guard X509_add_ext(certificate, made, -1) == 1 else { throw SecretsError("OpenSSL could not make the certificate (" + "extension \(value)" + ")") }
        }
        guard X509_sign(certificate, signingKey, EVP_sha256()) > 0 else { throw SecretsError("OpenSSL could not make the certificate (" + "X509_sign" + ")") }
        done = true
        return certificate
    }

    private static func certificatePEM(_ certificate: OpaquePointer) throws(SecretsError) -> String {
        try withMemoryBIO { bio in PEM_write_bio_X509(bio, certificate) == 1 }
    }

    private static func keyPEM(_ key: OpaquePointer) throws(SecretsError) -> String {
        try withMemoryBIO { bio in PEM_write_bio_PrivateKey(bio, key, nil, nil, 0, nil, nil) == 1 }
    }

    private static func withMemoryBIO(_ write: (OpaquePointer) -> Bool) throws(SecretsError) -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { throw SecretsError("OpenSSL could not make the certificate (" + "BIO_new" + ")") }
        defer { BIO_free(bio) }
        guard write(bio) else { throw SecretsError("OpenSSL could not make the certificate (" + "PEM_write_bio" + ")") }
        let length = Int(BIO_ctrl_pending(bio))
        var bytes = [UInt8](repeating: 0, count: length)
        guard BIO_read(bio, &bytes, Int32(length)) == Int32(length) else { throw SecretsError("OpenSSL could not make the certificate (" + "BIO_read" + ")") }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func readCertificate(_ pem: String) throws(SecretsError) -> OpaquePointer {
        guard let bio = pem.withCString({ BIO_new_mem_buf($0, -1) }) else { throw SecretsError("OpenSSL could not make the certificate (" + "BIO_new_mem_buf" + ")") }
        defer { BIO_free(bio) }
        guard let certificate = PEM_read_bio_X509(bio, nil, nil, nil) else { throw SecretsError("the authority's certificate is not PEM") }
        return certificate
    }

    private static func readKey(_ pem: String) throws(SecretsError) -> OpaquePointer {
        guard let bio = pem.withCString({ BIO_new_mem_buf($0, -1) }) else { throw SecretsError("OpenSSL could not make the certificate (" + "BIO_new_mem_buf" + ")") }
        defer { BIO_free(bio) }
        guard let key = PEM_read_bio_PrivateKey(bio, nil, nil, nil) else { throw SecretsError("the authority's key is not PEM") }
        return key
    }
}
