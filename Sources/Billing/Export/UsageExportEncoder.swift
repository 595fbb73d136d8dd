import Domain
import Foundation

/// Writes export rows as CSV or JSON a batch at a time, so an export can be streamed: `prologue()`,
/// then `encode(_:)` for each batch, then `epilogue()`.
///
/// CSV has a header row and one record per row. JSON is
/// `{"period": {"from", "to"}, "rows": [{…}, …]}`. Both carry the same columns: tenant_id,
/// workspace_id, workspace_name, server_name, started_at, ended_at, seconds, cpu, memory_mb, disk_gb,
/// currency, cost_micros.
public struct UsageExportEncoder: Sendable {
    /// The formats an export comes in.
    public enum Format: String, Sendable, CaseIterable {
        case csv, json

        public var contentType: String {
            switch self {
            case .csv: "text/csv; charset=utf-8"
            case .json: "application/json"
            }
        }
    }

    public let format: Format
    public let period: UsagePeriod
    private var rowsWritten = 0

    public init(format: Format, period: UsagePeriod) {
        self.format = format
        self.period = period
    }

    static let columns = [
        "tenant_id", "workspace_id", "workspace_name", "server_name", "started_at", "ended_at",
        "seconds", "cpu", "memory_mb", "disk_gb", "currency", "cost_micros",
    ]

    /// A file name for `Content-Disposition`: `berth-usage-20261101T000000Z-20261201T000000Z.csv`.
    public var fileName: String {
        "berth-usage-\(RFC3339.compact(period.from))-\(RFC3339.compact(period.to)).\(format.rawValue)"
    }

    /// What comes before the first row.
    public func prologue() -> [UInt8] {
        switch format {
        case .csv:
            return Array(CSV.record(Self.columns.map(CSV.Field.literal)).utf8)
        case .json:
            let period = #"{"from":"\#(RFC3339.format(period.from))","to":"\#(RFC3339.format(period.to))"}"#
            return Array(#"{"period":\#(period),"rows":["#.utf8)
        }
    }

    /// The rows of one batch.
    public mutating func encode(_ rows: [UsageExportRow]) throws -> [UInt8] {
        var out: [UInt8] = []
        switch format {
        case .csv:
            for row in rows {
                out += CSV.record([
                    .literal(row.tenantID.description), .literal(row.workspaceID.description),
                    .text(row.workspaceName), .text(row.serverName ?? ""),
                    .literal(RFC3339.format(row.startedAt)), .literal(RFC3339.format(row.endedAt)),
                    .literal(FixedPoint.format(row.microseconds, scale: 6)),
                    .literal(FixedPoint.format(Int64(row.cpuMillis), scale: 3)),
                    .literal(String(row.memoryMB)), .literal(String(row.diskGB)),
                    .text(row.currency), .literal(String(row.costMicros)),
                ]).utf8
            }
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            for row in rows {
                if rowsWritten > 0 { out.append(UInt8(ascii: ",")) }
                out += try encoder.encode(JSONRow(row))
                rowsWritten += 1
            }
        }
        return out
    }

    /// What comes after the last row.
    public func epilogue() -> [UInt8] {
        switch format {
        case .csv: []
        case .json: Array("]}".utf8)
        }
    }

    /// A row as JSON: numbers as numbers, times in RFC 3339.
    struct JSONRow: Encodable {
        let tenant_id: String
        let workspace_id: String
        let workspace_name: String
        let server_name: String?
        let started_at: String
        let ended_at: String
        let seconds: Double
        let cpu: Double
        let memory_mb: Int
        let disk_gb: Int
        let currency: String
        let cost_micros: Int64

        init(_ row: UsageExportRow) {
            tenant_id = row.tenantID.description
            workspace_id = row.workspaceID.description
            workspace_name = row.workspaceName
            server_name = row.serverName
            started_at = RFC3339.format(row.startedAt)
            ended_at = RFC3339.format(row.endedAt)
            seconds = Double(row.microseconds) / 1_000_000
            cpu = Double(row.cpuMillis) / 1000
            memory_mb = row.memoryMB
            disk_gb = row.diskGB
            currency = row.currency
            cost_micros = row.costMicros
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(tenant_id, forKey: .tenant_id)
            try container.encode(workspace_id, forKey: .workspace_id)
            try container.encode(workspace_name, forKey: .workspace_name)
            // Present as null rather than left out, so every row has every column.
            try container.encode(server_name, forKey: .server_name)
            try container.encode(started_at, forKey: .started_at)
            try container.encode(ended_at, forKey: .ended_at)
            try container.encode(seconds, forKey: .seconds)
            try container.encode(cpu, forKey: .cpu)
            try container.encode(memory_mb, forKey: .memory_mb)
            try container.encode(disk_gb, forKey: .disk_gb)
            try container.encode(currency, forKey: .currency)
            try container.encode(cost_micros, forKey: .cost_micros)
        }

        enum CodingKeys: String, CodingKey {
            case tenant_id, workspace_id, workspace_name, server_name, started_at, ended_at, seconds, cpu, memory_mb, disk_gb, currency, cost_micros
        }
    }
}
