import Domain
import Foundation
import Persistence

/// How a workspace asked to be placed, kept on its row (`workspaces.placement`) so a move later
/// honours the same constraints.
struct StoredPlacement: Codable, Sendable {
    var strategy: PlacementStrategy
    var constraints: [LabelConstraint]?
}

extension PlacementService {
    /// Chooses another server for `workspace` and reserves there what it will hold once moved: its
    /// CPU and memory at `resources` when it is to run, its disk and a slot always. The move is then
    /// the workspace's wanted server (`move_to_server_id`) until the converger records it or undoes
    /// it. The workspace's own constraints and strategy apply; its current server and servers that
    /// are cordoned, draining or unhealthy are never chosen. Throws `insufficientCapacity` with every
    /// other server's reasons.
    public func reserveMove(
        of workspace: WorkspaceID, at resources: Resources, running: Bool, reason: String, in scope: SystemScope
    ) async throws -> WorkspaceServer {
        guard let row = try await scope.first("""
            SELECT server_id, placement, move_to_server_id FROM workspaces WHERE id = \(workspace) FOR UPDATE
            """) else { throw PostgresError(code: .other, message: "no such workspace") }
        if try row.decode("move_to_server_id", as: ServerID?.self) != nil { try await releaseMove(of: workspace, in: scope) }
        let current = try row.decode("server_id", as: ServerID?.self)
        let stored = try? row.decode("placement", as: PostgresJSON<StoredPlacement>.self).value
        let strategy: PlacementStrategy = stored?.strategy == .affinity || stored?.strategy == nil ? .spread : stored!.strategy
        let compute = running ? resources : Resources(cpuMillis: 0, memoryMB: 0, diskGB: resources.diskGB)
        let request = PlacementRequest(resources: compute, strategy: strategy, constraints: stored?.constraints ?? [])
        let servers = try await store.list(in: scope).filter { $0.id != current }
        var plan = Placement.plan(request, servers: servers)
        if let target = try await reserveFirst(of: &plan, compute, constraints: request.constraints, in: scope) {
            try await scope.execute("""
                UPDATE workspaces SET move_to_server_id = \(target.id), move_held_cpu = \(compute.cpuMillis)::numeric / 1000,
                    move_held_memory_mb = \(compute.memoryMB), move_holds_slot = true, move_reason = \(reason), updated_at = now()
                WHERE id = \(workspace)
                """)
            return target
        }
        // The workspace has a server: no other with room is a lack of room, whatever their health.
        throw PlacementError.insufficientCapacity(exclusions: plan.exclusions)
    }

    /// Gives back what a pending move of `workspace` holds on its target, and forgets the move.
    public func releaseMove(of workspace: WorkspaceID, in scope: SystemScope) async throws {
        guard let row = try await scope.first("""
            SELECT move_to_server_id, (move_held_cpu * 1000)::bigint AS cpu, move_held_memory_mb AS memory, move_holds_slot, disk_gb
            FROM workspaces WHERE id = \(workspace) FOR UPDATE
            """), let target = try row.decode("move_to_server_id", as: ServerID?.self) else { return }
        let slot = try row.decode("move_holds_slot", as: Bool.self)
        try await scope.execute("""
            UPDATE workspace_servers SET
                current_cpu_used = current_cpu_used - \(try row.decode("cpu", as: Int.self))::numeric / 1000,
                current_memory_used_mb = current_memory_used_mb - \(try row.decode("memory", as: Int.self)),
                current_disk_used_gb = current_disk_used_gb - \(slot ? try row.decode("disk_gb", as: Int.self) : 0),
                current_workspaces = current_workspaces - \(slot ? 1 : 0), updated_at = now()
            WHERE id = \(target)
            """)
        try await scope.execute("""
            UPDATE workspaces SET move_to_server_id = NULL, move_held_cpu = 0, move_held_memory_mb = 0, move_holds_slot = false,
                move_reason = NULL, updated_at = now()
            WHERE id = \(workspace)
            """)
    }

    /// The move of `workspace` is done: what it held on its old server goes back, what the move held
    /// on the target becomes what it holds on its (new) own server.
    public func commitMove(of workspace: WorkspaceID, in scope: SystemScope) async throws {
        try await release(workspace, compute: true, slot: true, in: scope)
        try await scope.execute("""
            UPDATE workspaces SET server_id = move_to_server_id, held_cpu = move_held_cpu, held_memory_mb = move_held_memory_mb,
                holds_slot = move_holds_slot, move_to_server_id = NULL, move_held_cpu = 0, move_held_memory_mb = 0,
                move_holds_slot = false, move_reason = NULL, move_error = NULL, move_attempts = 0, updated_at = now()
            WHERE id = \(workspace) AND move_to_server_id IS NOT NULL
            """)
    }
}
