import Domain
import Foundation
import Logging
import Persistence
import ServiceLifecycle

/// Compares what the database says is running with what the engines run, and applies the seed's
/// rule: a workspace whose container died (exited, or vanished) goes to `error`, and its CPU and
/// memory go back to the server.
///
/// With several replicas, one pass runs at a time across all of them: a pass holds a PostgreSQL
/// advisory lock, and a replica that cannot take it skips its turn. Each change is also a guarded
/// transition, so even overlapping passes could not apply one twice.
public struct WorkspaceReconciler: Service {
    let database: Database
    let pool: DockerServerPool
    let placement: PlacementService
    let interval: Duration
    /// How long a workspace may sit in a transient status before the reconciler finishes or undoes it.
    let staleAfter: Duration
    let logger: Logger
    let workspaces = WorkspaceStore()
    let servers = WorkspaceServerStore()

    public init(
        database: Database, pool: DockerServerPool, placement: PlacementService,
        interval: Duration = .seconds(10), staleAfter: Duration = .seconds(120), logger: Logger
    ) {
        self.staleAfter = staleAfter
        self.database = database
        self.pool = pool
        self.placement = placement
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await runOnce()
                // Cancelled by a graceful shutdown: the loop ends and the service returns cleanly.
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// The advisory lock key of the reconciler's pass (any fixed number unique to this loop).
    static let lockKey: Int64 = 0x6265_7274_6872_6563  // "berthrec"

    /// One pass (dead containers, then stale transitions) if no other replica is running one.
    /// Returns whether it ran.
    @discardableResult
    public func runOnce() async -> Bool {
        do {
            return try await database.withConnection { connection in
                let locked = try await connection.first("SELECT pg_try_advisory_lock(\(Self.lockKey)) AS locked")?.decode("locked", as: Bool.self) ?? false
                guard locked else { return false }
                await pass()
                await finishStale()
                // Were the connection lost instead, the server would release the lock with the session.
                try await connection.execute("SELECT pg_advisory_unlock(\(Self.lockKey))")
                return true
            }
        } catch {
            logger.warning("reconciler could not take its lock", metadata: ["error": "\(error)"])
            return false
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

    /// Finishes or undoes what a crash left half-done: workspaces stuck in `creating`, `starting`,
    /// `stopping` or `deleting` for longer than `staleAfter`. Returns the ids it settled.
    @discardableResult
    public func finishStale() async -> [WorkspaceID] {
        let seconds = staleAfter.inSeconds
        let stale: [(WorkspaceID, WorkspaceStatus)]
        do {
            stale = try await database.withSystem { scope in
                try await scope.execute("""
                    SELECT id, status FROM workspaces
                    WHERE status IN ('creating', 'starting', 'stopping', 'deleting')
                      AND updated_at < now() - make_interval(secs => \(seconds))
                    ORDER BY updated_at LIMIT 100
                    """).map { (try $0.decode("id", as: WorkspaceID.self), WorkspaceStatus(rawValue: try $0.decode("status")) ?? .error) }
            }
        } catch {
            logger.warning("reconciler could not read stale workspaces", metadata: ["error": "\(error)"])
            return []
        }
        var settled: [WorkspaceID] = []
        for (id, status) in stale {
            do {
                if try await settle(id, status) { settled.append(id) }
            } catch {
                logger.warning("reconciler could not settle a workspace", metadata: ["workspace": "\(id)", "error": "\(error)"])
            }
        }
        return settled
    }

    private func settle(_ id: WorkspaceID, _ status: WorkspaceStatus) async throws -> Bool {
        guard let (row, server) = try await database.withSystem({ scope -> (WorkspaceStore.Row, WorkspaceServer)? in
            guard let row = try await workspaces.get(id, in: scope), let serverID = row.serverID,
                let server = try await servers.get(serverID, in: scope) else { return nil }
            return (row, server)
        }) else { return false }
        let client = try pool.client(for: server)
        // The container by id, or by the name the orchestrator gives it (a crash may have come
        // between creating it and recording its id).
        let reference = row.containerID ?? "berth-\(id)"
        var details: ContainerDetails?
        do {
            details = try await client.inspectContainer(reference)
        } catch {
            guard error.isNotFound else { throw error }
            details = nil
        }
        switch status {
        case .deleting:
            if details != nil { try await client.removeContainer(reference) }
            return try await database.withSystem { scope in
                guard try await workspaces.transition(id, from: [.deleting], to: .deleted, reason: "finished by the reconciler", in: scope) else { return false }
                try await placement.release(id, compute: true, slot: true, in: scope)
                return true
            }
        case .starting where details?.state.running == true:
            return try await database.withSystem { scope in
                try await workspaces.transition(id, from: [.starting], to: .running, reason: "finished by the reconciler", containerID: details?.id, in: scope)
            }
        case .stopping where details?.state.running == false:
            return try await database.withSystem { scope in
                guard try await workspaces.transition(id, from: [.stopping], to: .stopped, reason: "finished by the reconciler", in: scope) else { return false }
                try await placement.release(id, compute: true, slot: false, in: scope)
                return true
            }
        default:
            // Creating, or a start/stop that did not take: undo. A half-created container goes away.
            let creating = status == .creating
            if creating, details != nil { try? await client.removeContainer(reference) }
            return try await database.withSystem { scope in
                guard try await workspaces.transition(id, from: [status], to: .error, error: "interrupted while \(status.rawValue); undone by the reconciler", in: scope) else { return false }
                try await placement.release(id, compute: true, slot: creating, in: scope)
                return true
            }
        }
    }
}
