import Domain
import Foundation
import Logging
import Persistence
import ServiceLifecycle

/// The scaling service: on a timer, one pass at a time across replicas (a PostgreSQL advisory
/// lock), it
///
/// 1. moves the workspaces of draining servers to servers with room, a few at a time, until the
///    server is empty or its drain's deadline passes; a workspace whose move failed is tried again,
///    up to `maxMoveAttempts` times;
/// 2. stops running workspaces that have been idle (no activity heartbeat, no CPU use above the
///    threshold) for longer than their idle period, and those past their maximum lifetime;
/// 3. computes the fleet's capacity signals and tells the webhook when a scale-out or scale-in is
///    recommended (see `CapacitySignals`).
///
/// Every workspace change goes through the orchestrator, as a request's would.
public struct ScalingService: Service {
    public struct Settings: Sendable {
        public var interval: Duration
        /// Moves a drain has under way at once, per server.
        public var drainConcurrency: Int
        public var maxMoveAttempts: Int
        public var capacity: CapacitySignals.Settings

        public init(interval: Duration = .seconds(5), drainConcurrency: Int = 2, maxMoveAttempts: Int = 3, capacity: CapacitySignals.Settings = .init()) {
            self.interval = interval
            self.drainConcurrency = max(1, drainConcurrency)
            self.maxMoveAttempts = max(1, maxMoveAttempts)
            self.capacity = capacity
        }
    }

    let database: Database
    let orchestrator: WorkspaceOrchestrator
    let settings: Settings
    let signals: CapacitySignals
    let logger: Logger

    public init(database: Database, orchestrator: WorkspaceOrchestrator, settings: Settings = .init(), logger: Logger) {
        self.database = database
        self.orchestrator = orchestrator
        self.settings = settings
        self.signals = CapacitySignals(database: database, settings: settings.capacity, work: orchestrator.work, logger: logger)
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await runOnce()
                try? await Task.sleep(for: settings.interval)
            }
        }
    }

    /// The advisory lock key of the scaling pass ("berthscl").
    static let lockKey: Int64 = 0x6265_7274_6873_636C

    /// What one pass did.
    public struct Report: Sendable, Equatable {
        /// Workspaces whose move off a draining server this pass started.
        public var moving: [WorkspaceID] = []
        /// Workspaces stopped for being idle.
        public var idleStopped: [WorkspaceID] = []
        /// Workspaces stopped at the end of their lifetime.
        public var expired: [WorkspaceID] = []
        public var capacity: CapacitySignals.Report?

        public init() {}
    }

    /// One pass, if no other replica is running one.
    @discardableResult
    public func runOnce() async -> Report? {
        do {
            return try await database.ifAdvisoryLockFree(Self.lockKey) { await pass() }
        } catch {
            logger.warning("scaling service could not take its lock", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// One pass, without the lock (tests call it directly).
    public func pass() async -> Report {
        var report = Report()
        report.moving = await drain()
        (report.idleStopped, report.expired) = await stopIdleAndExpired()
        report.capacity = await signals.evaluate()
        return report
    }

    // MARK: - Drains

    /// Starts moves off every draining server whose deadline has not passed, up to the concurrency.
    func drain() async -> [WorkspaceID] {
        let due: [WorkspaceID]
        do {
            due = try await database.withSystem { scope in
                try await scope.execute("""
                    SELECT w.id FROM workspace_servers s
                    CROSS JOIN LATERAL (
                        SELECT id FROM workspaces w
                        WHERE w.server_id = s.id AND w.status IN ('running', 'stopped') AND w.move_to_server_id IS NULL
                          AND w.move_attempts < \(settings.maxMoveAttempts) AND w.observed_generation >= w.generation
                        ORDER BY w.created_at, w.id
                        LIMIT greatest(\(settings.drainConcurrency) - (SELECT count(*) FROM workspaces m
                                                                   WHERE m.server_id = s.id AND m.move_to_server_id IS NOT NULL), 0)
                    ) w
                    WHERE s.schedulable = 'draining' AND s.removed_at IS NULL AND (s.drain_deadline IS NULL OR s.drain_deadline > now())
                    """).map { try $0.decode("id", as: WorkspaceID.self) }
            }
        } catch {
            logger.warning("scaling service could not read draining servers", metadata: ["error": "\(error)"])
            return []
        }
        for id in due {
            orchestrator.work.spawn { [orchestrator, database, logger] in
                do {
                    try await orchestrator.move(id, reason: "drain")
                } catch let error as PlacementError {
                    // No other server has room: said on the workspace, tried again on a later pass.
                    let reason: String
                    if case .insufficientCapacity(let exclusions) = error {
                        reason = "no other server has room: " + exclusions.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.joined(separator: ", "))" }.joined(separator: "; ")
                    } else {
                        reason = "no other server can take it"
                    }
                    _ = try? await database.withSystem { scope in
                        try await scope.execute("UPDATE workspaces SET move_error = \(reason), move_attempts = move_attempts + 1 WHERE id = \(id)")
                    }
                } catch {
                    logger.warning("a drain could not move a workspace", metadata: ["workspace": "\(id)", "error": "\(error)"])
                }
            }
        }
        return due
    }

    // MARK: - Idle stop and lifetime

    /// Stops running workspaces idle for longer than their idle period (the workspace's, else its
    /// tenant's; 0 or none is never), counting from the latest of their start, activity heartbeat
    /// and CPU use; and those older than their maximum lifetime.
    func stopIdleAndExpired() async -> (idle: [WorkspaceID], expired: [WorkspaceID]) {
        let due: [(id: WorkspaceID, tenant: TenantID, reason: String, kind: String)]
        do {
            due = try await database.withSystem { scope in
                // The deadlines the workspace view shows, from one definition (WorkspaceStore.idleColumns).
                try await scope.execute("""
                    SELECT id, tenant_id, idle_minutes, lifetime_minutes, coalesce(expires_at <= now(), false) AS expired
                    FROM (SELECT w.id, w.tenant_id, \(unsafeRaw: WorkspaceStore.idleColumns)
                          FROM workspaces w JOIN tenants t ON t.id = w.tenant_id
                          WHERE w.status = 'running' AND w.desired_status = 'running' AND w.observed_generation >= w.generation
                            AND w.move_to_server_id IS NULL) d
                    WHERE idle_stop_at <= now() OR expires_at <= now()
                    """).map { row in
                    let expired = try row.decode("expired", as: Bool.self)
                    let minutes = try row.decode(expired ? "lifetime_minutes" : "idle_minutes", as: Double.self)
                    let shown = (minutes == minutes.rounded() ? String(Int(minutes)) : String(minutes)) + (minutes == 1 ? " minute" : " minutes")
                    return (
                        try row.decode("id", as: WorkspaceID.self), try row.decode("tenant_id", as: TenantID.self),
                        expired ? "stopped: its maximum lifetime of \(shown) is reached" : "stopped: idle for \(shown)",
                        expired ? "workspace.lifetime_stop" : "workspace.idle_stop"
                    )
                }
            }
        } catch {
            logger.warning("scaling service could not read idle workspaces", metadata: ["error": "\(error)"])
            return ([], [])
        }
        var idle: [WorkspaceID] = [], expired: [WorkspaceID] = []
        for workspace in due {
            do {
                try await orchestrator.stop(workspace.id, reason: workspace.reason)
                try await database.withSystem { scope in
                    try await AuditStore().record(.system, action: workspace.kind, tenant: workspace.tenant, target: ("workspace", workspace.id.description), details: ["reason": workspace.reason], in: scope)
                }
                if workspace.kind == "workspace.idle_stop" { idle.append(workspace.id) } else { expired.append(workspace.id) }
                logger.info("workspace stopped by the scaling service", metadata: ["workspace": "\(workspace.id)", "reason": "\(workspace.reason)"])
            } catch {
                logger.warning("scaling service could not stop a workspace", metadata: ["workspace": "\(workspace.id)", "error": "\(error)"])
            }
        }
        return (idle, expired)
    }
}
