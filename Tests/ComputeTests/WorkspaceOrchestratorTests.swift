import BerthTestSupport
@testable import Compute
import Domain
import Foundation
import Persistence
import Testing

/// The orchestrator on real PostgreSQL and a real Docker Engine.
@Suite struct WorkspaceOrchestratorTests {
    @Test func lifecycleKeepsReservationsAndContainersInStep() async throws {
        let testDB = try await TestDatabase.make()
        let db = testDB.app(poolSize: 6)
        let parts = try TestEnvironment.require("BERTH_TEST_DOCKER_PLAIN_1").split(separator: ":")
        let serverRow = try await db.withSystem { scope in
            try await WorkspaceServerStore().upsert(.init(
                name: "ws-orch", connection: .init(host: String(parts[0]), dockerPort: Int(parts[1])!),
                capacity: Capacity(cpuMillis: 2000, memoryMB: 1024, diskGB: 10, workspaces: 5)
            ), in: scope)
        }
        try await db.withSystem { try await $0.execute("UPDATE workspace_servers SET status = 'healthy' WHERE id = \(serverRow.id)") }
        let tenant = try await db.withSystem { try await TenantStore().create(name: "orch", quota: .standard, in: $0).id }
        let pool = DockerServerPool()
        let placement = PlacementService(database: db, logger: TestDatabase.logger)
        let orchestrator = WorkspaceOrchestrator(database: db, placement: placement, pool: pool, stopGrace: .seconds(1), logger: TestDatabase.logger)
        let client = try pool.client(for: serverRow)
        func draft(_ name: String, cpu: Int, image: String = "berth-busybox:latest") -> WorkspaceDraft {
            let resources = Resources(cpuMillis: cpu, memoryMB: 128, diskGB: 1)
            return WorkspaceDraft(tenantID: tenant, name: name, image: image, resources: resources, placement: PlacementRequest(resources: resources))
        }
        func reserved() async throws -> Capacity {
            try await db.withSystem { try await WorkspaceServerStore().get(serverRow.id, in: $0)!.reserved }
        }
        func status(_ id: WorkspaceID) async throws -> WorkspaceStatus {
            try await db.withSystem { try await WorkspaceStore().get(id, in: $0)!.status }
        }

        let first = draft("first", cpu: 1000)
        let created = try await orchestrator.create(first)
        #expect(created.status == .running)
        let container = try #require(created.containerID)
        let details = try await client.inspectContainer(container)
        #expect(details.state.running)
        #expect(details.hostConfig.nanoCPUs == 1_000_000_000)
        #expect(details.hostConfig.memory == 128 << 20)
        #expect(details.config.labels["berth.workspace"] == first.id.description)
        #expect(details.config.labels["berth.tenant"] == tenant.description)
        #expect(try await reserved() == Capacity(cpuMillis: 1000, memoryMB: 128, diskGB: 1, workspaces: 1))
        let events = try await db.withSystem { try await WorkspaceStore().events(first.id, in: $0) }
        #expect(events.map(\.to) == [.creating, .starting, .running])

        // Not allowed: starting a running workspace.
        await #expect(throws: OrchestrationError.invalidState("cannot start a workspace that is running")) { try await orchestrator.start(first.id) }

        try await orchestrator.stop(first.id)
        #expect(try await status(first.id) == .stopped)
        #expect(try await client.inspectContainer(container).state.running == false)
        #expect(try await reserved() == Capacity(cpuMillis: 0, memoryMB: 0, diskGB: 1, workspaces: 1))

        // The server fills up meanwhile; starting again is refused and the workspace stays stopped, intact.
        let second = draft("second", cpu: 2000)
        _ = try await orchestrator.create(second)
        do {
            try await orchestrator.start(first.id)
            Issue.record("started on a full server")
        } catch let error as OrchestrationError {
            guard case .insufficientCapacity(let reason) = error else { Issue.record("\(error)"); return }
            #expect(reason.contains("cpu 2/2 + 1 > 2"), "\(reason)")
        }
        #expect(try await status(first.id) == .stopped)
        #expect(try await client.inspectContainer(container).state.running == false)

        try await orchestrator.delete(second.id)
        #expect(try await status(second.id) == .deleted)
        try await orchestrator.start(first.id)
        #expect(try await status(first.id) == .running)
        try await orchestrator.restart(first.id)
        #expect(try await client.inspectContainer(container).state.running)

        // A create that fails at Docker leaves the workspace in error with nothing held.
        let broken = draft("broken", cpu: 500, image: "berth-no-such-image:latest")
        await #expect(throws: DockerError.self) { _ = try await orchestrator.create(broken) }
        let brokenRow = try await db.withSystem { try await WorkspaceStore().get(broken.id, in: $0)! }
        #expect(brokenRow.status == .error)
        #expect(brokenRow.error?.contains("No such image") == true, "\(brokenRow.error ?? "")")
        #expect(!brokenRow.holdsCompute && !brokenRow.holdsSlot)
        #expect(brokenRow.containerID == nil)
        // Starting it is a state problem, not a server failure, and changes nothing.
        await #expect(throws: OrchestrationError.invalidState("the workspace has no container (its creation failed); delete it and create it again")) {
            try await orchestrator.start(broken.id)
        }
        #expect(try await reserved().cpuMillis == 1000)

        try await orchestrator.delete(first.id)
        #expect(try await reserved() == .zero)
        // The engine and the database agree: nothing of this tenant is left.
        #expect(try await client.listContainers(labels: ["berth.tenant=\(tenant)"]).isEmpty)
        db.shutdown()
        await testDB.drop()
    }
}

@Suite struct WorkspaceReconcilerTests {
    @Test func aDeadContainerPutsItsWorkspaceInError() async throws {
        let testDB = try await TestDatabase.make()
        let db = testDB.app(poolSize: 6)
        let endpoint = try DockerFleet.hostPort("BERTH_TEST_DOCKER_PLAIN_2")
        let server = try await db.withSystem { scope in
            try await WorkspaceServerStore().upsert(.init(
                name: "ws-recon", connection: .init(host: endpoint.host, dockerPort: endpoint.port),
                capacity: Capacity(cpuMillis: 2000, memoryMB: 1024, diskGB: 10, workspaces: 5)
            ), in: scope)
        }
        try await db.withSystem { try await $0.execute("UPDATE workspace_servers SET status = 'healthy' WHERE id = \(server.id)") }
        let tenant = try await db.withSystem { try await TenantStore().create(name: "recon", quota: .standard, in: $0).id }
        let pool = DockerServerPool()
        let placement = PlacementService(database: db, logger: TestDatabase.logger)
        let orchestrator = WorkspaceOrchestrator(database: db, placement: placement, pool: pool, stopGrace: .seconds(1), logger: TestDatabase.logger)
        let reconciler = WorkspaceReconciler(database: db, pool: pool, placement: placement, logger: TestDatabase.logger)
        let resources = Resources(cpuMillis: 500, memoryMB: 64, diskGB: 1)
        let alive = WorkspaceDraft(tenantID: tenant, name: "alive", image: "berth-busybox:latest", resources: resources, placement: PlacementRequest(resources: resources))
        let doomed = WorkspaceDraft(tenantID: tenant, name: "doomed", image: "berth-busybox:latest", resources: resources, placement: PlacementRequest(resources: resources))
        _ = try await orchestrator.create(alive)
        let row = try await orchestrator.create(doomed)
        let client = try pool.client(for: server)
        #expect(await reconciler.pass().isEmpty, "nothing is dead yet")
        try await client.killContainer(try #require(row.containerID))
        #expect(await reconciler.pass() == [doomed.id])
        let after = try await db.withSystem { try await WorkspaceStore().get(doomed.id, in: $0)! }
        #expect(after.status == .error)
        #expect(after.error == "container exited")
        #expect(!after.holdsCompute && after.holdsSlot)
        #expect(try await db.withSystem { try await WorkspaceStore().get(alive.id, in: $0)!.status } == .running)
        let reserved = try await db.withSystem { try await WorkspaceServerStore().get(server.id, in: $0)!.reserved }
        #expect(reserved == Capacity(cpuMillis: 500, memoryMB: 64, diskGB: 2, workspaces: 2))
        // A second pass (or a second replica) changes nothing more.
        #expect(await reconciler.pass().isEmpty)
        // The error workspace can be deleted, which removes its container.
        try await orchestrator.delete(doomed.id)
        try await orchestrator.delete(alive.id)
        #expect(try await client.listContainers(labels: ["berth.tenant=\(tenant)"]).isEmpty)
        db.shutdown()
        await testDB.drop()
    }

    @Test func oneReconcilerPassAtATimeAcrossReplicas() async throws {
        let testDB = try await TestDatabase.make()
        let db = testDB.app(poolSize: 4)
        let placement = PlacementService(database: db, logger: TestDatabase.logger)
        let reconciler = WorkspaceReconciler(database: db, pool: DockerServerPool(), placement: placement, logger: TestDatabase.logger)
        // Another replica holds the pass: this one skips its turn.
        let skipped = try await db.withConnection { other in
            try await other.execute("SELECT pg_advisory_lock(\(0x6265_7274_6872_6563 as Int64))")
            let ran = await reconciler.runOnce()
            try await other.execute("SELECT pg_advisory_unlock(\(0x6265_7274_6872_6563 as Int64))")
            return !ran
        }
        #expect(skipped)
        #expect(await reconciler.runOnce())
        // And it let go of the lock after its pass.
        #expect(await reconciler.runOnce())
        db.shutdown()
        await testDB.drop()
    }
}

@Suite struct CrashRecoveryTests {
    @Test func halfDoneWorkspacesAreFinishedOrUndone() async throws {
        let testDB = try await TestDatabase.make()
        let db = testDB.app(poolSize: 6)
        let endpoint = try DockerFleet.hostPort("BERTH_TEST_DOCKER_PLAIN_1")
        let server = try await db.withSystem { scope in
            try await WorkspaceServerStore().upsert(.init(
                name: "ws-crash", connection: .init(host: endpoint.host, dockerPort: endpoint.port),
                capacity: Capacity(cpuMillis: 4000, memoryMB: 2048, diskGB: 10, workspaces: 10)
            ), in: scope)
        }
        try await db.withSystem { try await $0.execute("UPDATE workspace_servers SET status = 'healthy' WHERE id = \(server.id)") }
        let tenant = try await db.withSystem { try await TenantStore().create(name: "crash", quota: .standard, in: $0).id }
        let pool = DockerServerPool()
        let placement = PlacementService(database: db, logger: TestDatabase.logger)
        let orchestrator = WorkspaceOrchestrator(database: db, placement: placement, pool: pool, stopGrace: .seconds(1), logger: TestDatabase.logger)
        let reconciler = WorkspaceReconciler(database: db, pool: pool, placement: placement, staleAfter: .zero, logger: TestDatabase.logger)
        let client = try pool.client(for: server)
        let resources = Resources(cpuMillis: 500, memoryMB: 64, diskGB: 1)
        func draft(_ name: String) -> WorkspaceDraft {
            WorkspaceDraft(tenantID: tenant, name: name, image: "berth-busybox:latest", resources: resources, placement: PlacementRequest(resources: resources))
        }
        func force(_ id: WorkspaceID, _ status: WorkspaceStatus) async throws {
            try await db.withSystem { try await $0.execute("UPDATE workspaces SET status = \(status.rawValue), updated_at = now() - interval '1 hour' WHERE id = \(id)") }
        }
        // Crashed mid-delete: the container still exists.
        let deleting = draft("deleting")
        let deletingRow = try await orchestrator.create(deleting)
        try await force(deleting.id, .deleting)
        // Crashed mid-stop: Docker stopped it, the database never heard.
        let stopping = draft("stopping")
        let stoppingRow = try await orchestrator.create(stopping)
        try await client.stopContainer(stoppingRow.containerID!, timeout: .seconds(1))
        try await force(stopping.id, .stopping)
        // Crashed mid-create: placed and the container made, its id never recorded.
        let creating = draft("creating")
        _ = try await placement.reserve(creating)
        _ = try await client.createContainer(ContainerSpec(
            name: "berth-\(creating.id)", image: "berth-busybox:latest", command: ["sleep", "3600"],
            labels: ["berth.workspace": creating.id.description, "berth.tenant": tenant.description],
            resources: ContainerResources(cpuMillis: 500, memoryMB: 64)
        ))
        try await force(creating.id, .creating)

        let settled = await reconciler.finishStale()
        #expect(Set(settled) == [deleting.id, stopping.id, creating.id])
        let rows = try await db.withSystem { scope in
            try await [deleting.id, stopping.id, creating.id].asyncMap { try await WorkspaceStore().get($0, in: scope)! }
        }
        #expect(rows[0].status == .deleted && !rows[0].holdsSlot && !rows[0].holdsCompute)
        #expect(rows[1].status == .stopped && !rows[1].holdsCompute && rows[1].holdsSlot)
        #expect(rows[2].status == .error && !rows[2].holdsSlot && !rows[2].holdsCompute)
        await #expect(throws: DockerError.self) { _ = try await client.inspectContainer(deletingRow.containerID!) }
        await #expect(throws: DockerError.self) { _ = try await client.inspectContainer("berth-\(creating.id)") }
        let reserved = try await db.withSystem { try await WorkspaceServerStore().get(server.id, in: $0)!.reserved }
        #expect(reserved == Capacity(cpuMillis: 0, memoryMB: 0, diskGB: 1, workspaces: 1), "only the stopped workspace's disk and slot remain")
        // Nothing left to do on a second pass.
        #expect(await reconciler.finishStale().isEmpty)
        try await orchestrator.delete(stopping.id)
        #expect(try await client.listContainers(labels: ["berth.tenant=\(tenant)"]).isEmpty)
        db.shutdown()
        await testDB.drop()
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
