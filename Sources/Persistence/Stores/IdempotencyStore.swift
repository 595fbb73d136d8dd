import Domain
import Foundation

/// `Idempotency-Key` records per tenant: the first request executes, later ones replay its response.
public struct IdempotencyStore: Sendable {
    public init() {}

    /// What a key holds now.
    public enum Claim: Sendable, Equatable {
        /// This request claimed the key: execute, then `complete`.
        case claimed
        /// Another request with the same body is executing.
        case inProgress
        /// The stored response to replay.
        case completed(status: Int, body: [UInt8])
        /// The key was used with a different body.
        case mismatch
    }

    /// Claims `key` for a request whose body hashes to `requestHash`; expired keys are forgotten first.
    public func claim(key: String, requestHash: String, in scope: TenantScope) async throws -> Claim {
        try await scope.execute("DELETE FROM idempotency_keys WHERE tenant_id = \(scope.tenantID) AND key = \(key) AND expires_at < now()")
        let inserted = try await scope.execute("""
            INSERT INTO idempotency_keys (tenant_id, key, request_hash) VALUES (\(scope.tenantID), \(key), \(requestHash))
            ON CONFLICT (tenant_id, key) DO NOTHING
            """).affectedRows == 1
        if inserted { return .claimed }
        guard let row = try await scope.first("""
            SELECT request_hash, state, response_status, response_body FROM idempotency_keys
            WHERE tenant_id = \(scope.tenantID) AND key = \(key)
            """) else { return .inProgress }
        if try row.decode("request_hash", as: String.self) != requestHash { return .mismatch }
        if try row.decode("state", as: String.self) != "completed" { return .inProgress }
        return .completed(
            status: try row.decode("response_status", as: Int.self),
            body: try row.decode("response_body", as: PostgresBytes.self).bytes
        )
    }

    public func complete(key: String, status: Int, body: [UInt8], in scope: TenantScope) async throws {
        try await scope.execute("""
            UPDATE idempotency_keys SET state = 'completed', response_status = \(status), response_body = \(PostgresBytes(body))
            WHERE tenant_id = \(scope.tenantID) AND key = \(key)
            """)
    }

    /// Forgets a claim whose request failed unexpectedly, so the client may try again.
    public func release(key: String, in scope: TenantScope) async throws {
        try await scope.execute("DELETE FROM idempotency_keys WHERE tenant_id = \(scope.tenantID) AND key = \(key) AND state = 'in_progress'")
    }
}
