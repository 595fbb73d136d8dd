import Synchronization

/// Work that goes on after the request that started it has answered (a create's container), kept
/// track of so a graceful shutdown can let it finish instead of cutting it off.
public final class BackgroundWork: Sendable {
    private struct State {
        var next = 0
        var tasks: [Int: Task<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// Runs `body` in a task of its own; it is forgotten when it ends.
    @discardableResult
    public func spawn(_ body: @escaping @Sendable () async -> Void) -> Task<Void, Never> {
        state.withLock { state in
            state.next += 1
            let key = state.next
            let task = Task { [weak self] in
                await body()
                _ = self?.state.withLock { $0.tasks.removeValue(forKey: key) }
            }
            state.tasks[key] = task
            return task
        }
    }

    /// How many pieces of work are running.
    public var count: Int { state.withLock { $0.tasks.count } }

    /// Waits until every piece of work has finished, or `limit` has passed; returns how many were left.
    @discardableResult
    public func drain(within limit: Duration) async -> Int {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if count == 0 { return 0 }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return count
    }
}
