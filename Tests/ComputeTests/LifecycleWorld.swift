import BerthTestSupport
@testable import Compute
import Domain
import Foundation
import Persistence
import Secrets
import Testing

/// One test's world for the lifecycle: a database of its own, one real engine registered as a
/// healthy server, a tenant, the orchestrator and the reconciler, and the checks every lifecycle
/// test ends with (the engine and the database agree).
struct LifecycleWorld {
    let testDB: TestDatabase
    let db: Database
    let server: WorkspaceServer
    let tenant: TenantID
    let pool: DockerServerPool
    let placement: PlacementService
    let orchestrator: WorkspaceOrchestrator
    let reconciler: WorkspaceReconciler
    /// A client for the engine that does not go through the server row (it works when the row's
    /// port is changed to make Berth's calls fail).
    let engine: DockerClient

    static func make(
        daemon: String = "BERTH_TEST_DOCKER_PLAIN_1", name: String = "ws-life", capacity: Capacity = Capacity(cpuMillis: 4000, memoryMB: 2048, diskGB: 20, workspaces: 10),
        quota: Quota = .standard, stopGrace: Duration = .seconds(1), lostAfter: Duration = .seconds(300), orphanGrace: Duration = .zero,
        waitLimit: Duration = .seconds(60), networkMode: String = "none", hardening: ContainerHardening = .workspace,
        git: GitSetupService.Settings? = nil, keyring: SecretKeyring? = nil
    ) async throws -> LifecycleWorld {
        let testDB = try await TestDatabase.make()
        let db = testDB.app(poolSize: 8)
        let endpoint = try DockerFleet.hostPort(daemon)
        let server = try await db.withSystem { scope in
            try await WorkspaceServerStore().upsert(.init(
                name: name, connection: .init(host: endpoint.host, dockerPort: endpoint.port, networkMode: networkMode), capacity: capacity
            ), in: scope)
        }
        try await db.withSystem { try await $0.execute("UPDATE workspace_servers SET status = 'healthy', last_healthy_at = now() WHERE id = \(server.id)") }
        let tenant = try await db.withSystem { try await TenantStore().create(name: "life", quota: quota, in: $0).id }
        let pool = DockerServerPool()
        let placement = PlacementService(database: db, logger: TestDatabase.logger)
        let orchestrator = WorkspaceOrchestrator(
            database: db, placement: placement, pool: pool,
            containers: WorkspaceContainers(stopGrace: stopGrace, hardening: hardening), waitLimit: waitLimit,
            git: git.map { GitSetupService(database: db, pool: pool, keyring: keyring, settings: $0, logger: TestDatabase.logger) },
            logger: TestDatabase.logger
        )
        let reconciler = WorkspaceReconciler(database: db, orchestrator: orchestrator, lostAfter: lostAfter, orphanGrace: orphanGrace, logger: TestDatabase.logger)
        return LifecycleWorld(
            testDB: testDB, db: db, server: try await db.withSystem { try await WorkspaceServerStore().get(server.id, in: $0)! },
            tenant: tenant, pool: pool, placement: placement, orchestrator: orchestrator, reconciler: reconciler,
            engine: DockerClient(endpoint: .http(host: endpoint.host, port: endpoint.port))
        )
    }

    func draft(_ name: String, cpu: Int = 500, memory: Int = 64, image: String = DockerFleet.busybox, command: [String]? = nil) -> WorkspaceDraft {
        let resources = Resources(cpuMillis: cpu, memoryMB: memory, diskGB: 1)
        return WorkspaceDraft(tenantID: tenant, name: name, image: image, resources: resources, command: command, placement: PlacementRequest(resources: resources))
    }

    func row(_ id: WorkspaceID) async throws -> WorkspaceStore.Row {
        try await db.withSystem { try await WorkspaceStore().get(id, in: $0)! }
    }

    func reserved() async throws -> Capacity {
        try await db.withSystem { try await WorkspaceServerStore().get(server.id, in: $0)!.reserved }
    }

    /// Points Berth's server row at a port nothing listens on, so every Docker call of Berth's fails
    /// as unreachable, while `engine` still reaches the real daemon; `restore` undoes it.
    func breakConnection() async throws {
        let port = try TestEnvironment.freePort()
        try await db.withSystem { try await $0.execute("UPDATE workspace_servers SET docker_port = \(port) WHERE id = \(server.id)") }
    }

    func restoreConnection() async throws {
        try await db.withSystem { try await $0.execute("UPDATE workspace_servers SET docker_port = \(server.connection.dockerPort) WHERE id = \(server.id)") }
    }

    /// Whether the container runs, as the engine says; nil when it is gone.
    func running(_ container: String?) async throws -> Bool? {
        guard let container else { return nil }
        do {
            return try await engine.inspectContainer(container).state.running
        } catch where error.isNotFound {
            return nil
        }
    }

    /// The agreement every test ends with: the server's reservations are the sum of what its
    /// workspaces hold; a workspace holds CPU and memory exactly while its container runs (or an
    /// intent to run it stands); every container of this deployment on the engine is claimed by a
    /// live row, and runs only if its row is running; no usage interval is open unless the
    /// workspace is running, and none overlap.
    func expectConverged(sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let rows = try await db.withSystem { scope in
            try await scope.execute("SELECT id FROM workspaces WHERE server_id = \(server.id)").map { try $0.decode("id", as: WorkspaceID.self) }
        }.asyncMap { try await row($0) }
        var held = Capacity.zero
        for row in rows {
            held.cpuMillis += row.heldCPUMillis
            held.memoryMB += row.heldMemoryMB
            if row.holdsSlot { held.diskGB += row.resources.diskGB; held.workspaces += 1 }
            #expect(row.isSettled, "\(row.name) is settled (\(row.status), generation \(row.generation), observed \(row.observedGeneration))", sourceLocation: sourceLocation)
            let runs = try await running(row.containerID) ?? false
            #expect(runs == (row.status == .running), "\(row.name): container running \(runs), row \(row.status)", sourceLocation: sourceLocation)
            #expect(row.holdsCompute == (row.status == .running), "\(row.name): holds compute \(row.holdsCompute) while \(row.status)", sourceLocation: sourceLocation)
        }
        #expect(try await reserved() == held, "reservations are the sum of what the workspaces hold", sourceLocation: sourceLocation)
        let deployment = try await orchestrator.converger.deployment.id(db)
        let live = Set(rows.filter { $0.status != .deleted }.compactMap(\.containerID))
        for container in try await engine.listContainers(labels: ["berth.deployment=\(deployment)"]) {
            #expect(live.contains(container.id), "container \(container.names) is claimed by a live row", sourceLocation: sourceLocation)
        }
        let intervals = try await db.withSystem { scope in
            try await scope.execute("""
                SELECT count(*) FILTER (WHERE i.ended_at IS NULL AND w.status <> 'running') AS open_not_running,
                       (SELECT count(*) FROM usage_intervals a JOIN usage_intervals b ON a.workspace_id = b.workspace_id AND a.id < b.id
                          AND a.started_at < coalesce(b.ended_at, 'infinity') AND b.started_at < coalesce(a.ended_at, 'infinity')) AS overlapping
                FROM usage_intervals i JOIN workspaces w ON w.id = i.workspace_id
                """).first!
        }
        #expect(try intervals.decode("open_not_running", as: Int.self) == 0, "no interval is open for a workspace that is not running", sourceLocation: sourceLocation)
        #expect(try intervals.decode("overlapping", as: Int.self) == 0, "no intervals overlap", sourceLocation: sourceLocation)
    }

    /// Removes every container of this test's deployment and drops the database.
    func finish() async {
        if let deployment = try? await orchestrator.converger.deployment.id(db),
            let containers = try? await engine.listContainers(labels: ["berth.deployment=\(deployment)"])
        {
            for container in containers { await DockerFleet.remove(container.id, from: engine) }
            for network in (try? await engine.listNetworks(labels: ["berth.deployment=\(deployment)"])) ?? [] {
                try? await engine.removeNetwork(network.id)
            }
        }
        db.shutdown()
        await testDB.drop()
    }
}
