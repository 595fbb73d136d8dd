import Domain

/// Something statements can be run on: a connection, a transaction or a scope.
public protocol QueryRunner: Sendable {
    /// Runs one parameterised statement and returns its rows.
    @discardableResult
    func execute(_ query: PostgresQuery) async throws(PostgresError) -> PostgresRows
}

extension QueryRunner {
    /// The first row, or `nil`.
    public func first(_ query: PostgresQuery) async throws(PostgresError) -> PostgresRow? {
        try await execute(query).first
    }
}

/// A leased connection in autocommit mode.
public struct DatabaseConnection: QueryRunner {
    let box: ConnectionBox

    @discardableResult
    public func execute(_ query: PostgresQuery) async throws(PostgresError) -> PostgresRows {
        try await box.execute(query)
    }

    /// Runs a parameterless script of several statements. Only for SQL from the code base.
    @discardableResult
    public func executeScript(_ sql: String) async throws(PostgresError) -> PostgresRows {
        try await box.executeScript(sql)
    }

    /// The server process behind this connection.
    public var backendPID: Int32 { box.backendPID }

    /// The socket's TCP user timeout in milliseconds, as the kernel has it.
    public func socketUserTimeout() async -> Int32? {
        (try? await box.run { $0.socketUserTimeout }) ?? nil
    }
}

/// An open transaction; valid only inside the closure that received it.
public struct Transaction: QueryRunner {
    let box: ConnectionBox

    @discardableResult
    public func execute(_ query: PostgresQuery) async throws(PostgresError) -> PostgresRows {
        try await box.execute(query)
    }

    /// Runs a parameterless script of several statements. Only for SQL from the code base.
    @discardableResult
    public func executeScript(_ sql: String) async throws(PostgresError) -> PostgresRows {
        try await box.executeScript(sql)
    }

    /// The server process behind this transaction.
    public var backendPID: Int32 { box.backendPID }
}

/// A transaction bound to one tenant by row-level security.
public struct TenantScope: QueryRunner {
    public let transaction: Transaction
    public let tenantID: TenantID

    @discardableResult
    public func execute(_ query: PostgresQuery) async throws(PostgresError) -> PostgresRows {
        try await transaction.execute(query)
    }
}

/// A transaction in the service's own role, across tenants: admin and background work only.
public struct SystemScope: QueryRunner {
    public let transaction: Transaction

    @discardableResult
    public func execute(_ query: PostgresQuery) async throws(PostgresError) -> PostgresRows {
        try await transaction.execute(query)
    }
}
