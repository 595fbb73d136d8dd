import Domain
import Foundation

/// One usage interval clipped to an export's period, with its cost.
public struct UsageExportRow: Sendable, Equatable {
    public var tenantID: TenantID
    public var workspaceID: WorkspaceID
    public var workspaceName: String
    /// `nil` when the interval has no server.
    public var serverName: String?
    /// The later of the interval's start and the period's start.
    public var startedAt: Date
    /// The earliest of the interval's end, the period's end and, for a running workspace, now.
    public var endedAt: Date
    /// `endedAt - startedAt` in microseconds, exact.
    public var microseconds: Int64
    public var cpuMillis: Int
    public var memoryMB: Int
    public var diskGB: Int
    public var currency: String
    /// This interval's share of its tenant's total cost for the period; a tenant's rows add up to its
    /// report's total exactly.
    public var costMicros: Int64

    public init(
        tenantID: TenantID, workspaceID: WorkspaceID, workspaceName: String, serverName: String?, startedAt: Date,
        endedAt: Date, microseconds: Int64, cpuMillis: Int, memoryMB: Int, diskGB: Int, currency: String, costMicros: Int64
    ) {
        self.tenantID = tenantID
        self.workspaceID = workspaceID
        self.workspaceName = workspaceName
        self.serverName = serverName
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.microseconds = microseconds
        self.cpuMillis = cpuMillis
        self.memoryMB = memoryMB
        self.diskGB = diskGB
        self.currency = currency
        self.costMicros = costMicros
    }
}
