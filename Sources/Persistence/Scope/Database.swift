import Domain
import Foundation
import Logging

/// The entry point to PostgreSQL: scoped connections, transactions and tenant scopes.
///
/// Connections are only ever lent inside a closure and returned when it ends.
public final class Database: Sendable {
    public let configuration: DatabaseConfiguration
    /// The NOLOGIN role tenant traffic switches to; row-level security binds it.
    public let tenantRole: String
    let pool: ConnectionPool
    let logger: Logger

    public init(configuration: DatabaseConfiguration, tenantRole: String = "berth_tenant", logger: Logger) {
        self.configuration = configuration
        self.tenantRole = tenantRole
        self.logger = logger
        self.pool = ConnectionPool(configuration: configuration, logger: logger)
    }

    /// Fails queued callers and stops handing out connections.
    public func shutdown() { pool.shutdown() }

    /// Open, idle and waiting counts of the pool.
    public var poolStatistics: (total: Int, idle: Int, waiting: Int) { pool.statistics }

    /// A connection outside any transaction (autocommit), for single statements and session work.
    @discardableResult
    public func withConnection<T>(_ body: (DatabaseConnection) async throws -> T) async throws -> T {
        try await pool.withConnection { box in try await body(DatabaseConnection(box: box)) }
    }

    /// Runs `body` while holding the session advisory lock `key`, if no other session holds it;
    /// nil, without running `body`, if one does. For work one replica at a time does (a
    /// reconciler pass, a scaling pass). Were the connection lost instead of unlocked, the server
    /// would release the lock with the session.
    public func ifAdvisoryLockFree<T>(_ key: Int64, _ body: () async -> T) async throws -> T? {
        try await withConnection { connection in
            let locked = try await connection.first("SELECT pg_try_advisory_lock(\(key)) AS locked")?.decode("locked", as: Bool.self) ?? false
            guard locked else { return nil }
            let value = await body()
            try await connection.execute("SELECT pg_advisory_unlock(\(key))")
            return value
        }
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    @discardableResult
    public func withTransaction<T>(
        isolation: IsolationLevel = .readCommitted,
        _ body: (Transaction) async throws -> T
    ) async throws -> T {
        try await withTransaction(isolation: isolation, prelude: nil, body)
    }

    /// A transaction whose first statements (`prelude`, SQL from the code base only) go to the
    /// server with its BEGIN, in one round trip.
    private func withTransaction<T>(
        isolation: IsolationLevel, prelude: String?, _ body: (Transaction) async throws -> T
    ) async throws -> T {
        // A connection that died between the liveness check and BEGIN is retried once on a fresh one:
        // nothing has happened yet, so it is safe.
        var attempt = 0
        while true {
            attempt += 1
            let outcome: Result<T, any Error>? = try await pool.withConnection { box in
                do {
                    _ = try await box.executeScript("BEGIN ISOLATION LEVEL \(isolation.sql)" + (prelude.map { "; " + $0 } ?? ""))
                } catch let error as PostgresError where error.code == .connectionLost && attempt == 1 {
                    return nil
                }
                do {
                    let value = try await body(Transaction(box: box))
                    if box.condition != .inTransaction {
                        throw PostgresError(code: .other, message: "transaction ended inside its own scope")
                    }
                    let commit = try await box.executeScript("COMMIT")
                    _ = commit
                    return .success(value)
                } catch {
                    if box.condition == .inTransaction { _ = try? await box.executeScript("ROLLBACK") }
                    return .failure(error)
                }
            }
            if let outcome { return try outcome.get() }
        }
    }

    /// Runs `body` as tenant `tenant`: inside a transaction that switches to the RLS-bound role and sets
    /// `berth.tenant_id` transaction-locally, so nothing outlives the transaction on the pooled connection.
    @discardableResult
    public func withTenant<T>(
        _ tenant: TenantID,
        isolation: IsolationLevel = .readCommitted,
        _ body: (TenantScope) async throws -> T
    ) async throws -> T {
        // The role and the tenant go with the BEGIN, in one round trip: a tenant id is a UUID (its
        // type checks it), so its text is safe to write into the statement.
        let prelude = "SET LOCAL ROLE \(Self.quoteIdentifier(tenantRole)); SELECT set_config('berth.tenant_id', '\(tenant.description)', true)"
        return try await withTransaction(isolation: isolation, prelude: prelude) { transaction in
            try await body(TenantScope(transaction: transaction, tenantID: tenant))
        }
    }

    /// One read of the system scope as a statement of its own, in the implicit transaction
    /// PostgreSQL gives it: one round trip instead of three (BEGIN, the query, COMMIT). For a single
    /// `SELECT` on a hot path; anything that writes or reads twice belongs in `withSystem`.
    public func readOnce(_ query: PostgresQuery) async throws -> PostgresRows {
        // A connection that died before the read is retried once on a fresh one: a read is safe to repeat.
        var attempt = 0
        while true {
            attempt += 1
            let rows: PostgresRows? = try await pool.withConnection { box in
                do {
                    return try await box.execute(query)
                } catch let error as PostgresError where error.code == .connectionLost && attempt == 1 {
                    return nil
                }
            }
            if let rows { return rows }
        }
    }

    /// Runs `body` in the explicit system scope: the service's own role, across tenants.
    /// For admin routes and background loops only.
    @discardableResult
    public func withSystem<T>(
        isolation: IsolationLevel = .readCommitted,
        _ body: (SystemScope) async throws -> T
    ) async throws -> T {
        try await withTransaction(isolation: isolation) { transaction in
            try await body(SystemScope(transaction: transaction))
        }
    }

    /// Runs `operation` again when it fails with a serialization failure or deadlock, with jittered backoff.
    /// `operation` must be a whole transaction.
    @discardableResult
    public func retrying<T>(
        maxAttempts: Int = 5,
        _ operation: () async throws -> T
    ) async throws -> T {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await operation()
            } catch let error as PostgresError where error.isRetryable && attempt < maxAttempts {
                let base = 10 << min(attempt, 6)
                try await Task.sleep(for: .milliseconds(Int.random(in: base / 2...base)))
                logger.debug("retrying transaction", metadata: ["attempt": "\(attempt)", "code": "\(error.code)"])
            }
        }
    }

    static func quoteIdentifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// Transaction isolation levels.
public enum IsolationLevel: Sendable {
    case readCommitted, repeatableRead, serializable

    var sql: String {
        switch self {
        case .readCommitted: "READ COMMITTED"
        case .repeatableRead: "REPEATABLE READ"
        case .serializable: "SERIALIZABLE"
        }
    }
}
