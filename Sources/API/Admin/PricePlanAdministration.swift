import Billing
import Domain
import Foundation
import HTTPTypes
import Persistence

/// Price plans and their dated versions, shared by the JSON API and the panel: each change writes its
/// audit row (actor admin) in the same transaction.
///
/// Prices are integers in millionths of the currency per hour, so rating never rounds twice. A new
/// plan's first prices apply since always (to any time it is assigned for); later versions apply
/// from a moment that has not passed, so a period already billed is never rated again.
struct PricePlanAdministration {
    let database: Database
    let audit = AuditStore()

    static let notFound = APIError(.notFound, code: "not_found", message: "price plan not found")
    static let prices = ["cpu_core_hour_micros", "memory_gb_hour_micros", "disk_gb_hour_micros", "workspace_hour_micros"]

    /// A plan as the admin API shows it: the prices in force now, and every version.
    struct PlanView: Encodable {
        let id: PricePlanID
        let name: String
        let currency: String
        let cpu_core_hour_micros: Int
        let memory_gb_hour_micros: Int
        let disk_gb_hour_micros: Int
        let workspace_hour_micros: Int
        /// Oldest first; `effective_from` nil is since always.
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

    /// A create body: `name`, `currency` (default EUR) and the four prices (default 0).
    struct NewPlan {
        let name: String
        let currency: String
        let prices: [String: Int]

        static func parse(_ object: [String: JSONValue]) throws -> NewPlan {
            try TenantInput.refuseUnknown(object, allowed: Set(["name", "currency"] + PricePlanAdministration.prices), at: "")
            let name = try TenantInput.string(object, "name", at: "")
            guard (1...100).contains(name.count), !name.contains(where: \.isNewline) else {
                throw TenantInput.invalid("name", "name must be 1 to 100 characters on one line")
            }
            let currency = object["currency"] == nil ? "EUR" : try TenantInput.string(object, "currency", at: "")
            guard currency.count == 3, currency.allSatisfy({ $0.isASCII && $0.isUppercase }) else {
                throw TenantInput.invalid("currency", "currency is three capital letters (ISO 4217)")
            }
            return NewPlan(name: name, currency: currency, prices: try parsePrices(object))
        }
    }

    /// A version body: `effective_from` (now or later) and the four prices (default 0).
    struct NewVersion {
        let effectiveFrom: Date
        let prices: [String: Int]

        static func parse(_ object: [String: JSONValue]) throws -> NewVersion {
            try TenantInput.refuseUnknown(object, allowed: Set(["effective_from"] + PricePlanAdministration.prices), at: "")
            return NewVersion(effectiveFrom: try TenantInput.futureInstant(object, "effective_from"), prices: try parsePrices(object))
        }
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

    func list() async throws -> [PlanView] {
        try await database.withSystem { try await Self.plans(in: $0) }
    }

    func create(_ input: NewPlan) async throws -> PlanView {
        do {
            return try await database.withSystem { scope in
                let id = try await scope.first("INSERT INTO price_plans (name, currency) VALUES (\(input.name), \(input.currency)) RETURNING id")!
                    .decode("id", as: PricePlanID.self)
                try await Self.insertVersion(id, from: nil, input.prices, in: scope)
                try await audit.record(.admin, action: "price_plan.create", tenant: nil, target: ("price_plan", id.description),
                                       details: input.prices.mapValues(String.init).merging(["name": input.name, "currency": input.currency]) { $1 }, in: scope)
                return try await Self.plans(id, in: scope)[0]
            }
        } catch let error as PostgresError where error.code == .uniqueViolation {
            throw APIError(.conflict, code: "name_taken", message: "a price plan named \(input.name) already exists")
        }
    }

    /// New prices for `plan` from the input's moment on; nil when there is no such plan.
    func addVersion(to plan: PricePlanID, _ input: NewVersion) async throws -> PlanView? {
        try await database.withSystem { scope -> PlanView? in
            guard try await scope.first("SELECT id FROM price_plans WHERE id = \(plan) FOR UPDATE") != nil else { return nil }
            do {
                try await Self.insertVersion(plan, from: input.effectiveFrom, input.prices, in: scope)
            } catch let error as PostgresError where error.code == .uniqueViolation {
                throw APIError(.conflict, code: "version_exists", message: "the plan already has a version from that moment")
            }
            try await audit.record(.admin, action: "price_plan.version", tenant: nil, target: ("price_plan", plan.description),
                                   details: input.prices.mapValues(String.init).merging(["effective_from": RFC3339.format(input.effectiveFrom)]) { $1 }, in: scope)
            return try await Self.plans(plan, in: scope).first
        }
    }

    /// Plans with their versions, by name; `only` narrows it to one.
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
                   \(fragment: UsageReports.firstPlanCurrency(of: "\(tenant)")) AS old
            """)
        guard let new = try row?.decode("new", as: String?.self) else {
            throw APIError(.badRequest, code: "validation_failed", message: "no such price plan", details: ["field": .string("price_plan_id")])
        }
        if let old = try row?.decode("old", as: String?.self), old != new {
            throw APIError(.conflict, code: "currency_mismatch", message: "the tenant is billed in \(old); this plan is in \(new)")
        }
    }
}
