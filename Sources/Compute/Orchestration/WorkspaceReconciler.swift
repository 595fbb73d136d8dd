import Domain
import Foundation
import Logging
import Metrics
import Persistence
import ServiceLifecycle

/// Keeps the database and the engines in agreement, on a timer, through the same converger the
/// requests use. Each pass:
///
/// 1. applies every intent no actor is applying (its actor died, or Docker did not answer), and runs
///    the clones that are due (a retry after a transient failure, or one a crash cut off);
/// 2. on each healthy server, checkpoints the intervals of running workspaces whose container it
///    sees running, moves a `running` workspace whose container died to `error` (the seed's rule;
///    metered up to Docker's `FinishedAt`, or the last checkpoint for a container that is gone),
///    stops a container that runs behind a row that says it should not, and removes, after a grace
///    period, containers of this deployment that no live row claims;
/// 3. gives up the workspaces of servers offline for longer than `lostAfter` (`error`,
///    `server_lost`: metered up to the server's last good check, reservations released), and when
///    such a server comes back, adopts the containers it still has as `stopped` workspaces;
/// 4. recomputes every server's reservations from its workspaces and corrects any drift;
/// 5. forgets expired idempotency keys.
///
/// Every correction leaves an audit row. With several replicas one pass runs at a time across all
/// of them: a pass holds a PostgreSQL advisory lock, and a replica that cannot take it skips its turn.
public struct WorkspaceReconciler: Service {
    let database: Database
    let pool: DockerServerPool
    let placement: PlacementService
    let converger: WorkspaceConverger
    let git: GitSetupService?
    let work: BackgroundWork
    let clones: BackgroundWork
    let interval: Duration
    /// How long a server may be offline before its workspaces are given up.
    let lostAfter: Duration
    /// How old a container no row claims must be before it is removed (a create may be recording it).
    let orphanGrace: Duration
    let logger: Logger
    let workspaces = WorkspaceStore()
    let servers = WorkspaceServerStore()
    let audit = AuditStore()

    public init(
        database: Database, orchestrator: WorkspaceOrchestrator, interval: Duration = .seconds(10),
        lostAfter: Duration = .seconds(300), orphanGrace: Duration = .seconds(120), logger: Logger
    ) {
        self.database = database
        self.pool = orchestrator.pool
        self.placement = orchestrator.placement
        self.converger = orchestrator.converger
        self.git = orchestrator.git
        self.work = orchestrator.work
        self.clones = orchestrator.clones
        self.interval = interval
        self.lostAfter = lostAfter
        self.orphanGrace = orphanGrace
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await runOnce()
                // Cancelled by a graceful shutdown: the loop ends and the service returns cleanly.
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// The advisory lock key of the reconciler's pass (any fixed number unique to this loop).
    static let lockKey: Int64 = 0x6265_7274_6872_6563  // "berthrec"

    /// What one pass did.
    public struct Report: Sendable, Equatable {
        /// Workspaces whose pending intent this pass applied (or tried to).
        public var applied: [WorkspaceID] = []
        /// Running workspaces whose container had died, now in `error`.
        public var died: [WorkspaceID] = []
        /// Workspaces whose container ran although the row said it should not, now stopped.
        public var strayStopped: [WorkspaceID] = []
        /// Containers no live row claimed, removed.
        public var orphansRemoved: [String] = []
        /// Workspaces of lost servers, given up.
        public var lost: [WorkspaceID] = []
        /// Workspaces of returned servers, adopted back as `stopped`.
        public var adopted: [WorkspaceID] = []
        /// Servers whose reservations had drifted from their workspaces', corrected.
        public var corrected: [ServerID] = []
        /// Workspaces whose clone was due (pending, or cut off by a crash) and was run.
        public var cloned: [WorkspaceID] = []
        /// Running workspaces whose container was seen running: their intervals' checkpoint.
        public var checkpointed: [WorkspaceID] = []

        public init() {}
    }

    /// One pass, if no other replica is running one. Returns what it did, or nil when it did not run.
    @discardableResult
    public func runOnce() async -> Report? {
        do {
            return try await database.ifAdvisoryLockFree(Self.lockKey) { await pass() }
        } catch {
            logger.warning("reconciler could not take its lock", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// One pass, without the lock (tests call it directly).
    public func pass() async -> Report {
        var report = Report()
        report.applied = await applyPending()
        report.cloned = await runDueClones()
        await watchServers(&report)
        report.lost = await giveUpLostServers()
        report.corrected = await correctReservations()
        await purgeIdempotencyKeys()
        // `berth_reconciler_passes_total`, and `berth_reconciler_corrections_total` by kind.
        Counter(label: "berth_reconciler_passes_total").increment()
        for (kind, count) in [
            ("applied", report.applied.count), ("died", report.died.count), ("stray_stopped", report.strayStopped.count),
            ("orphan_removed", report.orphansRemoved.count), ("lost", report.lost.count), ("adopted", report.adopted.count),
            ("reservations_corrected", report.corrected.count),
        ] {
            Counter(label: "berth_reconciler_corrections_total", dimensions: [("kind", kind)]).increment(by: count)
        }
        return report
    }

    // MARK: - 1. Pending intents

    func applyPending() async -> [WorkspaceID] {
        let ids: [WorkspaceID]
        do {
            ids = try await database.withSystem { try await workspaces.pending(limit: 200, in: $0) }
        } catch {
            logger.warning("reconciler could not read pending workspaces", metadata: ["error": "\(error)"])
            return []
        }
        // A few at a time: each may wait on a slow engine.
        await withTaskGroup(of: Void.self) { group in
            var started = 0
            for id in ids {
                if started >= 4 { await group.next() }
                group.addTask { _ = await converger.run(id, actor: WorkspaceConverger.newActor("reconciler")) }
                started += 1
            }
        }
        return ids
    }

    /// Clones that are due (waiting for a retry, or cut off by a crash: their deadline passed) are
    /// started in the background, since one may take minutes; a clone already running elsewhere is
    /// not started twice (each run claims its attempt first).
    func runDueClones() async -> [WorkspaceID] {
        guard let git else { return [] }
        let ids: [WorkspaceID]
        do {
            ids = try await git.due(limit: 20)
        } catch {
            logger.warning("reconciler could not read due clones", metadata: ["error": "\(error)"])
            return []
        }
        for id in ids { clones.spawn { await git.run(id) } }
        return ids
    }

    // MARK: - 2. What runs on each healthy server

    struct LiveRow: Sendable {
        let id: WorkspaceID
        let tenantID: TenantID
        let serverID: ServerID?
        let containerID: String?
        let status: WorkspaceStatus
        let settled: Bool
        let errorCode: String?
    }

    func watchServers(_ report: inout Report) async {
        let fleet: [WorkspaceServer]
        let rows: [LiveRow]
        let deployment: String
        do {
            deployment = try await converger.deployment.id(database)
            (fleet, rows) = try await database.withSystem { scope in
                let fleet = try await servers.list(in: scope).filter { $0.status == .healthy }
                let rows = try await scope.execute("""
                    SELECT id, tenant_id, server_id, container_id, status, observed_generation >= generation AS settled, error_code
                    FROM workspaces WHERE status <> 'deleted'
                    """).map { row in
                    LiveRow(
                        id: try row.decode("id"), tenantID: try row.decode("tenant_id"), serverID: try row.decode("server_id"),
                        containerID: try row.decode("container_id"), status: WorkspaceStatus(rawValue: try row.decode("status")) ?? .error,
                        settled: try row.decode("settled"), errorCode: try row.decode("error_code")
                    )
                }
                return (fleet, rows)
            }
        } catch {
            logger.warning("reconciler could not read workspaces", metadata: ["error": "\(error)"])
            return
        }
        let live = Dictionary(rows.map { ($0.id.description, $0) }, uniquingKeysWith: { first, _ in first })
        for server in fleet {
            let containers: [ContainerSummary]
            do {
                containers = try await pool.client(for: server).listContainers(labels: ["\(WorkspaceContainers.Label.deployment)=\(deployment)"])
            } catch {
                // An engine that does not answer is the health monitor's business.
                continue
            }
            let byID = Dictionary(containers.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            let seenRunning = rows.filter { row in
                row.serverID == server.id && row.status == .running && row.containerID.flatMap { byID[$0] }?.state == "running"
            }.map(\.id)
            do {
                try await database.withSystem { try await UsageIntervals.checkpoint(seenRunning, in: $0) }
                report.checkpointed += seenRunning
            } catch {
                logger.warning("reconciler could not record a checkpoint", metadata: ["server": "\(server.name)", "error": "\(error)"])
            }
            for row in rows where row.serverID == server.id && row.settled {
                let container = row.containerID.flatMap { byID[$0] }
                do {
                    if row.status == .running, container?.state != "running" {
                        if try await converger.checkRunning(row.id, actor: WorkspaceConverger.newActor("reconciler")) { report.died.append(row.id) }
                    } else if [.stopped, .error].contains(row.status), row.errorCode != WorkspaceFailure.serverLost, container?.state == "running" {
                        if try await converger.stopStray(row.id, actor: WorkspaceConverger.newActor("reconciler")) {
                            report.strayStopped.append(row.id)
                            try await record("workspace.container_stopped", tenant: row.tenantID, workspace: row.id, [
                                "server": server.name, "container": container?.id ?? "", "reason": "the container ran while the workspace was \(row.status.rawValue)",
                            ])
                        }
                    }
                } catch {
                    logger.warning("reconciler could not check a workspace", metadata: ["workspace": "\(row.id)", "error": "\(error)"])
                }
            }
            if server.lostAt != nil {
                report.adopted += await adopt(on: server, rows.filter { $0.serverID == server.id && $0.errorCode == WorkspaceFailure.serverLost })
            }
            report.orphansRemoved += await removeOrphans(containers, on: server, live: live)
            await removeOrphanNetworks(on: server, deployment: deployment, live: live)
        }
    }

    /// Containers of this deployment that no live row claims: the row is gone or deleted, lives on
    /// another server, or names another container. Removed once older than the grace period.
    func removeOrphans(_ containers: [ContainerSummary], on server: WorkspaceServer, live: [String: LiveRow]) async -> [String] {
        var removed: [String] = []
        let now = Int64(Date().timeIntervalSince1970)
        for container in containers {
            let workspace = container.labels[WorkspaceContainers.Label.workspace] ?? ""
            if let row = live[workspace], row.serverID == server.id,
                row.containerID == container.id || (row.containerID == nil && [.creating, .deleting].contains(row.status))
            {
                continue
            }
            guard now - container.created >= Int64(orphanGrace.inSeconds) else { continue }
            do {
                try await pool.client(for: server).removeContainer(container.id)
                removed.append(container.id)
                let tenant = container.labels[WorkspaceContainers.Label.tenant].flatMap(TenantID.init)
                try await database.withSystem { scope in
                    // The tenant may be unknown to this database (a label written by hand): record it without one.
                    let known = try await tenant.asyncFlatMap { try await TenantStore().get($0, in: scope) } != nil
                    try await audit.record(.system, action: "container.orphan_removed", tenant: known ? tenant : nil, target: ("container", container.id), details: [
                        "server": server.name, "workspace": workspace, "state": container.state,
                    ], in: scope)
                }
                logger.info("removed an orphan container", metadata: ["server": "\(server.name)", "container": "\(container.id)", "workspace": "\(workspace)"])
            } catch {
                logger.warning("reconciler could not remove an orphan container", metadata: ["container": "\(container.id)", "error": "\(error)"])
            }
        }
        return removed
    }

    /// Networks of their own that workspaces no longer need (the workspace is deleted, or lives
    /// elsewhere): removed. One still in use is refused by Docker and left for a later pass.
    func removeOrphanNetworks(on server: WorkspaceServer, deployment: String, live: [String: LiveRow]) async {
        guard let client = try? pool.client(for: server),
            let networks = try? await client.listNetworks(labels: ["\(WorkspaceContainers.Label.deployment)=\(deployment)"])
        else { return }
        for network in networks {
            let workspace = network.labels[WorkspaceContainers.Label.workspace] ?? ""
            if let row = live[workspace], row.serverID == server.id { continue }
            try? await client.removeNetwork(network.id)
        }
    }

    // MARK: - 3. Lost servers

    /// Gives up the workspaces of every server offline for longer than `lostAfter`.
    func giveUpLostServers() async -> [WorkspaceID] {
        let seconds = lostAfter.inSeconds
        do {
            return try await database.withSystem { scope in
                var given: [WorkspaceID] = []
                let lost = try await scope.execute("""
                    UPDATE workspace_servers SET lost_at = now(), updated_at = now()
                    WHERE removed_at IS NULL AND status = 'offline' AND lost_at IS NULL
                      AND coalesce(last_healthy_at, created_at) < now() - make_interval(secs => \(seconds))
                    RETURNING id, name, coalesce(last_healthy_at, created_at) AS last_good
                    """)
                for server in lost {
                    let serverID = try server.decode("id", as: ServerID.self)
                    let lastGood = try server.decode("last_good", as: Date.self)
                    let name = try server.decode("name", as: String.self)
                    let rows = try await scope.execute("""
                        SELECT id, tenant_id, desired_status FROM workspaces
                        WHERE server_id = \(serverID) AND status <> 'deleted' AND error_code IS DISTINCT FROM \(WorkspaceFailure.serverLost)
                        FOR UPDATE
                        """)
                    for row in rows {
                        let id = try row.decode("id", as: WorkspaceID.self), tenant = try row.decode("tenant_id", as: TenantID.self)
                        // The lost rule overrides whoever was acting: their fenced outcome can no longer land.
                        try await scope.execute("""
                            UPDATE workspaces SET actor = NULL, actor_until = NULL, observed_generation = generation WHERE id = \(id)
                            """)
                        try await UsageIntervals.close(id, at: lastGood, in: scope)
                        try await placement.releaseMove(of: id, in: scope)
                        let deleting = try row.decode("desired_status", as: String.self) == WorkspaceStatus.deleted.rawValue
                        try await placement.release(id, compute: true, slot: true, in: scope)
                        if deleting {
                            try await workspaces.transition(id, from: nil, to: .deleted, reason: "deleted while its server is lost", in: scope)
                        } else {
                            try await workspaces.transition(id, from: nil, to: .error, failure: WorkspaceFailure(
                                code: WorkspaceFailure.serverLost, message: "the workspace's server is lost",
                                detail: "server \(name) offline since its last good check at \(lastGood)"
                            ), in: scope)
                        }
                        try await audit.record(.system, action: "workspace.server_lost", tenant: tenant, target: ("workspace", id.description), details: [
                            "server": name, "metered_until": "\(lastGood)",
                        ], in: scope)
                        given.append(id)
                    }
                    logger.warning("workspace server lost; its workspaces were given up", metadata: ["server": "\(name)", "workspaces": "\(rows.count)"])
                }
                return given
            }
        } catch {
            logger.warning("reconciler could not give up lost servers", metadata: ["error": "\(error)"])
            return []
        }
    }

    /// A lost server is back: each workspace given up on it whose container is still there becomes
    /// `stopped` again (its container stopped, its disk and slot reserved again, if they fit); one
    /// whose container is gone stays in `error`. Either way the tenant decides what next.
    func adopt(on server: WorkspaceServer, _ rows: [LiveRow]) async -> [WorkspaceID] {
        var adopted: [WorkspaceID] = []
        let client: DockerClient
        do { client = try pool.client(for: server) } catch { return [] }
        for row in rows {
            do {
                let container = try await row.containerID.asyncFlatMap { id -> ContainerDetails? in
                    do throws(DockerError) { return try await client.inspectContainer(id) } catch { if error.isNotFound { return nil } else { throw error } }
                }
                if let found = container, found.state.running { try await client.stopContainer(found.id, timeout: converger.containers.stopGrace) }
                let back = try await database.withSystem { scope -> Bool in
                    guard let locked = try await workspaces.lock(row.id, in: scope), locked.errorCode == WorkspaceFailure.serverLost else { return false }
                    guard container != nil else {
                        try await workspaces.transition(row.id, from: [.error], to: .error, failure: WorkspaceFailure(
                            code: "container_gone", message: "the workspace's server was lost, and its container is gone"), in: scope)
                        return false
                    }
                    let fits = try await scope.execute("""
                        UPDATE workspace_servers SET current_disk_used_gb = current_disk_used_gb + w.disk_gb,
                            current_workspaces = current_workspaces + 1, updated_at = now()
                        FROM workspaces w
                        WHERE w.id = \(row.id) AND workspace_servers.id = w.server_id
                          AND current_disk_used_gb + w.disk_gb <= total_disk_gb AND current_workspaces + 1 <= max_workspaces
                        """).affectedRows == 1
                    guard fits else { return false }
                    try await scope.execute("""
                        UPDATE workspaces SET holds_slot = true, desired_status = 'stopped', generation = generation + 1,
                            observed_generation = generation + 1, actor = NULL, actor_until = NULL
                        WHERE id = \(row.id)
                        """)
                    try await workspaces.transition(row.id, from: [.error], to: .stopped, reason: "adopted back after its server returned", in: scope)
                    try await audit.record(.system, action: "workspace.adopted", tenant: row.tenantID, target: ("workspace", row.id.description), details: [
                        "server": server.name, "container": row.containerID ?? "",
                    ], in: scope)
                    return true
                }
                if back { adopted.append(row.id) }
            } catch {
                logger.warning("reconciler could not adopt a workspace", metadata: ["workspace": "\(row.id)", "error": "\(error)"])
                return adopted
            }
        }
        do {
            try await database.withSystem { try await $0.execute("UPDATE workspace_servers SET lost_at = NULL WHERE id = \(server.id)") }
        } catch {
            logger.warning("reconciler could not clear a server's lost mark", metadata: ["server": "\(server.name)", "error": "\(error)"])
        }
        return adopted
    }

    // MARK: - 4. Reservations from the truth

    /// Sets every server's reservations to the sum of what its workspaces hold, where they differ.
    func correctReservations() async -> [ServerID] {
        do {
            let ids = try await database.withSystem { scope in
                try await scope.execute("SELECT id FROM workspace_servers WHERE removed_at IS NULL").map { try $0.decode("id", as: ServerID.self) }
            }
            var corrected: [ServerID] = []
            for id in ids {
                let drifted = try await database.withSystem { scope -> Bool in
                    // The server row first: a placement or release in flight commits before this reads the sums.
                    guard let before = try await scope.first("""
                        SELECT name, (current_cpu_used * 1000)::bigint AS cpu, current_memory_used_mb AS memory,
                               current_disk_used_gb AS disk, current_workspaces AS slots
                        FROM workspace_servers WHERE id = \(id) FOR UPDATE
                        """) else { return false }
                    // What its workspaces hold there, a pending move's reservation on its target included.
                    let truth = try await scope.first("""
                        SELECT coalesce(sum(cpu) * 1000, 0)::bigint AS cpu, coalesce(sum(memory_mb), 0)::bigint AS memory,
                               coalesce(sum(disk_gb), 0)::bigint AS disk, coalesce(sum(slots), 0)::bigint AS slots
                        FROM server_holds WHERE server_id = \(id)
                        """)!
                    let keys = ["cpu", "memory", "disk", "slots"]
                    let was = try keys.map { try before.decode($0, as: Int.self) }
                    let now = try keys.map { try truth.decode($0, as: Int.self) }
                    guard was != now else { return false }
                    try await scope.execute("""
                        UPDATE workspace_servers SET current_cpu_used = \(now[0])::numeric / 1000, current_memory_used_mb = \(now[1]),
                            current_disk_used_gb = \(now[2]), current_workspaces = \(now[3]), updated_at = now()
                        WHERE id = \(id)
                        """)
                    var details = ["server": try before.decode("name", as: String.self)]
                    for (index, key) in keys.enumerated() {
                        details["\(key)_before"] = String(was[index])
                        details["\(key)_after"] = String(now[index])
                    }
                    try await audit.record(.system, action: "server.reservations_corrected", tenant: nil, target: ("server", id.description), details: details, in: scope)
                    logger.warning("corrected a server's reservations", metadata: ["server": "\(details["server"] ?? "")", "before": "\(was)", "after": "\(now)"])
                    return true
                }
                if drifted { corrected.append(id) }
            }
            return corrected
        } catch {
            logger.warning("reconciler could not check reservations", metadata: ["error": "\(error)"])
            return []
        }
    }

    // MARK: - 5. Housekeeping

    func purgeIdempotencyKeys() async {
        do {
            try await database.withSystem { scope in
                try await scope.execute("DELETE FROM idempotency_keys WHERE expires_at < now()")
                try await scope.execute("DELETE FROM panel_revocations WHERE expires_at < now()")
            }
        } catch {
            logger.warning("reconciler could not purge idempotency keys", metadata: ["error": "\(error)"])
        }
    }

    private func record(_ action: String, tenant: TenantID, workspace: WorkspaceID, _ details: [String: String]) async throws {
        try await database.withSystem { scope in
            try await audit.record(.system, action: action, tenant: tenant, target: ("workspace", workspace.description), details: details, in: scope)
        }
    }
}

extension Optional {
    func asyncFlatMap<T>(_ transform: (Wrapped) async throws -> T?) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
