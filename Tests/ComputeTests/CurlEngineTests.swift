import Compute
import Foundation
import Testing

/// The curl engine on its own: connection reuse per server, typed libcurl failures, time limits.
@Suite struct CurlEngineTests {
    static func request(_ endpoint: DockerEndpoint, _ path: String) -> CurlRequest {
        var request = CurlRequest(method: .get, url: "\(endpoint.description)\(path)", timeout: .seconds(10))
        if case .https(_, _, let tls) = endpoint { request.tls = tls }
        return request
    }

    @Test func sequentialRequestsToOneServerReuseTheConnection() async throws {
        let (host, port) = try DockerFleet.hostPort("BERTH_TEST_DOCKER_PLAIN_2")
        let (tlsHost, tlsPort) = try DockerFleet.hostPort("BERTH_TEST_DOCKER_TLS")
        let client = try DockerFleet.certificates() + "/client"
        let endpoints: [DockerEndpoint] = [
            .http(host: host, port: port),
            .tls(host: tlsHost, port: tlsPort, certificateFolder: client),
        ]
        // An engine of its own, so no other test's transfers share its connection cache.
        let engine = CurlEngine(name: "berth.curl.reuse-test")
        defer { engine.shutdown() }
        for endpoint in endpoints {
            let first = try await engine.perform(Self.request(endpoint, "/_ping"))
            #expect(first.status == 200)
            #expect(first.body == Data("OK".utf8))
            #expect(first.newConnections == 1)
            for _ in 0..<5 {
                let next = try await engine.perform(Self.request(endpoint, "/_ping"))
                #expect(next.status == 200)
                #expect(next.newConnections == 0, "\(endpoint): the kept-alive connection was not reused")
            }
            #expect(first.header("api-version") != nil)
        }
    }

    @Test func aRefusedConnectionIsCouldntConnect() async throws {
        do {
            _ = try await CurlEngine.shared.perform(CurlRequest(method: .get, url: "http://127.0.0.1:1/", timeout: .seconds(5)))
            Issue.record("port 1 answered")
        } catch let error as CurlError {
            #expect(error.code == 7, "\(error)") // CURLE_COULDNT_CONNECT
            #expect(error.reason.contains("127.0.0.1"), "\(error.reason)")
        }
    }

    @Test func aStoppedEngineFailsNewRequests() async throws {
        let engine = CurlEngine(name: "berth.curl.stopped-test")
        engine.shutdown()
        await #expect(throws: CurlError.self) {
            _ = try await engine.perform(CurlRequest(method: .get, url: "http://127.0.0.1:1/"))
        }
    }
}
