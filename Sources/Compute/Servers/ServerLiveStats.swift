import Domain
import Foundation

/// What a server's engine says right now, beside what Berth has reserved on it.
public struct ServerLiveStats: Sendable, Encodable {
    public struct Engine: Sendable, Encodable {
        public let docker_version: String
        public let ncpu: Int
        public let memory_total_mb: Int
        public let containers: Int
        public let containers_running: Int
    }

    /// Berth's workspace containers on the engine, summed.
    public struct Workspaces: Sendable, Encodable {
        public let containers: Int
        public let running: Int
        /// Cores busy over a short sample, summed over the running workspace containers.
        public let cpu_cores: Double
        public let memory_used_mb: Int
        /// Containers labelled as Berth workspaces that no live workspace row claims.
        public let unknown_containers: [String]
    }

    public let engine: Engine
    public let workspaces: Workspaces
    public let sampled_at: Date
}

extension DockerServerPool {
    /// Asks the server's engine for its figures and samples every Berth container's CPU and memory
    /// twice, `window` apart. `known` are the container ids the database holds for the server.
    public func liveStats(of server: WorkspaceServer, known: Set<String>, window: Duration = .milliseconds(500)) async throws -> ServerLiveStats {
        let client = try client(for: server).withTimeout(.seconds(10))
        let info = try await client.info()
        let containers = try await client.listContainers(labels: ["berth.workspace"])
        let running = containers.filter { $0.state == "running" }
        let first = await client.stats(of: running.map(\.id))
        try? await Task.sleep(for: window)
        let second = await client.stats(of: running.map(\.id))
        var cores = 0.0
        var memory: UInt64 = 0
        for (id, late) in second {
            if let early = first[id], let fraction = late.cpuFraction(since: early) { cores += fraction }
            memory += late.memoryWorkingSetBytes
        }
        return ServerLiveStats(
            engine: .init(
                docker_version: info.serverVersion, ncpu: info.cpuCount, memory_total_mb: Int(info.memoryBytes >> 20),
                containers: info.containers, containers_running: info.containersRunning
            ),
            workspaces: .init(
                containers: containers.count, running: running.count, cpu_cores: (cores * 1000).rounded() / 1000,
                memory_used_mb: Int(memory >> 20), unknown_containers: containers.map(\.id).filter { !known.contains($0) }.sorted()
            ),
            sampled_at: Date()
        )
    }
}
