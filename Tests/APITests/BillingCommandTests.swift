import BerthTestSupport
import Billing
import Domain
import Foundation
import Persistence
import Testing

/// `berth billing export` streams the same rows as the admin export routes, from a shell.
@Suite struct BillingCommandTests {
    static func binary() throws -> String {
        let path = TestEnvironment.repositoryRoot.appendingPathComponent(".build/debug/berth").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestEnvironment.Missing(description: "\(path) is not built: run `swift build` (make test does)")
        }
        return path
    }

    /// The export as the service encodes it, for comparison.
    static func expected(_ db: Database, tenant: TenantID?, format: UsageExportEncoder.Format, period: UsagePeriod) async throws -> String {
        var encoder = UsageExportEncoder(format: format, period: period)
        var bytes = encoder.prologue()
        try await db.withSystem { scope in
            try await UsageReports().export(tenant: tenant, for: period, in: scope) { bytes += try encoder.encode($0) }
        }
        bytes += encoder.epilogue()
        return String(decoding: bytes, as: UTF8.self)
    }

    static func quoted(_ words: [String]) -> String {
        words.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
    }

    @Test func exportsTheSameRowsToAFileAPipeAndATerminal() async throws {
        try await withTestDatabase { testDB, db in
            let fixture = UsageFixture(db: db)
            let acme = try await fixture.tenant("acme"), globex = try await fixture.tenant("globex")
            try await fixture.plan("standard", cpuCoreHour: 10_001, memoryGBHour: 3, for: [acme, globex])
            for (tenant, count) in [(acme, 700), (globex, 300)] {
                let id = try await fixture.workspace("w", tenant: tenant, server: nil, cpu: "0.5", memoryMB: 300, diskGB: 0)
                try await db.withSystem { scope in
                    try await scope.execute("""
                        INSERT INTO usage_intervals (tenant_id, workspace_id, cpu, memory_mb, disk_gb, started_at, ended_at)
                        SELECT \(tenant), \(id), 0.5, 300, 0, '2026-03-01T00:00:00Z'::timestamptz + n * interval '7 minutes',
                               '2026-03-01T00:05:00Z'::timestamptz + n * interval '7 minutes'
                        FROM generate_series(0, \(count - 1)) n
                        """)
                }
            }
            let period = try UsagePeriod(from: try #require(RFC3339.parse("2026-03-01T00:00:00Z")), to: try #require(RFC3339.parse("2026-04-01T00:00:00Z")))
            let berth = try Self.binary()
            let directory = NSTemporaryDirectory() + "berth-billing-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let environment = ["BERTH_DATABASE_URL": testDB.appURL]
            let periodArguments = ["--from", "2026-03-01T00:00:00Z", "--to", "2026-04-01T00:00:00Z"]

            // One tenant, CSV, to a file; nothing on the (non-terminal) standard error.
            let file = directory + "/acme.csv"
            let quiet = try TestEnvironment.run([berth, "billing", "export", "--tenant", "acme"] + periodArguments + ["--output", file], environment: environment)
            #expect(quiet.isEmpty, "no progress when not on a terminal: \(quiet)")
            let csv = try String(contentsOfFile: file, encoding: .utf8)
            #expect(csv == (try await Self.expected(db, tenant: acme, format: .csv, period: period)))
            #expect(csv.split(separator: "\r\n").count == 1 + 700)

            // Every tenant, JSON, through a pipe; standard error kept apart.
            let piped = directory + "/all.json", errors = directory + "/errors"
            _ = try TestEnvironment.run(["/bin/sh", "-c", Self.quoted([berth, "billing", "export", "--all", "--format", "json"] + periodArguments) + " 2>'\(errors)' | cat >'\(piped)'"], environment: environment)
            #expect(try String(contentsOfFile: piped, encoding: .utf8) == (try await Self.expected(db, tenant: nil, format: .json, period: period)))
            #expect(try String(contentsOfFile: errors, encoding: .utf8).isEmpty)

            // On a terminal (a pseudo-terminal from script(1)), the progress shows rows and bytes.
            let shown = try TestEnvironment.run(["script", "-qec", Self.quoted([berth, "billing", "export", "--all", "--output", directory + "/tty.csv"] + periodArguments), "/dev/null"], environment: environment)
            #expect(shown.contains("1000 rows"), "\(shown)")
            #expect(shown.contains("MiB"), "\(shown)")

            // Mistakes are one line, and exit non-zero.
            for (arguments, message) in [
                (["--tenant", "acme", "--all"] + periodArguments, "exactly one of"),
                (["--tenant", "nobody"] + periodArguments, "no tenant named nobody"),
                (["--all", "--from", "2026-03-01", "--to", "2026-04-01T00:00:00Z"], "RFC 3339"),
                (["--all", "--from", "2026-03-01T00:00:00Z", "--to", "2027-04-01T00:00:00Z"], "366 days"),
                (["--all", "--format", "xml"] + periodArguments, "csv or json"),
            ] {
                #expect(throws: TestEnvironment.Missing.self, "\(arguments)") {
                    try TestEnvironment.run([berth, "billing", "export"] + arguments, environment: environment)
                }
                do {
                    _ = try TestEnvironment.run([berth, "billing", "export"] + arguments, environment: environment)
                } catch let failure as TestEnvironment.Missing {
                    #expect(failure.description.contains(message), "\(failure.description)")
                }
            }
        }
    }
}
