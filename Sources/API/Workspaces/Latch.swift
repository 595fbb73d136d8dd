import Synchronization

/// Opens once; a waiter wakes when it opens or when its own time runs out, whichever comes first.
///
/// A create with `?wait=running` waits on its provisioning through one, so that it answers as soon
/// as the container runs rather than at its next poll of the database.
final class Latch: Sendable {
    private struct State {
        var open = false
        var next = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    var isOpen: Bool { state.withLock { $0.open } }

    /// Wakes every waiter, now and later.
    func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once the latch is open, or after `limit`.
    func wait(upTo limit: Duration) async {
        var timer: Task<Void, Never>?
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let id: Int? = state.withLock { state in
                if state.open { return nil }
                state.next += 1
                state.waiters[state.next] = continuation
                return state.next
            }
            guard let id else { return continuation.resume() }
            // Registered before the timer exists: whichever of the two takes the waiter out resumes it.
            timer = Task { [weak self] in
                try? await Task.sleep(for: limit)
                if let waiter = self?.state.withLock({ $0.waiters.removeValue(forKey: id) }) { waiter.resume() }
            }
        }
        timer?.cancel()
    }
}
