import BerthTestSupport
@testable import Compute
import Domain
import Foundation
import Persistence
import Testing

/// The orchestrator on real PostgreSQL and a real Docker Engine.
@Suite struct WorkspaceOrchestratorTests {
    @Test func lifecycleKeepsReservationsAndContainersInStep() async throws {
        let world = try await LifecycleWorld.make(name: "ws-orch", capacity: Capacity(cpuMillis: 2000, memoryMB: 1024, diskGB: 10, workspaces: 5))
        let first = world.draft("first", cpu: 1000, memory: 128)
        let created = try await world.orchestrator.create(first)
        #expect(created.status == .running)
        let container = try #require(created.containerID)
        let details = try await world.engine.inspectContainer(container)
        #expect(details.state.running)
        #expect(details.hostConfig.nanoCPUs == 1_000_000_000)
        #expect(details.hostConfig.memory == 128 << 20)
        #expect(details.config.labels["berth.workspace"] == first.id.description)
        #expect(details.config.labels["berth.tenant"] == world.tenant.description)
        #expect(details.config.labels["berth.deployment"] == (try await world.orchestrator.converger.deployment.id(world.db)))
        #expect(try await world.reserved() == Capacity(cpuMillis: 1000, memoryMB: 128, diskGB: 1, workspaces: 1))
        let events = try await world.db.withSystem { try await WorkspaceStore().events(first.id, in: $0) }
        #expect(events.map(\.to) == [.creating, .starting, .running])

        // Not allowed: starting a running workspace.
        await #expect(throws: OrchestrationError.invalidState("cannot start a workspace that is running")) { try await world.orchestrator.start(first.id) }

        guard case .applied = try await world.orchestrator.stop(first.id) else { Issue.record("the stop was not applied"); return }
        #expect(try await world.row(first.id).status == .stopped)
        let afterStop = try await world.engine.inspectContainer(container)
        #expect(afterStop.state.running == false)
        // Docker's init passed SIGTERM on and the keep-alive ended by it (143), not by the SIGKILL
        // that follows a grace period spent waiting (137).
        #expect(afterStop.state.exitCode == 143, "exit code \(afterStop.state.exitCode)")
        #expect(try await world.reserved() == Capacity(cpuMillis: 0, memoryMB: 0, diskGB: 1, workspaces: 1))

        // The server fills up meanwhile; starting again is refused and the workspace stays stopped, intact.
        let second = world.draft("second", cpu: 2000, memory: 128)
        _ = try await world.orchestrator.create(second)
        do {
            try await world.orchestrator.start(first.id)
            Issue.record("started on a full server")
        } catch let error as OrchestrationError {
            guard case .insufficientCapacity(let reason) = error else { Issue.record("\(error)"); return }
            #expect(reason.contains("cpu 2/2 + 1 > 2"), "\(reason)")
        }
        #expect(try await world.row(first.id).status == .stopped)
        #expect(try await world.engine.inspectContainer(container).state.running == false)

        try await world.orchestrator.delete(second.id)
        #expect(try await world.row(second.id).status == .deleted)
        try await world.orchestrator.start(first.id)
        #expect(try await world.row(first.id).status == .running)
        try await world.orchestrator.restart(first.id)
        #expect(try await world.engine.inspectContainer(container).state.running)
        #expect(try await world.row(first.id).status == .running)

        // A create that fails at Docker leaves the workspace in error with nothing held, and tells
        // the tenant why without naming the engine.
        let broken = world.draft("broken", image: "berth-no-such-image:latest")
        do {
            _ = try await world.orchestrator.create(broken)
            Issue.record("a create with a missing image succeeded")
        } catch let error as OrchestrationError {
            guard case .failed(let failure) = error else { Issue.record("\(error)"); return }
            #expect(failure.code == "image_not_found")
        }
        let brokenRow = try await world.row(broken.id)
        #expect(brokenRow.status == .error)
        #expect(brokenRow.error == "the image was not found on the workspace server")
        #expect(brokenRow.errorDetail?.contains("No such image") == true, "\(brokenRow.errorDetail ?? "")")
        #expect(brokenRow.errorDetail?.contains(world.server.connection.host) == true, "the detail, for admins, names the engine")
        #expect(!brokenRow.holdsCompute && !brokenRow.holdsSlot)
        #expect(brokenRow.containerID == nil)
        // Starting it is a state problem, not a server failure, and changes nothing.
        await #expect(throws: OrchestrationError.invalidState("the workspace has no container (its creation failed); delete it and create it again")) {
            try await world.orchestrator.start(broken.id)
        }
        #expect(try await world.reserved().cpuMillis == 1000)
        try await world.expectConverged()

        try await world.orchestrator.delete(first.id)
        try await world.orchestrator.delete(broken.id)
        #expect(try await world.reserved() == .zero)
        // The engine and the database agree: nothing of this tenant is left.
        #expect(try await world.engine.listContainers(labels: ["berth.tenant=\(world.tenant)"]).isEmpty)
        try await world.expectConverged()
        await world.finish()
    }

    /// A stop whose Docker call fails keeps the workspace's CPU and memory (its container still
    /// runs) and is applied once the engine answers again; before, the row went to `error` and the
    /// reservation was released with the container still running.
    @Test func aStopDockerDidNotTakeKeepsTheReservationAndIsRetried() async throws {
        let world = try await LifecycleWorld.make(name: "ws-stopfail")
        let workspace = try await world.orchestrator.create(world.draft("stubborn"))
        try await world.breakConnection()
        let result = try await world.orchestrator.stop(workspace.id)
        guard case .accepted(let row, let reason) = result else { Issue.record("the stop was applied: \(result)"); return }
        #expect(row.status == .stopping && row.holdsCompute)
        #expect(reason?.code == "server_unreachable")
        #expect(try await world.running(workspace.containerID) == true, "the container still runs")
        #expect(try await world.reserved().cpuMillis == 500, "and its CPU is still reserved")
        // While the engine cannot be reached, passes change nothing.
        _ = await world.reconciler.pass()
        #expect(try await world.row(workspace.id).status == .stopping)
        #expect(try await world.reserved().cpuMillis == 500)

        try await world.restoreConnection()
        let report = await world.reconciler.pass()
        #expect(report.applied == [workspace.id])
        #expect(try await world.row(workspace.id).status == .stopped)
        #expect(try await world.running(workspace.containerID) == false)
        #expect(try await world.reserved().cpuMillis == 0)
        try await world.expectConverged()
        await world.finish()
    }

    /// A replica that died mid-stop leaves `stopping` with the container running: the reconciler
    /// finishes the stop, rather than moving the row to `error` and releasing a running container.
    @Test func aStopCutOffByACrashIsFinished() async throws {
        let world = try await LifecycleWorld.make(name: "ws-stopcrash")
        let workspace = try await world.orchestrator.create(world.draft("orphaned-stop"))
        // What the dead replica left: the intent recorded, its lease run out, Docker never asked.
        try await world.db.withSystem { scope in
            _ = try await WorkspaceStore().intend(workspace.id, desired: .stopped, actor: "dead-replica", lease: .seconds(90), in: scope)
            try await WorkspaceStore().transition(workspace.id, from: [.running], to: .stopping, reason: "stop requested", in: scope)
            try await scope.execute("UPDATE workspaces SET actor_until = now() - interval '1 second' WHERE id = \(workspace.id)")
        }
        #expect(try await world.running(workspace.containerID) == true)
        let report = await world.reconciler.pass()
        #expect(report.applied == [workspace.id])
        #expect(report.died.isEmpty)
        #expect(try await world.row(workspace.id).status == .stopped)
        #expect(try await world.running(workspace.containerID) == false)
        try await world.expectConverged()
        await world.finish()
    }

    /// A start in flight on another replica (holding the workspace) and a stop that arrives
    /// meanwhile: the stop is not applied under it, the late start's outcome cannot land, and the
    /// stop wins once the workspace is free; compute is never released while the container runs.
    @Test func aStopRacingAnInFlightStartWins() async throws {
        let world = try await LifecycleWorld.make(name: "ws-race", waitLimit: .milliseconds(500))
        let workspace = try await world.orchestrator.create(world.draft("racer"))
        try await world.orchestrator.stop(workspace.id)
        let container = try #require(workspace.containerID)

        // The other replica records its start intent (reserving compute) and holds the workspace.
        let startGeneration = try await world.db.withSystem { scope -> Int64 in
            #expect(try await world.placement.reserveCompute(for: workspace.id, in: scope))
            let intent = try await WorkspaceStore().intend(workspace.id, desired: .running, actor: "other-replica", lease: .seconds(90), in: scope)
            try await WorkspaceStore().transition(workspace.id, from: [.stopped], to: .starting, reason: "start requested", in: scope)
            return intent.generation
        }
        // The stop comes in here: it records its intent and, finding the workspace held, waits.
        let stop = try await world.orchestrator.stop(workspace.id)
        guard case .accepted(let pending, _) = stop else { Issue.record("the stop was applied under a held workspace: \(stop)"); return }
        #expect(pending.status == .stopping && pending.desired == .stopped)
        // The delayed start lands at Docker now...
        try await world.engine.startContainer(container)
        // ...but its outcome cannot be recorded: the generation moved on.
        let landed = try await world.db.withSystem { try await WorkspaceStore().lockFenced(workspace.id, generation: startGeneration, actor: "other-replica", in: $0) }
        #expect(landed == nil)
        #expect(try await world.row(workspace.id).holdsCompute, "compute stays held while the container runs")

        // The other replica is gone; its lease runs out and the reconciler applies the newest intent.
        try await world.db.withSystem { try await $0.execute("UPDATE workspaces SET actor_until = now() - interval '1 second' WHERE id = \(workspace.id)") }
        _ = await world.reconciler.pass()
        #expect(try await world.row(workspace.id).status == .stopped)
        #expect(try await world.running(container) == false)
        try await world.expectConverged()
        await world.finish()
    }

    /// A restart held by its actor catches the container in its brief `exited` moment: the
    /// reconciler must not move the workspace to `error` (its check is fenced by the lease and the
    /// generation); a container that really died still goes to `error`.
    @Test func theReconcilerLeavesAWorkspaceInMotionAlone() async throws {
        let world = try await LifecycleWorld.make(name: "ws-fence")
        let restarting = try await world.orchestrator.create(world.draft("restarting"))
        let dying = try await world.orchestrator.create(world.draft("dying"))
        try await world.db.withSystem { scope in
            _ = try await WorkspaceStore().intend(restarting.id, desired: .running, restart: true, actor: "restarter", lease: .seconds(90), in: scope)
            try await WorkspaceStore().transition(restarting.id, from: [.running], to: .starting, reason: "restart requested", in: scope)
        }
        try await world.engine.stopContainer(restarting.containerID!, timeout: .seconds(1))
        try await world.engine.killContainer(dying.containerID!)
        let report = await world.reconciler.pass()
        #expect(report.died == [dying.id])
        let row = try await world.row(restarting.id)
        #expect(row.status == .starting && row.holdsCompute, "\(row.status)")
        #expect(try await world.row(dying.id).status == .error)
        #expect(try await world.row(dying.id).errorCode == "container_exited")
        // The restarter dies; the reconciler carries the restart through.
        try await world.db.withSystem { try await $0.execute("UPDATE workspaces SET actor_until = now() - interval '1 second' WHERE id = \(restarting.id)") }
        _ = await world.reconciler.pass()
        #expect(try await world.row(restarting.id).status == .running)
        #expect(try await world.running(restarting.containerID) == true)
        try await world.expectConverged()
        await world.finish()
    }

    /// Resize commits its intent (the new size, the growth reserved) before Docker is asked, holds
    /// no lock while Docker works, and a resize cut off before Docker answered is finished.
    @Test func resizeRecordsItsIntentBeforeDockerAndIsFinished() async throws {
        let world = try await LifecycleWorld.make(name: "ws-resize")
        let workspace = try await world.orchestrator.create(world.draft("grower", cpu: 500, memory: 64))
        try await world.breakConnection()
        let result = try await world.orchestrator.resize(workspace.id, to: Resources(cpuMillis: 1000, memoryMB: 128, diskGB: 1))
        guard case .accepted(let pending, _) = result else { Issue.record("applied without Docker: \(result)"); return }
        #expect(pending.resources.cpuMillis == 1000 && pending.appliedCPUMillis == 500)
        #expect(pending.heldCPUMillis == 1000, "the growth is reserved with the intent")
        #expect(try await world.reserved().cpuMillis == 1000)
        #expect(try await world.engine.inspectContainer(workspace.containerID!).hostConfig.nanoCPUs == 500_000_000)
        // Nothing holds the row while Docker is out of reach: another transaction can lock it at once.
        try await world.db.withSystem { scope in
            try await scope.execute("SET LOCAL lock_timeout = '100ms'")
            _ = try await WorkspaceStore().lock(workspace.id, in: scope)
        }

        try await world.restoreConnection()
        _ = await world.reconciler.pass()
        let grown = try await world.row(workspace.id)
        #expect(grown.appliedCPUMillis == 1000 && grown.appliedMemoryMB == 128 && grown.status == .running)
        let limits = try await world.engine.inspectContainer(workspace.containerID!).hostConfig
        #expect(limits.nanoCPUs == 1_000_000_000 && limits.memory == 128 << 20)
        // Shrinking gives back only once Docker has the smaller limits.
        try await world.orchestrator.resize(workspace.id, to: Resources(cpuMillis: 250, memoryMB: 64, diskGB: 1))
        #expect(try await world.reserved().cpuMillis == 250)
        #expect(try await world.engine.inspectContainer(workspace.containerID!).hostConfig.nanoCPUs == 250_000_000)
        let sizes = try await world.db.withSystem { scope in
            try await scope.execute("SELECT (cpu * 1000)::bigint AS cpu FROM usage_intervals WHERE workspace_id = \(workspace.id) ORDER BY id").map { try $0.decode("cpu", as: Int.self) }
        }
        #expect(sizes == [500, 1000, 250], "each size is metered on its own interval")
        try await world.expectConverged()
        await world.finish()
    }

    /// A server offline for longer than the lost period: its workspaces go to `error` with
    /// `server_lost`, metered up to its last good check, their reservations released. When it
    /// comes back, containers still there are adopted as `stopped` workspaces; a workspace deleted
    /// meanwhile has its container swept away.
    @Test func aLostServersWorkspacesAreGivenUpAndAdoptedWhenItReturns() async throws {
        let world = try await LifecycleWorld.make(name: "ws-lost", lostAfter: .zero)
        let running = try await world.orchestrator.create(world.draft("was-running"))
        let stopped = try await world.orchestrator.create(world.draft("was-stopped"))
        try await world.orchestrator.stop(stopped.id)
        let deleted = try await world.orchestrator.create(world.draft("deleted-meanwhile"))
        let lastGood = try await world.db.withSystem { scope in
            try await scope.first("""
                UPDATE workspace_servers SET status = 'offline',
                    last_healthy_at = (SELECT max(started_at) FROM usage_intervals) + interval '1 millisecond'
                WHERE id = \(world.server.id)
                RETURNING last_healthy_at
                """)!.decode("last_healthy_at", as: Date.self)
        }
        let report = await world.reconciler.pass()
        #expect(Set(report.lost) == [running.id, stopped.id, deleted.id])
        for id in [running.id, stopped.id, deleted.id] {
            let row = try await world.row(id)
            #expect(row.status == .error && row.errorCode == "server_lost" && !row.holdsCompute && !row.holdsSlot)
        }
        #expect(try await world.reserved() == .zero)
        let ended = try await world.db.withSystem { scope in
            try await scope.first("SELECT max(ended_at) AS ended FROM usage_intervals WHERE workspace_id = \(running.id)")!.decode("ended", as: Date.self)
        }
        #expect(abs(ended.timeIntervalSince(lastGood)) < 0.001, "metered up to the last good check, not to now")
        #expect(try await world.db.withSystem { try await AuditStore().list(.init(action: "workspace.server_lost"), before: nil, limit: 10, in: $0) }.count == 3)
        // The tenant deletes one while the server is lost: it needs no Docker.
        #expect(try await world.orchestrator.delete(deleted.id).row.status == .deleted)

        // The server answers again.
        try await world.db.withSystem { try await $0.execute("UPDATE workspace_servers SET status = 'healthy', last_healthy_at = now() WHERE id = \(world.server.id)") }
        let back = await world.reconciler.pass()
        #expect(Set(back.adopted) == [running.id, stopped.id])
        #expect(back.orphansRemoved == [deleted.containerID!])
        for id in [running.id, stopped.id] {
            let row = try await world.row(id)
            #expect(row.status == .stopped && row.holdsSlot && !row.holdsCompute, "\(row.name): \(row.status)")
            #expect(try await world.running(row.containerID) == false)
        }
        #expect(try await world.running(deleted.containerID) == nil)
        #expect(try await world.reserved() == Capacity(cpuMillis: 0, memoryMB: 0, diskGB: 2, workspaces: 2))
        try await world.orchestrator.start(running.id)
        #expect(try await world.row(running.id).status == .running)
        try await world.expectConverged()
        await world.finish()
    }

    /// Containers no live row claims are removed (after the grace period), a container running
    /// behind a stopped row is stopped, and a create whose container the engine made but whose id
    /// was never recorded adopts it rather than making a second.
    @Test func theSweepRemovesOrphansStopsStraysAndAdoptsLostCreates() async throws {
        let world = try await LifecycleWorld.make(name: "ws-sweep")
        let deployment = try await world.orchestrator.converger.deployment.id(world.db)
        let stray = try await world.orchestrator.create(world.draft("stray"))
        try await world.orchestrator.stop(stray.id)
        try await world.engine.startContainer(stray.containerID!)
        let orphan = try await world.engine.createContainer(ContainerSpec(
            name: "berth-\(WorkspaceID.random())", image: DockerFleet.busybox, command: ["sleep", "600"],
            labels: ["berth.workspace": WorkspaceID.random().description, "berth.deployment": deployment, "berth.tenant": world.tenant.description],
            resources: ContainerResources(cpuMillis: 100, memoryMB: 16), networkMode: "none"
        ))
        // Another deployment's container on the same engine is none of this sweep's business.
        let foreign = try await world.engine.createContainer(ContainerSpec(
            name: DockerFleet.uniqueName("foreign"), image: DockerFleet.busybox, command: ["sleep", "600"],
            labels: ["berth.workspace": WorkspaceID.random().description, "berth.deployment": UUID().uuidString.lowercased(), DockerFleet.testLabel: "sweep"],
            resources: ContainerResources(cpuMillis: 100, memoryMB: 16), networkMode: "none"
        ))
        // A create cut off after the engine made its container: placed, the container there, no id recorded.
        let lostCreate = world.draft("lost-create")
        _ = try await world.placement.reserve(lostCreate, actor: "dead-creator", lease: .milliseconds(1))
        let made = try await world.engine.createContainer(world.orchestrator.converger.containers.spec(
            for: try await world.row(lostCreate.id), on: world.server, deployment: deployment
        ))

        let report = await world.reconciler.pass()
        #expect(report.applied == [lostCreate.id])
        #expect(report.strayStopped == [stray.id])
        #expect(report.orphansRemoved == [orphan])
        #expect(try await world.running(stray.containerID) == false)
        #expect(try await world.running(orphan) == nil)
        #expect(try await world.running(foreign) == false, "another deployment's container is left alone")
        let adopted = try await world.row(lostCreate.id)
        #expect(adopted.status == .running && adopted.containerID == made)
        #expect(try await world.engine.listContainers(labels: ["berth.workspace=\(lostCreate.id)"]).count == 1)
        let actions = try await world.db.withSystem { try await AuditStore().list(.init(actorType: "system"), before: nil, limit: 10, in: $0) }.map(\.action)
        #expect(actions.contains("container.orphan_removed") && actions.contains("workspace.container_stopped"), "\(actions)")
        try await world.expectConverged()
        await DockerFleet.remove(foreign, from: world.engine)
        await world.finish()
    }

    /// Reservations that drifted from what the workspaces hold are corrected, with the before and
    /// after in the audit log.
    @Test func driftedReservationsAreCorrectedFromTheWorkspaces() async throws {
        let world = try await LifecycleWorld.make(name: "ws-drift")
        _ = try await world.orchestrator.create(world.draft("held", cpu: 700, memory: 96))
        try await world.db.withSystem { try await $0.execute("UPDATE workspace_servers SET current_cpu_used = 3.1, current_workspaces = 4 WHERE id = \(world.server.id)") }
        let report = await world.reconciler.pass()
        #expect(report.corrected == [world.server.id])
        #expect(try await world.reserved() == Capacity(cpuMillis: 700, memoryMB: 96, diskGB: 1, workspaces: 1))
        let audit = try await world.db.withSystem { try await AuditStore().list(.init(action: "server.reservations_corrected"), before: nil, limit: 1, in: $0) }.first
        #expect(audit?.details["cpu_before"] == "3100" && audit?.details["cpu_after"] == "700")
        #expect(audit?.details["slots_before"] == "4" && audit?.details["slots_after"] == "1")
        #expect(await world.reconciler.pass().corrected.isEmpty, "a second pass finds nothing to correct")
        await world.finish()
    }

    /// Concurrent stop, start, restart and delete requests on the same workspaces end with the
    /// engine and the database in agreement.
    @Test func concurrentChangesOnTheSameWorkspacesConverge() async throws {
        let world = try await LifecycleWorld.make(name: "ws-storm", waitLimit: .seconds(30))
        var ids: [WorkspaceID] = []
        for index in 0..<5 { ids.append(try await world.orchestrator.create(world.draft("storm-\(index)", cpu: 200)).id) }
        let orchestrator = world.orchestrator
        let actions: [WorkspaceAction] = [.stop, .start, .restart, .stop, .start, .delete]
        await withTaskGroup(of: Void.self) { group in
            for round in 0..<20 {
                let id = ids[round % ids.count], action = actions[(round * 7) % actions.count]
                group.addTask {
                    switch action {
                    case .stop: _ = try? await orchestrator.stop(id)
                    case .start: _ = try? await orchestrator.start(id)
                    case .restart: _ = try? await orchestrator.restart(id)
                    default: _ = try? await orchestrator.delete(id)
                    }
                }
            }
        }
        // Whatever was accepted and not yet applied, the reconciler applies.
        for _ in 0..<3 where try await world.db.withSystem({ try await WorkspaceStore().pending(limit: 10, in: $0) }).count > 0 {
            _ = await world.reconciler.pass()
        }
        try await world.expectConverged()
        await world.finish()
    }
}

@Suite struct WorkspaceReconcilerTests {
    @Test func aDeadContainerPutsItsWorkspaceInError() async throws {
        let world = try await LifecycleWorld.make(daemon: "BERTH_TEST_DOCKER_PLAIN_2", name: "ws-recon")
        let alive = try await world.orchestrator.create(world.draft("alive"))
        let doomed = try await world.orchestrator.create(world.draft("doomed"))
        #expect(await world.reconciler.pass().died.isEmpty, "nothing is dead yet")
        try await world.engine.killContainer(try #require(doomed.containerID))
        #expect(await world.reconciler.pass().died == [doomed.id])
        let after = try await world.row(doomed.id)
        #expect(after.status == .error)
        #expect(after.errorCode == "container_exited")
        #expect(after.error?.contains("exit code 137") == true, "\(after.error ?? "")")
        #expect(!after.holdsCompute && after.holdsSlot)
        #expect(try await world.row(alive.id).status == .running)
        #expect(try await world.reserved() == Capacity(cpuMillis: 500, memoryMB: 64, diskGB: 2, workspaces: 2))
        // A second pass (or a second replica) changes nothing more.
        #expect(await world.reconciler.pass().died.isEmpty)
        try await world.expectConverged()
        // The error workspace can be deleted, which removes its container.
        try await world.orchestrator.delete(doomed.id)
        try await world.orchestrator.delete(alive.id)
        #expect(try await world.engine.listContainers(labels: ["berth.tenant=\(world.tenant)"]).isEmpty)
        await world.finish()
    }

    @Test func oneReconcilerPassAtATimeAcrossReplicas() async throws {
        let world = try await LifecycleWorld.make(name: "ws-lock")
        // Another replica holds the pass: this one skips its turn.
        let skipped = try await world.db.withConnection { other in
            try await other.execute("SELECT pg_advisory_lock(\(0x6265_7274_6872_6563 as Int64))")
            let ran = await world.reconciler.runOnce()
            try await other.execute("SELECT pg_advisory_unlock(\(0x6265_7274_6872_6563 as Int64))")
            return ran == nil
        }
        #expect(skipped)
        #expect(await world.reconciler.runOnce() != nil)
        // And it let go of the lock after its pass.
        #expect(await world.reconciler.runOnce() != nil)
        await world.finish()
    }
}

@Suite struct CrashRecoveryTests {
    /// What a replica's crash leaves at each step of each change is carried through by the reconciler.
    @Test func halfDoneWorkspacesAreFinished() async throws {
        let world = try await LifecycleWorld.make(name: "ws-crash")
        func abandon(_ id: WorkspaceID, _ desired: WorkspaceStatus, visible: WorkspaceStatus) async throws {
            try await world.db.withSystem { scope in
                _ = try await WorkspaceStore().intend(id, desired: desired, actor: "dead", lease: .seconds(90), in: scope)
                try await WorkspaceStore().transition(id, from: nil, to: visible, reason: "\(desired) requested", in: scope)
                try await scope.execute("UPDATE workspaces SET actor_until = now() - interval '1 second' WHERE id = \(id)")
            }
        }
        // Crashed mid-delete: the container still exists.
        let deleting = try await world.orchestrator.create(world.draft("deleting"))
        try await abandon(deleting.id, .deleted, visible: .deleting)
        // Crashed mid-stop, after Docker stopped it: the database never heard.
        let stopping = try await world.orchestrator.create(world.draft("stopping"))
        try await world.engine.stopContainer(stopping.containerID!, timeout: .seconds(1))
        try await abandon(stopping.id, .stopped, visible: .stopping)
        // Crashed mid-create, before the engine was asked.
        let creating = world.draft("creating")
        _ = try await world.placement.reserve(creating, actor: "dead", lease: .milliseconds(1))

        let report = await world.reconciler.pass()
        #expect(Set(report.applied) == [deleting.id, stopping.id, creating.id])
        #expect(try await world.row(deleting.id).status == .deleted)
        #expect(try await world.running(deleting.containerID) == nil)
        #expect(try await world.row(stopping.id).status == .stopped)
        let created = try await world.row(creating.id)
        #expect(created.status == .running && created.holdsCompute && created.holdsSlot)
        #expect(try await world.running(created.containerID) == true)
        #expect(try await world.reserved() == Capacity(cpuMillis: 500, memoryMB: 64, diskGB: 2, workspaces: 2))
        // Nothing left to do on a second pass.
        #expect(await world.reconciler.pass().applied.isEmpty)
        try await world.expectConverged()
        await world.finish()
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
