import Domain
import Foundation

/// `Idempotency-Key` records per tenant: the first request executes, later ones replay its response.
///
/// A claim names the workspace it creates from the start, and holds a lease: should the replica
/// executing it die, a later request with the same key takes the claim over once the lease has run
/// out, and carries on with the same workspace rather than making a second one.
public struct IdempotencyStore: Sendable {
    public init() {}

    /// What a key holds now.
    public enum Claim: Sendable, Equatable {
        /// This request holds the key: create `workspace` (or, when `resumed`, carry on the create a
        /// dead request began), then `complete`.
        case claimed(workspace: WorkspaceID, resumed: Bool)
        /// Another request with the same body is executing.
        case inProgress
        /// The stored response to replay.
        case completed(status: Int, body: [UInt8])
        /// The key was used with a different body.
        case mismatch
    }

    /// Claims `key` for a request whose body hashes to `requestHash`, for `lease`; `workspace` is the
    /// id a new claim creates. Expired keys are forgotten first.
    public func claim(key: String, requestHash: String, workspace: WorkspaceID, lease: Duration, in scope: TenantScope) async throws -> Claim {
        try await scope.execute("DELETE FROM idempotency_keys WHERE tenant_id = \(scope.tenantID) AND key = \(key) AND expires_at < now()")
        let inserted = try await scope.execute("""
            INSERT INTO idempotency_keys (tenant_id, key, request_hash, workspace_id, locked_until)
            VALUES (\(scope.tenantID), \(key), \(requestHash), \(workspace), now() + make_interval(secs => \(lease.inSeconds)))
            ON CONFLICT (tenant_id, key) DO NOTHING
            """).affectedRows == 1
        if inserted { return .claimed(workspace: workspace, resumed: false) }
        guard let row = try await scope.first("""
            SELECT request_hash, state, response_status, response_body, workspace_id, coalesce(locked_until < now(), true) AS lapsed
            FROM idempotency_keys WHERE tenant_id = \(scope.tenantID) AND key = \(key) FOR UPDATE
            """) else { return .inProgress }
        if try row.decode("request_hash", as: String.self) != requestHash { return .mismatch }
        if try row.decode("state", as: String.self) == "completed" {
            return .completed(
                status: try row.decode("response_status", as: Int.self),
                body: try row.decode("response_body", as: PostgresBytes.self).bytes
            )
        }
        guard try row.decode("lapsed", as: Bool.self) else { return .inProgress }
        // The request holding it is gone: take it over, with the workspace it chose.
        let chosen = try row.decode("workspace_id", as: WorkspaceID?.self) ?? workspace
        try await scope.execute("""
            UPDATE idempotency_keys SET locked_until = now() + make_interval(secs => \(lease.inSeconds)), workspace_id = \(chosen)
            WHERE tenant_id = \(scope.tenantID) AND key = \(key)
            """)
        return .claimed(workspace: chosen, resumed: true)
    }

    /// Stores the answer the key replays from now on. The first answer stays: a request that took
    /// the key over from a slow one creates the same workspace, and whichever finishes second must
    /// not change what the first already told its client.
    public func complete(key: String, status: Int, body: [UInt8], in scope: TenantScope) async throws {
        try await scope.execute("""
            UPDATE idempotency_keys SET state = 'completed', response_status = \(status), response_body = \(PostgresBytes(body)), locked_until = NULL
            WHERE tenant_id = \(scope.tenantID) AND key = \(key) AND state = 'in_progress'
            """)
    }

    /// Forgets a claim whose request failed unexpectedly or was refused for now, so the client may try again.
    public func release(key: String, in scope: TenantScope) async throws {
        try await scope.execute("DELETE FROM idempotency_keys WHERE tenant_id = \(scope.tenantID) AND key = \(key) AND state = 'in_progress'")
    }
}
