import BerthTestSupport
@testable import Compute
import Foundation
import Secrets
import Testing

/// The certificates `berth certs` makes (through `CertificateMaker`) carry a real mutual-TLS
/// handshake: Berth's own libcurl client, with the client folder as a server's `cert_path`, against
/// OpenSSL's test server using the server certificate and demanding a client certificate.
@Suite struct CertificateMakerTests {
    static func write(_ folder: String, _ issued: IssuedCertificate, ca: IssuedCertificate) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try ca.certificatePEM.write(toFile: folder + "/ca.pem", atomically: true, encoding: .utf8)
        try issued.certificatePEM.write(toFile: folder + "/cert.pem", atomically: true, encoding: .utf8)
        try issued.privateKeyPEM.write(toFile: folder + "/key.pem", atomically: true, encoding: .utf8)
    }

    /// `openssl s_server` on a free port with `server`'s files, asking for a client certificate.
    static func serve(_ server: String, log: String) async throws -> (pid: pid_t, port: Int) {
        let port = try TestEnvironment.freePort()
        let pid = try TestEnvironment.spawn([
            "openssl", "s_server", "-accept", "127.0.0.1:\(port)", "-cert", server + "/cert.pem", "-key", server + "/key.pem",
            "-CAfile", server + "/ca.pem", "-Verify", "1", "-verify_return_error", "-www", "-quiet",
        ], logPath: log)
        try await TestEnvironment.waitUntilReady(within: .seconds(10), logs: [log]) {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            let connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            return connected == 0 ? nil : "openssl s_server is not listening on \(port) yet"
        }
        return (pid, port)
    }

    @Test func theCertificatesCarryAMutualTLSHandshake() async throws {
        let folder = NSTemporaryDirectory() + "berth-certs-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let ca = try CertificateMaker.authority(commonName: "test CA", days: 30)
        try Self.write(folder + "/servers/ws", try CertificateMaker.issue(commonName: "ws", purpose: .server(alternativeNames: ["localhost", "127.0.0.1"]), days: 30, by: ca), ca: ca)
        try Self.write(folder + "/servers/elsewhere", try CertificateMaker.issue(commonName: "elsewhere", purpose: .server(alternativeNames: ["elsewhere.invalid"]), days: 30, by: ca), ca: ca)
        try Self.write(folder + "/client", try CertificateMaker.issue(commonName: "berth", purpose: .client, days: 30, by: ca), ca: ca)
        // The folder check Berth runs when a TLS server is added accepts it.
        #expect(CertificateFolder.problem(at: folder + "/client") == nil)
        // Another authority's client certificate.
        let stranger = try CertificateMaker.authority(commonName: "stranger CA", days: 30)
        try Self.write(folder + "/stranger", try CertificateMaker.issue(commonName: "berth", purpose: .client, days: 30, by: stranger), ca: ca)

        let (pid, port) = try await Self.serve(folder + "/servers/ws", log: folder + "/s_server.log")
        defer { _ = TestEnvironment.terminate(pid, timeout: .seconds(2)) }
        func get(_ client: String?, host: String = "127.0.0.1") async -> Result<Int, any Error> {
            let tls = CurlRequest.TLSFiles(caFile: folder + "/client/ca.pem", certificateFile: client.map { $0 + "/cert.pem" }, keyFile: client.map { $0 + "/key.pem" })
            do {
                return .success(try await CurlEngine.shared.perform(CurlRequest(method: .get, url: "https://\(host):\(port)/", timeout: .seconds(10), tls: tls)).status)
            } catch {
                return .failure(error)
            }
        }
        let good = await get(folder + "/client")
        #expect((try? good.get()) == 200, "the client certificate is accepted: \(good)")
        let noClient = await get(nil)
        #expect((try? noClient.get()) == nil, "no client certificate, no answer: \(noClient)")
        let foreign = await get(folder + "/stranger")
        #expect((try? foreign.get()) == nil, "a client certificate of another authority is refused: \(foreign)")
        // The same server reached by a name its certificate does not carry.
        let (otherPID, otherPort) = try await Self.serve(folder + "/servers/elsewhere", log: folder + "/s_server2.log")
        defer { _ = TestEnvironment.terminate(otherPID, timeout: .seconds(2)) }
        let tls = CurlRequest.TLSFiles(caFile: folder + "/client/ca.pem", certificateFile: folder + "/client/cert.pem", keyFile: folder + "/client/key.pem")
        await #expect(throws: (any Error).self, "a server certificate for another name is refused") {
            _ = try await CurlEngine.shared.perform(CurlRequest(method: .get, url: "https://127.0.0.1:\(otherPort)/", timeout: .seconds(10), tls: tls))
        }
    }

    @Test func badNamesAndPeriodsAreRefused() throws {
        let ca = try CertificateMaker.authority(commonName: "test CA", days: 1)
        #expect(throws: SecretsError.self) { try CertificateMaker.issue(commonName: "x", purpose: .server(alternativeNames: []), days: 1, by: ca) }
        #expect(throws: SecretsError.self) { try CertificateMaker.issue(commonName: "x", purpose: .server(alternativeNames: ["bad name"]), days: 1, by: ca) }
        #expect(throws: SecretsError.self) { try CertificateMaker.authority(commonName: "x", days: 0) }
        #expect(throws: SecretsError.self) { try CertificateMaker.issue(commonName: "x", purpose: .client, days: 1, by: IssuedCertificate(certificatePEM: "junk", privateKeyPEM: "junk")) }
    }
}
