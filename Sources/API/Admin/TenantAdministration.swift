import Domain
import Foundation
import Persistence
import Secrets

/// Tenant and key changes an admin makes, shared by the JSON API and the panel: each writes its
/// audit row (actor admin) in the same transaction as the change.
struct TenantAdministration {
    let database: Database
    let tenants = TenantStore()
    let keys = APIKeyStore()
    let audit = AuditStore()

    /// Creates a tenant from a parsed create body (`TenantInput.parse(_, creating: true)`).
    func create(_ input: TenantInput) async throws -> Tenant {
        guard let name = input.name else { throw TenantInput.invalid("name", "name is required") }
        let quota = input.quota(over: .standard)
        do {
            return try await database.withSystem { scope in
                let tenant = try await tenants.create(
                    name: name, quota: quota, pricePlan: input.pricePlan ?? nil, status: input.status ?? .active,
                    idleStopMinutes: input.idleStopMinutes, maxLifetimeMinutes: input.maxLifetimeMinutes, in: scope
                )
                try await audit.record(.admin, action: "tenant.create", tenant: tenant.id, target: ("tenant", tenant.id.description), details: input.auditDetails, in: scope)
                return tenant
            }
        } catch {
            throw AdminTenantsController.map(error, name: name)
        }
    }

    /// The tenant, its keys (live and revoked) and how many live workspaces it has; `nil` when unknown.
    func detail(_ id: TenantID) async throws -> (tenant: Tenant, keys: [APIKeyRecord], liveWorkspaces: Int)? {
        try await database.withSystem { scope -> (Tenant, [APIKeyRecord], Int)? in
            guard let tenant = try await tenants.get(id, in: scope) else { return nil }
            let live = try await scope.first("SELECT count(*) AS n FROM workspaces WHERE tenant_id = \(id) AND status <> 'deleted'")!.decode("n", as: Int.self)
            return (tenant, try await keys.list(tenantID: id, in: scope), live)
        }
    }

    /// Changes status, quota and plan from a parsed update body (`TenantInput.parse(_, creating:
    /// false)`); nil when there is no such tenant. A plan counts from now, or from the body's later
    /// `price_plan_effective_from`: past periods keep the plan they had.
    func update(_ id: TenantID, _ input: TenantInput) async throws -> Tenant? {
        do {
            return try await database.withSystem { scope -> Tenant? in
                guard let current = try await tenants.lock(id, in: scope) else { return nil }
                _ = try await tenants.update(
                    id, status: input.status ?? current.status, quota: input.quota(over: current.quota),
                    idleStopMinutes: input.idleStopMinutes ?? current.idleStopMinutes, maxLifetimeMinutes: input.maxLifetimeMinutes ?? current.maxLifetimeMinutes,
                    in: scope
                )
                if let plan = input.pricePlan {
                    try await PricePlanAdministration.checkCurrency(of: plan, for: id, in: scope)
                    try await tenants.assign(plan, to: id, input.pricePlanFrom.map { .from($0) } ?? .now, in: scope)
                }
                try await audit.record(.admin, action: "tenant.update", tenant: id, target: ("tenant", id.description), details: input.auditDetails, in: scope)
                return try await tenants.get(id, in: scope)
            }
        } catch {
            throw AdminTenantsController.map(error, name: nil)
        }
    }

    /// Which plan the tenant has had from when, oldest first (`.distantPast`: since always).
    func planHistory(_ id: TenantID) async throws -> [(from: Date, plan: PricePlanID?)] {
        try await database.withSystem { try await tenants.assignments(of: id, in: $0) }
    }

    /// Why `name` cannot name a key, or `nil`.
    static func keyNameProblem(_ name: String) -> String? {
        (1...100).contains(name.count) && !name.contains(where: \.isNewline) ? nil : "name must be 1 to 100 characters on one line"
    }

    /// Issues a key; `nil` when there is no such tenant. The secret is returned once and stored
    /// only as its hash.
    func issueKey(tenant id: TenantID, name: String) async throws -> (record: APIKeyRecord, secret: String)? {
        if let problem = Self.keyNameProblem(name) { throw TenantInput.invalid("name", problem) }
        let material = APIKeyMaterial.generate()
        let record = try await database.withSystem { scope -> APIKeyRecord? in
            guard try await tenants.get(id, in: scope) != nil else { return nil }
            let record = try await keys.insert(tenantID: id, name: name, prefix: material.prefix, hash: material.hash, in: scope)
            try await audit.record(.admin, action: "api_key.issue", tenant: id, target: ("api_key", record.id.description), details: ["name": name, "prefix": record.prefix], in: scope)
            return record
        }
        return record.map { ($0, material.secret) }
    }

    /// Revokes a live key of the tenant; `false` when there is none.
    func revokeKey(_ keyID: APIKeyID, tenant id: TenantID) async throws -> Bool {
        try await database.withSystem { scope in
            let revoked = try await keys.revoke(keyID, tenantID: id, in: scope)
            if revoked {
                try await audit.record(.admin, action: "api_key.revoke", tenant: id, target: ("api_key", keyID.description), in: scope)
            }
            return revoked
        }
    }
}
