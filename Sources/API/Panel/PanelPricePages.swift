import Billing
import Domain
import Foundation
import HTTPTypes
import Hummingbird
import Persistence

/// `/admin/ui/plans`: price plans and their dated versions, created and extended through
/// `PricePlanAdministration`. Forms become the JSON admin API's bodies and go through the same
/// parsers.
struct PanelPricePages {
    let database: Database
    let plans: PricePlanAdministration

    func addRoutes(to group: RouterGroup<PanelRequestContext>) {
        group.get("plans") { request, context in try await list(request, context) }
        group.post("plans") { request, context in try await create(request, context) }
        group.post("plans/:id/versions") { request, context in try await addVersion(request, context) }
    }

    struct VersionRow {
        let from: String
        let fromISO: String?
        let inForce: Bool
        let cpu: String
        let memory: String
        let disk: String
        let workspace: String
    }

    struct PlanRow {
        let id: String
        let name: String
        let currency: String
        let versions: [VersionRow]

        init(_ plan: PricePlanAdministration.PlanView) {
            id = plan.id.description
            name = plan.name
            currency = plan.currency
            // The one in force is the last that has begun.
            let now = Date()
            let current = plan.versions.lastIndex { ($0.effective_from ?? .distantPast) <= now }
            versions = plan.versions.enumerated().map { index, version in
                VersionRow(
                    from: version.effective_from.map(PanelFormat.time) ?? "always", fromISO: version.effective_from.map(PanelFormat.iso),
                    inForce: index == current, cpu: FixedPoint.amount(micros: Int64(version.cpu_core_hour_micros)),
                    memory: FixedPoint.amount(micros: Int64(version.memory_gb_hour_micros)),
                    disk: FixedPoint.amount(micros: Int64(version.disk_gb_hour_micros)),
                    workspace: FixedPoint.amount(micros: Int64(version.workspace_hour_micros))
                )
            }
        }
    }

    struct ListBody {
        let plans: [PlanRow]
        let hasPlans: Bool
        let formError: String?
    }

    func list(_ request: Request, _ context: PanelRequestContext, formError: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let rows = try await plans.list().map(PlanRow.init)
        let body = ListBody(plans: rows, hasPlans: !rows.isEmpty, formError: formError)
        return PanelRenderer.page("plans", context.page("Price plans", request, nav: .init(plans: true), body), request: request, status: status)
    }

    /// The form's non-empty fields as a JSON object; prices as numbers.
    static func object(_ form: [String: String], _ keys: [String]) -> [String: JSONValue] {
        var object: [String: JSONValue] = [:]
        for key in keys {
            guard let value = form[key]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { continue }
            object[key] = PricePlanAdministration.prices.contains(key) ? PanelServerPages.jsonNumber(value) : .string(value)
        }
        return object
    }

    func create(_ request: Request, _ context: PanelRequestContext) async throws -> Response {
        do {
            let input = try PricePlanAdministration.NewPlan.parse(Self.object(context.form, ["name", "currency"] + PricePlanAdministration.prices))
            _ = try await plans.create(input)
            return Response.redirect(to: PanelNotice.planCreated.location("/admin/ui/plans"))
        } catch {
            guard let refusal = PanelServerPages.refusal(error) else { throw error }
            return try await list(request, context, formError: refusal.message, status: refusal.status)
        }
    }

    func addVersion(_ request: Request, _ context: PanelRequestContext) async throws -> Response {
        guard let text = context.parameters.get("id"), let id = PricePlanID(text) else { throw PanelError(.notFound, "There is no such price plan.") }
        do {
            let input = try PricePlanAdministration.NewVersion.parse(Self.object(context.form, ["effective_from"] + PricePlanAdministration.prices))
            guard try await plans.addVersion(to: id, input) != nil else { throw PanelError(.notFound, "There is no such price plan.") }
            return Response.redirect(to: PanelNotice.pricesAdded.location("/admin/ui/plans"))
        } catch {
            guard let refusal = PanelServerPages.refusal(error), refusal.status != .notFound else { throw error }
            return try await list(request, context, formError: refusal.message, status: refusal.status)
        }
    }
}
