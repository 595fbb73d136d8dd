import Foundation

/// A customer of Berth: owns workspaces, API keys and usage.
public struct Tenant: Sendable, Equatable, Codable {
    public var id: TenantID
    public var name: String
    public var status: Status
    public var quota: Quota
    /// The plan usage is rated with; none rates at zero.
    public var pricePlanID: PricePlanID?
    public var createdAt: Date
    /// Running workspaces idle this long are stopped (a workspace may say otherwise); nil or 0: never.
    public var idleStopMinutes: Double?
    /// Workspaces older than this are stopped; nil or 0: no limit.
    public var maxLifetimeMinutes: Double?

    /// Whether a tenant may act.
    public enum Status: String, Sendable, Codable, CaseIterable {
        case active
        case suspended
    }

    public init(
        id: TenantID, name: String, status: Status, quota: Quota, pricePlanID: PricePlanID? = nil, createdAt: Date,
        idleStopMinutes: Double? = nil, maxLifetimeMinutes: Double? = nil
    ) {
        self.id = id
        self.name = name
        self.status = status
        self.quota = quota
        self.pricePlanID = pricePlanID
        self.createdAt = createdAt
        self.idleStopMinutes = idleStopMinutes
        self.maxLifetimeMinutes = maxLifetimeMinutes
    }
}

/// The most a tenant may hold at once.
public struct Quota: Sendable, Equatable, Codable {
    public var maxWorkspaces: Int
    /// CPU in millicores, so quota arithmetic stays exact.
    public var maxCPUMillis: Int
    public var maxMemoryMB: Int
    /// Disk over every workspace that exists, running or not (as `maxWorkspaces` counts them).
    public var maxDiskGB: Int

    public init(maxWorkspaces: Int, maxCPUMillis: Int, maxMemoryMB: Int, maxDiskGB: Int = Quota.standardDiskGB) {
        self.maxWorkspaces = maxWorkspaces
        self.maxCPUMillis = maxCPUMillis
        self.maxMemoryMB = maxMemoryMB
        self.maxDiskGB = maxDiskGB
    }

    public static let standardDiskGB = 200

    /// The quota a new tenant gets unless told otherwise.
    public static let standard = Quota(maxWorkspaces: 10, maxCPUMillis: 8_000, maxMemoryMB: 16_384)
}

/// Rules for tenant names: DNS-label-like, so they are safe in labels, logs and URLs.
public enum TenantName {
    public static let maxLength = 63

    /// Returns a reason when `name` is not acceptable, `nil` when it is.
    public static func problem(with name: String) -> String? {
        if name.isEmpty { return "name must not be empty" }
        if name.count > maxLength { return "name must be at most \(maxLength) characters" }
        let allowed = name.unicodeScalars.allSatisfy { scalar in
            ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "-"
        }
        if !allowed { return "name may contain only a-z, 0-9 and '-'" }
        if name.hasPrefix("-") || name.hasSuffix("-") { return "name must start and end with a letter or digit" }
        return nil
    }
}
