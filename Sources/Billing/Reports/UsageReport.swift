import Domain
import Foundation

/// One tenant's metered usage over a period, rated with its price plan: totals and one line per workspace.
public struct UsageReport: Sendable, Equatable {
    public var tenantID: TenantID
    public var period: UsagePeriod
    /// The database's clock when the report was read: open intervals count up to here (or to the
    /// period's end, whichever comes first).
    public var measuredAt: Date
    /// The plan's currency, or EUR without a plan.
    public var currency: String
    /// The tenant's price plan; `nil` rates everything at zero.
    public var plan: PricePlan?
    public var totals: UsageQuantities
    /// The exact cost of all usage in the period, rounded half up to a whole micro once.
    public var costMicros: Int64
    /// Workspaces that ran in the period, by name. Their costs add up to `costMicros` exactly.
    public var workspaces: [WorkspaceUsage]

    public init(
        tenantID: TenantID, period: UsagePeriod, measuredAt: Date, currency: String, plan: PricePlan?,
        totals: UsageQuantities, costMicros: Int64, workspaces: [WorkspaceUsage]
    ) {
        self.tenantID = tenantID
        self.period = period
        self.measuredAt = measuredAt
        self.currency = currency
        self.plan = plan
        self.totals = totals
        self.costMicros = costMicros
        self.workspaces = workspaces
    }
}

/// One workspace's line in a usage report.
public struct WorkspaceUsage: Sendable, Equatable {
    public var workspaceID: WorkspaceID
    public var name: String
    public var quantities: UsageQuantities
    /// This line's share of the report's total cost (see `UsageReports` for how the total is divided).
    public var costMicros: Int64

    public init(workspaceID: WorkspaceID, name: String, quantities: UsageQuantities, costMicros: Int64) {
        self.workspaceID = workspaceID
        self.name = name
        self.quantities = quantities
        self.costMicros = costMicros
    }
}

/// What was used: running time exactly, resource-hours rounded to six decimal places.
public struct UsageQuantities: Sendable, Equatable {
    /// Running time in microseconds, exact.
    public var microseconds: Int64
    public var cpuCoreHours: Double
    /// Memory in GiB-hours (memory_mb / 1024).
    public var memoryGBHours: Double
    public var diskGBHours: Double
    /// Running time in hours: one per workspace per hour.
    public var workspaceHours: Double

    public init(microseconds: Int64, cpuCoreHours: Double, memoryGBHours: Double, diskGBHours: Double, workspaceHours: Double) {
        self.microseconds = microseconds
        self.cpuCoreHours = cpuCoreHours
        self.memoryGBHours = memoryGBHours
        self.diskGBHours = diskGBHours
        self.workspaceHours = workspaceHours
    }

    /// Nothing used.
    public static let zero = UsageQuantities(microseconds: 0, cpuCoreHours: 0, memoryGBHours: 0, diskGBHours: 0, workspaceHours: 0)

    /// Running time in seconds (microsecond resolution).
    public var seconds: Double { Double(microseconds) / 1_000_000 }
}

/// A price plan: prices in micros of `currency` per hour of each resource.
public struct PricePlan: Sendable, Equatable {
    public var id: UUID
    public var name: String
    public var currency: String
    public var cpuCoreHourMicros: Int64
    public var memoryGBHourMicros: Int64
    public var diskGBHourMicros: Int64
    public var workspaceHourMicros: Int64

    public init(
        id: UUID, name: String, currency: String, cpuCoreHourMicros: Int64, memoryGBHourMicros: Int64,
        diskGBHourMicros: Int64, workspaceHourMicros: Int64
    ) {
        self.id = id
        self.name = name
        self.currency = currency
        self.cpuCoreHourMicros = cpuCoreHourMicros
        self.memoryGBHourMicros = memoryGBHourMicros
        self.diskGBHourMicros = diskGBHourMicros
        self.workspaceHourMicros = workspaceHourMicros
    }
}

/// One tenant's invoice figures for a period: what `GET /admin/billing/summary` lists.
public struct TenantBillingSummary: Sendable, Equatable {
    public var tenantID: TenantID
    public var tenantName: String
    public var currency: String
    /// The rows the tenant's export for the same period has.
    public var lines: Int
    /// Running time in microseconds, exact.
    public var microseconds: Int64
    /// The exact cost rounded half up once: the sum of the export's lines, to the micro.
    public var costMicros: Int64

    public init(tenantID: TenantID, tenantName: String, currency: String, lines: Int, microseconds: Int64, costMicros: Int64) {
        self.tenantID = tenantID
        self.tenantName = tenantName
        self.currency = currency
        self.lines = lines
        self.microseconds = microseconds
        self.costMicros = costMicros
    }
}
