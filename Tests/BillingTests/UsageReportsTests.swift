import BerthTestSupport
import Billing
import Domain
import Foundation
import Persistence
import Testing

/// Usage reports and exports on a real database, from intervals written with fixed timestamps.
@Suite struct UsageReportsTests {
    static func instant(_ text: String) throws -> Date { try #require(RFC3339.parse(text)) }
    static func march() throws -> UsagePeriod {
        try UsagePeriod(from: try instant("2026-03-01T00:00:00Z"), to: try instant("2026-04-01T00:00:00Z"))
    }

    /// All rows of an export, in one array.
    static func export(_ reports: UsageReports, _ period: UsagePeriod, batchSize: Int, in scope: TenantScope) async throws -> [UsageExportRow] {
        var rows: [UsageExportRow] = []
        try await reports.export(for: period, batchSize: batchSize, in: scope) { rows += $0 }
        return rows
    }

    @Test func ratesClippedIntervalsExactlyWithThePlan() async throws {
        try await withTestDatabase { _, db in
            let fixture = UsageFixture(db: db)
            let tenant = try await fixture.tenant("acme")
            let other = try await fixture.tenant("other")
            try await fixture.plan("standard", cpuCoreHour: 10_000, memoryGBHour: 5_000, diskGBHour: 100, workspaceHour: 1_000, for: [tenant])
            let server = try await fixture.server("ws-eu-1")
            let alpha = try await fixture.workspace("alpha", tenant: tenant, server: server, cpu: "1.5", memoryMB: 2048, diskGB: 10)
            let beta = try await fixture.workspace("beta", tenant: tenant, server: server, cpu: "0.25", memoryMB: 100, diskGB: 0)
            // Two hours inside the period: 2 × (1.5 × 10 000 + 2 × 5 000 + 10 × 100 + 1 000) = 54 000 micros.
            try await fixture.interval(alpha, from: "2026-03-10T10:00:00Z", to: "2026-03-10T12:00:00Z")
            // Clipped at the start (one hour counts) and at the end (30 minutes count).
            try await fixture.interval(alpha, from: "2026-02-28T23:00:00Z", to: "2026-03-01T01:00:00Z")
            try await fixture.interval(alpha, from: "2026-03-31T23:30:00Z", to: "2026-04-01T02:00:00Z")
            // Outside, or touching the period only at its start: nothing.
            try await fixture.interval(alpha, from: "2026-02-01T00:00:00Z", to: "2026-02-02T00:00:00Z")
            try await fixture.interval(alpha, from: "2026-02-28T20:00:00Z", to: "2026-03-01T00:00:00Z")
            try await fixture.interval(alpha, from: "2026-04-01T00:00:00Z", to: "2026-04-01T05:00:00Z")
            // 20 minutes of a small workspace: (2 500 + 100/1024 × 5 000 + 1 000) / 3 = 1 329.427… micros.
            try await fixture.interval(beta, from: "2026-03-05T00:00:00Z", to: "2026-03-05T00:20:00Z")
            // Another tenant's usage never shows.
            let foreign = try await fixture.workspace("alpha", tenant: other, server: server, cpu: "8", memoryMB: 8192, diskGB: 100)
            try await fixture.interval(foreign, from: "2026-03-10T00:00:00Z", to: "2026-03-20T00:00:00Z")

            let reports = UsageReports()
            let period = try Self.march()
            let report = try await db.withTenant(tenant) { try await reports.report(for: period, in: $0) }
            #expect(report.currency == "EUR")
            #expect(report.plan?.name == "standard" && report.plan?.cpuCoreHourMicros == 10_000)
            #expect(report.workspaces.map(\.name) == ["alpha", "beta"])
            let alphaLine = report.workspaces[0]
            #expect(alphaLine.workspaceID == alpha)
            #expect(alphaLine.quantities == UsageQuantities(microseconds: 12_600_000_000, cpuCoreHours: 5.25, memoryGBHours: 7, diskGBHours: 35, workspaceHours: 3.5))
            #expect(alphaLine.costMicros == 94_500)
            let betaLine = report.workspaces[1]
            #expect(betaLine.quantities == UsageQuantities(microseconds: 1_200_000_000, cpuCoreHours: 0.083333, memoryGBHours: 0.032552, diskGBHours: 0, workspaceHours: 0.333333))
            #expect(betaLine.costMicros == 1_329)
            #expect(report.totals == UsageQuantities(microseconds: 13_800_000_000, cpuCoreHours: 5.333333, memoryGBHours: 7.032552, diskGBHours: 35, workspaceHours: 3.833333))
            // 95 829.427… rounded once.
            #expect(report.costMicros == 95_829)

            // The same report from the system scope, for admin routes.
            let system = try await db.withSystem { try await reports.report(tenant: tenant, for: period, in: $0) }
            #expect(system.workspaces == report.workspaces && system.totals == report.totals && system.costMicros == report.costMicros)

            // The export: one row per clipped interval, in order of start, adding up to the report's total.
            for batchSize in [1, 2, 500] {
                let rows = try await db.withTenant(tenant) { try await Self.export(reports, period, batchSize: batchSize, in: $0) }
                #expect(rows.map(\.startedAt) == [
                    try Self.instant("2026-03-01T00:00:00Z"), try Self.instant("2026-03-05T00:00:00Z"),
                    try Self.instant("2026-03-10T10:00:00Z"), try Self.instant("2026-03-31T23:30:00Z"),
                ], "batch size \(batchSize)")
                #expect(rows.map(\.endedAt) == [
                    try Self.instant("2026-03-01T01:00:00Z"), try Self.instant("2026-03-05T00:20:00Z"),
                    try Self.instant("2026-03-10T12:00:00Z"), try Self.instant("2026-04-01T00:00:00Z"),
                ])
                #expect(rows.map(\.microseconds) == [3_600_000_000, 1_200_000_000, 7_200_000_000, 1_800_000_000])
                #expect(rows.map(\.costMicros) == [27_000, 1_329, 54_000, 13_500])
                #expect(rows.allSatisfy { $0.tenantID == tenant && $0.serverName == "ws-eu-1" && $0.currency == "EUR" })
                #expect(rows[1].workspaceName == "beta" && rows[1].cpuMillis == 250 && rows[1].memoryMB == 100 && rows[1].diskGB == 0)
                #expect(rows[0].workspaceName == "alpha" && rows[0].cpuMillis == 1500 && rows[0].memoryMB == 2048 && rows[0].diskGB == 10)
            }

            // Every tenant, from the system scope: each tenant's rows add up to its own report.
            var all: [UsageExportRow] = []
            try await db.withSystem { try await reports.export(tenant: nil, for: period, batchSize: 3, in: $0) { all += $0 } }
            #expect(Set(all.map(\.tenantID)) == [tenant, other])
            let otherReport = try await db.withSystem { try await reports.report(tenant: other, for: period, in: $0) }
            for (id, expected) in [(tenant, report.costMicros), (other, otherReport.costMicros)] {
                #expect(all.filter { $0.tenantID == id }.reduce(0) { $0 + $1.costMicros } == expected)
            }
            // No plan: zero cost, in EUR, usage still counted.
            #expect(otherReport.plan == nil && otherReport.currency == "EUR" && otherReport.costMicros == 0)
            #expect(otherReport.totals.microseconds == 10 * 86_400 * 1_000_000 && otherReport.totals.cpuCoreHours == 1920)
            var onlyOther: [UsageExportRow] = []
            try await db.withSystem { try await reports.export(tenant: other, for: period, in: $0) { onlyOther += $0 } }
            #expect(onlyOther.map(\.workspaceID) == [foreign])
        }
    }

    @Test func linesShareTheRoundedTotalByLargestRemainder() async throws {
        try await withTestDatabase { _, db in
            let fixture = UsageFixture(db: db)
            let thirds = try await fixture.tenant("thirds")
            let half = try await fixture.tenant("half")
            try await fixture.plan("a-micro-an-hour", currency: "CHF", workspaceHour: 1, for: [thirds, half])
            // Three workspaces, 20 minutes each: a third of a micro each, one micro in all.
            var ids: [WorkspaceID] = []
            for name in ["one", "two", "three"] {
                let id = try await fixture.workspace(name, tenant: thirds, server: nil, cpu: "1", memoryMB: 64, diskGB: 1)
                try await fixture.interval(id, from: "2026-03-02T00:00:00Z", to: "2026-03-02T00:20:00Z")
                ids.append(id)
            }
            // Half a micro rounds up.
            let lone = try await fixture.workspace("lone", tenant: half, server: nil, cpu: "1", memoryMB: 64, diskGB: 1)
            try await fixture.interval(lone, from: "2026-03-02T00:00:00Z", to: "2026-03-02T00:30:00Z")

            let reports = UsageReports()
            let period = try Self.march()
            let report = try await db.withTenant(thirds) { try await reports.report(for: period, in: $0) }
            #expect(report.currency == "CHF")
            #expect(report.costMicros == 1)
            #expect(report.workspaces.map(\.costMicros).reduce(0, +) == 1)
            // Equal remainders: the micro goes to the lowest workspace id.
            let winner = ids.min { $0.description < $1.description }!
            #expect(report.workspaces.filter { $0.costMicros == 1 }.map(\.workspaceID) == [winner])
            let rows = try await db.withTenant(thirds) { try await Self.export(reports, period, batchSize: 10, in: $0) }
            #expect(rows.count == 3 && rows.map(\.costMicros).reduce(0, +) == 1)
            #expect(rows.allSatisfy { $0.serverName == nil && $0.currency == "CHF" })

            let halfReport = try await db.withTenant(half) { try await reports.report(for: period, in: $0) }
            #expect(halfReport.costMicros == 1 && halfReport.workspaces.map(\.costMicros) == [1])
        }
    }

    @Test func openIntervalsCountUpToNowOrThePeriodsEnd() async throws {
        try await withTestDatabase { _, db in
            let fixture = UsageFixture(db: db)
            let tenant = try await fixture.tenant("open")
            try await fixture.plan("per-hour", workspaceHour: 3_600_000, for: [tenant])
            let running = try await fixture.workspace("running", tenant: tenant, server: nil, cpu: "2", memoryMB: 1024, diskGB: 5)
            let startedAt = try await fixture.openInterval(running, secondsAgo: 3600)
            let reports = UsageReports()

            // A period that runs into the future: counted up to the database's now.
            let now = Date()
            let period = try UsagePeriod(from: now.addingTimeInterval(-7200), to: now.addingTimeInterval(3600))
            let report = try await db.withTenant(tenant) { try await reports.report(for: period, in: $0) }
            let expected = Int64((report.measuredAt.timeIntervalSince(startedAt) * 1_000_000).rounded())
            #expect(abs(report.totals.microseconds - expected) <= 1, "\(report.totals.microseconds) vs \(expected)")
            #expect(report.totals.microseconds >= 3_600_000_000)
            // One micro a millisecond: the cost follows the microseconds.
            #expect(abs(report.costMicros - report.totals.microseconds / 1000) <= 1)
            let rows = try await db.withTenant(tenant) { try await Self.export(reports, period, batchSize: 10, in: $0) }
            try #require(rows.count == 1)
            #expect(rows[0].endedAt >= report.measuredAt && rows[0].startedAt == startedAt)
            #expect(abs(rows[0].microseconds - Int64((rows[0].endedAt.timeIntervalSince(startedAt) * 1_000_000).rounded())) <= 1)

            // A period that ended before now: counted up to its end, exactly.
            let past = try UsagePeriod(from: startedAt.addingTimeInterval(-60), to: startedAt.addingTimeInterval(1800))
            let clipped = try await db.withTenant(tenant) { try await reports.report(for: past, in: $0) }
            #expect(abs(clipped.totals.microseconds - 1_800_000_000) <= 1)
            #expect(clipped.costMicros == 1_800_000 || clipped.costMicros == 1_799_999 || clipped.costMicros == 1_800_001)

            // A period before the interval started: nothing, and an empty report is well formed.
            let before = try UsagePeriod(from: startedAt.addingTimeInterval(-7200), to: startedAt.addingTimeInterval(-3600))
            let empty = try await db.withTenant(tenant) { try await reports.report(for: before, in: $0) }
            #expect(empty.workspaces.isEmpty && empty.totals == .zero && empty.costMicros == 0 && empty.currency == "EUR")
        }
    }
}
