import Compute
import Domain
import HTTPTypes
import Persistence

/// The fleet changes an admin makes, shared by the JSON API and the panel: each writes its audit
/// row (actor admin) in the same transaction as the change.
public struct ServerAdministration: Sendable {
    let database: Database
    let pool: DockerServerPool
    /// Calls off the moves of a drain that is stopped; nil where nothing moves (tests of the fleet alone).
    var orchestrator: WorkspaceOrchestrator?
    /// How long a drain may run when the request does not say.
    var drainDeadline: Duration = .seconds(3600)

    public init(database: Database, pool: DockerServerPool, orchestrator: WorkspaceOrchestrator? = nil, drainDeadline: Duration = .seconds(3600)) {
        self.database = database
        self.pool = pool
        self.orchestrator = orchestrator
        self.drainDeadline = drainDeadline
    }
    let store = WorkspaceServerStore()
    let audit = AuditStore()

    /// How the one connection attempt after adding a server went.
    public struct ConnectionCheck: Encodable, Sendable {
        public let ok: Bool
        public let docker_version: String?
        public let ncpu: Int?
        public let memory_total_mb: Int?
        public let error: String?
    }

    /// Inserts the server, then connects once and reports how that went. The health monitor takes
    /// the server from there (it starts `unhealthy` until its first good check).
    public func add(_ registration: WorkspaceServerStore.Registration) async throws -> (server: WorkspaceServer, connection: ConnectionCheck) {
        let server: WorkspaceServer
        do {
            server = try await database.withSystem { scope in
                let server = try await store.insert(registration, in: scope)
                try await audit.record(.admin, action: "server.add", tenant: nil, target: ("server", server.id.description), details: [
                    "name": server.name, "host": server.connection.host, "docker_port": String(server.connection.dockerPort),
                    "tls_enabled": String(server.connection.tlsEnabled),
                ], in: scope)
                return server
            }
        } catch {
            if let error = error as? PostgresError, error.code == .uniqueViolation {
                throw APIError(.conflict, code: "name_taken", message: "a server named \(registration.name) already exists")
            }
            throw error
        }
        do {
            let observed = try await pool.check(server, timeout: .seconds(5))
            return (server, ConnectionCheck(ok: true, docker_version: observed.dockerVersion, ncpu: observed.ncpu, memory_total_mb: observed.memoryTotalMB, error: nil))
        } catch let error as DockerError {
            return (server, ConnectionCheck(ok: false, docker_version: nil, ncpu: nil, memory_total_mb: nil, error: error.description))
        }
    }

    /// Sets the schedulable state; `nil` when there is no such server. Returns the workspaces still on
    /// it, and the drain's progress when it drains.
    ///
    /// A drain cordons the server and has the scaling service move every workspace off it, running
    /// or stopped, until it is empty or `deadline` (or `drainDeadline`) passes; asking again gives
    /// each workspace whose move failed its attempts back. Uncordoning (or cordoning) a draining
    /// server calls off the moves not yet made.
    public func schedule(
        _ id: ServerID, _ state: WorkspaceServer.Schedulable, deadline: Duration? = nil
    ) async throws -> (server: WorkspaceServer, workspaces: [FleetQueries.WorkspaceLine], drain: DrainProgress?)? {
        let action = switch state {
        case .active: "server.uncordon"
        case .cordoned: "server.cordon"
        case .draining: "server.drain"
        }
        let deadline = deadline ?? drainDeadline
        let outcome = try await database.withSystem { scope -> (WorkspaceServer, [FleetQueries.WorkspaceLine], DrainProgress?, [WorkspaceID])? in
            let wasDraining = try await scope.first("SELECT schedulable = 'draining' AS draining FROM workspace_servers WHERE id = \(id) FOR UPDATE")?
                .decode("draining", as: Bool.self) ?? false
            guard let server = try await store.setSchedulable(id, state, drainDeadline: deadline, in: scope) else { return nil }
            var details = ["name": server.name]
            if state == .draining {
                details["deadline_seconds"] = String(Int(deadline.inSeconds))
                try await scope.execute("UPDATE workspaces SET move_attempts = 0, move_error = NULL WHERE server_id = \(id) AND status <> 'deleted'")
            }
            var calledOff: [WorkspaceID] = []
            if wasDraining, state != .draining {
                calledOff = try await scope.execute("""
                    SELECT id FROM workspaces WHERE server_id = \(id) AND move_to_server_id IS NOT NULL AND move_reason = 'drain'
                    """).map { try $0.decode("id", as: WorkspaceID.self) }
                details["moves_called_off"] = String(calledOff.count)
            }
            try await audit.record(.admin, action: action, tenant: nil, target: ("server", id.description), details: details, in: scope)
            return (
                server, try await FleetQueries().workspaces(server: id, tenant: nil, status: nil, after: nil, limit: 500, in: scope),
                try await DrainProgress.load(id, in: scope), calledOff
            )
        }
        guard let (server, workspaces, drain, calledOff) = outcome else { return nil }
        if let orchestrator {
            for workspace in calledOff {
                orchestrator.work.spawn { _ = try? await orchestrator.cancelMove(workspace) }
            }
        }
        return (server, workspaces, drain)
    }

    /// The drain's progress; nil when the server is not draining.
    public func drainProgress(_ id: ServerID) async throws -> DrainProgress? {
        try await database.withSystem { try await DrainProgress.load(id, in: $0) }
    }

    /// What a removal did.
    public enum Removal: Sendable {
        case removed
        case notFound
        /// Workspaces still hold a place on the server.
        case busy([FleetQueries.WorkspaceLine])
    }

    /// Removes the server unless a workspace holds a place on it; the pool forgets its client.
    public func remove(_ id: ServerID) async throws -> Removal {
        let outcome = try await database.withSystem { scope -> Removal in
            guard let server = try await store.get(id, in: scope) else { return .notFound }
            if try await store.remove(id, in: scope) {
                try await audit.record(.admin, action: "server.remove", tenant: nil, target: ("server", id.description), details: ["name": server.name], in: scope)
                return .removed
            }
            return .busy(try await FleetQueries().workspaces(server: id, tenant: nil, status: nil, after: nil, limit: 100, in: scope))
        }
        if case .removed = outcome {
            let remaining = try await database.withSystem { try await store.list(in: $0) }
            pool.retain(only: Set(remaining.map(\.id)))
        }
        return outcome
    }
}
