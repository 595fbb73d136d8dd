import Billing
import Domain
import Hummingbird
import Persistence

/// Finance's exports: one tenant's usage, or every tenant's, over a period (CSV or JSON), in the
/// same format as the tenant's own export.
struct AdminBillingController {
    let database: Database
    let reports = UsageReports()

    func addRoutes(to group: RouterGroup<AdminRequestContext>) {
        group.get("tenants/:id/usage/export") { request, context in try await tenantExport(request, context) }
        group.get("billing/export") { request, context in try await billingExport(request, context) }
    }

    func tenantExport(_ request: Request, _ context: AdminRequestContext) async throws -> Response {
        let id = try AdminTenantsController.tenantID(context)
        guard try await database.withSystem({ try await TenantStore().get(id, in: $0) }) != nil else { throw AdminTenantsController.notFound }
        let (database, reports) = (database, reports)
        return try await UsageController.exportResponse(request, logger: context.logger) { period, sink in
            try await database.withSystem { scope in try await reports.export(tenant: id, for: period, in: scope, sink) }
        }
    }

    func billingExport(_ request: Request, _ context: AdminRequestContext) async throws -> Response {
        let (database, reports) = (database, reports)
        return try await UsageController.exportResponse(request, logger: context.logger) { period, sink in
            try await database.withSystem { scope in try await reports.export(tenant: nil, for: period, in: scope, sink) }
        }
    }
}
