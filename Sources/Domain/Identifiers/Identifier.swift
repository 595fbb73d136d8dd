import Foundation

/// A typed UUID identifier, so a tenant id can never be passed where a workspace id is expected.
public protocol Identifier: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible
where RawValue == UUID {
    init(rawValue: UUID)
}

extension Identifier {
    /// A fresh random identifier.
    public static func random() -> Self { Self(rawValue: UUID()) }

    /// Parses the canonical textual form; `nil` for anything that is not a UUID.
    public init?(_ text: String) {
        guard let uuid = UUID(uuidString: text) else { return nil }
        self.init(rawValue: uuid)
    }

    public var description: String { rawValue.uuidString.lowercased() }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let uuid = UUID(uuidString: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a UUID")
        }
        self.init(rawValue: uuid)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Identifies a tenant.
public struct TenantID: Identifier {
    public let rawValue: UUID
    public init(rawValue: UUID) { self.rawValue = rawValue }
}

/// Identifies an API key (not the secret: the key's record).
public struct APIKeyID: Identifier {
    public let rawValue: UUID
    public init(rawValue: UUID) { self.rawValue = rawValue }
}

/// Identifies a workspace server (a Docker Engine).
public struct ServerID: Identifier {
    public let rawValue: UUID
    public init(rawValue: UUID) { self.rawValue = rawValue }
}

/// Identifies a workspace.
public struct WorkspaceID: Identifier {
    public let rawValue: UUID
    public init(rawValue: UUID) { self.rawValue = rawValue }
}

/// Identifies a price plan.
public struct PricePlanID: Identifier {
    public let rawValue: UUID
    public init(rawValue: UUID) { self.rawValue = rawValue }
}
