import CLibPQ
import Synchronization

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
    /// Asks the server to cancel what runs now; usable from any thread.
    private let canceller: QueryCanceller
    /// Written at the end of each `run` on the thread; read by the pool after that `run` resumed.
    private(set) var condition: Condition = .idle
    let backendPID: Int32

    private init(id: Int, connection: PostgresConnection, thread: ConnectionThread) {
        self.id = id
        self.connection = connection
        self.thread = thread
        self.backendPID = connection.backendPID
        self.canceller = QueryCanceller(connection.makeCancelHandle())
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
    ///
    /// With `cancellable`, a cancelled task does not wait for libpq: a statement not yet started is
    /// not run, and one that runs is cancelled on the server (`PQcancel`), which answers it with
    /// `query_canceled` at once. Transaction control is never cancellable, so a ROLLBACK always runs.
    func run<T: Sendable>(
        cancellable: Bool = false,
        _ body: @escaping @Sendable (PostgresConnection) throws(PostgresError) -> T
    ) async throws(PostgresError) -> T {
        let cancelled = canceller
        let submit = { [self] (continuation: CheckedContinuation<Result<T, PostgresError>, Never>) in
            thread.submit { [self] in
                let outcome: Result<T, PostgresError>
                if cancellable, cancelled.isCancelled {
                    outcome = .failure(PostgresError(code: .queryCanceled, message: "the request was cancelled before the statement ran"))
                } else {
                    do throws(PostgresError) {
                        outcome = .success(try body(connection))
                    } catch {
                        outcome = .failure(error)
                    }
                }
                cancelled.reset()
                condition = connection.isBroken ? .broken : (connection.isIdle ? .idle : .inTransaction)
                continuation.resume(returning: outcome)
            }
        }
        let result: Result<T, PostgresError>
        if cancellable {
            result = await withTaskCancellationHandler {
                await withCheckedContinuation(submit)
            } onCancel: {
                cancelled.cancel()
            }
        } else {
            result = await withCheckedContinuation(submit)
        }
        return try result.get()
    }

    /// Runs one statement; cancelled on the server when the calling task is.
    func execute(_ query: PostgresQuery) async throws(PostgresError) -> PostgresRows {
        try await run(cancellable: true) { (connection) throws(PostgresError) in try connection.execute(query) }
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

/// libpq's cancel handle for one connection. `PQcancel` is documented as safe to call from any
/// thread while the connection's own thread waits in a query; that is what makes this `Sendable`.
final class QueryCanceller: @unchecked Sendable {
    private let handle: OpaquePointer?
    private let requested = Mutex(false)

    init(_ handle: OpaquePointer?) {
        self.handle = handle
    }

    deinit { if let handle { PQfreeCancel(handle) } }

    /// Marks the current statement cancelled and asks the server to cancel whatever runs now.
    func cancel() {
        requested.withLock { $0 = true }
        guard let handle else { return }
        var buffer = [CChar](repeating: 0, count: 256)
        _ = PQcancel(handle, &buffer, Int32(buffer.count))
    }

    var isCancelled: Bool { requested.withLock { $0 } }

    func reset() { requested.withLock { $0 = false } }
}
