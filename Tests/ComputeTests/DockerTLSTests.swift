import Compute
import Foundation
import Testing

/// Mutual TLS refusals surface as `.tls` errors whose message names the TLS layer's reason.
@Suite struct DockerTLSTests {
    static func tlsEndpoint(_ variable: String, client folder: String?, presentCertificate: Bool = true) throws -> DockerEndpoint {
        let (host, port) = try DockerFleet.hostPort(variable)
        let certificates = try DockerFleet.certificates()
        let files = folder.map { certificates + "/" + $0 }
        return .https(host: host, port: port, tls: .init(
            caFile: certificates + "/client/ca.pem",
            certificateFile: presentCertificate ? files.map { $0 + "/cert.pem" } : nil,
            keyFile: presentCertificate ? files.map { $0 + "/key.pem" } : nil
        ))
    }

    /// Fresh clients each time: a refusal must be seen on a new connection, never hidden by a reused one.
    static func expectTLSFailure(
        _ endpoint: DockerEndpoint, containing expected: [String], sourceLocation: SourceLocation = #_sourceLocation
    ) async {
        for attempt in 1...8 {
            let client = DockerClient(endpoint: endpoint, timeout: .seconds(10))
            do throws(DockerError) {
                try await client.ping()
                Issue.record("attempt \(attempt): the handshake succeeded", sourceLocation: sourceLocation)
            } catch {
                #expect(error.code == .tls, "attempt \(attempt): \(error.debugDescription)", sourceLocation: sourceLocation)
                for text in expected {
                    #expect(error.message.contains(text), "attempt \(attempt): \(error.message)", sourceLocation: sourceLocation)
                }
                #expect(!error.description.contains("key.pem"), sourceLocation: sourceLocation)
            }
        }
    }

    @Test func theValidClientCertificateIsAccepted() async throws {
        let client = DockerClient(endpoint: try Self.tlsEndpoint("BERTH_TEST_DOCKER_TLS", client: "client"))
        try await client.ping()
        #expect(try await client.info().cpuCount > 0)
    }

    @Test func noClientCertificateIsRefused() async throws {
        await Self.expectTLSFailure(
            try Self.tlsEndpoint("BERTH_TEST_DOCKER_TLS", client: nil, presentCertificate: false),
            containing: ["alert bad certificate", "no client certificate was presented"]
        )
    }

    @Test func aClientCertificateFromAnotherCAIsRefused() async throws {
        await Self.expectTLSFailure(
            try Self.tlsEndpoint("BERTH_TEST_DOCKER_TLS", client: "foreign-client"),
            containing: ["alert bad certificate", "the server refused the client certificate"]
        )
    }

    @Test func aServerCertificateForAnotherHostIsRefused() async throws {
        let (host, _) = try DockerFleet.hostPort("BERTH_TEST_DOCKER_BADCERT")
        await Self.expectTLSFailure(
            try Self.tlsEndpoint("BERTH_TEST_DOCKER_BADCERT", client: "client"),
            containing: ["no alternative certificate subject name matches target host name '\(host)'"]
        )
    }

    @Test func aServerSignedByAnUnknownCAIsRefused() async throws {
        let (host, port) = try DockerFleet.hostPort("BERTH_TEST_DOCKER_TLS")
        let foreign = try DockerFleet.certificates() + "/foreign-client"
        // Trusting only the other CA: the fleet's server certificate cannot be verified.
        let endpoint = DockerEndpoint.https(host: host, port: port, tls: .init(
            caFile: try DockerFleet.certificates() + "/other-ca/ca.pem",
            certificateFile: foreign + "/cert.pem", keyFile: foreign + "/key.pem"
        ))
        await Self.expectTLSFailure(endpoint, containing: ["SSL certificate problem", "unable to get local issuer certificate"])
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
