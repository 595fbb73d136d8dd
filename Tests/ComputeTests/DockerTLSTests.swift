import BerthTestSupport
import Compute
import Foundation
import Testing

/// Mutual TLS refusals surface as `.tls` errors whose message names the TLS layer's reason.
@Suite struct DockerTLSTests {
    /// One way of connecting to a TLS daemon: the files the client trusts and presents.
    struct Attempt {
        let host: String
        let port: Int
        let caFile: String
        let certificateFile: String?
        let keyFile: String?

        var endpoint: DockerEndpoint {
            .https(host: host, port: port, tls: .init(caFile: caFile, certificateFile: certificateFile, keyFile: keyFile))
        }

        /// What the TLS layer says about the same connection, asked through the `curl` tool (its own
        /// process, none of Berth's code), limited to TLS 1.2: there the server checks the client's
        /// certificate inside the handshake, so its alert always reaches the client.
        func tlsLayerReport(sourceLocation: SourceLocation = #_sourceLocation) -> String? {
            var arguments = ["curl", "-sS", "--max-time", "10", "--tls-max", "1.2", "--cacert", caFile, "-o", "/dev/null"]
            if let certificateFile, let keyFile { arguments += ["--cert", certificateFile, "--key", keyFile] }
            arguments.append("https://\(host):\(port)/_ping")
            do {
                try TestEnvironment.run(arguments)
                Issue.record("curl's handshake succeeded where Berth's must fail", sourceLocation: sourceLocation)
                return nil
            } catch {
                // `curl: (35) OpenSSL/3.0.19: error:0A000412:SSL routines::sslv3 alert bad certificate`
                let text = String(describing: error)
                guard let line = text.split(separator: "\n").first(where: { $0.contains("curl: (") }),
                      let close = line.range(of: ") ") else {
                    Issue.record("curl said nothing usable: \(text)", sourceLocation: sourceLocation)
                    return nil
                }
                return String(line[close.upperBound...])
            }
        }
    }

    static func attempt(_ variable: String, client folder: String?, presentCertificate: Bool = true) throws -> Attempt {
        let (host, port) = try DockerFleet.hostPort(variable)
        let certificates = try DockerFleet.certificates()
        let files = folder.map { certificates + "/" + $0 }
        return Attempt(
            host: host, port: port, caFile: certificates + "/client/ca.pem",
            certificateFile: presentCertificate ? files.map { $0 + "/cert.pem" } : nil,
            keyFile: presentCertificate ? files.map { $0 + "/key.pem" } : nil
        )
    }

    /// Fresh clients each time: a refusal must be seen on a new connection, never hidden by a reused one.
    ///
    /// Each refusal must carry what the TLS layer itself reported for the same connection (`curl`'s
    /// report): an alert from the server as OpenSSL names it, or, for a certificate the client
    /// refused, exactly that text with nothing added. `expected` are further words the message holds.
    static func expectTLSFailure(
        _ attempt: Attempt, containing expected: [String], sourceLocation: SourceLocation = #_sourceLocation
    ) async {
        guard let report = attempt.tlsLayerReport(sourceLocation: sourceLocation) else { return }
        // An alert read by SSL_read or SSL_connect: the same OpenSSL reason, with or without the
        // function in front and the errno after.
        let fromServer = report.lowercased().contains("alert")
        var reason = report
        for prefix in ["OpenSSL SSL_read: ", "OpenSSL SSL_write: ", "OpenSSL SSL_connect: "] where reason.hasPrefix(prefix) {
            reason = String(reason.dropFirst(prefix.count))
        }
        if let errno = reason.range(of: ", errno ") { reason = String(reason[..<errno.lowerBound]) }
        #expect(reason.contains("error:") || !fromServer, "curl's report names no OpenSSL error: \(report)", sourceLocation: sourceLocation)
        for number in 1...8 {
            let client = DockerClient(endpoint: attempt.endpoint, timeout: .seconds(10))
            do throws(DockerError) {
                try await client.ping()
                Issue.record("attempt \(number): the handshake succeeded", sourceLocation: sourceLocation)
            } catch {
                #expect(error.code == .tls, "attempt \(number): \(error.debugDescription)", sourceLocation: sourceLocation)
                if fromServer {
                    #expect(error.message.contains(reason), "attempt \(number): \(error.message) does not carry the TLS layer's \(reason)", sourceLocation: sourceLocation)
                } else {
                    #expect(error.message == report, "attempt \(number): \(error.message) is not the TLS layer's \(report)", sourceLocation: sourceLocation)
                }
                for text in expected {
                    #expect(error.message.contains(text), "attempt \(number): \(error.message)", sourceLocation: sourceLocation)
                }
                #expect(!error.description.contains("key.pem"), sourceLocation: sourceLocation)
            }
        }
    }

    @Test func theValidClientCertificateIsAccepted() async throws {
        let client = DockerClient(endpoint: try Self.attempt("BERTH_TEST_DOCKER_TLS", client: "client").endpoint)
        try await client.ping()
        #expect(try await client.info().cpuCount > 0)
    }

    @Test func noClientCertificateIsRefused() async throws {
        await Self.expectTLSFailure(
            try Self.attempt("BERTH_TEST_DOCKER_TLS", client: nil, presentCertificate: false),
            containing: ["alert bad certificate", "no client certificate was presented"]
        )
    }

    @Test func aClientCertificateFromAnotherCAIsRefused() async throws {
        await Self.expectTLSFailure(
            try Self.attempt("BERTH_TEST_DOCKER_TLS", client: "foreign-client"),
            containing: ["alert bad certificate", "the server refused the client certificate"]
        )
    }

    @Test func aServerCertificateForAnotherHostIsRefused() async throws {
        let (host, _) = try DockerFleet.hostPort("BERTH_TEST_DOCKER_BADCERT")
        await Self.expectTLSFailure(
            try Self.attempt("BERTH_TEST_DOCKER_BADCERT", client: "client"),
            containing: ["no alternative certificate subject name matches target host name '\(host)'"]
        )
    }

    @Test func aServerSignedByAnUnknownCAIsRefused() async throws {
        let (host, port) = try DockerFleet.hostPort("BERTH_TEST_DOCKER_TLS")
        let foreign = try DockerFleet.certificates() + "/foreign-client"
        // Trusting only the other CA: the fleet's server certificate cannot be verified.
        let attempt = Attempt(
            host: host, port: port, caFile: try DockerFleet.certificates() + "/other-ca/ca.pem",
            certificateFile: foreign + "/cert.pem", keyFile: foreign + "/key.pem"
        )
        await Self.expectTLSFailure(attempt, containing: ["SSL certificate problem", "unable to get local issuer certificate"])
    }

    @Test func plainHTTPToTheTLSPortIsNotMistakenForSuccess() async throws {
        let (host, port) = try DockerFleet.hostPort("BERTH_TEST_DOCKER_TLS")
        let client = DockerClient(endpoint: .http(host: host, port: port), timeout: .seconds(10))
        do throws(DockerError) {
            try await client.ping()
            Issue.record("plain HTTP to the TLS port succeeded")
        } catch {
            // Go answers plain HTTP on a TLS port with 400 "Client sent an HTTP request to an HTTPS server."
            #expect(error.code == .http && error.status == 400, "\(error)")
            #expect(error.message.contains("HTTPS"), "\(error.message)")
        }
    }
}
