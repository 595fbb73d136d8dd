import Domain
import Foundation

/// The audit log: one `audit_events` row per admin or tenant mutation.
///
/// Details never carry secrets: callers pass names, ids and sizes, never keys, tokens or env values.
public struct AuditStore: Sendable {
    public init() {}

    public enum Actor: Sendable, Equatable {
        case admin
        /// A tenant, by the id of the API key it used.
        case tenant(APIKeyID)
        case system

        var type: String {
            switch self {
            case .admin: "admin"
            case .tenant: "tenant"
            case .system: "system"
            }
        }

        var id: String? {
            switch self {
            case .admin, .system: nil
            case .tenant(let key): key.description
            }
        }
    }

    /// One audit row as read back.
    public struct Event: Sendable, Codable, Equatable {
        public let id: Int
        public let tenant_id: TenantID?
        public let actor_type: String
        public let actor_id: String?
        public let action: String
        public let target_type: String?
        public let target_id: String?
        public let details: [String: String]
        public let created_at: Date
    }

    /// What `list` filters on; nil matches everything.
    public struct Filter: Sendable {
        public var actorType: String?
        public var actorID: String?
        public var action: String?
        public var tenantID: TenantID?
        public var from: Date?
        public var to: Date?
        public init(actorType: String? = nil, actorID: String? = nil, action: String? = nil, tenantID: TenantID? = nil, from: Date? = nil, to: Date? = nil) {
            self.actorType = actorType
            self.actorID = actorID
            self.action = action
            self.tenantID = tenantID
            self.from = from
            self.to = to
        }
    }

    /// Records a mutation. In a tenant scope the row can only be the tenant's own (row-level security).
    public func record(
        _ actor: Actor, action: String, tenant: TenantID?, target: (type: String, id: String)? = nil,
        details: [String: String] = [:], in scope: some QueryRunner
    ) async throws {
        try await scope.execute("""
            INSERT INTO audit_events (tenant_id, actor_type, actor_id, action, target_type, target_id, details)
            VALUES (\(tenant), \(actor.type), \(actor.id), \(action), \(target?.type), \(target?.id), \(PostgresJSON(details))::jsonb)
            """)
    }

    /// A page, newest first, of events older than the `before` id.
    public func list(_ filter: Filter, before: Int?, limit: Int, in scope: SystemScope) async throws -> [Event] {
        try await scope.execute("""
            SELECT id, tenant_id, actor_type, actor_id, action, target_type, target_id, details, created_at FROM audit_events
            WHERE (\(filter.actorType)::text IS NULL OR actor_type = \(filter.actorType))
              AND (\(filter.actorID)::text IS NULL OR actor_id = \(filter.actorID))
              AND (\(filter.action)::text IS NULL OR action = \(filter.action))
              AND (\(filter.tenantID)::uuid IS NULL OR tenant_id = \(filter.tenantID))
              AND (\(filter.from)::timestamptz IS NULL OR created_at >= \(filter.from))
              AND (\(filter.to)::timestamptz IS NULL OR created_at < \(filter.to))
              AND (\(before)::bigint IS NULL OR id < \(before))
            ORDER BY id DESC
            LIMIT \(limit)
            """).map { row in
            Event(
                id: try row.decode("id"), tenant_id: try row.decode("tenant_id"), actor_type: try row.decode("actor_type"),
                actor_id: try row.decode("actor_id"), action: try row.decode("action"), target_type: try row.decode("target_type"),
                target_id: try row.decode("target_id"), details: try row.decode("details", as: PostgresJSON<[String: String]>.self).value,
                created_at: try row.decode("created_at")
            )
        }
    }
}
