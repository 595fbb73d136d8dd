import Compute
import Domain
import Foundation
import HTTPTypes
import Hummingbird
import Persistence

/// `/admin/ui/servers`: the fleet with health, last errors and capacity, the cluster totals, and
/// adding, cordoning, draining and removing servers through `ServerAdministration`.
struct PanelServerPages {
    let database: Database
    let administration: ServerAdministration
    let store = WorkspaceServerStore()

    func addRoutes(to group: RouterGroup<PanelRequestContext>) {
        group.get("servers") { request, context in try await list(request, context) }
        group.post("servers") { request, context in try await add(request, context) }
        group.get("servers/:id") { request, context in try await show(request, context) }
        group.post("servers/:id/cordon") { _, context in try await schedule(.cordoned, context) }
        group.post("servers/:id/uncordon") { _, context in try await schedule(.active, context) }
        group.post("servers/:id/drain") { _, context in try await schedule(.draining, context) }
        group.post("servers/:id/remove") { request, context in try await remove(request, context) }
    }

    /// What the add form held, to show it again next to an error.
    struct ServerForm {
        var name = ""
        var host = ""
        var dockerPort = ""
        var networkModes = PanelOption.list(["none", "isolated", "host", "bridge"], selected: "none")
        var totalCPU = ""
        var totalMemoryMB = ""
        var totalDiskGB = ""
        var maxWorkspaces = ""
        var labels = ""
        var tls = false
        var certPath = ""

        init() {}

        init(_ form: [String: String]) {
            name = form["name"] ?? ""
            host = form["host"] ?? ""
            dockerPort = form["docker_port"] ?? ""
            networkModes = PanelOption.list(["none", "isolated", "host", "bridge"], selected: form["network_mode"] ?? "none")
            totalCPU = form["total_cpu"] ?? ""
            totalMemoryMB = form["total_memory_mb"] ?? ""
            totalDiskGB = form["total_disk_gb"] ?? ""
            maxWorkspaces = form["max_workspaces"] ?? ""
            labels = form["labels"] ?? ""
            tls = form["tls_enabled"] == "on"
            certPath = form["cert_path"] ?? ""
        }
    }

    struct ListBody {
        let cluster: ClusterView
        let servers: [ServerRow]
        let hasServers: Bool
        let form: ServerForm
        let addError: String?
    }

    func list(_ request: Request, _ context: PanelRequestContext, form: ServerForm = ServerForm(), addError: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let (servers, cluster) = try await database.withSystem { scope in
            (try await store.list(in: scope), try await FleetQueries().cluster(in: scope))
        }
        let now = Date()
        let body = ListBody(cluster: ClusterView(cluster), servers: servers.map { ServerRow($0, now: now) }, hasServers: !servers.isEmpty, form: form, addError: addError)
        return PanelRenderer.page("servers", context.page("Servers", request, nav: .init(servers: true), body), request: request, status: status)
    }

    /// The form becomes the JSON body of `POST /admin/servers` and goes through the same parser,
    /// so the panel and the API accept exactly the same servers.
    func add(_ request: Request, _ context: PanelRequestContext) async throws -> Response {
        let form = context.form
        do {
            let registration: WorkspaceServerStore.Registration
            do {
                registration = try ServerRegistrations.parseServer(try Self.serverBody(form))
            } catch let error as ServerRegistrations.Invalid {
                throw PanelError(.badRequest, error.description)
            }
            let (_, connection) = try await administration.add(registration)
            return Response.redirect(to: (connection.ok ? PanelNotice.serverAdded : .serverAddedUnreachable).location("/admin/ui/servers"))
        } catch {
            guard let refusal = Self.refusal(error) else { throw error }
            return try await list(request, context, form: ServerForm(form), addError: refusal.message, status: refusal.status)
        }
    }

    struct DetailBody {
        let server: ServerRow
        let workspaces: [WorkspaceRow]
        let hasWorkspaces: Bool
        let busy: [WorkspaceRow]
        let hasBusy: Bool
        let drain: DrainRow?
    }

    /// A drain's progress as the server page shows it.
    struct DrainRow {
        struct Failure { let id: String; let name: String; let status: String; let attempts: Int; let error: String }
        let state: String
        let moved: Int
        let remaining: Int
        let moving: Int?
        let deadline: String?
        let deadlineISO: String?
        let failed: [Failure]
        let hasFailures: Bool

        init(_ progress: DrainProgress) {
            state = progress.state.rawValue
            moved = progress.moved
            remaining = progress.remaining
            moving = progress.moving > 0 ? progress.moving : nil
            deadline = progress.deadline.map(PanelFormat.time)
            deadlineISO = progress.deadline.map(PanelFormat.iso)
            failed = progress.failed.map { Failure(id: $0.workspace_id.description, name: $0.name, status: $0.status, attempts: $0.attempts, error: $0.error) }
            hasFailures = !progress.failed.isEmpty
        }
    }

    func show(_ request: Request, _ context: PanelRequestContext, busy: [FleetQueries.WorkspaceLine] = [], status: HTTPResponse.Status = .ok) async throws -> Response {
        let id = try Self.serverID(context)
        let (server, workspaces, drain) = try await database.withSystem { scope in
            (try await store.get(id, in: scope),
             try await FleetQueries().workspaces(server: id, tenant: nil, status: nil, after: nil, limit: 500, in: scope),
             try await DrainProgress.load(id, in: scope))
        }
        guard let server else { throw Self.notFound }
        let body = DetailBody(
            server: ServerRow(server), workspaces: workspaces.map(WorkspaceRow.init), hasWorkspaces: !workspaces.isEmpty,
            busy: busy.map(WorkspaceRow.init), hasBusy: !busy.isEmpty, drain: drain.map(DrainRow.init)
        )
        return PanelRenderer.page("server", context.page(server.name, request, nav: .init(servers: true), body), request: request, status: status)
    }

    func schedule(_ state: WorkspaceServer.Schedulable, _ context: PanelRequestContext) async throws -> Response {
        let id = try Self.serverID(context)
        guard try await administration.schedule(id, state) != nil else { throw Self.notFound }
        let notice: PanelNotice = switch state {
        case .active: .serverUncordoned
        case .cordoned: .serverCordoned
        case .draining: .serverDrained
        }
        // Back to the page the button was on; only these two places, never a URL from the form.
        return Response.redirect(to: notice.location(context.form["back"] == "detail" ? "/admin/ui/servers/\(id)" : "/admin/ui/servers"))
    }

    func remove(_ request: Request, _ context: PanelRequestContext) async throws -> Response {
        let id = try Self.serverID(context)
        switch try await administration.remove(id) {
        case .removed: return Response.redirect(to: PanelNotice.serverRemoved.location("/admin/ui/servers"))
        case .notFound: throw Self.notFound
        case .busy(let left): return try await show(request, context, busy: left, status: .conflict)
        }
    }

    static let notFound = PanelError(.notFound, "There is no such server.")

    static func serverID(_ context: PanelRequestContext) throws -> ServerID {
        guard let text = context.parameters.get("id"), let id = ServerID(text) else { throw notFound }
        return id
    }

    /// The add form as the JSON body of `POST /admin/servers`: empty fields are left out (their
    /// defaults apply), numbers stay numbers, and anything else is passed on for the parser to refuse.
    static func serverBody(_ form: [String: String]) throws -> [UInt8] {
        var object: [String: JSONValue] = [:]
        func field(_ key: String) -> String? {
            guard let value = form[key]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
            return value
        }
        for key in ["name", "host", "network_mode", "cert_path"] {
            if let value = field(key) { object[key] = .string(value) }
        }
        for key in ["docker_port", "total_cpu", "total_memory_mb", "total_disk_gb", "max_workspaces"] {
            if let value = field(key) { object[key] = jsonNumber(value) }
        }
        if form["tls_enabled"] == "on" { object["tls_enabled"] = .bool(true) }
        if let labels = field("labels") {
            guard let parsed = try? JSONDecoder().decode(JSONValue.self, from: Data(labels.utf8)), case .object = parsed else {
                throw PanelError(.badRequest, #"Labels must be a JSON object, such as {"region": "eu"}."#)
            }
            object["labels"] = parsed
        }
        return try JSONResponse.encode(JSONValue.object(object))
    }

    /// `2` and `2.5` as numbers; anything else as the text it is.
    static func jsonNumber(_ text: String) -> JSONValue {
        if let value = Int(text) { return .integer(value) }
        if let value = Double(text), value.isFinite { return .number(value) }
        return .string(text)
    }

    /// A refusal to show beside the form, or `nil` for an error that is not one.
    static func refusal(_ error: any Error) -> PanelError? {
        if let error = error as? PanelError { return error }
        if let error = error as? APIError, error.status.code < 500 { return PanelError(error.status, error.message) }
        return nil
    }
}
