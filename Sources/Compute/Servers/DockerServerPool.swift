import Domain
import Foundation
import Synchronization

/// One Docker client per registered server, built from `workspace_servers` rows.
///
/// Servers added or changed at run time get a client on first use; `retain(only:)` drops the clients
/// of servers that were removed. A connection that breaks the rules (plain TCP to a host that is not
/// loopback, unless marked insecure) gets no client at all.
public final class DockerServerPool: ServerProbe, Sendable {
    private struct Entry {
        let connection: ServerConnection
        let client: DockerClient
    }

    private let clients = Mutex<[ServerID: Entry]>([:])
    /// Per server, when the last check sampled its workspace containers and their CPU counters.
    private let cpuCounters = Mutex<[ServerID: (at: ContinuousClock.Instant, counters: [String: UInt64])]>([:])
    let engine: CurlEngine
    let timeout: Duration

    public init(engine: CurlEngine = .shared, timeout: Duration = .seconds(30)) {
        self.engine = engine
        self.timeout = timeout
    }

    /// The client for `server`, rebuilt when its connection settings changed.
    public func client(for server: WorkspaceServer) throws(DockerError) -> DockerClient {
        if let problem = server.connection.problem {
            throw DockerError(code: .transport, message: "server \(server.name) refused: \(problem)")
        }
        return clients.withLock { clients in
            if let entry = clients[server.id], entry.connection == server.connection { return entry.client }
            let client = DockerClient(endpoint: DockerEndpoint(server.connection), name: server.name, engine: engine, timeout: timeout)
            clients[server.id] = Entry(connection: server.connection, client: client)
            return client
        }
    }

    /// Forgets clients of servers not in `ids` (removed from the fleet).
    public func retain(only ids: Set<ServerID>) {
        clients.withLock { clients in clients = clients.filter { ids.contains($0.key) } }
        cpuCounters.withLock { table in table = table.filter { ids.contains($0.key) } }
    }

    public var count: Int { clients.withLock { $0.count } }

    /// Ping, then `/info`, each within `timeout`; then a one-shot sample of Berth's running workspace
    /// containers. Their CPU is a rate against the previous check's counters, so the first check of a
    /// server reports none. A sample that fails leaves the usage unknown, never the server unhealthy.
    public func check(_ server: WorkspaceServer, timeout: Duration) async throws -> ObservedUsage {
        let client = try client(for: server).withTimeout(timeout)
        try await client.ping()
        let info = try await client.info()
        var observed = ObservedUsage(
            ncpu: info.cpuCount, memoryTotalMB: Int(info.memoryBytes / (1 << 20)),
            containers: info.containers, containersRunning: info.containersRunning, dockerVersion: info.serverVersion
        )
        guard let running = try? await client.listContainers(labels: ["berth.workspace"], all: false) else { return observed }
        let samples = await client.stats(of: running.map(\.id))
        guard samples.count == running.count else { return observed }
        observed.workspaceMemoryMB = Int(samples.values.reduce(0) { $0 + $1.memoryWorkingSetBytes } >> 20)
        let now = ContinuousClock.now
        let counters = samples.mapValues(\.cpuTotalNanoseconds)
        let previous = cpuCounters.withLock { table in
            defer { table[server.id] = (now, counters) }
            return table[server.id]
        }
        if let previous {
            let elapsed = (now - previous.at).inSeconds
            if elapsed > 0 {
                let workspaceOf = Dictionary(running.map { ($0.id, $0.labels[WorkspaceContainers.Label.workspace] ?? "") }, uniquingKeysWith: { first, _ in first })
                // Containers present in both samples; a restarted container's counter starts again from zero.
                var busy = 0.0
                var cores: [String: Double] = [:]
                for (container, total) in counters {
                    guard let before = previous.counters[container], total >= before else { continue }
                    let used = Double(total - before)
                    busy += used
                    if let workspace = workspaceOf[container], !workspace.isEmpty {
                        cores[workspace] = (used / 1e9 / elapsed * 1000).rounded() / 1000
                    }
                }
                observed.workspaceCPUCores = (busy / 1e9 / elapsed * 1000).rounded() / 1000
                observed.coresByWorkspace = cores
            }
        }
        return observed
    }
}
