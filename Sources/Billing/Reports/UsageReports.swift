import Domain
import Foundation
import Persistence

/// Reads metered usage (`usage_intervals`) over a period and rates it with each tenant's price plan.
///
/// The arithmetic happens in PostgreSQL, on exact integers in `numeric`:
/// - each interval is clipped to the period; an open one ends at `now()` (the transaction's start) or
///   the period's end, whichever comes first;
/// - its exact cost, in units of 1/3 686 400 000 000 000 micro, is microseconds × (millicores × CPU price
///   × 1024 + MB × memory price × 1000 + GB × disk price × 1 024 000 + workspace price × 1 024 000),
///   with prices in micros per hour (1000 millicores × 1024 MB per GB × 3.6e9 µs per hour);
/// - a total is that exact sum rounded half up to whole micros, once;
/// - its lines (workspaces in a report, intervals in an export) each get the floor of their exact cost,
///   and the micros left over go one each to the lines with the largest remainders, so the lines add
///   up to the total exactly and none is more than one micro from its exact cost.
///
/// Each part of an interval is rated with the plan the tenant had then (`tenant_plan_assignments`) at
/// the prices that plan had then (`price_plan_versions`), so a past period always rates the same.
/// Time without a plan is rated at zero. A tenant's currency is its first plan's (EUR without one).
public struct UsageReports: Sendable {
    /// The currency of `tenant`'s first plan (every plan it is given shares it), or NULL without
    /// one: a subquery, for a tenant id or a column that holds one.
    public static func firstPlanCurrency(of tenant: PostgresQuery) -> PostgresQuery {
        """
        (SELECT pp.currency FROM tenant_plan_assignments a JOIN price_plans pp ON pp.id = a.plan_id
         WHERE a.tenant_id = \(fragment: tenant) ORDER BY a.effective_from LIMIT 1)
        """
    }

    public init() {}

    /// Cost units per micro (see the type's summary).
    static let unitsPerMicro = "3686400000000000"

    // MARK: Reports

    /// The calling tenant's report, under its row-level security. It reads in two statements: run it
    /// in a `REPEATABLE READ` transaction so both see one snapshot.
    public func report(for period: UsagePeriod, in scope: TenantScope) async throws -> UsageReport {
        try await report(tenant: scope.tenantID, period: period, runner: scope)
    }

    /// Any tenant's report, in the system scope: for admin routes and billing runs (in a
    /// `REPEATABLE READ` transaction, as above).
    public func report(tenant: TenantID, for period: UsagePeriod, in scope: SystemScope) async throws -> UsageReport {
        try await report(tenant: tenant, period: period, runner: scope)
    }

    private func report(tenant: TenantID, period: UsagePeriod, runner: some QueryRunner) async throws -> UsageReport {
        // The plan (and its prices) in force at the end of what is measured: the period's end, or now.
        guard let header = try await runner.first("""
            WITH at AS (SELECT least(now(), \(period.to)::timestamptz - interval '1 microsecond') AS instant),
            assignment AS (
                SELECT a.plan_id FROM tenant_plan_assignments a, at
                WHERE a.tenant_id = \(tenant) AND a.effective_from <= at.instant ORDER BY a.effective_from DESC LIMIT 1
            )
            SELECT now() AS measured_at,
                   coalesce(\(fragment: Self.firstPlanCurrency(of: "\(tenant)")), 'EUR') AS currency,
                   p.id AS plan_id, p.name AS plan_name, v.cpu_core_hour_micros, v.memory_gb_hour_micros, v.disk_gb_hour_micros, v.workspace_hour_micros
            FROM at
            LEFT JOIN assignment ON true
            LEFT JOIN price_plans p ON p.id = assignment.plan_id
            LEFT JOIN LATERAL (
                SELECT * FROM price_plan_versions v WHERE v.plan_id = p.id AND v.effective_from <= at.instant ORDER BY v.effective_from DESC LIMIT 1
            ) v ON true
            """) else { throw PostgresError(code: .other, message: "the plan query returned no row") }
        var plan: PricePlan?
        if let id = try header.decode("plan_id", as: UUID?.self) {
            plan = PricePlan(
                id: id, name: try header.decode("plan_name"), currency: try header.decode("currency"),
                cpuCoreHourMicros: try header.decode("cpu_core_hour_micros", as: Int64?.self) ?? 0,
                memoryGBHourMicros: try header.decode("memory_gb_hour_micros", as: Int64?.self) ?? 0,
                diskGBHourMicros: try header.decode("disk_gb_hour_micros", as: Int64?.self) ?? 0,
                workspaceHourMicros: try header.decode("workspace_hour_micros", as: Int64?.self) ?? 0
            )
        }
        let d = Self.unitsPerMicro
        let rows = try await runner.execute("""
            WITH rated AS (\(fragment: Self.rated(tenant: tenant, period: period))),
            lines AS (
                SELECT workspace_id, sum(micros) AS micros, sum(cpu_millis::numeric * micros) AS cpu_units,
                       sum(memory_mb::numeric * micros) AS memory_units, sum(disk_gb::numeric * micros) AS disk_units,
                       sum(cost_units) AS cost_units
                FROM rated GROUP BY workspace_id
            ),
            allocated AS (
                SELECT l.*, div(l.cost_units, \(unsafeRaw: d)) + CASE
                    WHEN row_number() OVER (ORDER BY mod(l.cost_units, \(unsafeRaw: d)) DESC, l.workspace_id)
                         <= div(2 * sum(l.cost_units) OVER () + \(unsafeRaw: d), 2 * \(unsafeRaw: d))
                            - sum(div(l.cost_units, \(unsafeRaw: d))) OVER ()
                    THEN 1 ELSE 0 END AS cost_micros
                FROM lines l
            )
            SELECT a.workspace_id, coalesce(w.name, '') AS name, a.cost_micros::bigint AS cost_micros,
                   \(fragment: Self.quantities(prefix: "", micros: "a.micros", cpu: "a.cpu_units", memory: "a.memory_units", disk: "a.disk_units")),
                   \(fragment: Self.quantities(prefix: "total_", micros: "sum(a.micros) OVER ()", cpu: "sum(a.cpu_units) OVER ()",
                                               memory: "sum(a.memory_units) OVER ()", disk: "sum(a.disk_units) OVER ()")),
                   (sum(a.cost_micros) OVER ())::bigint AS total_cost_micros
            FROM allocated a
            LEFT JOIN workspaces w ON w.id = a.workspace_id
            ORDER BY name, a.workspace_id
            """)
        let lines = try rows.map { row in
            WorkspaceUsage(
                workspaceID: try row.decode("workspace_id"), name: try row.decode("name"),
                quantities: try Self.decodeQuantities(row, prefix: ""), costMicros: try row.decode("cost_micros")
            )
        }
        return UsageReport(
            tenantID: tenant, period: period, measuredAt: try header.decode("measured_at"),
            currency: try header.decode("currency"), plan: plan,
            totals: try rows.first.map { try Self.decodeQuantities($0, prefix: "total_") } ?? .zero,
            costMicros: try rows.first?.decode("total_cost_micros", as: Int64.self) ?? 0,
            workspaces: lines
        )
    }

    /// The quantity columns from sums of microseconds and of resource × microseconds.
    static func quantities(prefix: String, micros: String, cpu: String, memory: String, disk: String) -> PostgresQuery {
        PostgresQuery(unsafeSQL: """
            (\(micros))::bigint AS \(prefix)micros,
            round((\(cpu)) / 3600000000000, 6) AS \(prefix)cpu_core_hours,
            round((\(memory)) / 3686400000000, 6) AS \(prefix)memory_gb_hours,
            round((\(disk)) / 3600000000, 6) AS \(prefix)disk_gb_hours,
            round((\(micros)) / 3600000000.0, 6) AS \(prefix)workspace_hours
            """)
    }

    static func decodeQuantities(_ row: PostgresRow, prefix: String) throws -> UsageQuantities {
        UsageQuantities(
            microseconds: try row.decode(prefix + "micros"),
            cpuCoreHours: try row.decode(prefix + "cpu_core_hours"),
            memoryGBHours: try row.decode(prefix + "memory_gb_hours"),
            diskGBHours: try row.decode(prefix + "disk_gb_hours"),
            workspaceHours: try row.decode(prefix + "workspace_hours")
        )
    }

    // MARK: Summary

    /// Every tenant's total for `period` (tenants without usage included, at zero), by name, in one
    /// statement: the same rated parts and the same rounding as the exports, so a tenant's total is
    /// exactly the sum of its export's lines.
    public func summary(for period: UsagePeriod, in scope: SystemScope) async throws -> [TenantBillingSummary] {
        let d = Self.unitsPerMicro
        return try await scope.execute("""
            WITH rated AS (\(fragment: Self.rated(tenant: nil, period: period))),
            per_tenant AS (
                SELECT tenant_id, count(*) AS lines, sum(micros) AS micros, sum(cost_units) AS cost_units FROM rated GROUP BY tenant_id
            )
            SELECT t.id, t.name, coalesce(p.lines, 0) AS lines, coalesce(p.micros, 0)::bigint AS micros,
                   coalesce(div(2 * p.cost_units + \(unsafeRaw: d), 2 * \(unsafeRaw: d)), 0)::bigint AS cost_micros,
                   coalesce(\(fragment: Self.firstPlanCurrency(of: "t.id")), 'EUR') AS currency
            FROM tenants t LEFT JOIN per_tenant p ON p.tenant_id = t.id
            ORDER BY t.name, t.id
            """).map { row in
            TenantBillingSummary(
                tenantID: try row.decode("id"), tenantName: try row.decode("name"), currency: try row.decode("currency"),
                lines: try row.decode("lines"), microseconds: try row.decode("micros"), costMicros: try row.decode("cost_micros")
            )
        }
    }

    // MARK: Exports

    /// The calling tenant's intervals clipped to `period`, under its row-level security, handed to
    /// `body` in batches of at most `batchSize` rows, ordered by start.
    public func export(
        for period: UsagePeriod, batchSize: Int = 2000, in scope: TenantScope,
        _ body: ([UsageExportRow]) async throws -> Void
    ) async throws {
        try await export(tenant: scope.tenantID, period: period, batchSize: batchSize, runner: scope, body)
    }

    /// One tenant's intervals clipped to `period` or, with `tenant` nil, every tenant's, in the system
    /// scope: for the admin usage and billing exports. Rows come to `body` in batches of at most
    /// `batchSize`, ordered by tenant and start, read through a cursor so an export of any size can
    /// be streamed; `body` runs inside the scope's transaction.
    public func export(
        tenant: TenantID?, for period: UsagePeriod, batchSize: Int = 2000, in scope: SystemScope,
        _ body: ([UsageExportRow]) async throws -> Void
    ) async throws {
        try await export(tenant: tenant, period: period, batchSize: batchSize, runner: scope, body)
    }

    private func export(
        tenant: TenantID?, period: UsagePeriod, batchSize: Int, runner: some QueryRunner,
        _ body: ([UsageExportRow]) async throws -> Void
    ) async throws {
        precondition(batchSize > 0, "batchSize must be positive")
        // An export reads as long as it takes (its client may be slow, the sort over a year may be
        // long): no statement timeout, for this transaction only. Lock waits stay bounded.
        try await runner.execute("SET LOCAL statement_timeout = 0")
        // A name of its own, so two exports in one transaction do not collide.
        let cursor = "usage_export_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await runner.execute("DECLARE \(unsafeRaw: cursor) NO SCROLL CURSOR FOR \(fragment: Self.exportQuery(tenant: tenant, period: period))")
        while true {
            let rows = try await runner.execute(PostgresQuery(unsafeSQL: "FETCH FORWARD \(batchSize) FROM \(cursor)"))
            if rows.isEmpty { break }
            try await body(try rows.map(Self.decodeExportRow))
            if rows.count < batchSize { break }
        }
        try await runner.execute(PostgresQuery(unsafeSQL: "CLOSE \(cursor)"))
    }

    /// The rows of an export, in order: every rated part of an interval with its share of its
    /// tenant's total (largest remainder). Public for the benchmark, which runs the same query
    /// through `psql \copy` as its baseline.
    public static func exportQuery(tenant: TenantID?, period: UsagePeriod) -> PostgresQuery {
        let d = unitsPerMicro
        return """
            WITH rated AS (\(fragment: rated(tenant: tenant, period: period)))
            SELECT r.tenant_id, r.workspace_id, coalesce(w.name, '') AS workspace_name, s.name AS server_name,
                   r.started_at, r.ended_at, r.micros, r.cpu_millis, r.memory_mb, r.disk_gb, r.currency,
                   (div(r.cost_units, \(unsafeRaw: d)) + CASE
                       WHEN row_number() OVER by_remainder
                            <= div(2 * sum(r.cost_units) OVER per_tenant + \(unsafeRaw: d), 2 * \(unsafeRaw: d))
                               - sum(div(r.cost_units, \(unsafeRaw: d))) OVER per_tenant
                       THEN 1 ELSE 0 END)::bigint AS cost_micros
            FROM rated r
            LEFT JOIN workspaces w ON w.id = r.workspace_id
            LEFT JOIN workspace_servers s ON s.id = r.server_id
            WINDOW per_tenant AS (PARTITION BY r.tenant_id),
                   by_remainder AS (PARTITION BY r.tenant_id ORDER BY mod(r.cost_units, \(unsafeRaw: d)) DESC, r.id, r.started_at)
            ORDER BY r.tenant_id, r.started_at, r.id
            """
    }

    static func decodeExportRow(_ row: PostgresRow) throws -> UsageExportRow {
        UsageExportRow(
            tenantID: try row.decode("tenant_id"), workspaceID: try row.decode("workspace_id"),
            workspaceName: try row.decode("workspace_name"), serverName: try row.decode("server_name"),
            startedAt: try row.decode("started_at"), endedAt: try row.decode("ended_at"),
            microseconds: try row.decode("micros"), cpuMillis: try row.decode("cpu_millis"),
            memoryMB: try row.decode("memory_mb"), diskGB: try row.decode("disk_gb"),
            currency: try row.decode("currency"), costMicros: try row.decode("cost_micros")
        )
    }

    // MARK: The rated intervals

    /// The part of every interval of `tenant` (or of every tenant) that overlaps `period`, cut at each
    /// change of the tenant's plan and of that plan's prices, so that each part is rated with what was
    /// in force then: its running microseconds and its exact cost in units of 1/`unitsPerMicro`
    /// micro. Zero-length parts are left out. The index on the intervals' spans bounds the scan by
    /// both ends of the period.
    static func rated(tenant: TenantID?, period: UsagePeriod) -> PostgresQuery {
        """
        WITH assignment_ranges AS (
            SELECT tenant_id, plan_id, effective_from AS from_,
                   coalesce(lead(effective_from) OVER (PARTITION BY tenant_id ORDER BY effective_from), 'infinity'::timestamptz) AS to_
            FROM tenant_plan_assignments WHERE \(tenant)::uuid IS NULL OR tenant_id = \(tenant)::uuid
            UNION ALL
            -- Before a tenant's first assignment it has no plan.
            SELECT t.id, NULL::uuid, '-infinity'::timestamptz, coalesce(min(a.effective_from), 'infinity'::timestamptz)
            FROM tenants t LEFT JOIN tenant_plan_assignments a ON a.tenant_id = t.id
            WHERE \(tenant)::uuid IS NULL OR t.id = \(tenant)::uuid
            GROUP BY t.id
        ),
        version_ranges AS (
            SELECT plan_id, effective_from AS from_,
                   coalesce(lead(effective_from) OVER (PARTITION BY plan_id ORDER BY effective_from), 'infinity'::timestamptz) AS to_,
                   cpu_core_hour_micros, memory_gb_hour_micros, disk_gb_hour_micros, workspace_hour_micros
            FROM price_plan_versions
        ),
        timeline AS (
            SELECT a.tenant_id, greatest(a.from_, coalesce(v.from_, '-infinity'::timestamptz)) AS from_,
                   least(a.to_, coalesce(v.to_, 'infinity'::timestamptz)) AS to_,
                   coalesce(v.cpu_core_hour_micros, 0) AS cpu_price, coalesce(v.memory_gb_hour_micros, 0) AS memory_price,
                   coalesce(v.disk_gb_hour_micros, 0) AS disk_price, coalesce(v.workspace_hour_micros, 0) AS workspace_price
            FROM assignment_ranges a
            LEFT JOIN version_ranges v ON v.plan_id = a.plan_id AND v.from_ < a.to_ AND v.to_ > a.from_
            WHERE a.from_ < a.to_
        ),
        -- A tenant's currency: its first plan's (every plan it is given shares it), else EUR.
        currencies AS (
            SELECT t.id AS tenant_id,
                   coalesce(\(fragment: Self.firstPlanCurrency(of: "t.id")), 'EUR') AS currency
            FROM tenants t WHERE \(tenant)::uuid IS NULL OR t.id = \(tenant)::uuid
        )
        SELECT u.id, u.tenant_id, u.workspace_id, u.server_id, (u.cpu * 1000)::bigint AS cpu_millis, u.memory_mb, u.disk_gb,
               c.started_at, c.ended_at, c.micros, cur.currency,
               c.micros::numeric * (
                     (u.cpu * 1000) * p.cpu_price::numeric * 1024
                   + u.memory_mb::numeric * p.memory_price * 1000
                   + u.disk_gb::numeric * p.disk_price * 1024000
                   + p.workspace_price::numeric * 1024000
               ) AS cost_units
        FROM usage_intervals u
        JOIN currencies cur ON cur.tenant_id = u.tenant_id
        JOIN timeline p ON p.tenant_id = u.tenant_id
            AND p.from_ < least(coalesce(u.ended_at, now()), \(period.to)::timestamptz)
            AND p.to_ > greatest(u.started_at, \(period.from)::timestamptz)
        CROSS JOIN LATERAL (
            SELECT b.started_at, b.ended_at,
                   ((extract(epoch FROM b.ended_at) - extract(epoch FROM b.started_at)) * 1000000)::bigint AS micros
            FROM (SELECT greatest(u.started_at, \(period.from)::timestamptz, p.from_) AS started_at,
                         least(coalesce(u.ended_at, now()), \(period.to)::timestamptz, p.to_) AS ended_at) b
        ) c
        WHERE (\(tenant)::uuid IS NULL OR u.tenant_id = \(tenant)::uuid)
          AND tstzrange(u.started_at, coalesce(u.ended_at, 'infinity'), '[)') && tstzrange(\(period.from)::timestamptz, \(period.to)::timestamptz, '[)')
          AND c.micros > 0
        """
    }
}
