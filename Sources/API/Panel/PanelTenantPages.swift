import Domain
import Foundation
import HTTPTypes
import Hummingbird
import Persistence

/// `/admin/ui/tenants`: tenants and their API keys, created, issued and revoked through
/// `TenantAdministration`.
struct PanelTenantPages {
    let database: Database
    let administration: TenantAdministration
    let plans: PricePlanAdministration

    /// How many tenants the list shows.
    static let listLimit = 200

    func addRoutes(to group: RouterGroup<PanelRequestContext>) {
        group.get("tenants") { request, context in try await list(request, context) }
        group.post("tenants") { request, context in try await create(request, context) }
        group.get("tenants/:id") { request, context in try await show(request, context) }
        group.post("tenants/:id/keys") { request, context in try await issueKey(request, context) }
        group.post("tenants/:id/keys/:key_id/revoke") { _, context in try await revokeKey(context) }
        group.post("tenants/:id/plan") { request, context in try await assignPlan(request, context) }
    }

    struct TenantForm {
        var name = ""
        var maxWorkspaces = ""
        var maxCPU = ""
        var maxMemoryMB = ""

        init() {}

        init(_ form: [String: String]) {
            name = form["name"] ?? ""
            maxWorkspaces = form["max_workspaces"] ?? ""
            maxCPU = form["max_cpu"] ?? ""
            maxMemoryMB = form["max_memory_mb"] ?? ""
        }
    }

    struct ListBody {
        let tenants: [TenantRow]
        let hasTenants: Bool
        let truncated: Bool
        let shown: Int
        let form: TenantForm
        let createError: String?
    }

    func list(_ request: Request, _ context: PanelRequestContext, form: TenantForm = TenantForm(), createError: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let tenants = try await database.withSystem { try await TenantStore().list(after: nil, limit: Self.listLimit + 1, in: $0) }
        let shown = Array(tenants.prefix(Self.listLimit))
        let body = ListBody(
            tenants: shown.map { TenantRow($0) }, hasTenants: !shown.isEmpty, truncated: tenants.count > Self.listLimit, shown: shown.count,
            form: form, createError: createError
        )
        return PanelRenderer.page("tenants", context.page("Tenants", request, nav: .init(tenants: true), body), request: request, status: status)
    }

    /// The form becomes the JSON body of `POST /admin/tenants` and goes through the same parser.
    func create(_ request: Request, _ context: PanelRequestContext) async throws -> Response {
        let form = context.form
        do {
            var object: [String: JSONValue] = [:]
            if let name = form["name"] { object["name"] = .string(name.trimmingCharacters(in: .whitespaces)) }
            for key in ["max_workspaces", "max_cpu", "max_memory_mb"] {
                if let value = form[key]?.trimmingCharacters(in: .whitespaces), !value.isEmpty { object[key] = PanelServerPages.jsonNumber(value) }
            }
            let input = try TenantInput.parse(try JSONResponse.encode(JSONValue.object(object)), creating: true)
            let tenant = try await administration.create(input)
            return Response.redirect(to: PanelNotice.tenantCreated.location("/admin/ui/tenants/\(tenant.id)"))
        } catch {
            guard let refusal = PanelServerPages.refusal(error) else { throw error }
            return try await list(request, context, form: TenantForm(form), createError: refusal.message, status: refusal.status)
        }
    }

    /// A key just issued: shown on this one response and never again.
    struct Issued { let secret: String }

    struct DetailBody {
        let tenant: TenantRow
        let keys: [KeyRow]
        let hasKeys: Bool
        let issued: Issued?
        let keyError: String?
        let planHistory: [AssignmentRow]
        let planOptions: [PlanOption]
        let planError: String?
    }

    /// One entry of the tenant's plan history.
    struct AssignmentRow {
        let from: String
        let fromISO: String?
        let plan: String
        let inForce: Bool
    }

    struct PlanOption {
        let id: String
        let label: String
        let selected: Bool
    }

    func show(
        _ request: Request, _ context: PanelRequestContext, issued: Issued? = nil, keyError: String? = nil, planError: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let id = try Self.tenantID(context)
        guard let (tenant, keys, live) = try await administration.detail(id) else { throw Self.notFound }
        let allPlans = try await plans.list()
        let names = Dictionary(allPlans.map { ($0.id, "\($0.name) (\($0.currency))") }, uniquingKeysWith: { first, _ in first })
        let history = try await administration.planHistory(id)
        let now = Date()
        let current = history.lastIndex { $0.from <= now }
        let body = DetailBody(
            tenant: TenantRow(tenant, liveWorkspaces: live), keys: keys.map(KeyRow.init), hasKeys: !keys.isEmpty, issued: issued, keyError: keyError,
            planHistory: history.enumerated().map { index, entry in
                AssignmentRow(
                    from: entry.from == .distantPast ? "always" : PanelFormat.time(entry.from),
                    fromISO: entry.from == .distantPast ? nil : PanelFormat.iso(entry.from),
                    plan: entry.plan.map { names[$0] ?? $0.description } ?? "none (free)", inForce: index == current
                )
            },
            planOptions: [PlanOption(id: "", label: "none (free)", selected: tenant.pricePlanID == nil)]
                + allPlans.map { PlanOption(id: $0.id.description, label: names[$0.id] ?? $0.name, selected: $0.id == tenant.pricePlanID) },
            planError: planError
        )
        return PanelRenderer.page("tenant", context.page(tenant.name, request, nav: .init(tenants: true), body), request: request, status: status)
    }

    /// A tenant's plan from a moment on (empty: now); "none" rates at zero from then. The form
    /// becomes the body of `PATCH /admin/tenants/{id}` and goes through the same parser.
    func assignPlan(_ request: Request, _ context: PanelRequestContext) async throws -> Response {
        let id = try Self.tenantID(context)
        let form = context.form
        var object: [String: JSONValue] = [:]
        let plan = form["price_plan_id"]?.trimmingCharacters(in: .whitespaces) ?? ""
        object["price_plan_id"] = plan.isEmpty ? .null : .string(plan)
        if let from = form["effective_from"]?.trimmingCharacters(in: .whitespaces), !from.isEmpty {
            object["price_plan_effective_from"] = .string(from)
        }
        do {
            let input = try TenantInput.parse(try JSONResponse.encode(JSONValue.object(object)), creating: false)
            guard try await administration.update(id, input) != nil else { throw Self.notFound }
            return Response.redirect(to: PanelNotice.planAssigned.location("/admin/ui/tenants/\(id)"))
        } catch {
            guard let refusal = PanelServerPages.refusal(error), refusal.status != .notFound else { throw error }
            return try await show(request, context, planError: refusal.message, status: refusal.status)
        }
    }

    /// Answers with the tenant's page itself rather than a redirect: the secret must not travel in a URL.
    func issueKey(_ request: Request, _ context: PanelRequestContext) async throws -> Response {
        let id = try Self.tenantID(context)
        let name = (context.form["name"] ?? "").trimmingCharacters(in: .whitespaces)
        do {
            guard let (_, secret) = try await administration.issueKey(tenant: id, name: name) else { throw Self.notFound }
            return try await show(request, context, issued: Issued(secret: secret), status: .created)
        } catch {
            guard let refusal = PanelServerPages.refusal(error), refusal.status != .notFound else { throw error }
            return try await show(request, context, keyError: refusal.message, status: refusal.status)
        }
    }

    func revokeKey(_ context: PanelRequestContext) async throws -> Response {
        let id = try Self.tenantID(context)
        guard let text = context.parameters.get("key_id"), let keyID = APIKeyID(text),
              try await administration.revokeKey(keyID, tenant: id) else {
            throw PanelError(.notFound, "There is no such live API key.")
        }
        return Response.redirect(to: PanelNotice.keyRevoked.location("/admin/ui/tenants/\(id)"))
    }

    static let notFound = PanelError(.notFound, "There is no such tenant.")

    static func tenantID(_ context: PanelRequestContext) throws -> TenantID {
        guard let text = context.parameters.get("id"), let id = TenantID(text) else { throw notFound }
        return id
    }
}
