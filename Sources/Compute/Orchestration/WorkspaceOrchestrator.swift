import Domain
import Foundation
import Logging
import Persistence

/// Why a lifecycle request was refused.
public enum OrchestrationError: Error, Sendable, Equatable {
    case notFound
    /// The action is not allowed in the workspace's status (`409 invalid_state`).
    case invalidState(String)
    /// The workspace's server no longer has room to start it (`409 insufficient_capacity`).
    case insufficientCapacity(String)
}

/// The single entry point for every workspace lifecycle change.
///
/// Intent is written before Docker is touched (the row moves to `creating`, `starting`, `stopping`
/// or `deleting` first), so a crash at any step leaves a row the reconciler can finish or undo.
/// Every change goes through `WorkspaceStore.transition`, which records a `workspace_events` row.
public struct WorkspaceOrchestrator: Sendable {
    let database: Database
    let placement: PlacementService
    let pool: DockerServerPool
    let logger: Logger
    /// How long a container gets between SIGTERM and SIGKILL on stop and restart.
    let stopGrace: Duration
    let workspaces = WorkspaceStore()
    let servers = WorkspaceServerStore()

    /// Images made by `docker import` have no command; this keeps such a workspace up.
    public static let keepAliveCommand = ["sleep", "infinity"]

    public init(database: Database, placement: PlacementService, pool: DockerServerPool, stopGrace: Duration = .seconds(10), logger: Logger) {
        self.stopGrace = stopGrace
        self.database = database
        self.placement = placement
        self.pool = pool
        self.logger = logger
    }

    /// Places, creates and starts a workspace. On a Docker failure the container is removed, the
    /// reservation released and the workspace left in `error` with the reason; the error is rethrown.
    public func create(_ draft: WorkspaceDraft) async throws -> WorkspaceStore.Row {
        let (server, _) = try await placement.reserve(draft)
        var containerID: String?
        do {
            let client = try pool.client(for: server)
            let id = try await client.createContainer(ContainerSpec(
                name: "berth-\(draft.id)", image: draft.image,
                command: draft.command ?? Self.keepAliveCommand, environment: draft.env,
                labels: draft.labels.merging([
                    "berth.workspace": draft.id.description, "berth.tenant": draft.tenantID.description,
                ]) { _, berth in berth },
                resources: ContainerResources(cpuMillis: draft.resources.cpuMillis, memoryMB: draft.resources.memoryMB),
                networkMode: server.connection.networkMode
            ))
            containerID = id
            try await database.withSystem { scope in
                try await workspaces.transition(draft.id, from: [.creating], to: .starting, reason: "container created", containerID: id, in: scope)
            }
            try await client.startContainer(id)
            try await database.withSystem { scope in
                try await workspaces.transition(draft.id, from: [.starting], to: .running, reason: "container started", in: scope)
            }
        } catch {
            await fail(draft.id, server: server, containerID: containerID, reason: "\(error)")
            throw error
        }
        return try await database.withSystem { try await workspaces.get(draft.id, in: $0)! }
    }

    /// Stops the container and gives back CPU and memory (disk and the slot stay).
    public func stop(_ id: WorkspaceID) async throws {
        let (row, server) = try await begin(.stop, id, to: .stopping)
        do {
            if let container = row.containerID { try await pool.client(for: server).stopContainer(container, timeout: stopGrace) }
            try await database.withSystem { scope in
                try await workspaces.transition(id, from: [.stopping], to: .stopped, reason: "container stopped", in: scope)
                try await placement.release(id, compute: true, slot: false, in: scope)
            }
        } catch {
            await fail(id, server: server, containerID: nil, reason: "\(error)", removeContainer: false)
            throw error
        }
    }

    /// Reserves CPU and memory on the workspace's own server again and starts the container.
    /// When the server has no room any more, the workspace stays as it was.
    public func start(_ id: WorkspaceID) async throws {
        let (row, server) = try await database.withSystem { scope -> (WorkspaceStore.Row, WorkspaceServer) in
            guard let row = try await workspaces.lock(id, in: scope), row.status != .deleted,
                let serverID = row.serverID, let server = try await servers.get(serverID, in: scope)
            else { throw OrchestrationError.notFound }
            if let refusal = WorkspaceLifecycle.refusal(of: .start, in: row.status) { throw OrchestrationError.invalidState(refusal) }
            guard row.containerID != nil else {
                throw OrchestrationError.invalidState("the workspace has no container (its creation failed); delete it and create it again")
            }
            guard try await placement.reserveCompute(for: id, in: scope) else {
                let reasons = Placement.exclusionReasons(server, resources: row.resources, constraints: [])
                throw OrchestrationError.insufficientCapacity(reasons.joined(separator: "; "))
            }
            try await workspaces.transition(id, from: [row.status], to: .starting, reason: "start requested", in: scope)
            return (row, server)
        }
        do {
            guard let container = row.containerID else { throw OrchestrationError.invalidState("workspace has no container") }
            try await pool.client(for: server).startContainer(container)
            try await database.withSystem { scope in
                try await workspaces.transition(id, from: [.starting], to: .running, reason: "container started", in: scope)
            }
        } catch {
            await fail(id, server: server, containerID: nil, reason: "\(error)", removeContainer: false)
            throw error
        }
    }

    /// Restarts the container in place; its reservation is kept throughout.
    public func restart(_ id: WorkspaceID) async throws {
        let (row, server) = try await begin(.restart, id, to: .starting)
        do {
            if let container = row.containerID { try await pool.client(for: server).restartContainer(container, timeout: stopGrace) }
            try await database.withSystem { scope in
                try await workspaces.transition(id, from: [.starting], to: .running, reason: "container restarted", in: scope)
            }
        } catch {
            await fail(id, server: server, containerID: nil, reason: "\(error)", removeContainer: false)
            throw error
        }
    }

    /// Removes the container and gives back everything the workspace held.
    public func delete(_ id: WorkspaceID) async throws {
        let (row, server) = try await begin(.delete, id, to: .deleting)
        do {
            if let container = row.containerID {
                do {
                    try await pool.client(for: server).removeContainer(container)
                } catch {
                    // Already gone is what we wanted; anything else is a failure.
                    guard error.code == .http && error.status == 404 else { throw error }
                }
            }
            try await database.withSystem { scope in
                try await placement.release(id, compute: true, slot: true, in: scope)
                try await workspaces.transition(id, from: [.deleting], to: .deleted, reason: "container removed", in: scope)
            }
        } catch {
            await fail(id, server: server, containerID: nil, reason: "\(error)", removeContainer: false)
            throw error
        }
    }

    /// Checks the action is allowed and records the intent, in one transaction.
    private func begin(_ action: WorkspaceAction, _ id: WorkspaceID, to: WorkspaceStatus) async throws -> (WorkspaceStore.Row, WorkspaceServer) {
        try await database.withSystem { scope in
            guard let row = try await workspaces.lock(id, in: scope), row.status != .deleted,
                let serverID = row.serverID, let server = try await servers.get(serverID, in: scope)
            else { throw OrchestrationError.notFound }
            if let refusal = WorkspaceLifecycle.refusal(of: action, in: row.status) { throw OrchestrationError.invalidState(refusal) }
            try await workspaces.transition(id, from: [row.status], to: to, reason: "\(action.rawValue) requested", in: scope)
            return (row, server)
        }
    }

    /// Leaves the workspace in `error` with `reason`; after a failed create, also removes the
    /// container and releases the whole reservation, so nothing is left half-done.
    private func fail(_ id: WorkspaceID, server: WorkspaceServer, containerID: String?, reason: String, removeContainer: Bool = true) async {
        if removeContainer, let containerID, let client = try? pool.client(for: server) {
            try? await client.removeContainer(containerID)
        }
        do {
            try await database.withSystem { scope in
                let all = Set(WorkspaceStatus.allCases).subtracting([.deleted, .error])
                // A removed container is forgotten, so nothing later tries to start it.
                try await workspaces.transition(id, from: all, to: .error, clearContainer: removeContainer && containerID != nil, error: reason, in: scope)
                try await placement.release(id, compute: true, slot: removeContainer, in: scope)
            }
        } catch {
            // The reconciler finds rows stuck in a transient status and finishes the job.
            logger.error("could not record a failed workspace", metadata: ["workspace": "\(id)", "error": "\(error)"])
        }
        logger.warning("workspace failed", metadata: ["workspace": "\(id)", "reason": "\(reason)"])
    }
}
