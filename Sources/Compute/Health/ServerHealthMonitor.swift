import Domain
import Foundation
import Logging
import Persistence
import ServiceLifecycle

/// Checks one server: ping and `/info`, within `timeout`.
public protocol ServerProbe: Sendable {
    /// What Docker reports; throws an error whose description says why the server did not answer.
    func check(_ server: WorkspaceServer, timeout: Duration) async throws -> ObservedUsage
}

/// Every interval, checks each server it holds the lease for and records `healthy`, `unhealthy` or
/// `offline` with the reason and the observed usage.
///
/// Servers are claimed with a lease in the database, so with several replicas each server is
/// checked by one of them, and a server whose replica died is taken over when its lease runs out.
public struct ServerHealthMonitor: Service {
    public struct Configuration: Sendable {
        public var interval: Duration
        public var checkTimeout: Duration
        public var policy: ServerHealthPolicy
        /// Identifies this replica in the lease.
        public var owner: String
        /// A workspace using at least this many cores between two checks is busy, not idle.
        public var busyCores: Double = 0.05

        public init(
            interval: Duration = .seconds(5), checkTimeout: Duration = .seconds(2),
            policy: ServerHealthPolicy = ServerHealthPolicy(), owner: String = "berth-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))"
        ) {
            self.interval = interval
            self.checkTimeout = checkTimeout
            self.policy = policy
            self.owner = owner
        }
    }

    let database: Database
    let probe: any ServerProbe
    let configuration: Configuration
    let logger: Logger
    let store = WorkspaceServerStore()

    public init(database: Database, probe: any ServerProbe, configuration: Configuration, logger: Logger) {
        self.database = database
        self.probe = probe
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await pass()
                // Cancelled by a graceful shutdown: the loop ends and the service returns cleanly.
                try? await Task.sleep(for: configuration.interval)
            }
        }
    }

    /// One round: claim, check concurrently, record. Errors are logged, never fatal to the loop.
    public func pass() async {
        let servers: [WorkspaceServer]
        do {
            // The lease outlives a few missed rounds so a slow round does not hand servers back and forth.
            servers = try await database.withSystem { scope in
                try await store.claimForHealthCheck(owner: configuration.owner, lease: configuration.interval * 3, in: scope)
            }
        } catch {
            logger.warning("health monitor could not claim servers", metadata: ["error": "\(error)"])
            return
        }
        await withTaskGroup(of: Void.self) { group in
            for server in servers {
                group.addTask { await check(server) }
            }
        }
    }

    private func check(_ server: WorkspaceServer) async {
        var observed: ObservedUsage?
        var failure: String?
        do {
            observed = try await probe.check(server, timeout: configuration.checkTimeout)
        } catch {
            failure = String(describing: error)
        }
        let now = Date()
        let verdict = configuration.policy.verdict(
            current: server.status, consecutiveFailures: server.consecutiveFailures,
            lastHealthyAt: server.lastHealthyAt, firstSeen: server.registeredAt ?? now, now: now, error: failure
        )
        if verdict.status != server.status {
            logger.info("server health changed", metadata: [
                "server": "\(server.name)", "from": "\(server.status.rawValue)", "to": "\(verdict.status.rawValue)",
                "reason": "\(verdict.lastError ?? "answered")",
            ])
        }
        do {
            try await database.withSystem { scope in
                try await store.recordHealth(server.id, owner: configuration.owner, verdict: verdict, checkedAt: now, observed: observed, in: scope)
                // Workspaces that used the CPU count as active for idle stop, as a heartbeat would.
                let busy = (observed?.coresByWorkspace ?? [:]).filter { $0.value >= configuration.busyCores }.keys.compactMap(WorkspaceID.init)
                if !busy.isEmpty {
                    try await scope.execute("""
                        UPDATE workspaces SET last_busy_at = now() WHERE server_id = \(server.id) AND id = ANY(\("{" + busy.map(\.description).joined(separator: ",") + "}")::uuid[])
                        """)
                }
            }
        } catch {
            logger.warning("health monitor could not record a check", metadata: ["server": "\(server.name)", "error": "\(error)"])
        }
    }
}
