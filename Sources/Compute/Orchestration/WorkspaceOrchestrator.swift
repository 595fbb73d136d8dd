import Domain
import Foundation
import Logging
import Persistence

/// Why a lifecycle request was refused or failed.
public enum OrchestrationError: Error, Sendable, Equatable {
    case notFound
    /// The action is not allowed in the workspace's status (`409 invalid_state`).
    case invalidState(String)
    /// The workspace's server no longer has room for it (`409 insufficient_capacity`).
    case insufficientCapacity(String)
    /// The request is understood but cannot be carried out (`422`).
    case unsupported(String)
    /// Docker could not do it: the workspace is now in `error` with this reason.
    case failed(WorkspaceFailure)
    /// Docker would not take the new size; the workspace keeps the size it had.
    case resizeRefused(WorkspaceFailure)
}

/// What came of a lifecycle request that was accepted.
public enum LifecycleResult: Sendable, Equatable {
    /// Docker did it, and the row records it.
    case applied(WorkspaceStore.Row)
    /// Recorded, not yet applied: Docker did not answer in time (the reason), or another actor is
    /// still on the workspace. The reservation stands and the reconciler finishes the job.
    case accepted(WorkspaceStore.Row, WorkspaceFailure?)

    public var row: WorkspaceStore.Row {
        switch self {
        case .applied(let row), .accepted(let row, _): row
        }
    }
}

/// The single entry point for every workspace lifecycle change.
///
/// Each request checks the rules (the lifecycle table, quota, capacity) and records its intent (what
/// is wanted, a new generation, the reservation it needs) in one transaction, then lets the
/// converger act on Docker. Whoever holds the workspace's lease applies the newest intent; a request
/// that finds it held waits for its generation to be applied. See `WorkspaceConverger`.
public struct WorkspaceOrchestrator: Sendable {
    let database: Database
    let placement: PlacementService
    let pool: DockerServerPool
    let logger: Logger
    public let converger: WorkspaceConverger
    /// Creates that go on after their request answered; drained on shutdown.
    public let work: BackgroundWork
    /// Clones under way. Not waited for on shutdown: an attempt holds its workspace until its
    /// deadline (the clone timeout), after which the reconciler takes it up again, by which time
    /// `timeout` has ended the git inside the container.
    public let clones = BackgroundWork()
    /// Clones repositories once their workspaces run; nil where no workspace has one (tests).
    public let git: GitSetupService?
    /// How long a request waits for another actor to apply its intent before answering `accepted`.
    let waitLimit: Duration
    let workspaces = WorkspaceStore()
    let servers = WorkspaceServerStore()

    public init(
        database: Database, placement: PlacementService, pool: DockerServerPool,
        containers: WorkspaceContainers = WorkspaceContainers(), deployment: Deployment = Deployment(),
        lease: Duration = .seconds(90), waitLimit: Duration = .seconds(60), work: BackgroundWork = BackgroundWork(),
        git: GitSetupService? = nil, logger: Logger
    ) {
        self.git = git
        self.database = database
        self.placement = placement
        self.pool = pool
        self.logger = logger
        self.waitLimit = waitLimit
        self.work = work
        self.converger = WorkspaceConverger(
            database: database, pool: pool, placement: placement, deployment: deployment, containers: containers, lease: lease, logger: logger
        )
    }

    public init(database: Database, placement: PlacementService, pool: DockerServerPool, stopGrace: Duration, logger: Logger) {
        self.init(database: database, placement: placement, pool: pool, containers: WorkspaceContainers(stopGrace: stopGrace), logger: logger)
    }

    /// Places, creates and starts a workspace, waiting for the outcome. A create Docker refused leaves
    /// the workspace in `error` with nothing held, and throws `failed`.
    @discardableResult
    public func create(_ draft: WorkspaceDraft) async throws -> WorkspaceStore.Row {
        let actor = WorkspaceConverger.newActor("create")
        _ = try await place(draft, actor: actor)
        return try await result(of: await provision(draft.id, actor: actor), id: draft.id, generation: 1).row
    }

    /// The first half of a create: checks the quota, chooses a server, reserves on it and records
    /// the workspace as `creating`, its lease held by `actor`. Refusals (quota, capacity, name) are
    /// thrown from here.
    public func place(_ draft: WorkspaceDraft, actor: String) async throws -> WorkspaceServer {
        try await placement.reserve(draft, actor: actor, lease: converger.lease).server
    }

    /// The second half: makes and starts the container, as the actor that placed it, then clones its
    /// repository, if it has one: before returning, or (`cloneInBackground`) in `clones`.
    public func provision(_ id: WorkspaceID, actor: String, cloneInBackground: Bool = false) async -> WorkspaceConverger.Outcome {
        let outcome = await converger.run(id, actor: actor)
        switch outcome {
        case .settled(let row, _):
            logger.info("workspace provisioned", metadata: ["workspace": "\(id)", "status": "\(row.status.rawValue)", "container": "\(row.containerID ?? "")"])
        case .deferred(let failure):
            logger.info("workspace provisioning deferred", metadata: ["workspace": "\(id)", "reason": "\(failure.code)"])
        case .busy, .gone:
            break
        }
        if let git, case .settled(let row, _) = outcome, row.status == .running {
            if cloneInBackground { clones.spawn { await git.run(id) } } else { await git.run(id) }
        }
        return outcome
    }

    /// Takes CPU and memory on the workspace's own server again and starts its container. When the
    /// server has no room any more, the workspace stays as it was.
    @discardableResult
    public func start(_ id: WorkspaceID) async throws -> LifecycleResult {
        let result = try await change(.start, id, to: .starting) { row, scope in
            guard row.containerID != nil else {
                throw OrchestrationError.invalidState("the workspace has no container (its creation failed); delete it and create it again")
            }
            // A stopped workspace holds no CPU or memory of the quota; running it again must fit.
            if !row.holdsCompute {
                try await placement.checkQuota(row.tenantID, requesting: row.resources, replacing: id, in: scope)
            }
            guard try await placement.reserveCompute(for: id, in: scope) else {
                throw try await noRoom(row, Resources(cpuMillis: row.resources.cpuMillis, memoryMB: row.resources.memoryMB, diskGB: 0), in: scope)
            }
            return .running
        }
        // A clone that was waiting for the workspace to run (it stopped mid-clone) goes on now.
        if let git, case .applied(let row) = result, row.status == .running { clones.spawn { await git.run(id) } }
        return result
    }

    /// Stops the container; its CPU and memory go back once Docker confirms it stopped (disk and
    /// the slot stay). `reason` is what its event says (by default, that a stop was requested).
    @discardableResult
    public func stop(_ id: WorkspaceID, reason: String? = nil) async throws -> LifecycleResult {
        try await change(.stop, id, to: .stopping, reason: reason) { _, _ in .stopped }
    }

    /// Restarts the container in place; its reservation is kept throughout.
    @discardableResult
    public func restart(_ id: WorkspaceID) async throws -> LifecycleResult {
        try await change(.restart, id, to: .starting, restart: true) { _, _ in .running }
    }

    /// Removes the container; everything the workspace held goes back once it is gone.
    @discardableResult
    public func delete(_ id: WorkspaceID) async throws -> LifecycleResult {
        try await change(.delete, id, to: .deleting) { _, _ in .deleted }
    }

    /// Changes a running or stopped workspace's CPU and memory, on its own server; or, when that
    /// server has no room and `allowMove` says so, by moving it (with its files) to one that has.
    ///
    /// The intent (the new size, and a reservation for any growth, here or on the server it moves
    /// to) is committed before Docker is asked; a smaller size gives CPU and memory back only once
    /// Docker has the smaller limits. When Docker refuses the new limits, or the move fails, the
    /// resize is undone and `resizeRefused` thrown.
    @discardableResult
    public func resize(_ id: WorkspaceID, to resources: Resources, allowMove: Bool = false) async throws -> LifecycleResult {
        try await change(.resize, id, to: nil) { row, scope in
            if resources == row.resources { return nil }
            guard resources.diskGB == row.resources.diskGB else {
                throw OrchestrationError.unsupported("disk_gb cannot change on an existing workspace (Docker cannot resize a container's storage)")
            }
            guard row.moveTo == nil else { throw OrchestrationError.invalidState("the workspace is moving; resize it once it has moved") }
            try await placement.checkQuota(row.tenantID, requesting: resources, replacing: id, in: scope)
            try await workspaces.resize(id, to: resources, in: scope)
            if row.holdsCompute, try await !placement.reserveGrowth(of: id, in: scope) {
                let growth = Resources(
                    cpuMillis: max(0, resources.cpuMillis - row.heldCPUMillis), memoryMB: max(0, resources.memoryMB - row.heldMemoryMB), diskGB: 0
                )
                guard allowMove else { throw try await noRoom(row, growth, in: scope) }
                // No room where it is: to a server with room for the new size, files and all.
                _ = try await placement.reserveMove(of: id, at: resources, running: true, reason: "resize", in: scope)
            }
            return row.desired
        }
    }

    /// Forgets a move not yet made (a drain that was called off): what it held on its target goes
    /// back, and the workspace stays where it is, in the state it is wanted in.
    public func cancelMove(_ id: WorkspaceID) async throws {
        _ = try await change(.move, id, to: nil) { row, scope in
            guard row.moveTo != nil else { return nil }
            try await placement.releaseMove(of: id, in: scope)
            return row.desired
        }
    }

    /// Moves a running or stopped workspace to another server (one its constraints allow, chosen by
    /// its strategy), with its `/workspace` files, keeping its state. `reason` says why (`drain`).
    /// When no other server has room, `PlacementError` is thrown and nothing changes.
    @discardableResult
    public func move(_ id: WorkspaceID, reason: String) async throws -> LifecycleResult {
        try await change(.move, id, to: nil) { row, scope in
            if row.moveTo != nil { return nil }
            _ = try await placement.reserveMove(of: id, at: row.resources, running: row.desired == .running, reason: reason, in: scope)
            return row.desired
        }
    }

    /// Checks `action` against the lifecycle table, runs `prepare` (rules and reservations; it
    /// returns what is wanted, or nil when nothing changes), records the intent and the visible
    /// status `to`, all in one transaction, then applies it or waits for the actor that holds the
    /// workspace to.
    private func change(
        _ action: WorkspaceAction, _ id: WorkspaceID, to visible: WorkspaceStatus?, restart: Bool = false, reason: String? = nil,
        prepare: @Sendable (WorkspaceStore.Row, SystemScope) async throws -> WorkspaceStatus?
    ) async throws -> LifecycleResult {
        let actor = WorkspaceConverger.newActor(action.rawValue)
        let lease = converger.lease
        let intent = try await database.retrying {
            try await database.withSystem { scope -> (generation: Int64, claimed: Bool)? in
                guard let row = try await workspaces.lock(id, in: scope), row.status != .deleted else { throw OrchestrationError.notFound }
                if let refusal = WorkspaceLifecycle.refusal(of: action, in: row.status) { throw OrchestrationError.invalidState(refusal) }
                guard let desired = try await prepare(row, scope) else { return nil }
                let intent = try await workspaces.intend(id, desired: desired, restart: restart, actor: actor, lease: lease, in: scope)
                if let visible, visible != row.status {
                    try await workspaces.transition(id, from: [row.status], to: visible, reason: reason ?? "\(action.rawValue) requested", in: scope)
                }
                return intent
            }
        }
        guard let intent else {
            // Nothing to change (a resize to the size it has).
            guard let row = try await database.withSystem({ try await workspaces.get(id, in: $0) }) else { throw OrchestrationError.notFound }
            return .applied(row)
        }
        let outcome = intent.claimed ? await converger.run(id, actor: actor) : .busy
        return try await result(of: outcome, id: id, generation: intent.generation)
    }

    /// Turns what the converger reported into the request's answer. A request whose workspace is
    /// held by another actor waits (with a deadline) for its generation to be applied.
    private func result(of outcome: WorkspaceConverger.Outcome, id: WorkspaceID, generation: Int64) async throws -> LifecycleResult {
        switch outcome {
        case .gone:
            throw OrchestrationError.notFound
        case .deferred(let failure):
            guard let row = try await database.withSystem({ try await workspaces.get(id, in: $0) }) else { throw OrchestrationError.notFound }
            if row.observedGeneration >= generation { return try settled(row, refused: nil, generation: generation) }
            return .accepted(row, failure)
        case .settled(let row, let refused):
            return try settled(row, refused: refused, generation: generation)
        case .busy:
            var pause = Duration.milliseconds(50)
            let deadline = ContinuousClock.now + waitLimit
            while true {
                guard let row = try await database.withSystem({ try await workspaces.get(id, in: $0) }) else { throw OrchestrationError.notFound }
                if row.observedGeneration >= generation { return try settled(row, refused: nil, generation: generation) }
                guard ContinuousClock.now + pause < deadline else { return .accepted(row, nil) }
                try await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(1))
            }
        }
    }

    private func settled(_ row: WorkspaceStore.Row, refused: WorkspaceFailure?, generation: Int64) throws -> LifecycleResult {
        if let refused { throw OrchestrationError.resizeRefused(refused) }
        // The intent ended in error (and no newer intent has replaced the outcome): say so.
        if row.status == .error, row.observedGeneration == generation {
            throw OrchestrationError.failed(WorkspaceFailure(code: row.errorCode ?? "error", message: row.error ?? "the workspace failed", detail: row.errorDetail))
        }
        return .applied(row)
    }

    /// `insufficientCapacity` with the reasons the workspace's own server gives for `resources`.
    private func noRoom(_ row: WorkspaceStore.Row, _ resources: Resources, in scope: SystemScope) async throws -> OrchestrationError {
        guard let serverID = row.serverID, let server = try await servers.get(serverID, in: scope) else {
            return .insufficientCapacity("the workspace's server is gone")
        }
        let reasons = Placement.exclusionReasons(server, resources: resources, constraints: [])
        return .insufficientCapacity(reasons.isEmpty ? "the server has no room for it" : reasons.joined(separator: "; "))
    }
}
