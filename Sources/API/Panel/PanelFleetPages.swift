import Compute
import Domain
import Foundation
import HTTPTypes
import Hummingbird
import Persistence

/// `/admin/ui/cluster`, `/admin/ui/workspaces`, `/admin/ui/audit` and `/admin/ui/placement`: the
/// same queries as the JSON admin API, as pages.
struct PanelFleetPages {
    let database: Database
    let placement: PlacementService

    static let workspaceLimit = 500
    static let auditLimit = 100

    func addRoutes(to group: RouterGroup<PanelRequestContext>) {
        group.get("cluster") { request, context in try await cluster(request, context) }
        group.get("workspaces") { request, context in try await workspaces(request, context) }
        group.get("audit") { request, context in try await audit(request, context) }
        group.get("placement") { request, context in placementPage(request, context, form: DryRunForm()) }
        group.post("placement") { request, context in try await dryRun(request, context) }
    }

    struct Count { let key: String; let count: Int }

    struct ClusterBody {
        let cluster: ClusterView
        let workspacesByStatus: [Count]
    }

    func cluster(_ request: Request, _ context: PanelRequestContext) async throws -> Response {
        let cluster = try await database.withSystem { try await FleetQueries().cluster(in: $0) }
        let byStatus = WorkspaceStatus.allCases.map(\.rawValue).filter { $0 != "deleted" }.map { Count(key: $0, count: cluster.workspaces_by_status[$0] ?? 0) }
        let body = ClusterBody(cluster: ClusterView(cluster), workspacesByStatus: byStatus)
        return PanelRenderer.page("cluster", context.page("Cluster", request, nav: .init(cluster: true), body), request: request)
    }

    struct WorkspaceGroup {
        let serverID: String?
        let serverName: String
        let count: Int
        let workspaces: [WorkspaceRow]
    }

    struct WorkspacesBody {
        let groups: [WorkspaceGroup]
        let hasAny: Bool
        let truncated: Bool
        let shown: Int
    }

    /// Live workspaces grouped by the server they are on; those not placed (yet) last.
    func workspaces(_ request: Request, _ context: PanelRequestContext) async throws -> Response {
        let lines = try await database.withSystem {
            try await FleetQueries().workspaces(server: nil, tenant: nil, status: nil, after: nil, limit: Self.workspaceLimit + 1, in: $0)
        }
        let shown = Array(lines.prefix(Self.workspaceLimit))
        let byServer = Dictionary(grouping: shown) { $0.server?.id }
        var groups = byServer.compactMap { id, lines -> WorkspaceGroup? in
            guard let id, let server = lines.first?.server else { return nil }
            return WorkspaceGroup(serverID: id.description, serverName: server.name, count: lines.count, workspaces: lines.map(WorkspaceRow.init))
        }.sorted { $0.serverName < $1.serverName }
        if let unplaced = byServer[nil] {
            groups.append(WorkspaceGroup(serverID: nil, serverName: "", count: unplaced.count, workspaces: unplaced.map(WorkspaceRow.init)))
        }
        let body = WorkspacesBody(groups: groups, hasAny: !shown.isEmpty, truncated: lines.count > Self.workspaceLimit, shown: shown.count)
        return PanelRenderer.page("workspaces", context.page("Workspaces", request, nav: .init(workspaces: true), body), request: request)
    }

    struct AuditBody {
        let actors: [PanelOption]
        let action: String
        let events: [AuditRow]
        let hasEvents: Bool
        let older: String?
    }

    /// Newest first, filtered as `/admin/audit` filters (the same parser), a page at a time.
    func audit(_ request: Request, _ context: PanelRequestContext) async throws -> Response {
        // The filter form sends its empty fields too; the API's parser rightly refuses an empty
        // filter, so the page drops them first.
        let query = request.uri.queryParameters
        if query.contains(where: { $0.value.isEmpty }) {
            var components = URLComponents()
            components.path = "/admin/ui/audit"
            let kept = query.filter { !$0.value.isEmpty }.map { URLQueryItem(name: String($0.key), value: String($0.value)) }
            components.queryItems = kept.isEmpty ? nil : kept
            return Response.redirect(to: components.string ?? "/admin/ui/audit")
        }
        let (filter, before) = try AdminFleetController.auditQuery(request)
        let events = try await database.withSystem { try await AuditStore().list(filter, before: before, limit: Self.auditLimit + 1, in: $0) }
        let shown = Array(events.prefix(Self.auditLimit))
        let actor = request.uri.queryParameters["actor"].map(String.init) ?? ""
        let action = request.uri.queryParameters["action"].map(String.init) ?? ""
        var older: String?
        if events.count > Self.auditLimit, let last = shown.last {
            var components = URLComponents()
            components.path = "/admin/ui/audit"
            components.queryItems = [("actor", actor), ("action", action)].filter { !$0.1.isEmpty }.map { URLQueryItem(name: $0.0, value: $0.1) }
                + [URLQueryItem(name: "cursor", value: String(last.id))]
            older = components.string
        }
        let actors = [("", "anyone"), ("admin", "admin"), ("tenant", "tenants"), ("system", "system")].map {
            PanelOption(value: $0.0, label: $0.1, selected: $0.0 == actor)
        }
        let body = AuditBody(actors: actors, action: action, events: shown.map(AuditRow.init), hasEvents: !shown.isEmpty, older: older)
        return PanelRenderer.page("audit", context.page("Audit log", request, nav: .init(audit: true), body), request: request)
    }

    struct DryRunForm {
        var cpu = "1"
        var memoryMB = "512"
        var diskGB = ""
        var strategies = PanelOption.list(PlacementStrategy.allCases.map(\.rawValue), selected: "spread")
        var preferredServer = ""
        var soft = false
        var constraints = ""

        init() {}

        init(_ form: [String: String]) {
            cpu = form["cpu"] ?? ""
            memoryMB = form["memory_mb"] ?? ""
            diskGB = form["disk_gb"] ?? ""
            strategies = PanelOption.list(PlacementStrategy.allCases.map(\.rawValue), selected: form["strategy"] ?? "spread")
            preferredServer = form["preferred_server"] ?? ""
            soft = form["soft"] == "on"
            constraints = form["constraints"] ?? ""
        }
    }

    struct DryRunLine {
        let id: String
        let name: String
        let outcome: String
        let isCandidate: Bool
        let rank: String
        let score: String
        let reasons: [String]
    }

    struct DryRunView {
        let strategy: String
        let chosen: String?
        let wouldFail: String?
        let servers: [DryRunLine]

        init(_ decision: AdminFleetController.DryRun) {
            strategy = decision.strategy
            chosen = decision.chosen?.name
            wouldFail = decision.would_fail
            servers = decision.servers.map { line in
                DryRunLine(
                    id: line.server.id.description, name: line.server.name, outcome: line.outcome, isCandidate: line.outcome == "candidate",
                    rank: line.rank.map { String($0 + 1) } ?? "–", score: line.score.map(PanelFormat.number) ?? "–", reasons: line.reasons
                )
            }
        }
    }

    struct PlacementBody {
        let form: DryRunForm
        let result: DryRunView?
    }

    func placementPage(_ request: Request, _ context: PanelRequestContext, form: DryRunForm, result: DryRunView? = nil, error: String? = nil, status: HTTPResponse.Status = .ok) -> Response {
        let page = context.page("Placement dry run", request, nav: .init(placement: true), error: error, PlacementBody(form: form, result: result))
        return PanelRenderer.page("placement", page, request: request, status: status)
    }

    /// The form becomes a workspace create body and goes through the create parser and
    /// `PlacementService.dryRun`, as `POST /admin/placement/dry-run` does. Nothing is reserved.
    func dryRun(_ request: Request, _ context: PanelRequestContext) async throws -> Response {
        let form = context.form
        do {
            func field(_ key: String) -> String? {
                guard let value = form[key]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
                return value
            }
            var resources: [String: JSONValue] = [:]
            for key in ["cpu", "memory_mb", "disk_gb"] {
                if let value = field(key) { resources[key] = PanelServerPages.jsonNumber(value) }
            }
            var placementObject: [String: JSONValue] = [:]
            if let strategy = field("strategy") { placementObject["strategy"] = .string(strategy) }
            if let preferred = field("preferred_server") { placementObject["preferred_server"] = .string(preferred) }
            if form["soft"] == "on" { placementObject["soft"] = .bool(true) }
            if let constraints = field("constraints") {
                guard let parsed = try? JSONDecoder().decode(JSONValue.self, from: Data(constraints.utf8)) else {
                    throw PanelError(.badRequest, #"Constraints must be a JSON object, such as {"region": "eu"}."#)
                }
                placementObject["constraints"] = parsed
            }
            let body: JSONValue = .object([
                "name": .string("dry-run"), "image": .string("berth-dry-run"),
                "resources": .object(resources), "placement": .object(placementObject),
            ])
            let parsed = try CreateWorkspaceRequest.parse(try JSONResponse.encode(body))
            let plan = try await placement.dryRun(parsed.placement)
            let result = DryRunView(AdminFleetController.DryRun(parsed.placement, plan))
            return placementPage(request, context, form: DryRunForm(form), result: result)
        } catch {
            guard let refusal = PanelServerPages.refusal(error) else { throw error }
            return placementPage(request, context, form: DryRunForm(form), error: refusal.message, status: refusal.status)
        }
    }
}
