import Foundation

/// The stored record of an API key: never the key itself, only its lookup prefix.
public struct APIKeyRecord: Sendable, Equatable, Codable {
    public var id: APIKeyID
    public var tenantID: TenantID
    public var name: String
    public var prefix: String
    public var createdAt: Date
    public var lastUsedAt: Date?
    public var revokedAt: Date?

    public init(
        id: APIKeyID, tenantID: TenantID, name: String, prefix: String,
        createdAt: Date, lastUsedAt: Date?, revokedAt: Date?
    ) {
        self.id = id
        self.tenantID = tenantID
        self.name = name
        self.prefix = prefix
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.revokedAt = revokedAt
    }

    public var isRevoked: Bool { revokedAt != nil }
}
