import Domain
import Foundation

/// Reads and writes `api_keys`. It never sees a key: only its lookup prefix and hash.
public struct APIKeyStore: Sendable {
    public init() {}

    static let columns = "id, tenant_id, name, prefix, created_at, last_used_at, revoked_at"

    /// A key record together with the stored hash, for verification.
    public struct Credential: Sendable {
        public let record: APIKeyRecord
        public let hash: [UInt8]
        /// `false` when the key's tenant is suspended.
        public let tenantActive: Bool
    }

    public func insert(
        tenantID: TenantID, name: String, prefix: String, hash: [UInt8], in scope: SystemScope
    ) async throws -> APIKeyRecord {
        let row = try await scope.first("""
            INSERT INTO api_keys (tenant_id, name, prefix, key_hash)
            VALUES (\(tenantID), \(name), \(prefix), \(PostgresBytes(hash)))
            RETURNING \(unsafeRaw: Self.columns)
            """)
        guard let row else { throw PostgresError(code: .other, message: "insert returned no row") }
        return try Self.decode(row)
    }

    /// The key with this prefix, revoked or not. Authentication runs before a tenant is known,
    /// hence the system scope; it runs on every request, hence one statement of its own
    /// (`Database.readOnce`) rather than a transaction.
    public func credential(prefix: String, in database: Database) async throws -> Credential? {
        guard let row = try await database.readOnce("""
            SELECT \(unsafeRaw: Self.columns), key_hash,
                (SELECT status = 'active' FROM tenants WHERE tenants.id = api_keys.tenant_id) AS tenant_active
            FROM api_keys WHERE prefix = \(prefix)
            """).first
        else { return nil }
        return Credential(
            record: try Self.decode(row), hash: try row.decode("key_hash", as: PostgresBytes.self).bytes,
            tenantActive: try row.decode("tenant_active")
        )
    }

    public func list(tenantID: TenantID, in scope: SystemScope) async throws -> [APIKeyRecord] {
        try await scope.execute(
            "SELECT \(unsafeRaw: Self.columns) FROM api_keys WHERE tenant_id = \(tenantID) ORDER BY created_at, id"
        ).map(Self.decode)
    }

    /// Revokes a key of `tenantID`; `false` when no such live key exists.
    public func revoke(_ id: APIKeyID, tenantID: TenantID, in scope: SystemScope) async throws -> Bool {
        try await scope.execute("""
            UPDATE api_keys SET revoked_at = now()
            WHERE id = \(id) AND tenant_id = \(tenantID) AND revoked_at IS NULL
            """).affectedRows == 1
    }

    /// Records use at most once a minute per key, so authentication does not write on every request.
    public func touch(_ id: APIKeyID, in scope: SystemScope) async throws {
        try await scope.execute("""
            UPDATE api_keys SET last_used_at = now()
            WHERE id = \(id) AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
            """)
    }

    static func decode(_ row: PostgresRow) throws -> APIKeyRecord {
        APIKeyRecord(
            id: try row.decode("id"),
            tenantID: try row.decode("tenant_id"),
            name: try row.decode("name"),
            prefix: try row.decode("prefix"),
            createdAt: try row.decode("created_at"),
            lastUsedAt: try row.decode("last_used_at"),
            revokedAt: try row.decode("revoked_at")
        )
    }
}
