import BerthTestSupport
import Billing
import Domain
import Foundation
import Persistence
import Testing

/// Prices with a history: every part of an interval is rated with the plan the tenant had then, at
/// the prices that plan had then, so a past period always rates the same.
@Suite struct PriceHistoryTests {
    static func instant(_ text: String) throws -> Date { try #require(RFC3339.parse(text)) }
    static func march() throws -> UsagePeriod {
        try UsagePeriod(from: try instant("2026-03-01T00:00:00Z"), to: try instant("2026-04-01T00:00:00Z"))
    }

    struct Rated {
        let report: UsageReport
        let rows: [UsageExportRow]
    }

    /// The tenant's report (in one snapshot) and export for `period`; the export's lines must add up
    /// to the report's total exactly, whatever else the test checks.
    static func rate(_ tenant: TenantID, _ period: UsagePeriod, _ db: Database) async throws -> Rated {
        let reports = UsageReports()
        let report = try await db.withTenant(tenant, isolation: .repeatableRead) { try await reports.report(for: period, in: $0) }
        var rows: [UsageExportRow] = []
        try await db.withTenant(tenant) { try await reports.export(for: period, batchSize: 2, in: $0) { rows += $0 } }
        #expect(rows.reduce(0) { $0 + $1.costMicros } == report.costMicros, "export lines \(rows.map(\.costMicros)) vs total \(report.costMicros)")
        #expect(report.workspaces.reduce(0) { $0 + $1.costMicros } == report.costMicros)
        return Rated(report: report, rows: rows)
    }

    @Test func aPriceChangeMidIntervalSplitsItThere() async throws {
        try await withTestDatabase { _, db in
            let fixture = UsageFixture(db: db)
            let tenant = try await fixture.tenant("acme")
            let plan = try await fixture.plan("standard", cpuCoreHour: 10_000, for: [tenant])
            try await fixture.version(of: plan, from: "2026-03-10T12:00:00Z", cpuCoreHour: 25_000)
            let server = try await fixture.server("ws-1")
            let alpha = try await fixture.workspace("alpha", tenant: tenant, server: server, cpu: "2", memoryMB: 64, diskGB: 0)
            // 10:00-12:00 at 10 000, 12:00-13:00 at 25 000, two cores: 2 × (2 × 10 000 + 25 000) = 90 000.
            try await fixture.interval(alpha, from: "2026-03-10T10:00:00Z", to: "2026-03-10T13:00:00Z")

            let rated = try await Self.rate(tenant, try Self.march(), db)
            #expect(rated.report.costMicros == 90_000)
            #expect(rated.report.totals.microseconds == 3 * 3_600_000_000, "the split counts no second twice")
            #expect(rated.rows.map(\.startedAt) == [try Self.instant("2026-03-10T10:00:00Z"), try Self.instant("2026-03-10T12:00:00Z")])
            #expect(rated.rows.map(\.endedAt) == [try Self.instant("2026-03-10T12:00:00Z"), try Self.instant("2026-03-10T13:00:00Z")])
            #expect(rated.rows.map(\.costMicros) == [40_000, 50_000])
            // The report's header shows the prices in force at the period's end.
            #expect(rated.report.plan?.cpuCoreHourMicros == 25_000)
        }
    }

    @Test func aPlanChangeMidIntervalSplitsItThereAndTimeWithoutAPlanIsFree() async throws {
        try await withTestDatabase { _, db in
            let fixture = UsageFixture(db: db)
            let tenant = try await fixture.tenant("acme")
            let cheap = try await fixture.plan("cheap", workspaceHour: 1_000, for: [])
            let dear = try await fixture.plan("dear", workspaceHour: 7_000, for: [])
            // No plan until the 5th, cheap until the 15th, dear until the 20th, none after.
            try await fixture.assign(cheap, to: tenant, from: "2026-03-05T00:00:00Z")
            try await fixture.assign(dear, to: tenant, from: "2026-03-15T00:00:00Z")
            try await fixture.assign(nil, to: tenant, from: "2026-03-20T00:00:00Z")
            let alpha = try await fixture.workspace("alpha", tenant: tenant, server: nil, cpu: "1", memoryMB: 64, diskGB: 0)
            try await fixture.interval(alpha, from: "2026-03-04T23:00:00Z", to: "2026-03-05T02:00:00Z")  // 1 h free, 2 h cheap
            try await fixture.interval(alpha, from: "2026-03-14T22:30:00Z", to: "2026-03-15T00:30:00Z")  // 1.5 h cheap, 0.5 h dear
            try await fixture.interval(alpha, from: "2026-03-19T23:00:00Z", to: "2026-03-20T01:00:00Z")  // 1 h dear, 1 h free

            let rated = try await Self.rate(tenant, try Self.march(), db)
            // 3.5 h cheap + 1.5 h dear = 3 500 + 10 500.
            #expect(rated.report.costMicros == 14_000)
            #expect(rated.report.totals.microseconds == 7 * 3_600_000_000)
            #expect(rated.rows.map(\.costMicros) == [0, 2_000, 1_500, 3_500, 7_000, 0])
            // At the period's end the tenant has no plan.
            #expect(rated.report.plan == nil && rated.report.currency == "EUR")
        }
    }

    @Test func resizesAndRestartsAddUpToTheMicro() async throws {
        try await withTestDatabase { _, db in
            let fixture = UsageFixture(db: db)
            let tenant = try await fixture.tenant("acme")
            try await fixture.plan("standard", cpuCoreHour: 3_000, memoryGBHour: 1_024, for: [tenant])
            let alpha = try await fixture.workspace("alpha", tenant: tenant, server: nil, cpu: "1", memoryMB: 512, diskGB: 0)
            // Stopped and started three times: three intervals of 10 minutes at 1 core and 512 MB,
            // each (3 000 + 512) / 6 = 585.333… micros.
            for start in ["2026-03-02T10:00:00Z", "2026-03-02T11:00:00Z", "2026-03-02T12:00:00Z"] {
                let end = start.replacingOccurrences(of: ":00:00Z", with: ":10:00Z")
                try await fixture.interval(alpha, from: start, to: end)
            }
            // A resize rolls the interval: 20 minutes more at 2.5 cores and 2 GB: (7 500 + 2 048) / 3 = 3 182.666….
            try await db.withSystem { try await $0.execute("UPDATE workspaces SET cpu = 2.5, memory_mb = 2048 WHERE id = \(alpha)") }
            try await fixture.interval(alpha, from: "2026-03-02T12:10:00Z", to: "2026-03-02T12:30:00Z")

            let rated = try await Self.rate(tenant, try Self.march(), db)
            // 3 × 585.333… + 3 182.666… = 4 938.666…, rounded once.
            #expect(rated.report.costMicros == 4_939)
            #expect(rated.report.totals.microseconds == 50 * 60_000_000)
            #expect(rated.report.totals.cpuCoreHours == 1.333333)  // 0.5 h at 1 core + 1/3 h at 2.5 cores
            #expect(rated.rows.map(\.cpuMillis) == [1000, 1000, 1000, 2500])
            // Each line is within a micro of its exact share: 585.33 → 585 or 586; 3 182.67 → 3 182 or 3 183.
            for (row, exact) in zip(rated.rows, [585.333, 585.333, 585.333, 3182.667]) {
                #expect(abs(Double(row.costMicros) - exact) < 1, "\(row.costMicros) vs \(exact)")
            }
        }
    }

    @Test func aPastPeriodRatesTheSameAfterPricesAndPlansChange() async throws {
        try await withTestDatabase { _, db in
            let fixture = UsageFixture(db: db)
            let tenant = try await fixture.tenant("acme")
            let plan = try await fixture.plan("standard", cpuCoreHour: 12_345, memoryGBHour: 678, diskGBHour: 9, workspaceHour: 101, for: [tenant])
            let other = try await fixture.plan("other", cpuCoreHour: 999_999, for: [])
            let alpha = try await fixture.workspace("alpha", tenant: tenant, server: nil, cpu: "1.75", memoryMB: 3000, diskGB: 7)
            try await fixture.interval(alpha, from: "2026-03-03T01:02:03.456789Z", to: "2026-03-07T04:05:06.123456Z")
            let period = try Self.march()
            let before = try await Self.rate(tenant, period, db)
            #expect(before.report.costMicros > 0)

            // New prices and a new plan, from now on, as the admin API makes them.
            try await db.withSystem { scope in
                try await scope.execute("""
                    INSERT INTO price_plan_versions (plan_id, effective_from, cpu_core_hour_micros) VALUES (\(plan), now(), 50)
                    """)
                try await TenantStore().assign(PricePlanID(rawValue: other), to: tenant, .now, in: scope)
            }
            let after = try await Self.rate(tenant, period, db)
            #expect(after.report.costMicros == before.report.costMicros)
            #expect(after.rows == before.rows)
            #expect(after.report.workspaces == before.report.workspaces)
        }
    }
}
