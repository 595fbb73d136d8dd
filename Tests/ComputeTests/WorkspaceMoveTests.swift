import BerthTestSupport
@testable import Compute
import Domain
import Foundation
import Persistence
import Testing

/// Moving workspaces between two real engines: a resize beyond its server's room, a move that keeps
/// a stopped workspace stopped, and a move that cannot complete and is undone; files, limits,
/// reservations and metering checked on both sides.
@Suite struct WorkspaceMoveTests {
    /// A second server, on the other plain daemon, registered healthy in `world`'s database.
    struct Second {
        let server: WorkspaceServer
        let engine: DockerClient
    }

    static func second(_ world: LifecycleWorld, name: String, capacity: Capacity, port: Int? = nil) async throws -> Second {
        let endpoint = try DockerFleet.hostPort("BERTH_TEST_DOCKER_PLAIN_2")
        let server = try await world.db.withSystem { scope in
            try await WorkspaceServerStore().upsert(.init(
                name: name, connection: .init(host: endpoint.host, dockerPort: port ?? endpoint.port, networkMode: "none"), capacity: capacity
            ), in: scope)
        }
        try await world.db.withSystem { try await $0.execute("UPDATE workspace_servers SET status = 'healthy', last_healthy_at = now() WHERE id = \(server.id)") }
        return Second(server: try await world.db.withSystem { try await WorkspaceServerStore().get(server.id, in: $0)! }, engine: DockerClient(endpoint: .http(host: endpoint.host, port: endpoint.port)))
    }

    /// A tree with nested folders, an empty file, a binary file with every byte value, a larger
    /// file and a symbolic link.
    static let tree: TarArchive = {
        var binary = Data((0...255).map { UInt8($0) })
        binary.append(contentsOf: (0..<4096).map { UInt8(($0 * 7919) % 251) })
        let large = Data((0..<300_000).map { UInt8(($0 * 31 + 17) % 256) })
        return TarArchive(entries: [
            .directory("workspace"), .directory("workspace/src"), .directory("workspace/src/deep/er"),
            .file("workspace/README.md", Data("moved with its files\n".utf8)),
            .file("workspace/src/deep/er/bytes.bin", binary, mode: 0o600),
            .file("workspace/src/empty", Data()),
            .file("workspace/large.dat", large),
            TarArchive.Entry(path: "workspace/link", kind: .symbolicLink(target: "README.md"), mode: 0o777),
        ])
    }()

    /// The regular files and links under `/workspace` of `container`, by path.
    static func files(_ container: String, _ engine: DockerClient) async throws -> [String: TarArchive.Entry.Kind] {
        let archive = try TarArchive(decoding: try await engine.archive(container, path: "/workspace"))
        return Dictionary(archive.entries.compactMap { entry in
            if case .directory = entry.kind { return nil }
            return (entry.path, entry.kind)
        }, uniquingKeysWith: { first, _ in first })
    }

    static func write(_ container: String, _ engine: DockerClient) async throws {
        try await engine.putArchive(container, path: "/", tar: try tree.encoded())
    }

    static var expectedFiles: [String: TarArchive.Entry.Kind] {
        Dictionary(tree.entries.compactMap { entry in
            if case .directory = entry.kind { return nil }
            return (entry.path, entry.kind)
        }, uniquingKeysWith: { first, _ in first })
    }

    static func intervals(_ id: WorkspaceID, _ db: Database) async throws -> [(server: ServerID?, started: Date, ended: Date?)] {
        try await db.withSystem { scope in
            try await scope.execute("SELECT server_id, started_at, ended_at FROM usage_intervals WHERE workspace_id = \(id) ORDER BY started_at").map {
                (try $0.decode("server_id"), try $0.decode("started_at"), try $0.decode("ended_at"))
            }
        }
    }

    static func reserved(_ id: ServerID, _ db: Database) async throws -> Capacity {
        try await db.withSystem { try await WorkspaceServerStore().get(id, in: $0)!.reserved }
    }

    static func cleanUp(_ world: LifecycleWorld, _ second: Second) async {
        if let deployment = try? await world.orchestrator.converger.deployment.id(world.db) {
            for container in (try? await second.engine.listContainers(labels: ["berth.deployment=\(deployment)"])) ?? [] {
                await DockerFleet.remove(container.id, from: second.engine)
            }
        }
    }

    /// A running workspace resized beyond its server's room: refused without `allow_move`; with it,
    /// moved to the server with room, at the new size, its files byte for byte, its old container
    /// gone, the reservations on both servers what their workspaces hold, and its metering going on
    /// without a gap billed or an overlap: the old interval ends at the old container's FinishedAt,
    /// the new one begins at the new container's StartedAt.
    @Test func aResizeBeyondItsServerMovesItWithItsFiles() async throws {
        let world = try await LifecycleWorld.make(name: "ws-move-a", capacity: Capacity(cpuMillis: 1000, memoryMB: 1024, diskGB: 20, workspaces: 10))
        let roomy = try await Self.second(world, name: "ws-move-b", capacity: Capacity(cpuMillis: 4000, memoryMB: 4096, diskGB: 20, workspaces: 10))
        do {
            var draft = world.draft("mover", cpu: 500, memory: 64)
            draft.placement = PlacementRequest(resources: draft.resources, strategy: .affinity, preferredServer: "ws-move-a")
            let created = try await world.orchestrator.create(draft)
            let oldContainer = try #require(created.containerID)
            try await Self.write(oldContainer, world.engine)

            let bigger = Resources(cpuMillis: 1500, memoryMB: 256, diskGB: 1)
            await #expect(throws: OrchestrationError.self) { try await world.orchestrator.resize(created.id, to: bigger) }
            #expect(try await world.row(created.id).serverID == world.server.id)

            let result = try await world.orchestrator.resize(created.id, to: bigger, allowMove: true)
            let moved = result.row
            #expect(moved.status == .running && moved.serverID == roomy.server.id && moved.moveTo == nil, "\(moved)")
            let newContainer = try #require(moved.containerID)
            #expect(newContainer != oldContainer)
            let details = try await roomy.engine.inspectContainer(newContainer)
            #expect(details.state.running && details.hostConfig.nanoCPUs == 1_500_000_000 && details.hostConfig.memory == 256 * 1_048_576)
            #expect(try await Self.files(newContainer, roomy.engine) == Self.expectedFiles, "the files arrived byte for byte")
            #expect(try await world.running(oldContainer) == nil, "the old container is gone")
            #expect(try await Self.reserved(world.server.id, world.db) == .zero)
            #expect(try await Self.reserved(roomy.server.id, world.db) == Capacity(cpuMillis: 1500, memoryMB: 256, diskGB: 1, workspaces: 1))

            let intervals = try await Self.intervals(created.id, world.db)
            try #require(intervals.count == 2, "\(intervals)")
            let oldStopped = try #require(intervals[0].ended)
            #expect(intervals[0].server == world.server.id && intervals[1].server == roomy.server.id && intervals[1].ended == nil)
            #expect(oldStopped <= intervals[1].started, "no second billed twice")
            #expect(abs(intervals[1].started.timeIntervalSince(try #require(details.state.startedAt))) < 0.001, "metered from the new container's StartedAt")
            let events = try await world.db.withSystem { try await $0.execute("SELECT reason FROM workspace_events WHERE workspace_id = \(created.id)").map { try $0.decode("reason", as: String?.self) ?? "" } }
            #expect(events.contains { $0.contains("moved from ws-move-a to ws-move-b") && $0.contains("files") }, "\(events)")
            let audit = try await world.db.withSystem { try await $0.first("SELECT count(*) AS n FROM audit_events WHERE action = 'workspace.moved'")!.decode("n", as: Int.self) }
            #expect(audit == 1)
            // The reconciler finds nothing to correct: the move left both servers in agreement.
            let report = await world.reconciler.pass()
            #expect(report.corrected.isEmpty && report.orphansRemoved.isEmpty && report.died.isEmpty, "\(report)")
        } catch {
            await Self.cleanUp(world, roomy)
            await world.finish()
            throw error
        }
        await Self.cleanUp(world, roomy)
        await world.finish()
    }

    /// A stopped workspace moved (as a drain moves it) stays stopped, with its files, and holds no
    /// CPU or memory on either server.
    @Test func aStoppedWorkspaceMovesStopped() async throws {
        let world = try await LifecycleWorld.make(name: "ws-move-c")
        let other = try await Self.second(world, name: "ws-move-d", capacity: Capacity(cpuMillis: 4000, memoryMB: 4096, diskGB: 20, workspaces: 10))
        do {
            var draft = world.draft("resting")
            draft.placement = PlacementRequest(resources: draft.resources, strategy: .affinity, preferredServer: "ws-move-c")
            let created = try await world.orchestrator.create(draft)
            try await Self.write(try #require(created.containerID), world.engine)
            try await world.orchestrator.stop(created.id)
            let moved = try await world.orchestrator.move(created.id, reason: "drain").row
            #expect(moved.status == .stopped && moved.serverID == other.server.id && !moved.holdsCompute)
            let container = try #require(moved.containerID)
            #expect(try await other.engine.inspectContainer(container).state.running == false)
            #expect(try await Self.files(container, other.engine) == Self.expectedFiles)
            #expect(try await Self.reserved(other.server.id, world.db) == Capacity(cpuMillis: 0, memoryMB: 0, diskGB: 1, workspaces: 1))
            #expect(try await Self.reserved(world.server.id, world.db) == .zero)
            // Started where it now is, it runs with its files.
            let started = try await world.orchestrator.start(created.id).row
            #expect(started.status == .running)
            #expect(try await other.engine.inspectContainer(container).state.running)
        } catch {
            await Self.cleanUp(world, other)
            await world.finish()
            throw error
        }
        await Self.cleanUp(world, other)
        await world.finish()
    }

    /// The target does not answer: the move is undone. The workspace runs again where it was, with
    /// its size and its files; nothing stays reserved on the target; `move_error` says why; the
    /// time it was stopped is not billed.
    @Test func aMoveThatCannotCompleteIsUndone() async throws {
        let world = try await LifecycleWorld.make(name: "ws-move-e", capacity: Capacity(cpuMillis: 1000, memoryMB: 1024, diskGB: 20, workspaces: 10))
        let dead = try await Self.second(world, name: "ws-move-dead", capacity: Capacity(cpuMillis: 4000, memoryMB: 4096, diskGB: 20, workspaces: 10), port: try TestEnvironment.freePort())
        do {
            var draft = world.draft("stay", cpu: 500, memory: 64)
            draft.placement = PlacementRequest(resources: draft.resources, strategy: .affinity, preferredServer: "ws-move-e")
            let created = try await world.orchestrator.create(draft)
            let container = try #require(created.containerID)
            try await Self.write(container, world.engine)
            await #expect(throws: OrchestrationError.self) {
                try await world.orchestrator.resize(created.id, to: Resources(cpuMillis: 1500, memoryMB: 64, diskGB: 1), allowMove: true)
            }
            let row = try await world.row(created.id)
            #expect(row.status == .running && row.serverID == world.server.id && row.moveTo == nil && row.resources.cpuMillis == 500, "\(row)")
            #expect(try await world.running(container) == true)
            #expect(try await Self.files(container, world.engine) == Self.expectedFiles)
            #expect(try await Self.reserved(dead.server.id, world.db) == .zero)
            #expect(try await Self.reserved(world.server.id, world.db) == Capacity(cpuMillis: 500, memoryMB: 64, diskGB: 1, workspaces: 1))
            let error = try await world.db.withSystem { try await $0.first("SELECT move_error, move_attempts FROM workspaces WHERE id = \(created.id)")! }
            #expect(try error.decode("move_error", as: String?.self)?.contains("did not answer") == true && error.decode("move_attempts", as: Int.self) == 1)
            let intervals = try await Self.intervals(created.id, world.db)
            #expect(intervals.count == 2 && intervals[0].ended != nil && intervals[1].ended == nil && intervals[0].ended! <= intervals[1].started, "\(intervals)")
            try await world.expectConverged()
        } catch {
            await world.finish()
            throw error
        }
        await world.finish()
    }
}
