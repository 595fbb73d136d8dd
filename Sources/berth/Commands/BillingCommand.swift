import ArgumentParser
import Billing
import Domain
import Foundation
import Persistence

/// `berth billing …`: finance's exports from a shell.
struct BillingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "billing", abstract: "Billing exports.", subcommands: [Export.self]
    )

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stream usage intervals clipped to a period and rated, as the admin export routes do.",
            discussion: "On a terminal, progress (rows and bytes so far) is shown on standard error; none when it is not one."
        )

        @OptionGroup var database: DatabaseOptions
        @Option(help: "One tenant, by name.") var tenant: String?
        @Flag(help: "Every tenant.") var all = false
        @Option(help: "Start of the period, RFC 3339 (e.g. 2026-11-01T00:00:00Z).") var from: String
        @Option(help: "End of the period (exclusive), RFC 3339; at most 366 days after the start.") var to: String
        @Option(help: "csv or json.") var format: String = "csv"
        @Option(help: "Write here instead of standard output (replaced if it exists).") var output: String?

        func validate() throws {
            guard (tenant == nil) != !all else { throw ValidationError("give exactly one of --tenant NAME and --all") }
            guard UsageExportEncoder.Format(rawValue: format) != nil else { throw ValidationError("--format must be csv or json") }
        }

        func run() async throws {
            guard let start = RFC3339.parse(from[...]) else { Bootstrap.fail("--from is not an RFC 3339 date-time: \(from)") }
            guard let end = RFC3339.parse(to[...]) else { Bootstrap.fail("--to is not an RFC 3339 date-time: \(to)") }
            let period: UsagePeriod
            do { period = try UsagePeriod(from: start, to: end) } catch { Bootstrap.fail("\(error.description)") }
            let sink: ExportSink
            do { sink = try ExportSink(path: output) } catch { Bootstrap.fail("cannot write \(output ?? "standard output"): \(error)") }
            var encoder = UsageExportEncoder(format: UsageExportEncoder.Format(rawValue: format)!, period: period)
            let progress = Progress(enabled: isatty(STDERR_FILENO) == 1)
            try await CommandDatabase.run(database) { db in
                try await db.withSystem { scope in
                    var tenantID: TenantID?
                    if let tenant {
                        guard let found = try await TenantStore().get(named: tenant, in: scope) else { Bootstrap.fail("no tenant named \(tenant)") }
                        tenantID = found.id
                    }
                    try sink.write(encoder.prologue())
                    try await UsageReports().export(tenant: tenantID, for: period, in: scope) { rows in
                        let bytes = try encoder.encode(rows)
                        try sink.write(bytes)
                        progress.advance(rows: rows.count, bytes: bytes.count)
                    }
                    try sink.write(encoder.epilogue())
                }
            }
            try sink.close()
            progress.finish()
        }
    }
}

/// Where an export goes: a file, or standard output.
final class ExportSink {
    private let handle: FileHandle
    private let owned: Bool

    init(path: String?) throws {
        if let path {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw ConfigurationError("the file cannot be created")
            }
            handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            owned = true
        } else {
            handle = FileHandle.standardOutput
            owned = false
        }
    }

    func write(_ bytes: [UInt8]) throws {
        try handle.write(contentsOf: bytes)
    }

    func close() throws {
        if owned { try handle.close() }
    }
}

/// Rows and bytes so far on one line of standard error, redrawn at most ten times a second.
final class Progress {
    private let enabled: Bool
    private var rows = 0
    private var bytes = 0
    private var drawn = ContinuousClock.now - .seconds(1)

    init(enabled: Bool) { self.enabled = enabled }

    func advance(rows: Int, bytes: Int) {
        self.rows += rows
        self.bytes += bytes
        guard enabled, ContinuousClock.now - drawn >= .milliseconds(100) else { return }
        draw()
    }

    func finish() {
        guard enabled else { return }
        draw()
        FileHandle.standardError.write(Data("\n".utf8))
    }

    private func draw() {
        drawn = ContinuousClock.now
        let mebibytes = Double(bytes) / 1_048_576
        FileHandle.standardError.write(Data("\r\u{1B}[K\(rows) rows, \(String(format: "%.1f", mebibytes)) MiB".utf8))
    }
}
