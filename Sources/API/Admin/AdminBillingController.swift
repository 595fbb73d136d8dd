import Billing
import Domain
import Foundation
import Hummingbird
import Persistence

/// Finance's exports: one tenant's usage, or every tenant's, over a period (CSV or JSON), in the
/// same format as the tenant's own export; and the summary their totals add up to.
struct AdminBillingController {
    let database: Database
    let reports = UsageReports()

    func addRoutes(to group: RouterGroup<AdminRequestContext>) {
        group.get("tenants/:id/usage/export") { request, context in try await tenantExport(request, context) }
        group.get("billing/export") { request, context in try await billingExport(request, context) }
        group.get("billing/summary") { request, _ in try await summary(request) }
    }

    /// `GET /admin/billing/summary?from=&to=`: per tenant the total, the currency and the number of
    /// lines its export has for the same period.
    func summary(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        let period = try UsageController.period(from: query["from"], to: query["to"], required: true, now: Date())
        let tenants = try await database.withSystem { try await reports.summary(for: period, in: $0) }
        struct Line: Encodable {
            let tenant_id: TenantID
            let tenant_name: String
            let currency: String
            let lines: Int
            let seconds: Double
            let cost: UsageController.ReportBody.Cost
        }
        struct Body: Encodable {
            let period: UsageController.ReportBody.Period
            let tenants: [Line]
        }
        return JSONResponse.raw(status: 200, body: try UsageController.encode(Body(
            period: .init(from: RFC3339.format(period.from), to: RFC3339.format(period.to)),
            tenants: tenants.map {
                Line(tenant_id: $0.tenantID, tenant_name: $0.tenantName, currency: $0.currency, lines: $0.lines,
                     seconds: Double($0.microseconds) / 1_000_000, cost: .init($0.costMicros))
            }
        )))
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
