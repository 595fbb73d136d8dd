import Billing
import Domain
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Persistence

/// The tenant's usage routes: `GET /v1/usage` (a rated report) and `GET /v1/usage/export` (one row
/// per interval, CSV or JSON). Everything is read in the tenant's own scope, under row-level security.
struct UsageController {
    let database: Database
    let reports = UsageReports()

    func addRoutes(to group: RouterGroup<TenantRequestContext>) {
        group.get("usage") { request, context in try await report(request, context) }
        group.get("usage/export") { request, context in try await export(request, context) }
    }

    func report(_ request: Request, _ context: TenantRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let period = try Self.period(from: query["from"], to: query["to"], required: false, now: Date())
        // One snapshot: the report's statements (the plan, then the lines) see the same data.
        let report = try await database.withTenant(context.tenant, isolation: .repeatableRead) { try await reports.report(for: period, in: $0) }
        return JSONResponse.raw(status: 200, body: try Self.encode(ReportBody(report)))
    }

    func export(_ request: Request, _ context: TenantRequestContext) async throws -> Response {
        let (database, reports, tenant) = (database, reports, context.tenant)
        return try await Self.exportResponse(request, logger: context.logger) { period, sink in
            try await database.withTenant(tenant) { scope in try await reports.export(for: period, in: scope, sink) }
        }
    }

    /// An export as a response: `from` and `to` required, `format=csv|json` (default json). `read`
    /// hands the rows for the period to the sink, inside whatever scope the caller chooses.
    ///
    /// The body is streamed: each batch read from PostgreSQL is encoded and written before the next
    /// is read, so memory stays flat whatever the export's size, and the writes wait for a slow
    /// client (which holds its database connection meanwhile). The read runs in a task of its own,
    /// since its transaction outlives this handler, and the answer waits for its first batch: a
    /// database that is down or a query that fails is still an error response (503), not a `200`
    /// cut short. A failure after the first byte can only cut the body short, and is logged.
    static func exportResponse(
        _ request: Request, logger: Logger,
        _ read: @escaping @Sendable (UsagePeriod, ([UsageExportRow]) async throws -> Void) async throws -> Void
    ) async throws -> Response {
        let query = request.uri.queryParameters
        let period = try Self.period(from: query["from"], to: query["to"], required: true, now: Date())
        let format = try query["format"].map { text in
            guard let value = UsageExportEncoder.Format(rawValue: String(text)) else {
                throw APIError(.badRequest, code: "validation_failed", message: "format must be csv or json", details: ["field": .string("format")])
            }
            return value
        } ?? .json
        let handoff = BatchHandoff<[UsageExportRow]>()
        let reader = Task {
            do {
                try await read(period) { rows in try await handoff.send(rows) }
                handoff.finish()
            } catch {
                handoff.finish(throwing: error)
            }
        }
        let first: [UsageExportRow]?
        do {
            first = try await handoff.next()
        } catch {
            reader.cancel()
            throw error
        }
        // Should the body never be written (the client went away first), the read gives up.
        Task {
            try? await Task.sleep(for: .seconds(30))
            handoff.cancelUnlessClaimed()
        }
        let fileName = UsageExportEncoder(format: format, period: period).fileName
        var headers = HTTPFields()
        headers[.contentType] = format.contentType
        headers[.contentDisposition] = "attachment; filename=\"\(fileName)\""
        let body = ResponseBody { writer in
            handoff.claim()
            defer { handoff.cancel() }
            var encoder = UsageExportEncoder(format: format, period: period)
            try await writer.write(ByteBuffer(bytes: encoder.prologue()))
            do {
                var batch = first
                while let rows = batch {
                    try await writer.write(ByteBuffer(bytes: try encoder.encode(rows)))
                    batch = try await handoff.next()
                }
            } catch {
                logger.error("export cut short", metadata: ["error": "\(error)"])
                throw error
            }
            try await writer.write(ByteBuffer(bytes: encoder.epilogue()))
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    /// The period from `from` and `to`: RFC 3339 date-times. Unless required, `to` defaults to now and
    /// `from` to the start of the UTC month that `to` falls in. A refused period names the parameter the
    /// client gave (`to` when it gave both).
    static func period(from fromText: Substring?, to toText: Substring?, required: Bool, now: Date) throws -> UsagePeriod {
        func instant(_ name: String, _ text: Substring?) throws -> Date? {
            guard let text else {
                guard !required else {
                    throw APIError(.badRequest, code: "validation_failed", message: "\(name) is required", details: ["field": .string(name)])
                }
                return nil
            }
            guard let date = RFC3339.parse(text) else {
                throw APIError(
                    .badRequest, code: "validation_failed",
                    message: "\(name) must be an RFC 3339 date-time such as 2026-11-01T00:00:00Z, in years 1 to 9999",
                    details: ["field": .string(name)]
                )
            }
            return date
        }
        let from = try instant("from", fromText)
        let to = try instant("to", toText)
        guard let from else { return .monthToDate(endingAt: to ?? now) }
        do throws(UsagePeriod.Problem) {
            return try UsagePeriod(from: from, to: to ?? now)
        } catch {
            guard to == nil else {
                throw APIError(.badRequest, code: "validation_failed", message: error.description, details: ["field": .string("to")])
            }
            let message = error == .notAfterStart ? "from must be in the past when to is not given" : "from may be at most 366 days ago when to is not given"
            throw APIError(.badRequest, code: "validation_failed", message: message, details: ["field": .string("from")])
        }
    }

    static func encode(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    /// `GET /v1/usage` as sent.
    struct ReportBody: Encodable {
        struct Period: Encodable { let from: String; let to: String }
        struct Cost: Encodable {
            let micros: Int64
            /// The amount in the currency's unit, exact, with six decimal places.
            let amount: String
            init(_ micros: Int64) {
                self.micros = micros
                amount = FixedPoint.amount(micros: micros)
            }
        }
        struct Quantities: Encodable {
            let seconds: Double
            let cpu_core_hours: Double
            let memory_gb_hours: Double
            let disk_gb_hours: Double
            let workspace_hours: Double
            init(_ quantities: UsageQuantities) {
                seconds = quantities.seconds
                cpu_core_hours = quantities.cpuCoreHours
                memory_gb_hours = quantities.memoryGBHours
                disk_gb_hours = quantities.diskGBHours
                workspace_hours = quantities.workspaceHours
            }
        }
        struct Plan: Encodable {
            let id: String
            let name: String
            let cpu_core_hour_micros: Int64
            let memory_gb_hour_micros: Int64
            let disk_gb_hour_micros: Int64
            let workspace_hour_micros: Int64
        }
        struct Line: Encodable {
            let id: String
            let name: String
            let usage: Quantities
            let cost: Cost
        }
        let period: Period
        let measured_at: String
        let currency: String
        let price_plan: Plan?
        let totals: Quantities
        let cost: Cost
        let workspaces: [Line]

        init(_ report: UsageReport) {
            period = Period(from: RFC3339.format(report.period.from), to: RFC3339.format(report.period.to))
            measured_at = RFC3339.format(report.measuredAt)
            currency = report.currency
            price_plan = report.plan.map { plan in
                Plan(
                    id: plan.id.uuidString.lowercased(), name: plan.name, cpu_core_hour_micros: plan.cpuCoreHourMicros,
                    memory_gb_hour_micros: plan.memoryGBHourMicros, disk_gb_hour_micros: plan.diskGBHourMicros,
                    workspace_hour_micros: plan.workspaceHourMicros
                )
            }
            totals = Quantities(report.totals)
            cost = Cost(report.costMicros)
            workspaces = report.workspaces.map { Line(id: $0.workspaceID.description, name: $0.name, usage: Quantities($0.quantities), cost: Cost($0.costMicros)) }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(period, forKey: .period)
            try container.encode(measured_at, forKey: .measured_at)
            try container.encode(currency, forKey: .currency)
            // null, not left out, when the tenant has no plan.
            try container.encode(price_plan, forKey: .price_plan)
            try container.encode(totals, forKey: .totals)
            try container.encode(cost, forKey: .cost)
            try container.encode(workspaces, forKey: .workspaces)
        }

        enum CodingKeys: String, CodingKey { case period, measured_at, currency, price_plan, totals, cost, workspaces }
    }
}
