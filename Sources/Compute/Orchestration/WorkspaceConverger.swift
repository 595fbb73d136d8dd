import Domain
import Foundation
import Logging
import Persistence

/// Acts on Docker for one workspace until what runs is what is wanted: the one code path every
/// lifecycle request and the reconciler take (DESIGN.md, "The lifecycle model").
///
/// An actor first holds the workspace's lease (claimed with the intent, or afterwards when free),
/// reads what is wanted and at which generation, asks Docker what is there, takes one step, and
/// records what Docker confirmed behind a fence: only while the generation is still the one it read
/// and it still holds the lease. When the fence fails a newer intent came in, and the actor reads
/// again and applies that one, so a late start can never overwrite a stop. Reservations shrink and
/// usage intervals close only with an outcome Docker confirmed (a container really stopped or gone,
/// at Docker's own timestamps); they grow only with the intent, before Docker is asked.
public struct WorkspaceConverger: Sendable {
    let database: Database
    let pool: DockerServerPool
    let placement: PlacementService
    let deployment: Deployment
    let containers: WorkspaceContainers
    /// How long a claimed lease lasts; every step renews it, and it outlives the longest Docker call.
    let lease: Duration
    let logger: Logger
    let workspaces = WorkspaceStore()
    let servers = WorkspaceServerStore()

    public init(
        database: Database, pool: DockerServerPool, placement: PlacementService, deployment: Deployment,
        containers: WorkspaceContainers, lease: Duration = .seconds(90), logger: Logger
    ) {
        self.database = database
        self.pool = pool
        self.placement = placement
        self.deployment = deployment
        self.containers = containers
        self.lease = lease
        self.logger = logger
    }

    /// Where a workspace stands when the actor stops.
    public enum Outcome: Sendable, Equatable {
        /// Every intent is applied; the row as recorded, and the reason an intent was refused and
        /// undone, if one was (a resize Docker would not make).
        case settled(WorkspaceStore.Row, refused: WorkspaceFailure?)
        /// Another actor holds the workspace; it applies the newest intent.
        case busy
        /// Docker (or the database) did not answer or could not do it now: the intent stands, the
        /// reservation is kept, and the reconciler tries again.
        case deferred(WorkspaceFailure)
        /// There is no such workspace.
        case gone
    }

    /// A name for one actor: unique per call, so two requests in one process are two actors.
    public static func newActor(_ role: String) -> String {
        "\(role)-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(13).lowercased())"
    }

    /// Applies every pending intent of `id` as `actor`, until none is left or Docker cannot for now.
    public func run(_ id: WorkspaceID, actor: String) async -> Outcome {
        var refused: WorkspaceFailure?
        // Each round applies one generation; intents that keep changing are left to the reconciler.
        for _ in 0..<12 {
            let row: WorkspaceStore.Row
            do {
                guard let claimed = try await database.withSystem({ try await workspaces.claim(id, actor: actor, lease: lease, in: $0) }) else {
                    let exists = try await database.withSystem { try await workspaces.get(id, in: $0) } != nil
                    return exists ? .busy : .gone
                }
                row = claimed
                if row.isSettled {
                    if try await database.withSystem({ try await workspaces.releaseLease(id, actor: actor, in: $0) }) {
                        return .settled(row, refused: refused)
                    }
                    continue
                }
            } catch {
                return .deferred(Self.databaseFailure(error))
            }
            do {
                if let refusal = try await step(row, actor: actor) { refused = refusal }
            } catch {
                let failure = (error as? Deferral)?.failure ?? Self.databaseFailure(error)
                logger.warning("workspace change deferred", metadata: [
                    "workspace": "\(id)", "generation": "\(row.generation)", "reason": "\(failure.code)", "detail": "\(failure.detail ?? failure.message)",
                ])
                try? await database.withSystem { try await workspaces.abandonLease(id, actor: actor, in: $0) }
                return .deferred(failure)
            }
        }
        try? await database.withSystem { try await workspaces.abandonLease(id, actor: actor, in: $0) }
        return .deferred(WorkspaceFailure(code: "busy", message: "the workspace changed too often to apply; it will be applied shortly"))
    }

    /// For the reconciler: a workspace recorded as `running` (and settled) whose container is not
    /// running any more goes to `error`, and its CPU and memory go back, once Docker confirms it.
    /// Nothing happens when another actor holds the workspace. Returns whether it was moved.
    public func checkRunning(_ id: WorkspaceID, actor: String) async throws -> Bool {
        guard let row = try await database.withSystem({ try await workspaces.claim(id, actor: actor, lease: lease, in: $0) }) else { return false }
        var moved = false
        if row.isSettled, row.status == .running, let server = try await server(of: row) {
            let client = try pool.client(for: server)
            let container = try await observe(row, client)
            if container?.state.running != true {
                let failure = container.map {
                    WorkspaceFailure(code: "container_exited", message: "the container exited (exit code \($0.state.exitCode))", detail: $0.state.error.isEmpty ? nil : $0.state.error)
                } ?? WorkspaceFailure(code: "container_gone", message: "the container is gone from its server")
                moved = try await record(row, actor: actor) { scope in
                    try await placement.release(row.id, compute: true, slot: false, in: scope)
                    // Metered up to when it stopped, as Docker says; a container that is gone says
                    // nothing, so up to when it was last seen running.
                    var stoppedAt = container?.state.finishedAt
                    if container == nil { stoppedAt = try await UsageIntervals.lastSeen(row.id, in: scope) }
                    try await workspaces.transition(row.id, from: [.running], to: .error, failure: failure, at: stoppedAt, in: scope)
                }
                if moved { logger.warning("workspace container died", metadata: ["workspace": "\(id)", "reason": "\(failure.code)"]) }
            }
        }
        // A newer intent came in while this looked: apply it rather than leave it.
        if try await !database.withSystem({ try await workspaces.releaseLease(id, actor: actor, in: $0) }) {
            _ = await run(id, actor: actor)
        }
        return moved
    }

    /// For the reconciler: stops a container that runs behind a row that says it should not
    /// (stopped or in error, nothing pending). Returns whether it stopped one.
    public func stopStray(_ id: WorkspaceID, actor: String) async throws -> Bool {
        guard let row = try await database.withSystem({ try await workspaces.claim(id, actor: actor, lease: lease, in: $0) }) else { return false }
        var stopped = false
        if row.isSettled, [.stopped, .error].contains(row.status), let server = try await server(of: row) {
            let client = try pool.client(for: server)
            if let container = try await observe(row, client), container.state.running {
                try await client.stopContainer(container.id, timeout: containers.stopGrace)
                stopped = true
            }
        }
        if try await !database.withSystem({ try await workspaces.releaseLease(id, actor: actor, in: $0) }) {
            _ = await run(id, actor: actor)
        }
        return stopped
    }

    // MARK: - One step

    /// A step that cannot be taken now; the intent stays and is retried.
    struct Deferral: Error {
        let failure: WorkspaceFailure
    }

    /// Takes one step towards what `row` wants, as `actor`. Returns a refusal when an intent was undone.
    private func step(_ row: WorkspaceStore.Row, actor: String) async throws -> WorkspaceFailure? {
        guard let server = try await server(of: row), server.lostAt == nil else {
            // The server is gone from the fleet, or lost: nothing can be asked of Docker there.
            try await recordWithoutServer(row, actor: actor)
            return nil
        }
        let client: DockerClient
        do { client = try pool.client(for: server) } catch { throw Deferral(failure: Self.failure(error, doing: "reach")) }
        let container = try await observe(row, client)
        if row.moveTo != nil, row.desired != .deleted {
            return try await move(row, container, from: server, client, actor: actor)
        }
        switch row.desired {
        case .deleted:
            try await delete(row, container, client, actor: actor)
            return nil
        case .stopped:
            return try await stop(row, container, client, actor: actor)
        default:
            return try await run(row, container, on: server, client, actor: actor)
        }
    }

    private func delete(_ row: WorkspaceStore.Row, _ container: ContainerDetails?, _ client: DockerClient, actor: String) async throws {
        if let container {
            do {
                try await client.removeContainer(container.id)
            } catch {
                if !error.isNotFound { throw Deferral(failure: Self.failure(error, doing: "remove")) }
            }
        }
        // Its own network, if it had one (a no-op when it had none).
        do {
            try await client.removeNetwork(WorkspaceContainers.networkName(row.id))
        } catch {
            throw Deferral(failure: Self.failure(error, doing: "remove"))
        }
        _ = try await record(row, actor: actor) { scope in
            try await placement.release(row.id, compute: true, slot: true, in: scope)
            try await placement.releaseMove(of: row.id, in: scope)
            try await workspaces.transition(row.id, from: nil, to: .deleted, reason: container == nil ? "no container to remove" : "container removed", in: scope)
        }
    }

    private func stop(_ row: WorkspaceStore.Row, _ found: ContainerDetails?, _ client: DockerClient, actor: String) async throws -> WorkspaceFailure? {
        guard var container = found else {
            try await recordGone(row, actor: actor)
            return nil
        }
        if container.state.running {
            do {
                try await client.stopContainer(container.id, timeout: containers.stopGrace)
            } catch {
                // A stop that did not take keeps the reservation; it is tried again.
                if !error.isNotFound { throw Deferral(failure: Self.failure(error, doing: "stop")) }
            }
            guard let after = try await observe(row, client) else {
                try await recordGone(row, actor: actor)
                return nil
            }
            container = after
            guard !container.state.running else {
                throw Deferral(failure: WorkspaceFailure(code: "still_running", message: "the container is still running after the stop; it will be stopped again"))
            }
        }
        let refusal = try await applyResize(row, container, client, actor: actor)
        if refusal != nil { return refusal }
        let finishedAt = container.state.finishedAt
        _ = try await record(row, actor: actor) { scope in
            try await placement.release(row.id, compute: true, slot: false, in: scope)
            if row.resizePending { try await workspaces.setApplied(row.id, cpuMillis: row.resources.cpuMillis, memoryMB: row.resources.memoryMB, in: scope) }
            try await workspaces.transition(row.id, from: nil, to: .stopped, reason: "container stopped", at: finishedAt, in: scope)
        }
        return nil
    }

    private func run(
        _ row: WorkspaceStore.Row, _ found: ContainerDetails?, on server: WorkspaceServer, _ client: DockerClient, actor: String
    ) async throws -> WorkspaceFailure? {
        guard let container = found else {
            if row.status == .creating, row.containerID == nil {
                try await createContainer(row, on: server, client, actor: actor)
            } else {
                try await recordGone(row, actor: actor)
            }
            return nil
        }
        if row.containerID == nil {
            // Made by an actor that died before recording it: adopt it.
            _ = try await record(row, actor: actor, settles: false) { scope in
                try await workspaces.transition(row.id, from: nil, to: .starting, reason: "container found", containerID: container.id, in: scope)
            }
            return nil
        }
        if let refusal = try await applyResize(row, container, client, actor: actor) { return refusal }
        let restarted: Bool
        if !container.state.running {
            do {
                try await client.startContainer(container.id)
            } catch where error.isNotFound {
                try await recordGone(row, actor: actor)
                return nil
            } catch where Self.isTransient(error) {
                throw Deferral(failure: Self.failure(error, doing: "start"))
            } catch {
                // Docker refused to start it: the workspace fails, keeping its container for a later
                // start or a delete, and gives back its CPU and memory once it is known not to run.
                let after = try await observe(row, client)
                guard after?.state.running != true else { throw Deferral(failure: Self.failure(error, doing: "start")) }
                _ = try await record(row, actor: actor) { scope in
                    try await placement.release(row.id, compute: true, slot: false, in: scope)
                    try await workspaces.transition(row.id, from: nil, to: .error, failure: Self.failure(error, doing: "start"), in: scope)
                }
                return nil
            }
            restarted = false
        } else if row.restartGeneration > row.observedGeneration {
            do {
                try await client.restartContainer(container.id, timeout: containers.stopGrace)
            } catch where error.isNotFound {
                try await recordGone(row, actor: actor)
                return nil
            } catch {
                throw Deferral(failure: Self.failure(error, doing: "restart"))
            }
            restarted = true
        } else {
            restarted = false
        }
        guard let confirmed = try await observe(row, client) else {
            try await recordGone(row, actor: actor)
            return nil
        }
        guard confirmed.state.running else {
            // It started and stopped at once: the command exited.
            let failure = WorkspaceFailure(code: "container_exited", message: "the container exited right after it started (exit code \(confirmed.state.exitCode))", detail: confirmed.state.error.isEmpty ? nil : confirmed.state.error)
            _ = try await record(row, actor: actor) { scope in
                try await placement.release(row.id, compute: true, slot: false, in: scope)
                try await workspaces.transition(row.id, from: nil, to: .error, failure: failure, at: confirmed.state.finishedAt, in: scope)
            }
            return nil
        }
        _ = try await record(row, actor: actor) { scope in
            if restarted {
                // The old run ended when Docker stopped it; the new one starts at its own StartedAt.
                try await UsageIntervals.close(row.id, at: confirmed.state.finishedAt, in: scope)
            } else if row.resizePending, row.status == .running {
                try await UsageIntervals.roll(row.id, in: scope)
            }
            try await placement.settleCompute(of: row.id, to: row.resources, in: scope)
            try await workspaces.setApplied(row.id, cpuMillis: row.resources.cpuMillis, memoryMB: row.resources.memoryMB, in: scope)
            let reason = restarted ? "container restarted" : row.status == .running ? "resized" : "container started"
            try await workspaces.transition(row.id, from: nil, to: .running, reason: reason, at: confirmed.state.startedAt, in: scope)
        }
        return nil
    }

    /// Creates the container of a workspace in `creating`. A refusal from Docker fails the create:
    /// whatever was made goes, and everything the workspace held is given back.
    private func createContainer(_ row: WorkspaceStore.Row, on server: WorkspaceServer, _ client: DockerClient, actor: String) async throws {
        let deploymentID = try await deployment.id(database)
        let spec = containers.spec(for: row, on: server, deployment: deploymentID)
        let containerID: String
        do {
            if server.connection.networkMode == "isolated" {
                _ = try await client.createBridgeNetwork(WorkspaceContainers.networkName(row.id), labels: [
                    WorkspaceContainers.Label.workspace: row.id.description, WorkspaceContainers.Label.deployment: deploymentID,
                ])
            }
            containerID = try await client.createContainer(spec)
        } catch where Self.isTransient(error) {
            // The engine may have made it before the answer was lost: the next step finds it by name.
            throw Deferral(failure: Self.failure(error, doing: "create"))
        } catch {
            try? await client.removeContainer(spec.name)
            _ = try await record(row, actor: actor) { scope in
                try await placement.release(row.id, compute: true, slot: true, in: scope)
                try await workspaces.transition(row.id, from: nil, to: .error, clearContainer: true, failure: Self.failure(error, doing: "create"), in: scope)
            }
            return
        }
        let recorded = try await record(row, actor: actor, settles: false) { scope in
            try await workspaces.setApplied(row.id, cpuMillis: row.resources.cpuMillis, memoryMB: row.resources.memoryMB, in: scope)
            try await workspaces.transition(row.id, from: [.creating], to: .starting, reason: "container created", containerID: containerID, in: scope)
        }
        if !recorded {
            // A newer intent (a delete) came in: the next step sees the container by name and acts on it.
            logger.debug("container created under a newer intent", metadata: ["workspace": "\(row.id)"])
        }
    }

    /// Brings the container's limits to the wanted size. When Docker refuses, the resize is undone:
    /// the workspace keeps the size it has, and what was reserved for the growth goes back.
    private func applyResize(_ row: WorkspaceStore.Row, _ container: ContainerDetails, _ client: DockerClient, actor: String) async throws -> WorkspaceFailure? {
        guard row.resizePending else { return nil }
        do {
            try await client.updateContainer(container.id, resources: ContainerResources(cpuMillis: row.resources.cpuMillis, memoryMB: row.resources.memoryMB))
            return nil
        } catch where Self.isTransient(error) {
            throw Deferral(failure: Self.failure(error, doing: "resize"))
        } catch {
            let failure = Self.failure(error, doing: "resize")
            let applied = Resources(cpuMillis: row.appliedCPUMillis ?? row.resources.cpuMillis, memoryMB: row.appliedMemoryMB ?? row.resources.memoryMB, diskGB: row.resources.diskGB)
            let undone = try await record(row, actor: actor) { scope in
                try await workspaces.resize(row.id, to: applied, in: scope)
                try await placement.settleCompute(of: row.id, to: row.holdsCompute ? applied : Resources(cpuMillis: 0, memoryMB: 0, diskGB: 0), in: scope)
            }
            return undone ? failure : nil
        }
    }

    // MARK: - Recording

    /// Runs `body` behind the fence, then marks the generation applied (unless `settles` is false).
    /// Returns `false`, having done nothing, when the fence failed: a newer intent came in, or the
    /// lease went to another actor.
    func record(
        _ row: WorkspaceStore.Row, actor: String, settles: Bool = true, _ body: (SystemScope) async throws -> Void
    ) async throws -> Bool {
        do {
            return try await database.withSystem { scope in
                guard try await workspaces.lockFenced(row.id, generation: row.generation, actor: actor, in: scope) != nil else { return false }
                try await body(scope)
                if settles { try await workspaces.settle(row.id, generation: row.generation, in: scope) }
                return true
            }
        } catch let error as PostgresError {
            throw Deferral(failure: Self.databaseFailure(error))
        }
    }

    /// The container is gone: the workspace fails, and its CPU and memory go back.
    func recordGone(_ row: WorkspaceStore.Row, actor: String) async throws {
        if row.desired == .deleted { return }
        _ = try await record(row, actor: actor) { scope in
            try await placement.release(row.id, compute: true, slot: false, in: scope)
            try await placement.releaseMove(of: row.id, in: scope)
            try await workspaces.transition(row.id, from: nil, to: .error, failure: WorkspaceFailure(code: "container_gone", message: "the container is gone from its server"), in: scope)
        }
    }

    /// A workspace whose server was lost or removed: a delete completes without Docker (the orphan
    /// sweep removes the container should the server come back); anything else fails.
    private func recordWithoutServer(_ row: WorkspaceStore.Row, actor: String) async throws {
        _ = try await record(row, actor: actor) { scope in
            try await placement.release(row.id, compute: true, slot: row.desired == .deleted, in: scope)
            try await placement.releaseMove(of: row.id, in: scope)
            if row.desired == .deleted {
                try await workspaces.transition(row.id, from: nil, to: .deleted, reason: "deleted while its server is lost", in: scope)
            } else if row.status != .error {
                try await workspaces.transition(row.id, from: nil, to: .error, failure: WorkspaceFailure(
                    code: WorkspaceFailure.serverLost, message: "the workspace's server is lost"), in: scope)
            }
        }
    }

    // MARK: - Helpers

    func server(of row: WorkspaceStore.Row) async throws -> WorkspaceServer? {
        guard let serverID = row.serverID else { return nil }
        do {
            return try await database.withSystem { try await servers.get(serverID, in: $0) }
        } catch {
            throw Deferral(failure: Self.databaseFailure(error))
        }
    }

    /// The container as its engine has it now, by id, or by name before the id was recorded; nil when gone.
    func observe(_ row: WorkspaceStore.Row, _ client: DockerClient) async throws -> ContainerDetails? {
        do {
            return try await client.inspectContainer(row.containerID ?? "berth-\(row.id)")
        } catch where error.isNotFound {
            return nil
        } catch {
            throw Deferral(failure: Self.failure(error, doing: "inspect"))
        }
    }

    /// Whether Docker may do it if asked again later: it did not answer, or said it is busy.
    static func isTransient(_ error: DockerError) -> Bool {
        error.isConnectivity || error.code == .cancelled || error.code == .decoding
            || (error.code == .http && [409, 429, 502, 503, 504].contains(error.status ?? 0))
    }

    /// What the tenant reads of a Docker failure: no address, no Docker text. The detail is kept
    /// for the logs and the admin API.
    static func failure(_ error: DockerError, doing action: String) -> WorkspaceFailure {
        let detail = error.description
        switch error.code {
        case .unreachable, .timeout, .tls, .transport, .cancelled:
            return WorkspaceFailure(code: "server_unreachable", message: "the workspace server did not answer while trying to \(action) the container", detail: detail)
        case .http where action == "create" && error.status == 404:
            return WorkspaceFailure(code: "image_not_found", message: "the image was not found on the workspace server", detail: detail)
        case .http, .decoding:
            return WorkspaceFailure(code: "docker_refused", message: "the workspace server refused to \(action) the container (HTTP \(error.status ?? 0))", detail: detail)
        }
    }

    static func databaseFailure(_ error: any Error) -> WorkspaceFailure {
        WorkspaceFailure(code: "database_unavailable", message: "the database could not record the change; it will be retried", detail: "\(error)")
    }
}

extension WorkspaceFailure {
    /// The code of a workspace whose server was offline for longer than the lost period.
    public static let serverLost = "server_lost"
}
