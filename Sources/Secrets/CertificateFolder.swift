import COpenSSL
import Foundation

/// Checks a Docker TLS folder (`ca.pem`, `cert.pem`, `key.pem`) before a server is added, so a typo
/// or a broken file is reported at once rather than as a failed handshake later.
public enum CertificateFolder {
    /// `nil` when the three files exist, parse, and the key belongs to the certificate; else what is wrong.
    /// The message names files, never their contents.
    public static func problem(at folder: String) -> String? {
        let base = folder.hasSuffix("/") ? String(folder.dropLast()) : folder
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: base, isDirectory: &isDirectory), isDirectory.boolValue else {
            return "cert_path \(base) is not a folder"
        }
        for file in ["ca.pem", "cert.pem", "key.pem"] where !FileManager.default.isReadableFile(atPath: "\(base)/\(file)") {
            return "cert_path has no readable \(file)"
        }
        guard let ca = readCertificate("\(base)/ca.pem") else { return "ca.pem is not a PEM certificate" }
        X509_free(ca)
        guard let certificate = readCertificate("\(base)/cert.pem") else { return "cert.pem is not a PEM certificate" }
        defer { X509_free(certificate) }
        guard let key = readPrivateKey("\(base)/key.pem") else { return "key.pem is not a PEM private key" }
        defer { EVP_PKEY_free(key) }
        guard X509_check_private_key(certificate, key) == 1 else {
            ERR_clear_error()
            return "key.pem does not belong to cert.pem"
        }
        return nil
    }

    private static func readCertificate(_ path: String) -> OpaquePointer? {
        guard let bio = BIO_new_file(path, "r") else { ERR_clear_error(); return nil }
        defer { BIO_free(bio) }
        let certificate = PEM_read_bio_X509(bio, nil, nil, nil)
        if certificate == nil { ERR_clear_error() }
        return certificate
    }

    private static func readPrivateKey(_ path: String) -> OpaquePointer? {
        guard let bio = BIO_new_file(path, "r") else { ERR_clear_error(); return nil }
        defer { BIO_free(bio) }
        let key = PEM_read_bio_PrivateKey(bio, nil, nil, nil)
        if key == nil { ERR_clear_error() }
        return key
    }
}
