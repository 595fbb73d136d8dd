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
    /// The request is understood but cannot be carried out (`422`).
    case unsupported(String)
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
        let server = try await place(draft)
        try await provision(draft, on: server)
        return try await database.withSystem { try await workspaces.get(draft.id, in: $0)! }
    }

    /// The first half of a create: checks the quota, chooses a server, reserves on it and records
    /// the workspace as `creating`. Refusals (quota, capacity, name) are thrown from here.
    public func place(_ draft: WorkspaceDraft) async throws -> WorkspaceServer {
        try await placement.reserve(draft).server
    }

    /// The second half: creates and starts the container on the server `place` chose. On failure
    /// the container is removed, the reservation released and the workspace left in `error`.
    public func provision(_ draft: WorkspaceDraft, on server: WorkspaceServer) async throws {
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
            let recorded = try await database.withSystem { scope in
                try await workspaces.transition(draft.id, from: [.creating], to: .starting, reason: "container created", containerID: id, in: scope)
            }
            guard recorded else {
                // Deleted while it was being created: the delete found no container, so this one goes.
                try? await client.removeContainer(id)
                return
            }
            try await client.startContainer(id)
            // If a stop or delete came in meanwhile, it owns the workspace now and this changes nothing.
            try await database.withSystem { scope in
                try await workspaces.transition(draft.id, from: [.starting], to: .running, reason: "container started", in: scope)
            }
        } catch {
            await fail(draft.id, from: [.creating, .starting], server: server, containerID: containerID, reason: "\(error)")
            throw error
        }
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
            await fail(id, from: [.stopping], server: server, containerID: nil, reason: "\(error)", removeContainer: false)
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
            // A stopped workspace does not count against the quota; running it again must fit.
            if !row.holdsCompute {
                try await placement.checkQuota(row.tenantID, requesting: row.resources, replacing: nil, in: scope)
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
            await fail(id, from: [.starting], server: server, containerID: nil, reason: "\(error)", removeContainer: false)
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
            await fail(id, from: [.starting], server: server, containerID: nil, reason: "\(error)", removeContainer: false)
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
            await fail(id, from: [.deleting], server: server, containerID: nil, reason: "\(error)", removeContainer: false)
            throw error
        }
    }

    /// Changes a running or stopped workspace's CPU and memory in place, on its own server.
    ///
    /// Everything happens in one transaction that holds the workspace's row lock: the quota check,
    /// the change of the server's reservation (only for a workspace that holds compute), the row,
    /// the usage interval and the container's limits (`docker update`). When Docker refuses, the
    /// transaction rolls back and the workspace is exactly as it was.
    public func resize(_ id: WorkspaceID, to resources: Resources) async throws {
        try await database.withSystem { scope in
            guard let row = try await workspaces.lock(id, in: scope), row.status != .deleted,
                let serverID = row.serverID, let server = try await servers.get(serverID, in: scope)
            else { throw OrchestrationError.notFound }
            if let refusal = WorkspaceLifecycle.refusal(of: .resize, in: row.status) { throw OrchestrationError.invalidState(refusal) }
            guard resources.diskGB == row.resources.diskGB else {
                throw OrchestrationError.unsupported("disk_gb cannot change on an existing workspace (Docker cannot resize a container's storage)")
            }
            if resources == row.resources { return }
            try await placement.checkQuota(row.tenantID, requesting: resources, replacing: id, in: scope)
            if row.holdsCompute, try await !placement.adjustCompute(of: id, on: serverID, from: row.resources, to: resources, in: scope) {
                var larger = resources
                larger.cpuMillis = max(0, resources.cpuMillis - row.resources.cpuMillis)
                larger.memoryMB = max(0, resources.memoryMB - row.resources.memoryMB)
                larger.diskGB = 0
                let reasons = Placement.exclusionReasons(server, resources: larger, constraints: [])
                throw OrchestrationError.insufficientCapacity(reasons.isEmpty ? "the server has no room for the larger size" : reasons.joined(separator: "; "))
            }
            try await workspaces.resize(id, to: resources, in: scope)
            try await UsageIntervals.roll(id, in: scope)
            if let container = row.containerID {
                try await pool.client(for: server).updateContainer(container, resources: ContainerResources(cpuMillis: resources.cpuMillis, memoryMB: resources.memoryMB))
            }
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

    /// Leaves the workspace in `error` with `reason`, if it is still in one of the statuses `from`
    /// that the failed operation put it in (a delete or stop that came in meanwhile owns it now).
    /// After a failed create, also removes the container and releases the whole reservation, so
    /// nothing is left half-done.
    private func fail(
        _ id: WorkspaceID, from: Set<WorkspaceStatus>, server: WorkspaceServer, containerID: String?, reason: String, removeContainer: Bool = true
    ) async {
        if removeContainer, let containerID, let client = try? pool.client(for: server) {
            try? await client.removeContainer(containerID)
        }
        do {
            try await database.withSystem { scope in
                // A removed container is forgotten, so nothing later tries to start it.
                let moved = try await workspaces.transition(id, from: from, to: .error, clearContainer: removeContainer && containerID != nil, error: reason, in: scope)
                if moved { try await placement.release(id, compute: true, slot: removeContainer, in: scope) }
            }
        } catch {
            // The reconciler finds rows stuck in a transient status and finishes the job.
            logger.error("could not record a failed workspace", metadata: ["workspace": "\(id)", "error": "\(error)"])
        }
        logger.warning("workspace failed", metadata: ["workspace": "\(id)", "reason": "\(reason)"])
    }
}
