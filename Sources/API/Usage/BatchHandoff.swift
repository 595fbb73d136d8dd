import Synchronization

/// Hands batches from one producing task to one consuming task, one at a time: `send` waits until
/// the consumer has taken the batch, so at most one batch waits between them whatever the speeds.
///
/// An export reads inside a database transaction that must outlive the route's handler (the body is
/// written after the handler returns), so the read runs in a task of its own and its batches cross
/// over through this. Either side may `cancel`: the other's next call throws `CancellationError`.
final class BatchHandoff<Batch: Sendable>: Sendable {
    private enum State {
        case idle
        /// The producer waits for its batch to be taken.
        case offering(Batch, CheckedContinuation<Void, any Error>)
        /// The consumer waits for a batch.
        case waiting(CheckedContinuation<Batch?, any Error>)
        case finished((any Error)?)
        case cancelled
    }

    private let state = Mutex(State.idle)
    private let claimed = Mutex(false)

    /// Marks that a consumer has taken charge of the stream, so `cancelUnlessClaimed` leaves it be.
    func claim() {
        claimed.withLock { $0 = true }
    }

    /// Cancels, unless `claim` was called: for a consumer that was promised and never came.
    func cancelUnlessClaimed() {
        if !claimed.withLock({ $0 }) { cancel() }
    }

    /// Offers `batch` and returns once the consumer has taken it.
    func send(_ batch: Batch) async throws {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome: Result<Void, any Error>? = state.withLock { state in
                    switch state {
                    case .idle:
                        state = .offering(batch, continuation)
                        return nil
                    case .waiting(let consumer):
                        state = .idle
                        consumer.resume(returning: batch)
                        return .success(())
                    case .offering:
                        return .failure(CancellationError())  // one producer only; never reached
                    case .finished, .cancelled:
                        return .failure(CancellationError())
                    }
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            cancel()
        }
    }

    /// Ends the stream: the consumer's next call returns nil, or throws `error`.
    func finish(throwing error: (any Error)? = nil) {
        state.withLock { state in
            switch state {
            case .waiting(let consumer):
                state = .finished(error)
                if let error { consumer.resume(throwing: error) } else { consumer.resume(returning: nil) }
            case .idle:
                state = .finished(error)
            case .offering(_, let producer):
                state = .finished(error)
                producer.resume(throwing: CancellationError())
            case .finished, .cancelled:
                break
            }
        }
    }

    /// The next batch, or nil once the producer has finished; rethrows the producer's failure.
    func next() async throws -> Batch? {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Batch?, any Error>) in
                let outcome: Result<Batch?, any Error>? = state.withLock { state in
                    switch state {
                    case .offering(let batch, let producer):
                        state = .idle
                        producer.resume()
                        return .success(batch)
                    case .idle:
                        state = .waiting(continuation)
                        return nil
                    case .finished(let error):
                        return error.map { .failure($0) } ?? .success(nil)
                    case .waiting:
                        return .failure(CancellationError())  // one consumer only; never reached
                    case .cancelled:
                        return .failure(CancellationError())
                    }
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            cancel()
        }
    }

    /// Gives up: whoever waits, and whoever calls next, gets `CancellationError`.
    func cancel() {
        state.withLock { state in
            switch state {
            case .offering(_, let producer): producer.resume(throwing: CancellationError())
            case .waiting(let consumer): consumer.resume(throwing: CancellationError())
            case .idle, .finished, .cancelled: break
            }
            if case .finished = state { return }
            state = .cancelled
        }
    }
}
