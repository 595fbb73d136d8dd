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
    let keys = APIKeyStore()
    let audit = AuditStore()
    var administration: TenantAdministration { TenantAdministration(database: database) }

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
        struct QuotaView: Encodable { let max_workspaces: Int; let max_cpu: Double; let max_memory_mb: Int }
        let id: TenantID
        let name: String
        let status: String
        let quota: QuotaView
        let price_plan_id: PricePlanID?
        let created_at: Date
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
            quota = QuotaView(max_workspaces: tenant.quota.maxWorkspaces, max_cpu: Double(tenant.quota.maxCPUMillis) / 1000, max_memory_mb: tenant.quota.maxMemoryMB)
            price_plan_id = tenant.pricePlanID
            created_at = tenant.createdAt
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
        view.plan_history = try await database.withSystem { try await tenants.assignments(of: id, in: $0) }.map {
            TenantView.Assignment(effective_from: $0.from == .distantPast ? nil : $0.from, price_plan_id: $0.plan)
        }
        return try JSONResponse.make(Detail(tenant: view, api_keys: records.map(KeyView.init), live_workspaces: live))
    }

    func update(_ request: Request, _ context: AdminRequestContext) async throws -> Response {
        let id = try Self.tenantID(context)
        let body = Array(buffer: try await request.body.collect(upTo: context.maxUploadSize))
        let input = try TenantInput.parse(body, creating: false)
        do {
            let updated = try await database.withSystem { scope -> Tenant? in
                guard let current = try await tenants.lock(id, in: scope) else { return nil }
                _ = try await tenants.update(id, status: input.status ?? current.status, quota: input.quota(over: current.quota), in: scope)
                if let plan = input.pricePlan {
                    try await Self.checkCurrency(of: plan, for: id, in: scope)
                    // Past periods keep the plan they had: an assignment counts from now, or from later.
                    try await tenants.assign(plan, to: id, input.pricePlanFrom.map { .from($0) } ?? .now, in: scope)
                }
                let updated = try await tenants.get(id, in: scope)
                try await audit.record(.admin, action: "tenant.update", tenant: id, target: ("tenant", id.description), details: input.auditDetails, in: scope)
                return updated
            }
            guard let updated else { throw Self.notFound }
            return try JSONResponse.make(TenantView(updated))
        } catch {
            throw Self.map(error, name: nil)
        }
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

    struct PlanView: Encodable {
        let id: PricePlanID
        let name: String
        let currency: String
        /// The prices in force now.
        let cpu_core_hour_micros: Int
        let memory_gb_hour_micros: Int
        let disk_gb_hour_micros: Int
        let workspace_hour_micros: Int
        /// Every version, oldest first; `effective_from` nil is since always.
        let versions: [Version]

        struct Version: Encodable {
            let effective_from: Date?
            let cpu_core_hour_micros: Int
            let memory_gb_hour_micros: Int
            let disk_gb_hour_micros: Int
            let workspace_hour_micros: Int

            // effective_from null, not left out: since always.
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(effective_from, forKey: .effective_from)
                try container.encode(cpu_core_hour_micros, forKey: .cpu_core_hour_micros)
                try container.encode(memory_gb_hour_micros, forKey: .memory_gb_hour_micros)
                try container.encode(disk_gb_hour_micros, forKey: .disk_gb_hour_micros)
                try container.encode(workspace_hour_micros, forKey: .workspace_hour_micros)
            }

            enum CodingKeys: String, CodingKey {
                case effective_from, cpu_core_hour_micros, memory_gb_hour_micros, disk_gb_hour_micros, workspace_hour_micros
            }
        }
    }

    static let prices = ["cpu_core_hour_micros", "memory_gb_hour_micros", "disk_gb_hour_micros", "workspace_hour_micros"]

    /// Plans with their versions; `only` narrows it to one.
    static func plans(_ only: PricePlanID? = nil, in scope: SystemScope) async throws -> [PlanView] {
        let rows = try await scope.execute("""
            SELECT p.id, p.name, p.currency, v.effective_from, v.effective_from = '-infinity' AS always, v.effective_from <= now() AS in_force,
                   v.cpu_core_hour_micros, v.memory_gb_hour_micros, v.disk_gb_hour_micros, v.workspace_hour_micros
            FROM price_plans p JOIN price_plan_versions v ON v.plan_id = p.id
            WHERE \(only)::uuid IS NULL OR p.id = \(only)
            ORDER BY p.name, p.id, v.effective_from
            """)
        var plans: [PlanView] = []
        var current: (id: PricePlanID, name: String, currency: String, versions: [PlanView.Version], now: PlanView.Version?)?
        func flush() {
            guard let plan = current, let now = plan.now ?? plan.versions.first else { return }
            plans.append(PlanView(
                id: plan.id, name: plan.name, currency: plan.currency, cpu_core_hour_micros: now.cpu_core_hour_micros,
                memory_gb_hour_micros: now.memory_gb_hour_micros, disk_gb_hour_micros: now.disk_gb_hour_micros,
                workspace_hour_micros: now.workspace_hour_micros, versions: plan.versions
            ))
        }
        for row in rows {
            let id = try row.decode("id", as: PricePlanID.self)
            if current?.id != id {
                flush()
                current = (id, try row.decode("name"), try row.decode("currency"), [], nil)
            }
            let version = PlanView.Version(
                effective_from: try row.decode("always", as: Bool.self) ? nil : try row.decode("effective_from", as: Date.self),
                cpu_core_hour_micros: try row.decode("cpu_core_hour_micros"), memory_gb_hour_micros: try row.decode("memory_gb_hour_micros"),
                disk_gb_hour_micros: try row.decode("disk_gb_hour_micros"), workspace_hour_micros: try row.decode("workspace_hour_micros")
            )
            current?.versions.append(version)
            if try row.decode("in_force", as: Bool.self) { current?.now = version }
        }
        flush()
        return plans
    }

    func listPlans() async throws -> Response {
        let plans = try await database.withSystem { try await Self.plans(in: $0) }
        struct Page: Encodable { let items: [PlanView] }
        return try JSONResponse.make(Page(items: plans))
    }

    /// The four prices of a body, each an integer of millionths of the currency per hour.
    static func parsePrices(_ object: [String: JSONValue]) throws -> [String: Int] {
        var values: [String: Int] = [:]
        for price in prices {
            let value = try TenantInput.integer(object, price, at: "", default: 0)
            guard (0...1_000_000_000_000).contains(value) else { throw TenantInput.invalid(price, "\(price) must be from 0 to 10^12") }
            values[price] = value
        }
        return values
    }

    /// Prices are integers in millionths of the currency per hour, so rating never rounds twice. A new
    /// plan's prices apply since always (to any time it is assigned for).
    func createPlan(_ request: Request, _ context: AdminRequestContext) async throws -> Response {
        let body = Array(buffer: try await request.body.collect(upTo: context.maxUploadSize))
        let object = try TenantInput.parseObject(body)
        try TenantInput.refuseUnknown(object, allowed: Set(["name", "currency"] + Self.prices), at: "")
        let name = try TenantInput.string(object, "name", at: "")
        guard (1...100).contains(name.count), !name.contains(where: \.isNewline) else { throw TenantInput.invalid("name", "name must be 1 to 100 characters on one line") }
        let currency = object["currency"] == nil ? "EUR" : try TenantInput.string(object, "currency", at: "")
        guard currency.count == 3, currency.allSatisfy({ $0.isASCII && $0.isUppercase }) else { throw TenantInput.invalid("currency", "currency is three capital letters (ISO 4217)") }
        let values = try Self.parsePrices(object)
        do {
            let plan = try await database.withSystem { scope in
                let id = try await scope.first("INSERT INTO price_plans (name, currency) VALUES (\(name), \(currency)) RETURNING id")!.decode("id", as: PricePlanID.self)
                try await Self.insertVersion(id, from: nil, values, in: scope)
                try await audit.record(.admin, action: "price_plan.create", tenant: nil, target: ("price_plan", id.description),
                                       details: values.mapValues(String.init).merging(["name": name, "currency": currency]) { $1 }, in: scope)
                return try await Self.plans(id, in: scope)[0]
            }
            return try JSONResponse.make(plan, status: .created)
        } catch {
            if let error = error as? PostgresError, error.code == .uniqueViolation {
                throw APIError(.conflict, code: "name_taken", message: "a price plan named \(name) already exists")
            }
            throw error
        }
    }

    /// `POST /admin/price-plans/{id}/versions {"effective_from", prices…}`: new prices from a moment
    /// that has not passed (so no period already billed is rated again), to the microsecond.
    func addVersion(_ request: Request, _ context: AdminRequestContext) async throws -> Response {
        guard let text = context.parameters.get("id"), let id = PricePlanID(text) else {
            throw APIError(.notFound, code: "not_found", message: "price plan not found")
        }
        let body = Array(buffer: try await request.body.collect(upTo: context.maxUploadSize))
        let object = try TenantInput.parseObject(body)
        try TenantInput.refuseUnknown(object, allowed: Set(["effective_from"] + Self.prices), at: "")
        let from = try TenantInput.futureInstant(object, "effective_from")
        let values = try Self.parsePrices(object)
        let plan = try await database.withSystem { scope -> PlanView? in
            guard try await scope.first("SELECT id FROM price_plans WHERE id = \(id) FOR UPDATE") != nil else { return nil }
            do {
                try await Self.insertVersion(id, from: from, values, in: scope)
            } catch let error as PostgresError where error.code == .uniqueViolation {
                throw APIError(.conflict, code: "version_exists", message: "the plan already has a version from that moment")
            }
            try await audit.record(.admin, action: "price_plan.version", tenant: nil, target: ("price_plan", id.description),
                                   details: values.mapValues(String.init).merging(["effective_from": RFC3339.format(from)]) { $1 }, in: scope)
            return try await Self.plans(id, in: scope).first
        }
        guard let plan else { throw APIError(.notFound, code: "not_found", message: "price plan not found") }
        return try JSONResponse.make(plan, status: .created)
    }

    static func insertVersion(_ plan: PricePlanID, from: Date?, _ values: [String: Int], in scope: SystemScope) async throws {
        try await scope.execute("""
            INSERT INTO price_plan_versions (plan_id, effective_from, cpu_core_hour_micros, memory_gb_hour_micros, disk_gb_hour_micros, workspace_hour_micros)
            VALUES (\(plan), coalesce(\(from)::timestamptz, '-infinity'), \(values["cpu_core_hour_micros"]!), \(values["memory_gb_hour_micros"]!),
                \(values["disk_gb_hour_micros"]!), \(values["workspace_hour_micros"]!))
            """)
    }

    /// A tenant's plans share one currency (its bills add up); `plan` nil (no plan) always fits.
    static func checkCurrency(of plan: PricePlanID?, for tenant: TenantID, in scope: SystemScope) async throws {
        guard let plan else { return }
        let row = try await scope.first("""
            SELECT (SELECT currency FROM price_plans WHERE id = \(plan)) AS new,
                   (SELECT pp.currency FROM tenant_plan_assignments a JOIN price_plans pp ON pp.id = a.plan_id
                    WHERE a.tenant_id = \(tenant) ORDER BY a.effective_from LIMIT 1) AS old
            """)
        guard let new = try row?.decode("new", as: String?.self) else {
            throw APIError(.badRequest, code: "validation_failed", message: "no such price plan", details: ["field": .string("price_plan_id")])
        }
        if let old = try row?.decode("old", as: String?.self), old != new {
            throw APIError(.conflict, code: "currency_mismatch", message: "the tenant is billed in \(old); this plan is in \(new)")
        }
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
    /// `.some(nil)` clears the plan.
    var pricePlan: PricePlanID??
    /// When the plan change takes effect (not in the past); nil is now.
    var pricePlanFrom: Date?

    static func parse(_ body: [UInt8], creating: Bool) throws -> TenantInput {
        let object = try parseObject(body)
        var allowed: Set<String> = ["status", "max_workspaces", "max_cpu", "max_memory_mb", "price_plan_id"]
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

    /// An RFC 3339 instant that has not passed (a second's slack for the client's clock).
    static func futureInstant(_ object: Object, _ key: String) throws -> Date {
        let text = try string(object, key, at: "")
        guard let instant = RFC3339.parse(text[...]) else { throw invalid(key, "\(key) must be an RFC 3339 date-time such as 2027-01-01T00:00:00Z") }
        guard instant.timeIntervalSinceNow > -1 else { throw invalid(key, "\(key) must not be in the past: billed periods are not rated again") }
        return instant
    }

    func quota(over current: Quota) -> Quota {
        Quota(maxWorkspaces: maxWorkspaces ?? current.maxWorkspaces, maxCPUMillis: maxCPUMillis ?? current.maxCPUMillis, maxMemoryMB: maxMemoryMB ?? current.maxMemoryMB)
    }

    var auditDetails: [String: String] {
        var details: [String: String] = [:]
        if let name { details["name"] = name }
        if let status { details["status"] = status.rawValue }
        if let maxWorkspaces { details["max_workspaces"] = String(maxWorkspaces) }
        if let maxCPUMillis { details["max_cpu"] = String(Double(maxCPUMillis) / 1000) }
        if let maxMemoryMB { details["max_memory_mb"] = String(maxMemoryMB) }
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
