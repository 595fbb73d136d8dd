import Domain
import Foundation
import Synchronization

/// Failed panel sign-ins per client address: after `limit` within `window` the address is refused
/// (429) until the oldest of them is older than the window. Per replica, in memory.
final class PanelLoginThrottle: Sendable {
    let limit: Int
    let window: Duration
    private let failures = Mutex<[String: [ContinuousClock.Instant]]>([:])

    init(limit: Int = 10, window: Duration = .seconds(300)) {
        self.limit = limit
        self.window = window
    }

    /// Seconds until `address` may try again, or nil when it may now.
    func retryAfter(_ address: String, now: ContinuousClock.Instant = .now) -> Int? {
        failures.withLock { table in
            let recent = (table[address] ?? []).filter { now - $0 < window }
            table[address] = recent.isEmpty ? nil : recent
            guard recent.count >= limit, let oldest = recent.first else { return nil }
            return max(1, Int((window - (now - oldest)).inSeconds.rounded(.up)))
        }
    }

    func failed(_ address: String, now: ContinuousClock.Instant = .now) {
        failures.withLock { table in
            table[address, default: []].append(now)
            // Many addresses at once: keep the table bounded by forgetting the quiet ones.
            if table.count > 10_000 { table = table.filter { $0.value.contains { now - $0 < window } } }
        }
    }

    func succeeded(_ address: String) {
        failures.withLock { _ = $0.removeValue(forKey: address) }
    }
}
