import Synchronization

/// The awaiting side of one transfer: its request and the continuation to resume exactly once.
///
/// Shared between the task that awaits it, its cancellation handler and the engine's thread.
final class CurlPendingTransfer: Sendable {
    let request: CurlRequest
    private let state = Mutex(State())

    private struct State {
        var continuation: CheckedContinuation<CurlResponse, any Error>?
        var cancelled = false
        var finished = false
    }

    init(request: CurlRequest) {
        self.request = request
    }

    /// Stores the continuation; false (having resumed it with `CancellationError`) when already cancelled.
    func begin(_ continuation: CheckedContinuation<CurlResponse, any Error>) -> Bool {
        let cancelled = state.withLock { state in
            if state.cancelled {
                state.finished = true
                return true
            }
            state.continuation = continuation
            return false
        }
        if cancelled { continuation.resume(throwing: CancellationError()) }
        return !cancelled
    }

    /// Marks the transfer cancelled; true when it is still running and the engine must remove it.
    func markCancelled() -> Bool {
        state.withLock { state in
            state.cancelled = true
            return !state.finished && state.continuation != nil
        }
    }

    var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// Resumes the awaiting task; later calls do nothing.
    func finish(_ result: Result<CurlResponse, any Error>) {
        let continuation = state.withLock { state -> CheckedContinuation<CurlResponse, any Error>? in
            guard !state.finished else { return nil }
            state.finished = true
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume(with: result)
    }
}
