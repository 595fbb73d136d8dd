import CCurl
import Foundation
import Synchronization

/// Runs HTTP transfers on libcurl's multi interface from one dedicated thread.
///
/// Every transfer of an engine goes through one multi handle, so its connection cache keeps
/// connections alive and reuses them per server. The thread sleeps in `curl_multi_poll` and is woken
/// by `curl_multi_wakeup` when a transfer is submitted or cancelled; no libcurl call runs on Swift's
/// cooperative pool.
public final class CurlEngine: Sendable {
    /// The process-wide engine.
    public static let shared = CurlEngine(name: "berth.curl")

    /// `curl_global_init` must run once, before any other libcurl call and never concurrently with one.
    private static let globalInit: CURLcode = curl_global_init(Int(CURL_GLOBAL_SSL | CURL_GLOBAL_WIN32))

    private let multi: MultiHandle
    private let state = Mutex(State())

    private struct State {
        var incoming: [CurlPendingTransfer] = []
        var cancelled: [CurlPendingTransfer] = []
        var stopping = false
    }

    /// Starts the engine's thread.
    public init(name: String = "berth.curl") {
        precondition(Self.globalInit == CURLE_OK, "curl_global_init failed")
        guard let handle = curl_multi_init() else { fatalError("curl_multi_init failed") }
        multi = MultiHandle(handle)
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.start()
    }

    /// Runs `request` to completion.
    ///
    /// Throws `CurlError` when libcurl fails it (connect, TLS, timeout…) and `CancellationError`
    /// when the calling task is cancelled, in which case the transfer is removed at once.
    public func perform(_ request: CurlRequest) async throws -> CurlResponse {
        let pending = CurlPendingTransfer(request: request)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                guard pending.begin(continuation) else { return }
                submit(pending)
            }
        } onCancel: {
            if pending.markCancelled() { cancel(pending) }
        }
    }

    /// Fails every transfer still running and ends the thread; later requests fail at once.
    public func shutdown() {
        state.withLock { $0.stopping = true }
        curl_multi_wakeup(multi.pointer)
    }

    private func submit(_ pending: CurlPendingTransfer) {
        let accepted = state.withLock { state in
            guard !state.stopping else { return false }
            state.incoming.append(pending)
            return true
        }
        guard accepted else {
            pending.finish(.failure(CurlError.engineStopped))
            return
        }
        curl_multi_wakeup(multi.pointer)
    }

    private func cancel(_ pending: CurlPendingTransfer) {
        state.withLock { $0.cancelled.append(pending) }
        curl_multi_wakeup(multi.pointer)
    }

    /// The thread's loop. `active` is this thread's alone.
    private func run() {
        var active: [ObjectIdentifier: CurlTransfer] = [:]
        var byHandle: [UnsafeMutableRawPointer: ObjectIdentifier] = [:]

        func remove(_ transfer: CurlTransfer) {
            curl_multi_remove_handle(multi.pointer, transfer.handle)
            active[ObjectIdentifier(transfer.pending)] = nil
            byHandle[transfer.handle] = nil
        }

        while true {
            let (incoming, cancelled, stopping) = state.withLock { state in
                defer {
                    state.incoming.removeAll()
                    state.cancelled.removeAll()
                }
                return (state.incoming, state.cancelled, state.stopping)
            }

            for pending in incoming {
                // Cancelled before it reached us: the cancel request may already have been drained.
                if pending.isCancelled {
                    pending.finish(.failure(CancellationError()))
                    continue
                }
                do {
                    let transfer = try CurlTransfer(pending)
                    let code = curl_multi_add_handle(multi.pointer, transfer.handle)
                    guard code == CURLM_OK else { throw CurlError(multi: code) }
                    active[ObjectIdentifier(pending)] = transfer
                    byHandle[transfer.handle] = ObjectIdentifier(pending)
                } catch {
                    pending.finish(.failure(error))
                }
            }

            for pending in cancelled {
                guard let transfer = active[ObjectIdentifier(pending)] else { continue }
                remove(transfer)
                pending.finish(.failure(CancellationError()))
            }

            if stopping {
                for transfer in Array(active.values) {
                    remove(transfer)
                    transfer.pending.finish(.failure(CurlError.engineStopped))
                }
                return
            }

            var running: Int32 = 0
            curl_multi_perform(multi.pointer, &running)

            var queued: Int32 = 0
            while let message = curl_multi_info_read(multi.pointer, &queued) {
                // The message is freed by the next multi call, so read it before removing anything.
                guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
                let code = message.pointee.data.result
                guard let id = byHandle[easy], let transfer = active[id] else { continue }
                remove(transfer)
                transfer.pending.finish(transfer.result(for: code))
            }

            // libcurl shortens the wait to its own next timer, so transfer timeouts fire on time.
            curl_multi_poll(multi.pointer, nil, 0, 1000, nil)
        }
    }
}

/// Owns the `CURLM` handle; only `curl_multi_wakeup` is called on it from other threads, which libcurl allows.
private final class MultiHandle: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer

    init(_ pointer: UnsafeMutableRawPointer) {
        self.pointer = pointer
    }

    deinit {
        curl_multi_cleanup(pointer)
    }
}
