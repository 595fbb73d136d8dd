import Billing
import Compute
import Domain
import Foundation
import Hummingbird
import Persistence

/// `/admin/cluster`, `/admin/workspaces`, `/admin/audit` and `/admin/placement/dry-run`: read-only.
struct AdminFleetController {
    let database: Database
    let placement: PlacementService
    /// The fraction of each resource the capacity signals keep free.
    var headroom: Double = 0.2

    func addRoutes(to group: RouterGroup<AdminRequestContext>) {
        group.get("cluster") { _, _ in try await cluster() }
        group.get("workspaces") { request, _ in try await workspaces(request) }
        group.get("audit") { request, _ in try await audit(request) }
        group.post("placement/dry-run") { request, context in try await dryRun(request, context) }
    }

    /// The fleet's totals, reservations and health, and its capacity signals: utilisation, headroom,
    /// and how many servers of the typical size keep the configured headroom.
    func cluster() async throws -> Response {
        let (cluster, plan) = try await database.withSystem { scope in
            (try await FleetQueries().cluster(in: scope), try await CapacitySignals.plan(headroom: headroom, in: scope))
        }
        return try JSONResponse.make(ClusterBody(cluster: cluster, capacity: CapacityView(plan)))
    }

    /// `/admin/cluster`: the cluster's own fields, and `capacity`.
    struct ClusterBody<Cluster: Encodable>: Encodable {
        let cluster: Cluster
        let capacity: CapacityView

        func encode(to encoder: any Encoder) throws {
            try cluster.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(capacity, forKey: .capacity)
        }

        enum CodingKeys: String, CodingKey { case capacity }
    }

    /// A `CapacityPlan` as the admin API shows it.
    struct CapacityView: Encodable {
        struct Size: Encodable { let cpu: Double; let memory_mb: Int; let disk_gb: Int; let max_workspaces: Int }
        let servers: Int
        let servers_needed: Int
        let headroom_target: Double
        let utilisation: [String: Double]
        let headroom: [String: Double]
        let typical_server: Size
        let recommendation: String

        init(_ plan: CapacityPlan) {
            servers = plan.servers
            servers_needed = plan.serversNeeded
            headroom_target = plan.headroomTarget
            utilisation = plan.utilisation
            headroom = plan.headroom
            typical_server = Size(
                cpu: Double(plan.typicalServer.cpuMillis) / 1000, memory_mb: plan.typicalServer.memoryMB,
                disk_gb: plan.typicalServer.diskGB, max_workspaces: plan.typicalServer.workspaces
            )
            recommendation = plan.recommendation.rawValue
        }
    }

    func workspaces(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        let limit = try AdminQuery.limit(request)
        func id<T: Identifier>(_ name: String, _ type: T.Type) throws -> T? {
            guard let text = query[Substring(name)] else { return nil }
            guard let id = T(String(text)) else { throw Self.invalid(name, "\(name) must be an id") }
            return id
        }
        var status: WorkspaceStatus?
        if let text = query["status"] {
            guard let value = WorkspaceStatus(rawValue: String(text)) else { throw Self.invalid("status", "unknown status") }
            status = value
        }
        var cursor: (Date, WorkspaceID)?
        if let text = query["cursor"] {
            guard let decoded = WorkspaceController.decodeCursor(String(text)) else { throw Self.invalid("cursor", "cursor is not valid") }
            cursor = decoded
        }
        let server = try id("server", ServerID.self), tenant = try id("tenant", TenantID.self)
        let page = try await database.withSystem { scope in
            try await FleetQueries().workspaces(server: server, tenant: tenant, status: status, after: cursor, limit: limit + 1, in: scope)
        }
        struct Page: Encodable { let items: [FleetQueries.WorkspaceLine]; let next_cursor: String? }
        let items = Array(page.prefix(limit))
        let next = page.count > limit ? items.last.map { WorkspaceController.encodeCursor($0.created_at, $0.id) } : nil
        return try JSONResponse.make(Page(items: items, next_cursor: next))
    }

    /// `?actor=admin|tenant|system|<key id>&action=&tenant=&from=&to=&limit=&cursor=`, newest first.
    func audit(_ request: Request) async throws -> Response {
        let limit = try AdminQuery.limit(request)
        let (filter, before) = try Self.auditQuery(request)
        let page = try await database.withSystem { try await AuditStore().list(filter, before: before, limit: limit + 1, in: $0) }
        struct Page: Encodable { let items: [AuditStore.Event]; let next_cursor: String? }
        let items = Array(page.prefix(limit))
        return try JSONResponse.make(Page(items: items, next_cursor: page.count > limit ? items.last.map { String($0.id) } : nil))
    }

    /// The audit filters of a query (`actor`, `action`, `tenant`, `from`, `to`) and the cursor, checked.
    static func auditQuery(_ request: Request) throws -> (filter: AuditStore.Filter, before: Int?) {
        let query = request.uri.queryParameters
        var filter = AuditStore.Filter()
        if let actor = query["actor"].map(String.init) {
            if ["admin", "tenant", "system"].contains(actor) {
                filter.actorType = actor
            } else if let key = APIKeyID(actor) {
                filter.actorID = key.description
            } else {
                throw Self.invalid("actor", "actor is admin, tenant, system or an API key id")
            }
        }
        if let action = query["action"] {
            guard (1...100).contains(action.count) else { throw Self.invalid("action", "action must be 1 to 100 characters") }
            filter.action = String(action)
        }
        if let text = query["tenant"] {
            guard let tenant = TenantID(String(text)) else { throw Self.invalid("tenant", "tenant must be an id") }
            filter.tenantID = tenant
        }
        filter.from = try Self.timestamp(query["from"].map(String.init), field: "from")
        filter.to = try Self.timestamp(query["to"].map(String.init), field: "to")
        if let from = filter.from, let to = filter.to, from >= to { throw Self.invalid("to", "to must be after from") }
        var before: Int?
        if let text = query["cursor"] {
            guard let value = Int(text), value > 0 else { throw Self.invalid("cursor", "cursor is not valid") }
            before = value
        }
        return (filter, before)
    }

    /// Takes the body of a workspace create and explains where it would go, reserving nothing.
    func dryRun(_ request: Request, _ context: AdminRequestContext) async throws -> Response {
        let body = Array(buffer: try await request.body.collect(upTo: context.maxUploadSize))
        let parsed = try CreateWorkspaceRequest.parse(body)
        let plan = try await placement.dryRun(parsed.placement)
        return try JSONResponse.make(DryRun(parsed.placement, plan))
    }

    /// The decision and every server's line in it.
    struct DryRun: Encodable {
        struct ServerRef: Encodable { let id: ServerID; let name: String }
        struct Line: Encodable {
            let server: ServerRef
            /// `candidate` or `excluded`.
            let outcome: String
            /// 0 is tried first.
            let rank: Int?
            let score: Double?
            let reasons: [String]
        }
        let strategy: String
        let chosen: ServerRef?
        let would_fail: String?
        let servers: [Line]

        init(_ request: PlacementRequest, _ plan: Placement.Plan) {
            strategy = request.strategy.rawValue
            chosen = plan.candidates.first.map { ServerRef(id: $0.id, name: $0.name) }
            would_fail = plan.candidates.isEmpty ? (plan.anyHealthy ? "insufficient_capacity" : "no_healthy_servers") : nil
            servers = plan.evaluations.map { evaluation in
                let ref = ServerRef(id: evaluation.serverID, name: evaluation.serverName)
                switch evaluation.outcome {
                case .candidate(let rank, let score):
                    return Line(server: ref, outcome: "candidate", rank: rank, score: (score * 1000).rounded() / 1000, reasons: [])
                case .excluded(let reasons):
                    return Line(server: ref, outcome: "excluded", rank: nil, score: nil, reasons: reasons)
                }
            }
        }
    }

    static func invalid(_ field: String, _ message: String) -> APIError {
        APIError(.badRequest, code: "validation_failed", message: message, details: ["field": .string(field)])
    }

    /// An RFC 3339 time, with the same parser the usage routes use.
    static func timestamp(_ text: String?, field: String) throws -> Date? {
        guard let text else { return nil }
        guard let date = RFC3339.parse(text) else {
            throw invalid(field, "\(field) must be an RFC 3339 timestamp such as 2026-11-01T00:00:00Z")
        }
        return date
    }
}
