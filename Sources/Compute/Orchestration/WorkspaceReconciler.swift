import Domain
import Foundation
import Logging
import Persistence
import ServiceLifecycle

/// Compares what the database says is running with what the engines run, and applies the seed's
/// rule: a workspace whose container died (exited, or vanished) goes to `error`, and its CPU and
/// memory go back to the server.
///
/// Safe with several replicas without a lock: each change is a guarded transition from `running`,
/// so a second replica that sees the same dead container finds the workspace already moved.
public struct WorkspaceReconciler: Service {
    let database: Database
    let pool: DockerServerPool
    let placement: PlacementService
    let interval: Duration
    let logger: Logger
    let workspaces = WorkspaceStore()
    let servers = WorkspaceServerStore()

    public init(database: Database, pool: DockerServerPool, placement: PlacementService, interval: Duration = .seconds(10), logger: Logger) {
        self.database = database
        self.pool = pool
        self.placement = placement
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await pass()
                try await Task.sleep(for: interval)
            }
        }
    }

    /// One round over every healthy server. Returns the workspaces it moved to `error`.
    @discardableResult
    public func pass() async -> [WorkspaceID] {
        let fleet: [WorkspaceServer]
        let running: [ServerID: [(id: WorkspaceID, container: String?)]]
        do {
            (fleet, running) = try await database.withSystem { scope in
                let fleet = try await servers.list(in: scope).filter { $0.status == .healthy }
                var running: [ServerID: [(WorkspaceID, String?)]] = [:]
                for row in try await scope.execute("SELECT id, server_id, container_id FROM workspaces WHERE status = 'running' AND server_id IS NOT NULL") {
                    running[try row.decode("server_id"), default: []].append((try row.decode("id"), try row.decode("container_id")))
                }
                return (fleet, running)
            }
        } catch {
            logger.warning("reconciler could not read workspaces", metadata: ["error": "\(error)"])
            return []
        }
        var failed: [WorkspaceID] = []
        for server in fleet {
            guard let expected = running[server.id], !expected.isEmpty else { continue }
            let containers: [ContainerSummary]
            do {
                containers = try await pool.client(for: server).listContainers(labels: ["berth.workspace"])
            } catch {
                // An engine that does not answer is the health monitor's business, not a dead container.
                continue
            }
            let byID = Dictionary(containers.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            for workspace in expected {
                let reason: String
                if let containerID = workspace.container, let container = byID[containerID] {
                    if container.state == "running" { continue }
                    reason = "container \(container.state)"
                } else {
                    reason = "container is gone"
                }
                do {
                    let moved = try await database.withSystem { scope in
                        guard try await workspaces.transition(workspace.id, from: [.running], to: .error, error: reason, in: scope) else { return false }
                        try await placement.release(workspace.id, compute: true, slot: false, in: scope)
                        return true
                    }
                    if moved {
                        failed.append(workspace.id)
                        logger.warning("workspace container died", metadata: ["workspace": "\(workspace.id)", "reason": "\(reason)"])
                    }
                } catch {
                    logger.warning("reconciler could not record a dead container", metadata: ["workspace": "\(workspace.id)", "error": "\(error)"])
                }
            }
        }
        return failed
    }
}
