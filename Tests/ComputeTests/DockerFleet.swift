import BerthTestSupport
import Compute
import Foundation
import Testing

/// The local fleet that `scripts/fleet.sh` starts, read from the environment `make test` exports.
///
/// A missing variable throws, naming it, so a test fails loudly instead of skipping.
/// A fleet setting that is present but unusable.
struct FleetError: Error, CustomStringConvertible {
    let description: String
}

enum DockerFleet {
    static let busybox = "berth-busybox:latest"
    static let workspaceImage = "berth-workspace:latest"
    /// Every test container carries it, so leftovers from a crashed run can be found.
    static let testLabel = "berth.test"

    static func hostPort(_ variable: String) throws -> (host: String, port: Int) {
        let text = try TestEnvironment.require(variable)
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else {
            throw FleetError(description: "\(variable)=\(text) is not host:port")
        }
        return (String(text[..<colon]), port)
    }

    /// A plain HTTP daemon: 1 or 2.
    static func plain(_ index: Int = 1) throws -> DockerClient {
        let (host, port) = try hostPort("BERTH_TEST_DOCKER_PLAIN_\(index)")
        return DockerClient(endpoint: .http(host: host, port: port))
    }

    /// The folder of client certificates: `client/`, `foreign-client/`.
    static func certificates() throws -> String {
        try TestEnvironment.require("BERTH_TEST_DOCKER_CERTS")
    }

    /// The mutual-TLS daemon, with the valid client certificate.
    static func tls() throws -> DockerClient {
        let (host, port) = try hostPort("BERTH_TEST_DOCKER_TLS")
        return DockerClient(endpoint: .tls(host: host, port: port, certificateFolder: try certificates() + "/client"))
    }

    /// The daemon on the unix socket.
    static func socket() throws -> DockerClient {
        DockerClient(endpoint: .unixSocket(path: try TestEnvironment.require("BERTH_TEST_DOCKER_SOCKET")))
    }

    static func client(_ name: String) throws -> DockerClient {
        switch name {
        case "plain": try plain(1)
        case "tls": try tls()
        default: throw FleetError(description: "no fleet daemon called \(name)")
        }
    }

    static func uniqueName(_ purpose: String) -> String {
        "berth-test-\(purpose)-" + UUID().uuidString.prefix(8).lowercased()
    }

    /// A busybox container that sleeps, running for the length of `body` and removed afterwards,
    /// whether `body` succeeds, throws or is cancelled.
    static func withContainer<T>(
        on client: DockerClient,
        purpose: String,
        image: String = busybox,
        environment: [String: String] = [:],
        labels: [String: String] = [:],
        workingDirectory: String? = nil,
        resources: ContainerResources = ContainerResources(cpuMillis: 500, memoryMB: 64),
        start: Bool = true,
        _ body: (_ id: String, _ name: String) async throws -> T
    ) async throws -> T {
        let name = uniqueName(purpose)
        let spec = ContainerSpec(
            name: name, image: image, command: ["sleep", "3600"], environment: environment,
            labels: labels.merging([testLabel: purpose]) { mine, _ in mine },
            workingDirectory: workingDirectory, resources: resources, networkMode: "host"
        )
        let id = try await client.createContainer(spec)
        do {
            if start { try await client.startContainer(id) }
            let result = try await body(id, name)
            await remove(id, from: client)
            return result
        } catch {
            await remove(id, from: client)
            throw error
        }
    }

    /// Removes a container from outside the test's task, so cleanup runs even when that task is cancelled.
    static func remove(_ id: String, from client: DockerClient) async {
        await Task.detached {
            do throws(DockerError) {
                try await client.removeContainer(id)
            } catch where error.isNotFound {
            } catch {
                Issue.record("could not remove test container \(id): \(error)")
            }
        }.value
    }

    /// Polls `condition` until it holds or `timeout` passes.
    static func eventually(
        timeout: Duration = .seconds(10), _ condition: () async throws -> Bool
    ) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await condition()
    }
}
