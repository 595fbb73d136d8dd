import BerthTestSupport
import Compute
import Domain
import Foundation
import Persistence
import Synchronization
import Testing

/// An export of a million intervals through the HTTP route, against a real `berth serve`: the body
/// streams (the service's memory stays flat while it does), and the rows and money are exact.
@Suite struct ExportStreamingProcessTests {
    /// The service's resident memory now, from /proc.
    static func residentKiB(_ pid: pid_t) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    @Test func aMillionRowsStreamWithFlatMemoryAndExactTotals() async throws {
        let served = try await ServedBerth.start(serverName: "export-1")
        let tenant = try await served.tenant("exporter")
        // 1000 workspaces of 1000 one-minute intervals each, all in November 2026, on a priced plan.
        try await served.db.withConnection { connection in
            try await connection.executeScript("""
                INSERT INTO price_plans (name) VALUES ('export-plan');
                INSERT INTO price_plan_versions (plan_id, effective_from, cpu_core_hour_micros, memory_gb_hour_micros, disk_gb_hour_micros, workspace_hour_micros)
                    SELECT id, '-infinity', 12345, 6789, 11, 333 FROM price_plans WHERE name = 'export-plan';
                INSERT INTO tenant_plan_assignments (tenant_id, effective_from, plan_id)
                    SELECT '\(tenant.id)', '-infinity', id FROM price_plans WHERE name = 'export-plan';
                INSERT INTO workspaces (id, tenant_id, name, status, image, cpu, memory_mb, disk_gb, desired_status, observed_generation)
                    SELECT gen_random_uuid(), '\(tenant.id)', 'ws-' || n, 'deleted', 'berth-busybox:latest', 0.25 * (1 + n % 4), 64 * (1 + n % 8), n % 3, 'deleted', 1
                    FROM generate_series(1, 1000) n;
                INSERT INTO usage_intervals (tenant_id, workspace_id, cpu, memory_mb, disk_gb, started_at, ended_at)
                    SELECT w.tenant_id, w.id, w.cpu, w.memory_mb, w.disk_gb,
                           timestamptz '2026-11-01 00:00:00+00' + make_interval(mins => i * 2) + make_interval(secs => n.k % 59),
                           timestamptz '2026-11-01 00:01:00+00' + make_interval(mins => i * 2) + make_interval(secs => n.k % 59)
                    FROM (SELECT id, tenant_id, cpu, memory_mb, disk_gb, row_number() OVER () AS k FROM workspaces) n
                    JOIN workspaces w ON w.id = n.id
                    CROSS JOIN generate_series(0, 999) i;
                ANALYZE usage_intervals;
                """)
        }
        let period = "from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z"
        // A small export first, so what a first export allocates once is in the baseline.
        _ = try await served.call(.get, "/v1/usage/export?from=2026-11-01T00:00:00Z&to=2026-11-01T00:10:00Z&format=csv", bearer: tenant.key)
        let idle = Self.residentKiB(served.pid)
        let peak = ManagedAtomicFlagCounter()
        let sampler = Task {
            while !Task.isCancelled {
                peak.raise(to: Self.residentKiB(served.pid))
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        let started = ContinuousClock.now
        let export = try await served.call(.get, "/v1/usage/export?\(period)&format=csv", bearer: tenant.key, timeout: .seconds(600))
        let took = ContinuousClock.now - started
        sampler.cancel()
        #expect(export.status == 200)
        // CSV records end in CRLF (RFC 4180); the cost is the last field of each.
        var records = String(decoding: export.body, as: UTF8.self).components(separatedBy: "\r\n")
        if records.last == "" { records.removeLast() }
        let header = records.removeFirst()
        #expect(header.hasSuffix(",cost_micros"), "header: \(header.prefix(300))")
        #expect(records.count == 1_000_000, "rows: \(records.count)")
        let exported = records.reduce(0) { $0 + (Int($1.split(separator: ",").last ?? "") ?? 0) }
        let report = try await served.call(.get, "/v1/usage?\(period)", bearer: tenant.key)
        struct Report: Decodable { struct Cost: Decodable { let micros: Int }; let cost: Cost }
        let total = try JSONDecoder().decode(Report.self, from: report.body).cost.micros
        #expect(total > 0 && exported == total, "the export's lines add up to the report's total: \(exported) vs \(total)")
        let grown = peak.value - idle
        print("export: 1000000 rows, \(export.body.count) bytes in \(took.formatted); berth serve idle \(idle / 1024) MiB, peak \(peak.value / 1024) MiB while streaming (+\(grown / 1024) MiB)")
        #expect(grown < 48 * 1024, "memory grew by \(grown / 1024) MiB while streaming \(export.body.count / 1_048_576) MiB")
        #expect(served.terminate() == 0)
        await served.finish()
    }
}

/// A number that only goes up, shared between tasks.
final class ManagedAtomicFlagCounter: Sendable {
    private let state = Mutex(0)
    var value: Int { state.withLock { $0 } }
    func raise(to candidate: Int) { state.withLock { $0 = max($0, candidate) } }
}
