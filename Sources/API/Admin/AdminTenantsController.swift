import Billing
import Domain
import Foundation
import Hummingbird
import Persistence
import Secrets

/// `/admin/tenants` and their API keys, and `/admin/price-plans`. Every change is audited in the
/// same transaction.
struct AdminTenantsController {
    let database: Database
    let tenants = TenantStore()
    var administration: TenantAdministration { TenantAdministration(database: database) }
    var plans: PricePlanAdministration { PricePlanAdministration(database: database) }

    func addRoutes(to group: RouterGroup<AdminRequestContext>) {
        group.get("tenants") { request, _ in try await list(request) }
        group.post("tenants") { request, context in try await create(request, context) }
        group.get("tenants/:id") { _, context in try await show(context) }
        group.patch("tenants/:id") { request, context in try await update(request, context) }
        group.post("tenants/:id/api-keys") { request, context in try await issueKey(request, context) }
        group.delete("tenants/:id/api-keys/:key_id") { _, context in try await revokeKey(context) }
        group.get("price-plans") { _, _ in try await listPlans() }
        group.post("price-plans") { request, context in try await createPlan(request, context) }
        group.post("price-plans/:id/versions") { request, context in try await addVersion(request, context) }
    }

    /// A tenant as the admin API shows it.
    struct TenantView: Encodable {
        struct QuotaView: Encodable { let max_workspaces: Int; let max_cpu: Double; let max_memory_mb: Int; let max_disk_gb: Int }
        let id: TenantID
        let name: String
        let status: String
        let quota: QuotaView
        let price_plan_id: PricePlanID?
        let created_at: Date
        /// Running workspaces idle this long are stopped, unless a workspace says otherwise (null: never).
        let idle_stop_minutes: Double?
        /// Workspaces older than this are stopped (null: no limit).
        let max_lifetime_minutes: Double?
        /// Which plan from when, oldest first (filled in where the history was read).
        var plan_history: [Assignment]?

        struct Assignment: Encodable {
            /// nil: since always.
            let effective_from: Date?
            let price_plan_id: PricePlanID?

            // null, not left out: "since always" and "no plan" are answers.
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(effective_from, forKey: .effective_from)
                try container.encode(price_plan_id, forKey: .price_plan_id)
            }

            enum CodingKeys: String, CodingKey { case effective_from, price_plan_id }
        }

        init(_ tenant: Tenant) {
            id = tenant.id
            name = tenant.name
            status = tenant.status.rawValue
            quota = QuotaView(
                max_workspaces: tenant.quota.maxWorkspaces, max_cpu: Double(tenant.quota.maxCPUMillis) / 1000, max_memory_mb: tenant.quota.maxMemoryMB,
                max_disk_gb: tenant.quota.maxDiskGB
            )
            price_plan_id = tenant.pricePlanID
            created_at = tenant.createdAt
            idle_stop_minutes = tenant.idleStopMinutes
            max_lifetime_minutes = tenant.maxLifetimeMinutes
        }
    }

    struct KeyView: Encodable {
        let id: APIKeyID
        let name: String
        let prefix: String
        let created_at: Date
        let last_used_at: Date?
        let revoked_at: Date?

        init(_ record: APIKeyRecord) {
            id = record.id
            name = record.name
            prefix = record.prefix
            created_at = record.createdAt
            last_used_at = record.lastUsedAt
            revoked_at = record.revokedAt
        }
    }

    func list(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        let limit = try AdminQuery.limit(request)
        let after = query["cursor"].map(String.init)
        let page = try await database.withSystem { try await tenants.list(after: after, limit: limit + 1, in: $0) }
        struct Page: Encodable { let items: [TenantView]; let next_cursor: String? }
        let items = Array(page.prefix(limit))
        return try JSONResponse.make(Page(items: items.map(TenantView.init), next_cursor: page.count > limit ? items.last?.name : nil))
    }

    func create(_ request: Request, _ context: AdminRequestContext) async throws -> Response {
        let body = Array(buffer: try await request.body.collect(upTo: context.maxUploadSize))
        let input = try TenantInput.parse(body, creating: true)
        return try JSONResponse.make(TenantView(try await administration.create(input)), status: .created)
    }

    func show(_ context: AdminRequestContext) async throws -> Response {
        let id = try Self.tenantID(context)
        guard let (tenant, records, live) = try await administration.detail(id) else { throw Self.notFound }
        struct Detail: Encodable { let tenant: TenantView; let api_keys: [KeyView]; let live_workspaces: Int }
        var view = TenantView(tenant)
        view.plan_history = try await administration.planHistory(id).map {
            TenantView.Assignment(effective_from: $0.from == .distantPast ? nil : $0.from, price_plan_id: $0.plan)
        }
        return try JSONResponse.make(Detail(tenant: view, api_keys: records.map(KeyView.init), live_workspaces: live))
    }

    func update(_ request: Request, _ context: AdminRequestContext) async throws -> Response {
        let id = try Self.tenantID(context)
        let body = Array(buffer: try await request.body.collect(upTo: context.maxUploadSize))
        let input = try TenantInput.parse(body, creating: false)
        guard let updated = try await administration.update(id, input) else { throw Self.notFound }
        return try JSONResponse.make(TenantView(updated))
    }

    /// Issues a key; the secret is in this response and nowhere else, ever.
    func issueKey(_ request: Request, _ context: AdminRequestContext) async throws -> Response {
        let id = try Self.tenantID(context)
        let body = Array(buffer: try await request.body.collect(upTo: context.maxUploadSize))
        var name = "default"
        if !body.isEmpty {
            let object = try TenantInput.parseObject(body)
            try TenantInput.refuseUnknown(object, allowed: ["name"], at: "")
            if object["name"] != nil { name = try TenantInput.string(object, "name", at: "") }
        }
        guard let (record, secret) = try await administration.issueKey(tenant: id, name: name) else { throw Self.notFound }
        struct Issued: Encodable {
            let key: KeyView
            /// Shown once: only its hash is stored.
            let secret: String
        }
        return try JSONResponse.make(Issued(key: KeyView(record), secret: secret), status: .created)
    }

    func revokeKey(_ context: AdminRequestContext) async throws -> Response {
        let id = try Self.tenantID(context)
        guard let text = context.parameters.get("key_id"), let keyID = APIKeyID(text) else {
            throw APIError(.notFound, code: "not_found", message: "API key not found")
        }
        let revoked = try await administration.revokeKey(keyID, tenant: id)
        guard revoked else { throw APIError(.notFound, code: "not_found", message: "API key not found (or already revoked)") }
        return Response(status: .noContent)
    }

    func listPlans() async throws -> Response {
        struct Page: Encodable { let items: [PricePlanAdministration.PlanView] }
        return try JSONResponse.make(Page(items: try await plans.list()))
    }

    func createPlan(_ request: Request, _ context: AdminRequestContext) async throws -> Response {
        let body = Array(buffer: try await request.body.collect(upTo: context.maxUploadSize))
        let input = try PricePlanAdministration.NewPlan.parse(try TenantInput.parseObject(body))
        return try JSONResponse.make(try await plans.create(input), status: .created)
    }

    /// `POST /admin/price-plans/{id}/versions {"effective_from", prices…}`.
    func addVersion(_ request: Request, _ context: AdminRequestContext) async throws -> Response {
        guard let text = context.parameters.get("id"), let id = PricePlanID(text) else { throw PricePlanAdministration.notFound }
        let body = Array(buffer: try await request.body.collect(upTo: context.maxUploadSize))
        let input = try PricePlanAdministration.NewVersion.parse(try TenantInput.parseObject(body))
        guard let plan = try await plans.addVersion(to: id, input) else { throw PricePlanAdministration.notFound }
        return try JSONResponse.make(plan, status: .created)
    }

    static let notFound = APIError(.notFound, code: "not_found", message: "tenant not found")

    static func tenantID(_ context: AdminRequestContext) throws -> TenantID {
        guard let text = context.parameters.get("id"), let id = TenantID(text) else { throw notFound }
        return id
    }

    static func map(_ error: any Error, name: String?) -> any Error {
        guard let error = error as? PostgresError else { return error }
        switch error.code {
        case .uniqueViolation: return APIError(.conflict, code: "name_taken", message: "a tenant named \(name ?? "so") already exists")
        case .foreignKeyViolation: return APIError(.badRequest, code: "validation_failed", message: "no such price plan", details: ["field": .string("price_plan_id")])
        default: return error
        }
    }
}

/// The body of tenant create and update: name (create only), status, quota fields and price plan.
struct TenantInput: StrictJSONBody {
    var name: String?
    var status: Tenant.Status?
    var maxWorkspaces: Int?
    var maxCPUMillis: Int?
    var maxMemoryMB: Int?
    var maxDiskGB: Int?
    /// 0 turns idle stop (or the lifetime) off.
    var idleStopMinutes: Double?
    var maxLifetimeMinutes: Double?
    /// `.some(nil)` clears the plan.
    var pricePlan: PricePlanID??
    /// When the plan change takes effect (not in the past); nil is now.
    var pricePlanFrom: Date?

    static func parse(_ body: [UInt8], creating: Bool) throws -> TenantInput {
        let object = try parseObject(body)
        var allowed: Set<String> = [
            "status", "max_workspaces", "max_cpu", "max_memory_mb", "max_disk_gb", "idle_stop_minutes", "max_lifetime_minutes", "price_plan_id",
        ]
        if !creating { allowed.insert("price_plan_effective_from") }
        if !creating, object["name"] != nil { throw invalid("name", "a tenant's name cannot change") }
        try refuseUnknown(object, allowed: creating ? allowed.union(["name"]) : allowed, at: "")
        var input = TenantInput()
        if creating {
            let name = try string(object, "name", at: "")
            if let problem = TenantName.problem(with: name) { throw invalid("name", problem) }
            input.name = name
        }
        if object["status"] != nil {
            guard let status = Tenant.Status(rawValue: try string(object, "status", at: "")) else { throw invalid("status", "status must be active or suspended") }
            input.status = status
        }
        if object["max_workspaces"] != nil {
            let value = try integer(object, "max_workspaces", at: "")
            guard (0...100_000).contains(value) else { throw invalid("max_workspaces", "max_workspaces must be from 0 to 100000") }
            input.maxWorkspaces = value
        }
        if object["max_cpu"] != nil {
            let value = try number(object, "max_cpu", at: "")
            guard value.isFinite, (0...100_000).contains(value) else { throw invalid("max_cpu", "max_cpu must be from 0 to 100000") }
            input.maxCPUMillis = Int((value * 1000).rounded())
        }
        if object["max_memory_mb"] != nil {
            let value = try integer(object, "max_memory_mb", at: "")
            guard (0...(1 << 40)).contains(value) else { throw invalid("max_memory_mb", "max_memory_mb must be 0 or more") }
            input.maxMemoryMB = value
        }
        if object["max_disk_gb"] != nil {
            let value = try integer(object, "max_disk_gb", at: "")
            guard (0...(1 << 40)).contains(value) else { throw invalid("max_disk_gb", "max_disk_gb must be 0 or more") }
            input.maxDiskGB = value
        }
        input.idleStopMinutes = try minutes(object, "idle_stop_minutes", upTo: 525_600)
        input.maxLifetimeMinutes = try minutes(object, "max_lifetime_minutes", upTo: 5_256_000)
        if let raw = object["price_plan_id"] {
            switch raw {
            case .null: input.pricePlan = .some(nil)
            case .string(let text):
                guard let id = PricePlanID(text) else { throw invalid("price_plan_id", "price_plan_id must be a price plan's id") }
                input.pricePlan = .some(id)
            default: throw invalid("price_plan_id", "price_plan_id must be a price plan's id or null")
            }
        }
        if object["price_plan_effective_from"] != nil {
            guard input.pricePlan != nil else { throw invalid("price_plan_effective_from", "price_plan_effective_from needs price_plan_id") }
            input.pricePlanFrom = try futureInstant(object, "price_plan_effective_from")
        }
        return input
    }

    /// A number of minutes from 0 (off) to `limit`, to the millisecond's precision the column keeps; nil when absent.
    static func minutes(_ object: Object, _ key: String, upTo limit: Double) throws -> Double? {
        guard object[key] != nil else { return nil }
        let value = try number(object, key, at: "")
        guard value.isFinite, (0...limit).contains(value) else { throw invalid(key, "\(key) must be from 0 (off) to \(Int(limit))") }
        return (value * 1000).rounded() / 1000
    }

    /// An RFC 3339 instant that has not passed (a second's slack for the client's clock).
    static func futureInstant(_ object: Object, _ key: String) throws -> Date {
        let text = try string(object, key, at: "")
        guard let instant = RFC3339.parse(text[...]) else { throw invalid(key, "\(key) must be an RFC 3339 date-time such as 2027-01-01T00:00:00Z") }
        guard instant.timeIntervalSinceNow > -1 else { throw invalid(key, "\(key) must not be in the past: billed periods are not rated again") }
        return instant
    }

    func quota(over current: Quota) -> Quota {
        Quota(
            maxWorkspaces: maxWorkspaces ?? current.maxWorkspaces, maxCPUMillis: maxCPUMillis ?? current.maxCPUMillis,
            maxMemoryMB: maxMemoryMB ?? current.maxMemoryMB, maxDiskGB: maxDiskGB ?? current.maxDiskGB
        )
    }

    var auditDetails: [String: String] {
        var details: [String: String] = [:]
        if let name { details["name"] = name }
        if let status { details["status"] = status.rawValue }
        if let maxWorkspaces { details["max_workspaces"] = String(maxWorkspaces) }
        if let maxCPUMillis { details["max_cpu"] = String(Double(maxCPUMillis) / 1000) }
        if let maxMemoryMB { details["max_memory_mb"] = String(maxMemoryMB) }
        if let maxDiskGB { details["max_disk_gb"] = String(maxDiskGB) }
        if let idleStopMinutes { details["idle_stop_minutes"] = String(idleStopMinutes) }
        if let maxLifetimeMinutes { details["max_lifetime_minutes"] = String(maxLifetimeMinutes) }
        if let pricePlan { details["price_plan_id"] = pricePlan?.description ?? "none" }
        if let pricePlanFrom { details["price_plan_effective_from"] = RFC3339.format(pricePlanFrom) }
        return details
    }
}

/// Query parameters shared by the admin lists.
enum AdminQuery {
    static func limit(_ request: Request) throws -> Int {
        guard let text = request.uri.queryParameters["limit"] else { return 50 }
        guard let value = Int(text), (1...200).contains(value) else {
            throw APIError(.badRequest, code: "validation_failed", message: "limit must be from 1 to 200", details: ["field": .string("limit")])
        }
        return value
    }
}
