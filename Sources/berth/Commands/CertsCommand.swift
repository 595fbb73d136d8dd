import ArgumentParser
import Foundation
import Secrets

/// `berth certs`: the certificates of mutual TLS between Berth and its workspace servers, made
/// with OpenSSL into the layout `cert_path` and `dockerd --tlsverify` expect:
///
///     OUT/ca.pem, OUT/ca-key.pem          the authority (reused when it exists, so servers can be added later)
///     OUT/client/ca.pem, cert.pem, key.pem        Berth's client certificate: a server's `cert_path`
///     OUT/servers/NAME/ca.pem, cert.pem, key.pem  dockerd --tlsverify --tlscacert … --tlscert … --tlskey …
struct CertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs", abstract: "Make a CA, server and client certificates for mutual TLS with workspace servers."
    )

    @Option(help: "The folder to write to.") var out: String
    @Option(name: .customLong("server"), help: "NAME=ADDRESS[,ADDRESS…]: a server certificate for the DNS names and IP addresses it is reached at. Repeatable.")
    var servers: [String] = []
    @Option(help: "The client certificate's common name.") var client: String = "berth"
    @Option(help: "Days the certificates are valid.") var days: Int = 825

    func validate() throws {
        guard (1...36500).contains(days) else { throw ValidationError("--days must be from 1 to 36500") }
        for server in servers {
            let parts = server.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, parts[0].allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
                throw ValidationError("--server takes NAME=ADDRESS[,ADDRESS…], e.g. ws-eu-1=ws-eu-1.internal,10.0.0.5")
            }
        }
    }

    func run() async throws {
        let folder = URL(fileURLWithPath: out)
        do {
            let authority: IssuedCertificate
            let caFile = folder.appendingPathComponent("ca.pem"), caKeyFile = folder.appendingPathComponent("ca-key.pem")
            if FileManager.default.fileExists(atPath: caFile.path) {
                authority = IssuedCertificate(
                    certificatePEM: try String(contentsOf: caFile, encoding: .utf8), privateKeyPEM: try String(contentsOf: caKeyFile, encoding: .utf8)
                )
                print("berth: using the authority in \(caFile.path)")
            } else {
                authority = try CertificateMaker.authority(commonName: "Berth workspace servers CA", days: days)
                try Self.write(authority, certificate: caFile, key: caKeyFile)
                print("berth: made the authority \(caFile.path)")
            }
            let clientFolder = folder.appendingPathComponent("client")
            try Self.writeFolder(clientFolder, try CertificateMaker.issue(commonName: client, purpose: .client, days: days, by: authority), authority: authority)
            print("berth: client certificate in \(clientFolder.path) (a server's cert_path)")
            for server in servers {
                let parts = server.split(separator: "=", maxSplits: 1).map(String.init)
                let names = parts[1].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                let serverFolder = folder.appendingPathComponent("servers").appendingPathComponent(parts[0])
                try Self.writeFolder(serverFolder, try CertificateMaker.issue(commonName: parts[0], purpose: .server(alternativeNames: names), days: days, by: authority), authority: authority)
                print("berth: server certificate for \(names.joined(separator: ", ")) in \(serverFolder.path)")
            }
        } catch let error as SecretsError {
            Bootstrap.fail(error.description)
        } catch {
            Bootstrap.fail("cannot write the certificates: \(error.localizedDescription)")
        }
    }

    /// `ca.pem`, `cert.pem` and `key.pem` (readable by its owner only).
    static func writeFolder(_ folder: URL, _ issued: IssuedCertificate, authority: IssuedCertificate) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try authority.certificatePEM.write(to: folder.appendingPathComponent("ca.pem"), atomically: true, encoding: .utf8)
        try write(issued, certificate: folder.appendingPathComponent("cert.pem"), key: folder.appendingPathComponent("key.pem"))
    }

    static func write(_ issued: IssuedCertificate, certificate: URL, key: URL) throws {
        try FileManager.default.createDirectory(at: certificate.deletingLastPathComponent(), withIntermediateDirectories: true)
        try issued.certificatePEM.write(to: certificate, atomically: true, encoding: .utf8)
        guard FileManager.default.createFile(atPath: key.path, contents: Data(issued.privateKeyPEM.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: key.path])
        }
    }
}
