import Dispatch

/// A libpq connection confined to its own serial dispatch queue.
///
/// Every call into libpq runs on that queue, off Swift's cooperative pool, and only one at a time,
/// which is what libpq asks of a `PGconn`. That confinement is why the unchecked `Sendable` is sound.
final class ConnectionBox: @unchecked Sendable {
    /// Where a connection stood after the last thing it ran.
    enum Condition: Sendable { case idle, inTransaction, broken }

    let id: Int
    private let connection: PostgresConnection
    private let queue: DispatchQueue
    /// Written at the end of each `run` on the queue; read by the pool after that `run` resumed.
    private(set) var condition: Condition = .idle
    let backendPID: Int32

    private init(id: Int, connection: PostgresConnection, queue: DispatchQueue) {
        self.id = id
        self.connection = connection
        self.queue = queue
        self.backendPID = connection.backendPID
    }

    /// Opens a connection on a fresh queue.
    static func open(id: Int, configuration: DatabaseConfiguration) async throws(PostgresError) -> ConnectionBox {
        let queue = DispatchQueue(label: "berth.postgres.\(id)")
        let result: Result<ConnectionBox, PostgresError> = await withCheckedContinuation { continuation in
            queue.async {
                do throws(PostgresError) {
                    let connection = try PostgresConnection(configuration: configuration)
                    continuation.resume(returning: .success(ConnectionBox(id: id, connection: connection, queue: queue)))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }

    /// Runs `body` against the connection on its queue.
    func run<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) throws(PostgresError) -> T
    ) async throws(PostgresError) -> T {
        let result: Result<T, PostgresError> = await withCheckedContinuation { continuation in
            queue.async { [self] in
                let outcome: Result<T, PostgresError>
                do throws(PostgresError) {
                    outcome = .success(try body(connection))
                } catch {
                    outcome = .failure(error)
                }
                condition = connection.isBroken ? .broken : (connection.isIdle ? .idle : .inTransaction)
                continuation.resume(returning: outcome)
            }
        }
        return try result.get()
    }

    /// Runs one statement.
    func execute(_ query: PostgresQuery) async throws(PostgresError) -> PostgresRows {
        try await run { (connection) throws(PostgresError) in try connection.execute(query) }
    }

    /// Runs a parameterless script (transaction control, migrations).
    func executeScript(_ sql: String) async throws(PostgresError) -> PostgresRows {
        try await run { (connection) throws(PostgresError) in try connection.executeScript(sql) }
    }

    /// Whether the idle connection is still alive, checked without a round trip.
    func checkAlive() async -> Bool {
        (try? await run { $0.checkAlive() }) ?? false
    }
}
