import Logging
import Metrics
import Synchronization

/// A bounded pool of libpq connections.
///
/// Callers wait with a deadline when all connections are leased; broken connections are dropped
/// and replaced on demand, so the pool recovers by itself after PostgreSQL restarts.
final class ConnectionPool: Sendable {
    /// What a waiting caller is eventually given.
    enum Grant: Sendable {
        case connection(ConnectionBox)
        case openSlot
        case failure(PostgresError)
    }

    private typealias Waiter = CheckedContinuation<Grant, Never>
    private typealias Machine = PoolStateMachine<ConnectionBox, Waiter>

    private struct State: ~Copyable {
        var machine: Machine
        var nextWaiterID = 0
        var nextConnectionID = 0
    }

    let configuration: DatabaseConfiguration
    private let state: Mutex<State>
    private let logger: Logger
    /// How long callers wait for a connection: `berth_db_pool_wait_seconds`. Made once, with the
    /// pool (the metrics system is bootstrapped before), not on every lease.
    private let waitTimer = Timer(label: "berth_db_pool_wait_seconds", preferredDisplayUnit: .seconds)

    init(configuration: DatabaseConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.state = Mutex(State(machine: Machine(maxConnections: configuration.poolSize)))
    }

    /// Leases a connection for the duration of `body`.
    func withConnection<T>(_ body: (ConnectionBox) async throws -> T) async throws -> T {
        let box = try await lease()
        do {
            let value = try await body(box)
            await giveBack(box)
            return value
        } catch {
            await giveBack(box)
            throw error
        }
    }

    /// Numbers for tests and metrics.
    var statistics: (total: Int, idle: Int, waiting: Int) {
        state.withLock { ($0.machine.total, $0.machine.idle.count, $0.machine.waitingCount) }
    }

    func shutdown() {
        let (idle, waiters) = state.withLock { $0.machine.shutDown() }
        _ = idle  // closed when released by deinit
        for waiter in waiters {
            waiter.resume(returning: .failure(PostgresError(code: .unavailable, message: "connection pool is shut down")))
        }
    }

    // MARK: - Leasing

    private func lease() async throws(PostgresError) -> ConnectionBox {
        let started = ContinuousClock.now
        let deadline = started + configuration.acquireTimeout
        defer { waitTimer.recordInterval(since: started) }
        while true {
            let grant = await requestGrant(deadline: deadline)
            switch grant {
            case .failure(let error):
                throw error
            case .openSlot:
                return try await openInSlot()
            case .connection(let box):
                if await box.checkAlive() { return box }
                logger.debug("dropping a dead pooled connection", metadata: ["connection": "\(box.id)"])
                discardSlot()
                if ContinuousClock.now >= deadline { throw Self.timeoutError(configuration.acquireTimeout) }
            }
        }
    }

    private func requestGrant(deadline: ContinuousClock.Instant) async -> Grant {
        enum Immediate { case grant(Grant), waiting(Int) }
        // Decide under the lock; if we must wait, the continuation is registered in the same step.
        let waiterID = state.withLock { state -> Int in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: Waiter) in
                let action = state.withLock { $0.machine.lease(id: waiterID, waiter: continuation) }
                switch action {
                case .use(let box): continuation.resume(returning: .connection(box))
                case .open: continuation.resume(returning: .openSlot)
                case .shutDown:
                    continuation.resume(returning: .failure(PostgresError(code: .unavailable, message: "connection pool is shut down")))
                case .wait:
                    let timeout = configuration.acquireTimeout
                    Task { [weak self] in
                        try? await Task.sleep(until: deadline, clock: .continuous)
                        guard let self, let waiter = self.state.withLock({ $0.machine.cancel(id: waiterID) }) else { return }
                        waiter.resume(returning: .failure(Self.timeoutError(timeout)))
                    }
                }
            }
        } onCancel: {
            if let waiter = state.withLock({ $0.machine.cancel(id: waiterID) }) {
                waiter.resume(returning: .failure(PostgresError(code: .unavailable, message: "cancelled while waiting for a database connection")))
            }
        }
    }

    private func openInSlot() async throws(PostgresError) -> ConnectionBox {
        let id = state.withLock { state -> Int in
            state.nextConnectionID += 1
            return state.nextConnectionID
        }
        do {
            let box = try await ConnectionBox.open(id: id, configuration: configuration)
            logger.debug("opened database connection", metadata: ["connection": "\(id)"])
            return box
        } catch {
            discardSlot()
            throw error
        }
    }

    /// Frees a slot; a waiter, if any, is told to open a connection in it.
    private func discardSlot() {
        let action = state.withLock { $0.machine.discard() }
        if case .openFor(let waiter) = action { waiter.resume(returning: .openSlot) }
    }

    private func giveBack(_ box: ConnectionBox) async {
        switch box.condition {
        case .broken:
            discardSlot()
            return
        case .inTransaction:
            // A caller left mid-transaction (cancelled or thrown past us): roll back before reuse.
            _ = try? await box.executeScript("ROLLBACK")
            if box.condition != .idle {
                discardSlot()
                return
            }
        case .idle:
            break
        }
        let action = state.withLock { $0.machine.release(box) }
        if case .handOver(let box, let waiter) = action { waiter.resume(returning: .connection(box)) }
    }

    private static func timeoutError(_ timeout: Duration) -> PostgresError {
        PostgresError(code: .unavailable, message: "no database connection available within \(timeout)")
    }
}
