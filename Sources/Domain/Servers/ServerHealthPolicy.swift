import Foundation

/// Decides a server's health from the outcome of one check: pure, so it is tested without engines.
///
/// `healthy` → `unhealthy` after `failuresBeforeUnhealthy` consecutive failures; → `offline` once it
/// has not answered for `offlineAfter`; back to `healthy` on the first good answer.
public struct ServerHealthPolicy: Sendable, Equatable {
    public var failuresBeforeUnhealthy: Int
    public var offlineAfter: Duration

    public init(failuresBeforeUnhealthy: Int = 2, offlineAfter: Duration = .seconds(30)) {
        self.failuresBeforeUnhealthy = max(1, failuresBeforeUnhealthy)
        self.offlineAfter = offlineAfter
    }

    /// The state after a check.
    public struct Verdict: Sendable, Equatable {
        public var status: WorkspaceServer.HealthStatus
        public var consecutiveFailures: Int
        public var lastHealthyAt: Date?
        public var lastError: String?

        public init(status: WorkspaceServer.HealthStatus, consecutiveFailures: Int, lastHealthyAt: Date?, lastError: String?) {
            self.status = status
            self.consecutiveFailures = consecutiveFailures
            self.lastHealthyAt = lastHealthyAt
            self.lastError = lastError
        }
    }

    public func verdict(
        current: WorkspaceServer.HealthStatus, consecutiveFailures: Int, lastHealthyAt: Date?,
        firstSeen: Date, now: Date, error: String?
    ) -> Verdict {
        guard let error else {
            return Verdict(status: .healthy, consecutiveFailures: 0, lastHealthyAt: now, lastError: nil)
        }
        let failures = consecutiveFailures + 1
        let silentSince = lastHealthyAt ?? firstSeen
        let silent = now.timeIntervalSince(silentSince)
        let offlineSeconds = offlineAfter.inSeconds
        let status: WorkspaceServer.HealthStatus
        if silent >= offlineSeconds && failures > failuresBeforeUnhealthy {
            status = .offline
        } else if failures >= failuresBeforeUnhealthy {
            status = current == .offline ? .offline : .unhealthy
        } else {
            status = current
        }
        return Verdict(status: status, consecutiveFailures: failures, lastHealthyAt: lastHealthyAt, lastError: error)
    }
}
