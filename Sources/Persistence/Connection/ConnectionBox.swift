/// A libpq connection confined to its own thread.
///
/// Every call into libpq runs on that thread, off Swift's cooperative pool, and only one at a time,
/// which is what libpq asks of a `PGconn`. That confinement is why the unchecked `Sendable` is sound.
final class ConnectionBox: @unchecked Sendable {
    /// Where a connection stood after the last thing it ran.
    enum Condition: Sendable { case idle, inTransaction, broken }

    let id: Int
    private let connection: PostgresConnection
    private let thread: ConnectionThread
    /// Written at the end of each `run` on the thread; read by the pool after that `run` resumed.
    private(set) var condition: Condition = .idle
    let backendPID: Int32

    private init(id: Int, connection: PostgresConnection, thread: ConnectionThread) {
        self.id = id
        self.connection = connection
        self.thread = thread
        self.backendPID = connection.backendPID
    }

    deinit { thread.stop() }

    /// Opens a connection on a fresh thread.
    static func open(id: Int, configuration: DatabaseConfiguration) async throws(PostgresError) -> ConnectionBox {
        let thread = ConnectionThread(name: "berth.postgres.\(id)")
        let result: Result<ConnectionBox, PostgresError> = await withCheckedContinuation { continuation in
            thread.submit {
                do throws(PostgresError) {
                    let connection = try PostgresConnection(configuration: configuration)
                    continuation.resume(returning: .success(ConnectionBox(id: id, connection: connection, thread: thread)))
                } catch {
                    thread.stop()
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }

    /// Runs `body` against the connection on its thread.
    func run<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) throws(PostgresError) -> T
    ) async throws(PostgresError) -> T {
        let result: Result<T, PostgresError> = await withCheckedContinuation { continuation in
            thread.submit { [self] in
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
