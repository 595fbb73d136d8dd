import Compute
import Domain
import Foundation
import Hummingbird
import Persistence

/// `/admin/servers`: the fleet. Every change writes an audit row in the same transaction.
struct AdminServersController {
    let database: Database
    let pool: DockerServerPool
    var orchestrator: WorkspaceOrchestrator?
    var drainDeadline: Duration = .seconds(3600)
    let store = WorkspaceServerStore()
    let audit = AuditStore()
    var administration: ServerAdministration {
        ServerAdministration(database: database, pool: pool, orchestrator: orchestrator, drainDeadline: drainDeadline)
    }

    func addRoutes(to group: RouterGroup<AdminRequestContext>) {
        group.get("servers") { _, _ in try await list() }
        group.post("servers") { request, context in try await add(request, context) }
        group.get("servers/:id") { _, context in try await show(context) }
        group.patch("servers/:id") { request, context in try await update(request, context) }
        group.delete("servers/:id") { _, context in try await remove(context) }
        group.get("servers/:id/stats") { _, context in try await stats(context) }
        group.post("servers/:id/cordon") { _, context in try await schedule(.cordoned, context) }
        group.post("servers/:id/uncordon") { _, context in try await schedule(.active, context) }
        group.post("servers/:id/drain") { request, context in try await drain(request, context) }
        group.get("servers/:id/drain") { _, context in try await drainProgress(context) }
    }

    func list() async throws -> Response {
        let servers = try await database.withSystem { try await store.list(in: $0) }
        struct Page: Encodable { let items: [ServerView] }
        return try JSONResponse.make(Page(items: servers.map(ServerView.init)))
    }

    /// Validates, inserts, then connects once and reports how that went. The health monitor takes
    /// the server from there (it starts `unhealthy` until its first good check).
    func add(_ request: Request, _ context: AdminRequestContext) async throws -> Response {
        let body = Array(buffer: try await request.body.collect(upTo: context.maxUploadSize))
        let registration: WorkspaceServerStore.Registration
        do {
            registration = try ServerRegistrations.parseServer(body)
        } catch {
            throw APIError(.badRequest, code: "validation_failed", message: error.description)
        }
        let (server, connection) = try await administration.add(registration)
        struct Added: Encodable { let server: ServerView; let connection: ServerAdministration.ConnectionCheck }
        return try JSONResponse.make(Added(server: ServerView(server), connection: connection), status: .created)
    }

    func show(_ context: AdminRequestContext) async throws -> Response {
        let id = try Self.serverID(context)
        let (server, workspaces) = try await database.withSystem { scope in
            (try await store.get(id, in: scope),
             try await FleetQueries().workspaces(server: id, tenant: nil, status: nil, after: nil, limit: 500, in: scope))
        }
        guard let server else { throw Self.notFound }
        struct Detail: Encodable { let server: ServerView; let workspaces: [FleetQueries.WorkspaceLine] }
        return try JSONResponse.make(Detail(server: ServerView(server), workspaces: workspaces))
    }

    /// Capacity and labels. How a server is reached cannot change: remove it and add it again.
    func update(_ request: Request, _ context: AdminRequestContext) async throws -> Response {
        let id = try Self.serverID(context)
        let body = Array(buffer: try await request.body.collect(upTo: context.maxUploadSize))
        let patch = try ServerPatch.parse(body)
        do {
            let updated = try await database.withSystem { scope -> WorkspaceServer? in
                guard let current = try await store.get(id, in: scope) else { return nil }
                let capacity = patch.capacity(over: current.capacity)
                if let problem = capacity.problem { throw APIError(.badRequest, code: "validation_failed", message: problem) }
                let updated = try await store.update(id, capacity: capacity, labels: patch.labels ?? current.labels, in: scope)
                try await audit.record(.admin, action: "server.update", tenant: nil, target: ("server", id.description), details: patch.auditDetails, in: scope)
                return updated
            }
            guard let updated else { throw Self.notFound }
            return try JSONResponse.make(ServerView(updated))
        } catch {
            if let error = error as? PostgresError, error.code == .checkViolation {
                throw APIError(.conflict, code: "capacity_below_reservations", message: "the new capacity is below what workspaces on the server already hold")
            }
            throw error
        }
    }

    /// Refused while any workspace holds a place on the server.
    func remove(_ context: AdminRequestContext) async throws -> Response {
        let id = try Self.serverID(context)
        switch try await administration.remove(id) {
        case .removed:
            return Response(status: .noContent)
        case .notFound:
            throw Self.notFound
        case .busy(let left):
            throw APIError(.conflict, code: "server_busy", message: "workspaces still live on this server: drain it and move or delete them first", details: [
                "workspaces": .array(left.map { .object(["id": .string($0.id.description), "name": .string($0.name), "tenant": .string($0.tenant.name), "status": .string($0.status)]) }),
            ])
        }
    }

    func stats(_ context: AdminRequestContext) async throws -> Response {
        let id = try Self.serverID(context)
        let (server, known) = try await database.withSystem { scope -> (WorkspaceServer?, Set<String>) in
            let containers = try await scope.execute("""
                SELECT container_id FROM workspaces WHERE server_id = \(id) AND status <> 'deleted' AND container_id IS NOT NULL
                """).map { try $0.decode("container_id", as: String.self) }
            return (try await store.get(id, in: scope), Set(containers))
        }
        guard let server else { throw Self.notFound }
        // An engine that does not answer is part of the report (the reservations still stand), not a failure of this route.
        struct Stats: Encodable {
            let server: ServerView
            let live: ServerLiveStats?
            let error: String?
        }
        do {
            let live = try await pool.liveStats(of: server, known: known)
            return try JSONResponse.make(Stats(server: ServerView(server), live: live, error: nil))
        } catch let error as DockerError {
            return try JSONResponse.make(Stats(server: ServerView(server), live: nil, error: "server \(server.name) did not answer: \(error.description)"))
        }
    }

    /// What cordon, uncordon and drain answer: the server, what is still on it, and a drain's progress.
    struct Scheduled: Encodable {
        let server: ServerView
        let workspaces_remaining: [FleetQueries.WorkspaceLine]
        let drain: DrainProgress?
    }

    /// Cordon stops new placements; uncordon makes the server placeable again (and calls off a
    /// drain's moves not yet made).
    func schedule(_ state: WorkspaceServer.Schedulable, _ context: AdminRequestContext) async throws -> Response {
        let id = try Self.serverID(context)
        guard let (server, workspaces, drain) = try await administration.schedule(id, state) else { throw Self.notFound }
        return try JSONResponse.make(Scheduled(server: ServerView(server), workspaces_remaining: workspaces, drain: drain))
    }

    /// `POST /admin/servers/{id}/drain {"deadline_seconds"?}`: cordons the server and moves every
    /// workspace off it (the scaling service does, a few at a time) until it is empty or the deadline
    /// (default `BERTH_DRAIN_DEADLINE`) passes.
    func drain(_ request: Request, _ context: AdminRequestContext) async throws -> Response {
        let id = try Self.serverID(context)
        let body = Array(buffer: try await request.body.collect(upTo: context.maxUploadSize))
        var deadline: Duration?
        if !body.isEmpty {
            let object = try ServerPatch.parseObject(body)
            try ServerPatch.refuseUnknown(object, allowed: ["deadline_seconds"], at: "")
            if object["deadline_seconds"] != nil {
                let seconds = try ServerPatch.integer(object, "deadline_seconds", at: "")
                guard (1...604_800).contains(seconds) else { throw ServerPatch.invalid("deadline_seconds", "deadline_seconds must be from 1 to 604800 (a week)") }
                deadline = .seconds(seconds)
            }
        }
        guard let (server, workspaces, drain) = try await administration.schedule(id, .draining, deadline: deadline) else { throw Self.notFound }
        return try JSONResponse.make(Scheduled(server: ServerView(server), workspaces_remaining: workspaces, drain: drain))
    }

    /// `GET /admin/servers/{id}/drain`: how the drain goes; `409 invalid_state` when it is not draining.
    func drainProgress(_ context: AdminRequestContext) async throws -> Response {
        let id = try Self.serverID(context)
        guard try await database.withSystem({ try await store.get(id, in: $0) }) != nil else { throw Self.notFound }
        guard let progress = try await administration.drainProgress(id) else {
            throw APIError(.conflict, code: "invalid_state", message: "the server is not draining")
        }
        return try JSONResponse.make(progress)
    }

    static let notFound = APIError(.notFound, code: "not_found", message: "server not found")

    static func serverID(_ context: AdminRequestContext) throws -> ServerID {
        guard let text = context.parameters.get("id"), let id = ServerID(text) else { throw notFound }
        return id
    }
}

/// The body of `PATCH /admin/servers/{id}`: any of the capacity fields and `labels`.
struct ServerPatch: StrictJSONBody {
    var totalCPUMillis: Int?
    var totalMemoryMB: Int?
    var totalDiskGB: Int?
    var maxWorkspaces: Int?
    var labels: [String: LabelValue]?

    static let connectionFields: Set<String> = ["name", "host", "docker_port", "tls_enabled", "cert_path", "socket_path", "insecure", "network_mode"]

    static func parse(_ body: [UInt8]) throws -> ServerPatch {
        let object = try parseObject(body)
        if let field = object.keys.sorted().first(where: connectionFields.contains) {
            throw invalid(field, "\(field) cannot change: remove the server and add it again")
        }
        try refuseUnknown(object, allowed: ["total_cpu", "total_memory_mb", "total_disk_gb", "max_workspaces", "labels"], at: "")
        var patch = ServerPatch()
        if object["total_cpu"] != nil {
            let cpu = try number(object, "total_cpu", at: "")
            patch.totalCPUMillis = cpu.isFinite && abs(cpu) < 1e6 ? Int((cpu * 1000).rounded()) : -1
        }
        if object["total_memory_mb"] != nil { patch.totalMemoryMB = try integer(object, "total_memory_mb", at: "") }
        if object["total_disk_gb"] != nil { patch.totalDiskGB = try integer(object, "total_disk_gb", at: "") }
        if object["max_workspaces"] != nil { patch.maxWorkspaces = try integer(object, "max_workspaces", at: "") }
        if let raw = object["labels"] {
            guard case .object(let map) = raw else { throw invalid("labels", "labels must be an object") }
            var labels: [String: LabelValue] = [:]
            for (key, value) in map {
                switch value {
                case .string(let text): labels[key] = .string(text)
                case .integer(let number): labels[key] = .number(Double(number))
                case .number(let number): labels[key] = .number(number)
                case .bool(let flag): labels[key] = .bool(flag)
                default: throw invalid("labels.\(key)", "label values are strings, numbers or booleans")
                }
            }
            if let problem = ServerName.labelsProblem(labels) { throw invalid("labels", problem) }
            patch.labels = labels
        }
        return patch
    }

    func capacity(over current: Capacity) -> Capacity {
        Capacity(
            cpuMillis: totalCPUMillis ?? current.cpuMillis, memoryMB: totalMemoryMB ?? current.memoryMB,
            diskGB: totalDiskGB ?? current.diskGB, workspaces: maxWorkspaces ?? current.workspaces
        )
    }

    var auditDetails: [String: String] {
        var details: [String: String] = [:]
        if let totalCPUMillis { details["total_cpu"] = String(Double(totalCPUMillis) / 1000) }
        if let totalMemoryMB { details["total_memory_mb"] = String(totalMemoryMB) }
        if let totalDiskGB { details["total_disk_gb"] = String(totalDiskGB) }
        if let maxWorkspaces { details["max_workspaces"] = String(maxWorkspaces) }
        if let labels { details["labels"] = labels.keys.sorted().map { "\($0)=\(labels[$0]!)" }.joined(separator: ",") }
        return details
    }
}
