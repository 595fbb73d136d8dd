import Domain
import Foundation
import Logging
import Metrics
import Persistence

/// Why a workspace could not be placed.
public enum PlacementError: Error, Sendable, Equatable {
    /// Healthy servers exist but none has room; the reasons per server.
    case insufficientCapacity(exclusions: [String: [String]])
    /// No server is healthy.
    case noHealthyServers(exclusions: [String: [String]])
    /// The tenant is at its quota: what it holds, what it asked for, and the limits.
    case quotaExceeded(QuotaUsage, requested: Resources, quota: Quota)
    /// The tenant already has a live workspace of that name.
    case nameTaken(String)
}

/// What a tenant holds now: workspaces and disk of every workspace that exists (stopped ones hold
/// a slot and disk on their server), CPU and memory of those that run.
public struct QuotaUsage: Sendable, Equatable {
    public var workspaces: Int
    public var cpuMillis: Int
    public var memoryMB: Int
    public var diskGB: Int

    public init(workspaces: Int, cpuMillis: Int, memoryMB: Int, diskGB: Int = 0) {
        self.workspaces = workspaces
        self.cpuMillis = cpuMillis
        self.memoryMB = memoryMB
        self.diskGB = diskGB
    }
}

/// Chooses a server and reserves capacity on it, race-free across requests and replicas.
///
/// Candidates come from `Placement.plan`; each is then reserved with one conditional UPDATE that
/// succeeds only if the capacity still fits, so two racing requests can never both take the last
/// room: the loser's UPDATE re-reads the row after the winner commits and matches nothing, and it
/// moves on to the next candidate. The workspace row is inserted in the same transaction.
public struct PlacementService: Sendable {
    let database: Database
    let logger: Logger
    let store = WorkspaceServerStore()

    public init(database: Database, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// The decision for `request` without reserving anything (for dry runs).
    public func dryRun(_ request: PlacementRequest) async throws -> Placement.Plan {
        try await database.withSystem { scope in
            let servers = try await store.list(in: scope)
            let cursor = try await scope.first("SELECT coalesce((SELECT position FROM placement_cursors WHERE name = 'round_robin'), 0) AS p")!
            return Placement.plan(request, servers: servers, roundRobinCursor: try cursor.decode("p", as: Int.self))
        }
    }

    /// Checks the quota, reserves on the first candidate that still fits and inserts the workspace as
    /// `creating`, all in one transaction. Returns the server it landed on and the plan.
    ///
    /// The new row's lease goes to `actor` for `lease`: the caller then creates the container; if it
    /// dies first, the lease runs out and the reconciler carries the create on.
    public func reserve(_ draft: WorkspaceDraft, actor: String? = nil, lease: Duration = .seconds(90)) async throws -> (server: WorkspaceServer, plan: Placement.Plan) {
        // `berth_placements_total` by outcome and strategy, and `berth_placement_duration_seconds`.
        let started = ContinuousClock.now
        let strategy = draft.placement.strategy.rawValue
        func count(_ outcome: String) {
            Counter(label: "berth_placements_total", dimensions: [("outcome", outcome), ("strategy", strategy)]).increment()
            Timer(label: "berth_placement_duration_seconds", dimensions: [("strategy", strategy)], preferredDisplayUnit: .seconds).recordInterval(since: started)
        }
        do {
            let placed = try await reserveOnce(draft, actor: actor, lease: lease)
            count("placed")
            return placed
        } catch let error as PlacementError {
            switch error {
            case .insufficientCapacity: count("insufficient_capacity")
            case .noHealthyServers: count("no_healthy_servers")
            case .quotaExceeded: count("quota_exceeded")
            case .nameTaken: count("name_taken")
            }
            throw error
        } catch {
            count("error")
            throw error
        }
    }

    private func reserveOnce(_ draft: WorkspaceDraft, actor: String?, lease: Duration) async throws -> (server: WorkspaceServer, plan: Placement.Plan) {
        try await database.retrying {
            try await database.withSystem { scope in
                try await checkQuota(draft, in: scope)
                let servers = try await store.list(in: scope)
                var cursor = 0
                if draft.placement.strategy == .roundRobin {
                    cursor = try await scope.first("""
                        INSERT INTO placement_cursors (name, position) VALUES ('round_robin', 1)
                        ON CONFLICT (name) DO UPDATE SET position = placement_cursors.position + 1
                        RETURNING position - 1 AS p
                        """)!.decode("p", as: Int.self)
                }
                var plan = Placement.plan(draft.placement, servers: servers, roundRobinCursor: cursor)
                if let server = try await reserveFirst(of: &plan, draft.resources, constraints: draft.placement.constraints, in: scope) {
                    try await insertWorkspace(draft, on: server.id, actor: actor, lease: lease, in: scope)
                    return (server, plan)
                }
                if plan.anyHealthy { throw PlacementError.insufficientCapacity(exclusions: plan.exclusions) }
                throw PlacementError.noHealthyServers(exclusions: plan.exclusions)
            }
        }
    }

    /// Reserves `resources` on the first of `plan`'s candidates that still has room, and returns it;
    /// nil, with each candidate's reasons recorded in `plan`, when none has.
    ///
    /// First the candidates whose rows no concurrent placement holds, in the plan's order:
    /// concurrent placers read the same figures and rank the same server first, and would otherwise
    /// queue on its row lock one commit after another. Then, if none of those took it, each
    /// candidate again, waiting for its lock: a held row may still have room.
    func reserveFirst(of plan: inout Placement.Plan, _ resources: Resources, constraints: [LabelConstraint], in scope: SystemScope) async throws -> WorkspaceServer? {
        for candidate in plan.candidates where try await reserveCapacity(on: candidate.id, resources, skipLocked: true, in: scope) {
            return candidate
        }
        for candidate in plan.candidates {
            if try await reserveCapacity(on: candidate.id, resources, in: scope) { return candidate }
            // Taken meanwhile: record why, from the row as it is now.
            if let fresh = try await store.get(candidate.id, in: scope),
                let index = plan.evaluations.firstIndex(where: { $0.serverID == candidate.id })
            {
                let reasons = Placement.exclusionReasons(fresh, resources: resources, constraints: constraints)
                plan.evaluations[index].outcome = .excluded(reasons: reasons.isEmpty ? ["capacity taken by a concurrent request"] : reasons)
            }
        }
        return nil
    }

    /// Gives back what `workspace` holds on its server (compute, slot, or both).
    /// Releasing what is not held gives back nothing, so calling it twice is harmless.
    public func release(_ workspace: WorkspaceID, compute: Bool, slot: Bool, in scope: SystemScope) async throws {
        guard let row = try await scope.first("""
            SELECT server_id, CASE WHEN \(compute) THEN (held_cpu * 1000)::bigint ELSE 0 END AS cpu,
                   CASE WHEN \(compute) THEN held_memory_mb ELSE 0 END AS memory,
                   holds_slot AND \(slot) AS free_slot, disk_gb
            FROM workspaces WHERE id = \(workspace) FOR UPDATE
            """), let server = try row.decode("server_id", as: ServerID?.self) else { return }
        let cpu = try row.decode("cpu", as: Int.self), memory = try row.decode("memory", as: Int.self)
        let freeSlot = try row.decode("free_slot", as: Bool.self)
        guard cpu > 0 || memory > 0 || freeSlot else { return }
        let disk = freeSlot ? try row.decode("disk_gb", as: Int.self) : 0
        try await scope.execute("""
            UPDATE workspace_servers SET
                current_cpu_used = current_cpu_used - \(cpu)::numeric / 1000,
                current_memory_used_mb = current_memory_used_mb - \(memory),
                current_disk_used_gb = current_disk_used_gb - \(disk),
                current_workspaces = current_workspaces - \(freeSlot ? 1 : 0),
                updated_at = now()
            WHERE id = \(server)
            """)
        try await scope.execute("""
            UPDATE workspaces SET held_cpu = held_cpu - \(cpu)::numeric / 1000, held_memory_mb = held_memory_mb - \(memory),
                holds_slot = holds_slot AND NOT \(freeSlot), updated_at = now()
            WHERE id = \(workspace)
            """)
    }

    /// Takes CPU and memory again for a stopped workspace on its own server; `false` if it no longer fits.
    public func reserveCompute(for workspace: WorkspaceID, in scope: SystemScope) async throws -> Bool {
        try await reserveGrowth(of: workspace, server: nil, in: scope)
    }

    /// Raises what `workspace` holds to its wanted size (after a resize, or to start it), reserving only
    /// the difference on its server, and only if that still fits; `false`, changing nothing, if not.
    /// What it holds beyond the wanted size stays held until Docker confirms the smaller limits.
    public func reserveGrowth(of workspace: WorkspaceID, server healthyOnly: Bool? = nil, in scope: SystemScope) async throws -> Bool {
        guard let row = try await scope.first("""
            SELECT server_id, greatest((cpu - held_cpu) * 1000, 0)::bigint AS cpu, greatest(memory_mb - held_memory_mb, 0) AS memory,
                   holds_compute
            FROM workspaces WHERE id = \(workspace) FOR UPDATE
            """), let server = try row.decode("server_id", as: ServerID?.self) else { return false }
        let cpu = try row.decode("cpu", as: Int.self), memory = try row.decode("memory", as: Int.self)
        if cpu == 0 && memory == 0 { return true }
        // A workspace taking compute afresh (a start) needs a healthy server; growing in place does not.
        let starting = try !row.decode("holds_compute", as: Bool.self)
        let reserved = try await scope.execute("""
            UPDATE workspace_servers SET
                current_cpu_used = current_cpu_used + \(cpu)::numeric / 1000,
                current_memory_used_mb = current_memory_used_mb + \(memory), updated_at = now()
            WHERE id = \(server) AND (NOT \(starting) OR status = 'healthy')
                AND current_cpu_used + \(cpu)::numeric / 1000 <= total_cpu
                AND current_memory_used_mb + \(memory) <= total_memory_mb
            """).affectedRows == 1
        if reserved {
            try await scope.execute("""
                UPDATE workspaces SET held_cpu = held_cpu + \(cpu)::numeric / 1000, held_memory_mb = held_memory_mb + \(memory),
                    updated_at = now()
                WHERE id = \(workspace)
                """)
        }
        return reserved
    }

    /// Lowers what `workspace` holds to `target` (Docker confirmed the limits), giving the rest back.
    public func settleCompute(of workspace: WorkspaceID, to target: Resources, in scope: SystemScope) async throws {
        guard let row = try await scope.first("""
            SELECT server_id, greatest(held_cpu * 1000 - \(target.cpuMillis), 0)::bigint AS cpu,
                   greatest(held_memory_mb - \(target.memoryMB), 0) AS memory
            FROM workspaces WHERE id = \(workspace) FOR UPDATE
            """), let server = try row.decode("server_id", as: ServerID?.self) else { return }
        let cpu = try row.decode("cpu", as: Int.self), memory = try row.decode("memory", as: Int.self)
        guard cpu > 0 || memory > 0 else { return }
        try await scope.execute("""
            UPDATE workspace_servers SET current_cpu_used = current_cpu_used - \(cpu)::numeric / 1000,
                current_memory_used_mb = current_memory_used_mb - \(memory), updated_at = now()
            WHERE id = \(server)
            """)
        try await scope.execute("""
            UPDATE workspaces SET held_cpu = held_cpu - \(cpu)::numeric / 1000, held_memory_mb = held_memory_mb - \(memory), updated_at = now()
            WHERE id = \(workspace)
            """)
    }

    ///
    /// With `skipLocked`, a server whose row another transaction holds counts as taken (`false`)
    /// instead of being waited for.
    func reserveCapacity(on server: ServerID, _ r: Resources, skipLocked: Bool = false, in scope: SystemScope) async throws -> Bool {
        let fits: PostgresQuery = """
            status = 'healthy' AND schedulable = 'active' AND removed_at IS NULL
                AND current_cpu_used + \(r.cpuMillis)::numeric / 1000 <= total_cpu
                AND current_memory_used_mb + \(r.memoryMB) <= total_memory_mb
                AND current_disk_used_gb + \(r.diskGB) <= total_disk_gb
                AND current_workspaces + 1 <= max_workspaces
            """
        // The row is locked (or, with `skipLocked`, passed over if another holds it) before `fits`
        // is judged on its newest version.
        let row: PostgresQuery = skipLocked ? "(SELECT id FROM workspace_servers WHERE id = \(server) FOR UPDATE SKIP LOCKED)" : "\(server)"
        return try await scope.execute("""
            UPDATE workspace_servers SET
                current_cpu_used = current_cpu_used + \(r.cpuMillis)::numeric / 1000,
                current_memory_used_mb = current_memory_used_mb + \(r.memoryMB),
                current_disk_used_gb = current_disk_used_gb + \(r.diskGB),
                current_workspaces = current_workspaces + 1,
                updated_at = now()
            WHERE id = \(fragment: row) AND \(fragment: fits)
            """).affectedRows == 1
    }

    private func checkQuota(_ draft: WorkspaceDraft, in scope: SystemScope) async throws {
        try await checkQuota(draft.tenantID, requesting: draft.resources, replacing: nil, in: scope)
    }

    /// Refuses with `quotaExceeded` unless the tenant's workspaces, with `replacing` (if any)
    /// counted at `resources` instead of its current size, or plus one more of that size, fit its
    /// quota. Every workspace that is not deleted counts for the number of workspaces and for disk
    /// (a stopped one keeps its slot and disk on its server); those that run, or are asked to, count
    /// for CPU and memory. Locking the tenant row serialises one tenant's creates, starts and resizes,
    /// so the sums cannot go stale.
    public func checkQuota(_ tenantID: TenantID, requesting resources: Resources, replacing: WorkspaceID?, in scope: SystemScope) async throws {
        guard let tenant = try await TenantStore().lock(tenantID, in: scope) else {
            throw PostgresError(code: .foreignKeyViolation, message: "no such tenant")
        }
        let held = try await scope.first("""
            SELECT count(*) AS n, coalesce(sum(disk_gb), 0)::bigint AS disk,
                   coalesce(sum(cpu) FILTER (WHERE status NOT IN ('error', 'stopped')) * 1000, 0)::bigint AS cpu,
                   coalesce(sum(memory_mb) FILTER (WHERE status NOT IN ('error', 'stopped')), 0)::bigint AS mem
            FROM workspaces WHERE tenant_id = \(tenantID) AND status <> 'deleted' AND id IS DISTINCT FROM \(replacing)
            """)!
        let usage = QuotaUsage(workspaces: try held.decode("n"), cpuMillis: try held.decode("cpu"), memoryMB: try held.decode("mem"), diskGB: try held.decode("disk"))
        let quota = tenant.quota
        let adding = replacing == nil ? 1 : 0
        if usage.workspaces + adding > quota.maxWorkspaces || usage.cpuMillis + resources.cpuMillis > quota.maxCPUMillis
            || usage.memoryMB + resources.memoryMB > quota.maxMemoryMB || usage.diskGB + resources.diskGB > quota.maxDiskGB
        {
            throw PlacementError.quotaExceeded(usage, requested: resources, quota: quota)
        }
    }

    private func insertWorkspace(_ draft: WorkspaceDraft, on server: ServerID, actor: String?, lease: Duration, in scope: SystemScope) async throws {
        do {
            try await scope.execute("""
                INSERT INTO workspaces (id, tenant_id, name, status, server_id, image, cpu, memory_mb, disk_gb,
                    held_cpu, held_memory_mb, holds_slot, command, env, labels, placement,
                    desired_status, generation, observed_generation, actor, actor_until, idle_stop_minutes, max_lifetime_minutes)
                VALUES (\(draft.id), \(draft.tenantID), \(draft.name), 'creating', \(server), \(draft.image),
                    \(draft.resources.cpuMillis)::numeric / 1000, \(draft.resources.memoryMB), \(draft.resources.diskGB),
                    \(draft.resources.cpuMillis)::numeric / 1000, \(draft.resources.memoryMB),
                    true, \(draft.command.map { PostgresJSON($0) })::jsonb, \(PostgresJSON(draft.env))::jsonb,
                    \(PostgresJSON(draft.labels))::jsonb, \(PostgresJSON(StoredPlacement(strategy: draft.placement.strategy, constraints: draft.placement.constraints)))::jsonb,
                    'running', 1, 0, \(actor), CASE WHEN \(actor)::text IS NULL THEN NULL ELSE now() + make_interval(secs => \(lease.inSeconds)) END,
                    \(draft.idleStopMinutes)::numeric, \(draft.maxLifetimeMinutes)::numeric)
                """)
            if let repository = draft.repository {
                try await scope.execute("""
                    UPDATE workspaces SET repository_url = \(repository.url), repository_branch = \(repository.branch),
                        repository_commit = \(repository.commit), repository_depth = \(repository.depth),
                        repository_submodules = \(repository.submodules), repository_path = \(repository.path),
                        repository_username = \(repository.username),
                        repository_token_sealed = \(draft.sealedToken.map { PostgresBytes($0.bytes) }), repository_token_key_id = \(draft.sealedToken?.keyID),
                        git_status = 'pending'
                    WHERE id = \(draft.id)
                    """)
            }
            try await scope.execute("""
                INSERT INTO workspace_events (tenant_id, workspace_id, from_status, to_status, reason)
                VALUES (\(draft.tenantID), \(draft.id), NULL, 'creating', 'placed')
                """)
        } catch {
            if error.code == .uniqueViolation { throw PlacementError.nameTaken(draft.name) }
            throw error
        }
    }
}
