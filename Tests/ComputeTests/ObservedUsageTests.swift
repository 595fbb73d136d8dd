import BerthTestSupport
import Compute
import Domain
import Foundation
import Testing

/// The health check's sample of Berth's own workspace containers: memory at once, CPU as a rate
/// between two checks. It measures real CPU use, so `make test` runs it on its own, after the
/// parallel suite (on 2 busy cores the loop below got 0.02 cores).
@Suite struct ObservedUsageTests {
    @Test func aBusyWorkspaceContainerShowsUpAsCoresInUse() async throws {
        let endpoint = try DockerFleet.hostPort("BERTH_TEST_DOCKER_PLAIN_1")
        let server = WorkspaceServer(
            id: .random(), name: "ws-observed", connection: .init(host: endpoint.host, dockerPort: endpoint.port),
            capacity: Capacity(cpuMillis: 2000, memoryMB: 2048, diskGB: 10, workspaces: 10)
        )
        let pool = DockerServerPool()
        let client = try pool.client(for: server)
        let name = "berth-observed-\(UUID().uuidString.prefix(8).lowercased())"
        // A loop that keeps half a core busy (its limit), labelled as a workspace.
        let id = try await client.createContainer(ContainerSpec(
            name: name, image: "berth-busybox:latest", command: ["sh", "-c", "while :; do :; done"],
            labels: ["berth.workspace": name], resources: ContainerResources(cpuMillis: 500, memoryMB: 64)
        ))
        do {
            try await client.startContainer(id)
            try await observe(pool, server)
        } catch {
            try? await client.removeContainer(id)
            throw error
        }
        try await client.removeContainer(id)
    }

    func observe(_ pool: DockerServerPool, _ server: WorkspaceServer) async throws {
        let first = try await pool.check(server, timeout: .seconds(5))
        #expect(first.workspaceCPUCores == nil, "a first check has no earlier counters to compare with")
        #expect(first.workspaceMemoryMB != nil)
        try await Task.sleep(for: .seconds(1))
        let second = try await pool.check(server, timeout: .seconds(5))
        let cores = try #require(second.workspaceCPUCores)
        // Other tests may run workspace containers on this engine too, so only a lower bound holds.
        #expect(cores >= 0.2, "the busy container used \(cores) cores")
    }
}
