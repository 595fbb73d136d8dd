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
            let client = DockerClient(endpoint: DockerEndpoint(server.connection), engine: engine, timeout: timeout)
            clients[server.id] = Entry(connection: server.connection, client: client)
            return client
        }
    }

    /// Forgets clients of servers not in `ids` (removed from the fleet).
    public func retain(only ids: Set<ServerID>) {
        clients.withLock { clients in clients = clients.filter { ids.contains($0.key) } }
    }

    public var count: Int { clients.withLock { $0.count } }

    /// Ping, then `/info`, each within `timeout`.
    public func check(_ server: WorkspaceServer, timeout: Duration) async throws -> ObservedUsage {
        let client = try client(for: server).withTimeout(timeout)
        try await client.ping()
        let info = try await client.info()
        return ObservedUsage(
            ncpu: info.cpuCount, memoryTotalMB: Int(info.memoryBytes / (1 << 20)),
            containers: info.containers, containersRunning: info.containersRunning, dockerVersion: info.serverVersion
        )
    }
}
