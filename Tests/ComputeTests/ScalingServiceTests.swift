import BerthTestSupport
@testable import Compute
import Domain
import Foundation
import Persistence
import Testing

/// The scaling service on real engines: a drain that empties a server, idle stop and lifetime, and
/// quotas that hold for stopped workspaces.
@Suite struct ScalingServiceTests {
    /// Runs passes of `scaling` until `done` holds, or fails after `limit`.
    static func passUntil(_ scaling: ScalingService, within limit: Duration = .seconds(90), _ what: String, _ done: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + limit
        while try await !done() {
            guard ContinuousClock.now < deadline else { throw TestEnvironment.Missing(description: "\(what): not within \(limit)") }
            _ = await scaling.pass()
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// Draining a server with five workspaces, three running and two stopped, leaves it empty: each
    /// is on the other server in the state it had, with its files, and the running ones are metered
    /// on without an overlap. The drain's progress says so.
    @Test func aDrainMovesEveryWorkspaceOffInItsState() async throws {
        let world = try await LifecycleWorld.make(name: "ws-drain-a")
        let other = try await WorkspaceMoveTests.second(world, name: "ws-drain-b", capacity: Capacity(cpuMillis: 8000, memoryMB: 8192, diskGB: 50, workspaces: 20))
        do {
            var ids: [WorkspaceID] = []
            for index in 0..<5 {
                var draft = world.draft("d\(index)", cpu: 250, memory: 32)
                draft.placement = PlacementRequest(resources: draft.resources, strategy: .affinity, preferredServer: "ws-drain-a")
                let created = try await world.orchestrator.create(draft)
                try await WorkspaceMoveTests.write(try #require(created.containerID), world.engine)
                if index >= 3 { try await world.orchestrator.stop(created.id) }
                ids.append(created.id)
            }
            let before = try await ids.asyncMap { try await world.row($0).status }
            _ = try await world.db.withSystem { try await WorkspaceServerStore().setSchedulable(world.server.id, .draining, drainDeadline: .seconds(600), in: $0) }
            let scaling = ScalingService(database: world.db, orchestrator: world.orchestrator, logger: TestDatabase.logger)
            try await Self.passUntil(scaling, "the server drained") {
                try await world.db.withSystem { try await DrainProgress.load(world.server.id, in: $0) }?.state == .drained
            }
            let progress = try #require(try await world.db.withSystem { try await DrainProgress.load(world.server.id, in: $0) })
            #expect(progress.moved == 5 && progress.remaining == 0 && progress.failed.isEmpty, "\(progress)")
            for (id, status) in zip(ids, before) {
                let row = try await world.row(id)
                #expect(row.serverID == other.server.id && row.status == status && row.isSettled, "\(row.name): \(row.status) on \(String(describing: row.serverID))")
                let container = try #require(row.containerID)
                #expect(try await other.engine.inspectContainer(container).state.running == (status == .running))
                #expect(try await WorkspaceMoveTests.files(container, other.engine) == WorkspaceMoveTests.expectedFiles, "\(row.name)'s files")
                let intervals = try await WorkspaceMoveTests.intervals(id, world.db)
                if status == .running {
                    #expect(intervals.count == 2 && intervals[1].ended == nil && intervals[0].ended! <= intervals[1].started, "\(row.name): \(intervals)")
                }
            }
            #expect(try await WorkspaceMoveTests.reserved(world.server.id, world.db) == .zero)
            #expect(try await world.engine.listContainers(labels: ["berth.deployment=\(try await world.orchestrator.converger.deployment.id(world.db))"]).isEmpty)
        } catch {
            await WorkspaceMoveTests.cleanUp(world, other)
            await world.finish()
            throw error
        }
        await WorkspaceMoveTests.cleanUp(world, other)
        await world.finish()
    }

    /// With nowhere to go, a drain says so per workspace and leaves it running where it is.
    @Test func aDrainWithNowhereToGoSaysWhy() async throws {
        let world = try await LifecycleWorld.make(name: "ws-drain-c")
        do {
            let created = try await world.orchestrator.create(world.draft("stuck"))
            _ = try await world.db.withSystem { try await WorkspaceServerStore().setSchedulable(world.server.id, .draining, drainDeadline: .seconds(600), in: $0) }
            let scaling = ScalingService(database: world.db, orchestrator: world.orchestrator, settings: .init(maxMoveAttempts: 2), logger: TestDatabase.logger)
            try await Self.passUntil(scaling, "the move given up") {
                try await world.db.withSystem { try await $0.first("SELECT move_attempts FROM workspaces WHERE id = \(created.id)")!.decode("move_attempts", as: Int.self) } >= 2
            }
            let progress = try #require(try await world.db.withSystem { try await DrainProgress.load(world.server.id, in: $0) })
            #expect(progress.state == .draining && progress.remaining == 1 && progress.failed.map(\.workspace_id) == [created.id])
            #expect(progress.failed.first?.error.contains("no other server has room") == true, "\(progress)")
            #expect(try await world.row(created.id).status == .running)
            try await world.expectConverged()
        } catch {
            await world.finish()
            throw error
        }
        await world.finish()
    }

    /// A workspace idle for longer than its tenant's idle period is stopped, and says why; one that
    /// sent an activity heartbeat keeps running; one past its own maximum lifetime is stopped too.
    /// (Their pasts are written into the rows, so no wall-clock bound is needed here; the process
    /// test `IdleStopProcessTests` waits out a real short period.)
    @Test func idleAndExpiredWorkspacesAreStoppedAndAHeartbeatKeepsOneRunning() async throws {
        let world = try await LifecycleWorld.make(name: "ws-idle")
        do {
            try await world.db.withSystem { try await $0.execute("UPDATE tenants SET idle_stop_minutes = 1 WHERE id = \(world.tenant)") }
            let idle = try await world.orchestrator.create(world.draft("idle"))
            let busy = try await world.orchestrator.create(world.draft("busy"))
            var short = world.draft("short-lived")
            short.idleStopMinutes = 0
            short.maxLifetimeMinutes = 1
            let mayfly = try await world.orchestrator.create(short)
            let scaling = ScalingService(database: world.db, orchestrator: world.orchestrator, logger: TestDatabase.logger)
            let first = await scaling.pass()
            #expect(first.idleStopped.isEmpty && first.expired.isEmpty, "nothing is idle or expired yet: \(first)")
            // Two minutes pass: all three started two minutes ago; one of them heard from its tenant since.
            try await world.db.withSystem { scope in
                try await scope.execute("""
                    UPDATE workspaces SET started_at = started_at - interval '2 minutes', created_at = created_at - interval '2 minutes',
                        last_activity_at = NULL, last_busy_at = NULL
                    WHERE tenant_id = \(world.tenant)
                    """)
            }
            _ = try await world.db.withTenant(world.tenant) { try await WorkspaceStore().touch(busy.id, in: $0) }
            let report = await scaling.pass()
            #expect(report.idleStopped == [idle.id] && report.expired == [mayfly.id], "\(report)")
            let (idleNow, busyNow, mayflyNow) = (try await world.row(idle.id).status, try await world.row(busy.id).status, try await world.row(mayfly.id).status)
            #expect(idleNow == .stopped && busyNow == .running && mayflyNow == .stopped)
            let reasons = try await world.db.withSystem { scope in
                try await scope.execute("SELECT workspace_id, reason FROM workspace_events WHERE reason LIKE 'stopped:%'").map {
                    (try $0.decode("workspace_id", as: WorkspaceID.self), try $0.decode("reason", as: String.self))
                }
            }
            #expect(reasons.contains { $0.0 == idle.id && $0.1 == "stopped: idle for 1 minute" }, "\(reasons)")
            #expect(reasons.contains { $0.0 == mayfly.id && $0.1.contains("maximum lifetime") }, "\(reasons)")
            let audit = try await world.db.withSystem { try await $0.execute("SELECT action FROM audit_events WHERE actor_type = 'system' ORDER BY id").map { try $0.decode("action", as: String.self) } }
            #expect(Set(audit).isSuperset(of: ["workspace.idle_stop", "workspace.lifetime_stop"]), "\(audit)")
            try await world.expectConverged()
        } catch {
            await world.finish()
            throw error
        }
        await world.finish()
    }

    /// Stopped workspaces keep their slot and disk on their server, so they count for the quota: a
    /// tenant that creates and stops workspaces in a loop is refused once its slots (or its disk) are
    /// used, while another tenant can still create.
    @Test func stoppedWorkspacesCountForSlotsAndDisk() async throws {
        let world = try await LifecycleWorld.make(name: "ws-quota", quota: Quota(maxWorkspaces: 3, maxCPUMillis: 8000, maxMemoryMB: 8192, maxDiskGB: 100))
        do {
            for index in 0..<3 {
                let created = try await world.orchestrator.create(world.draft("loop-\(index)"))
                try await world.orchestrator.stop(created.id)
            }
            await #expect(throws: PlacementError.self) { try await world.orchestrator.create(world.draft("one-too-many")) }
            do {
                _ = try await world.orchestrator.create(world.draft("one-too-many"))
            } catch let PlacementError.quotaExceeded(usage, _, quota) {
                #expect(usage.workspaces == 3 && quota.maxWorkspaces == 3 && usage.cpuMillis == 0, "stopped ones hold no CPU")
            }
            // Starting a stopped one again is within the quota: it already has its slot.
            let first = try await world.db.withSystem { try await $0.first("SELECT id FROM workspaces WHERE name = 'loop-0'")!.decode("id", as: WorkspaceID.self) }
            #expect(try await world.orchestrator.start(first).row.status == .running)
            // Disk: a tenant with 2 GB gets two workspaces of 1 GB, stopped or not.
            let small = try await world.db.withSystem { try await TenantStore().create(name: "small-disk", quota: Quota(maxWorkspaces: 10, maxCPUMillis: 8000, maxMemoryMB: 8192, maxDiskGB: 2), in: $0).id }
            for index in 0..<2 {
                var draft = world.draft("disk-\(index)")
                draft.tenantID = small
                try await world.orchestrator.stop(try await world.orchestrator.create(draft).id)
            }
            var third = world.draft("disk-2")
            third.tenantID = small
            await #expect(throws: PlacementError.self) { try await world.orchestrator.create(third) }
            // Another tenant still creates.
            let other = try await world.db.withSystem { try await TenantStore().create(name: "other", quota: .standard, in: $0).id }
            var draft = world.draft("someone-else")
            draft.tenantID = other
            #expect(try await world.orchestrator.create(draft).status == .running)
            try await world.expectConverged()
        } catch {
            await world.finish()
            throw error
        }
        await world.finish()
    }
}
