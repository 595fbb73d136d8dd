/// The connection pool's bookkeeping, free of I/O so it can be tested on its own.
///
/// It decides; the pool acts. `Connection` and `Waiter` are opaque here.
struct PoolStateMachine<Connection, Waiter> {
    /// What a caller asking for a connection should do next.
    enum LeaseAction {
        case use(Connection)
        /// Open a new connection: a slot has been counted for it.
        case open
        /// Wait: the caller was queued.
        case wait
        case shutDown
    }

    /// What to do after a connection came back.
    enum ReleaseAction {
        /// Give the connection to this waiter.
        case handOver(Connection, Waiter)
        /// It went to the idle list.
        case keep
        /// The pool is closing: close it.
        case close(Connection)
    }

    /// What to do after a slot was freed (a connection closed, or an open failed).
    enum SlotAction {
        /// Tell this waiter to open a connection in the freed slot.
        case openFor(Waiter)
        case none
    }

    let maxConnections: Int
    private(set) var idle: [Connection] = []
    /// Idle, leased and being opened.
    private(set) var total = 0
    private var waiters: [(id: Int, waiter: Waiter)] = []
    private(set) var isShutDown = false

    init(maxConnections: Int) {
        precondition(maxConnections > 0)
        self.maxConnections = maxConnections
    }

    var waitingCount: Int { waiters.count }
    var leasedOrOpening: Int { total - idle.count }

    mutating func lease(id: Int, waiter: Waiter) -> LeaseAction {
        if isShutDown { return .shutDown }
        if let connection = idle.popLast() { return .use(connection) }
        if total < maxConnections {
            total += 1
            return .open
        }
        waiters.append((id, waiter))
        return .wait
    }

    mutating func release(_ connection: Connection) -> ReleaseAction {
        if isShutDown {
            total -= 1
            return .close(connection)
        }
        if !waiters.isEmpty {
            return .handOver(connection, waiters.removeFirst().waiter)
        }
        idle.append(connection)
        return .keep
    }

    /// A leased or opening connection is gone (closed as broken, or its open failed).
    mutating func discard() -> SlotAction {
        total -= 1
        if !isShutDown, !waiters.isEmpty {
            total += 1
            return .openFor(waiters.removeFirst().waiter)
        }
        return .none
    }

    /// Removes a waiter that gave up (deadline or cancellation); `nil` if it was already served.
    mutating func cancel(id: Int) -> Waiter? {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return nil }
        return waiters.remove(at: index).waiter
    }

    /// Closes the pool: returns the idle connections to close and the waiters to fail.
    mutating func shutDown() -> (idle: [Connection], waiters: [Waiter]) {
        isShutDown = true
        let closing = idle
        total -= idle.count
        idle = []
        let failing = waiters.map(\.waiter)
        waiters = []
        return (closing, failing)
    }
}
