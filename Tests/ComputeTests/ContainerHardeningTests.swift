import BerthTestSupport
@testable import Compute
import Domain
import Foundation
import Persistence
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// What one workspace cannot do to its engine, its neighbours or the host.
@Suite struct ContainerHardeningTests {
    /// A workspace on the default network mode reaches nothing on the host's loopback: not the
    /// engine's API, not PostgreSQL, not a service listening there (as Berth does). The same probes
    /// from a workspace an admin put on the host's network do reach them, so the probes work.
    @Test func theDefaultNetworkReachesNothingOnTheHost() async throws {
        let world = try await LifecycleWorld.make(name: "ws-net")
        let engine = try DockerFleet.hostPort("BERTH_TEST_DOCKER_PLAIN_1")
        let postgres = try TestEnvironment.require("BERTH_PG_PORT")
        // A listener standing for Berth on the host's loopback.
        let listener = try Listener()
        let isolated = try await world.orchestrator.create(world.draft("isolated", image: DockerFleet.workspaceImage))
        let details = try await world.engine.inspectContainer(isolated.containerID!)
        #expect(details.hostConfig.networkMode == "none")
        // bash's /dev/tcp connects and returns at once; the engine's probe must also get Docker's answer.
        let probes = [
            ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/\(engine.port) && printf 'GET /_ping HTTP/1.0\\r\\n\\r\\n' >&3 && timeout 5 cat <&3 | grep -q OK"],
            ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/\(postgres)"],
            ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/\(listener.port)"],
        ]
        for probe in probes {
            let result = try await world.engine.exec(isolated.containerID!, command: probe, timeout: .seconds(15))
            #expect(result.exitCode != 0, "\(probe.last ?? "") reached the host: \(result.stdoutText)")
        }

        // `isolated`: a bridge of the workspace's own. It has a network (the fleet's git daemon, on
        // an address of the host that is not loopback, answers), yet nothing bound to the host's
        // loopback is in reach.
        try await world.db.withSystem { try await $0.execute("UPDATE workspace_servers SET network_mode = 'isolated' WHERE id = \(world.server.id)") }
        let bridged = try await world.orchestrator.create(world.draft("bridged", image: DockerFleet.workspaceImage))
        #expect(try await world.engine.inspectContainer(bridged.containerID!).hostConfig.networkMode == WorkspaceContainers.networkName(bridged.id))
        let git = try #require(URL(string: try TestEnvironment.require("BERTH_TEST_GIT_URL")))
        let reachable = try await world.engine.exec(bridged.containerID!, command: ["bash", "-c", "exec 3<>/dev/tcp/\(git.host ?? "")/\(git.port ?? 9418)"], timeout: .seconds(15))
        #expect(reachable.exitCode == 0, "the isolated network reaches nothing at all: \(reachable.stderrText)")
        for probe in probes {
            let result = try await world.engine.exec(bridged.containerID!, command: probe, timeout: .seconds(15))
            #expect(result.exitCode != 0, "\(probe.last ?? "") reached the host from an isolated network: \(result.stdoutText)")
        }

        // The control: the same probes from the host's network succeed.
        try await world.db.withSystem { try await $0.execute("UPDATE workspace_servers SET network_mode = 'host' WHERE id = \(world.server.id)") }
        let exposed = try await world.orchestrator.create(world.draft("on-host-network", image: DockerFleet.workspaceImage))
        #expect(try await world.engine.inspectContainer(exposed.containerID!).hostConfig.networkMode == "host")
        for probe in probes {
            let result = try await world.engine.exec(exposed.containerID!, command: probe, timeout: .seconds(15))
            #expect(result.exitCode == 0, "\(probe.last ?? "") from the host network: exit \(result.exitCode) \(result.stderrText)")
        }
        try await world.expectConverged()
        await world.finish()
    }

    /// Every workspace container runs under Docker's init, with a pids limit, rotated logs,
    /// `no-new-privileges` and without `NET_RAW`: a raw socket (ping) is refused inside.
    @Test func everyContainerIsHardened() async throws {
        let world = try await LifecycleWorld.make(name: "ws-hard")
        let workspace = try await world.orchestrator.create(world.draft("hardened"))
        let config = try await world.engine.inspectContainer(workspace.containerID!).hostConfig
        #expect(config.pidsLimit == Int64(ContainerHardening.workspace.pidsLimit))
        #expect(config.initProcess == true)
        #expect(config.securityOpt == ["no-new-privileges:true"])
        #expect(Set(config.capDrop ?? []).isSuperset(of: ["NET_RAW", "MKNOD"]), "\(config.capDrop ?? [])")
        #expect(config.logOptions == ["max-size": "10m", "max-file": "3"])
        let ping = try await world.engine.exec(workspace.containerID!, command: ["ping", "-c", "1", "-W", "1", "127.0.0.1"], timeout: .seconds(10))
        #expect(ping.exitCode != 0, "ping opened a raw socket: \(ping.stdoutText)")
        #expect(ping.stderrText.lowercased().contains("permitted") || ping.stderrText.lowercased().contains("permission"), "\(ping.stderrText)")
        await world.finish()
    }

    /// A log flood is rotated at the configured size: the engine's disk holds at most
    /// max-size × max-file of it.
    @Test func aLogFloodIsBoundedOnTheEnginesDisk() async throws {
        var hardening = ContainerHardening.workspace
        hardening.logMaxSize = "1m"
        hardening.logMaxFiles = 2
        let world = try await LifecycleWorld.make(name: "ws-flood", hardening: hardening)
        let flood = try await world.orchestrator.create(world.draft("flood", command: ["yes", "a log line written as fast as the container can"]))
        let details = try await world.engine.inspectContainer(flood.containerID!)
        let logPath = try #require(details.logPath)
        let folder = (logPath as NSString).deletingLastPathComponent
        let name = (logPath as NSString).lastPathComponent
        func written() throws -> (files: Int, bytes: Int) {
            let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix(name) }
            let bytes = try files.reduce(0) { $0 + ((try FileManager.default.attributesOfItem(atPath: folder + "/" + $1)[.size] as? Int) ?? 0) }
            return (files.count, bytes)
        }
        // Until it has rotated at least once (the second file exists), or 30 s.
        let deadline = ContinuousClock.now + .seconds(30)
        while try written().files < 2, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(200)) }
        #expect(try written().files == 2, "the log rotated")
        try await Task.sleep(for: .seconds(2))
        let (files, bytes) = try written()
        #expect(files <= 2 && bytes <= 2 * 1_048_576 + 65_536, "\(files) files, \(bytes) bytes on the engine's disk")
        await world.finish()
    }
}

/// Runs with the serial tests: a fork bomb keeps its half core busy, which would slow the parallel suite.
@Suite struct ForkBombTests {
    /// A fork bomb (bash, which retries a failed fork, so the bomb holds its limit) fills its own pids limit and nothing more: a workspace beside it on the same
    /// engine still runs commands, and the engine still answers its health check.
    @Test func aForkBombLeavesItsNeighbourAndTheEngineResponsive() async throws {
        var hardening = ContainerHardening.workspace
        hardening.pidsLimit = 128
        let world = try await LifecycleWorld.make(daemon: "BERTH_TEST_DOCKER_PLAIN_2", name: "ws-bomb", hardening: hardening)
        let neighbour = try await world.orchestrator.create(world.draft("neighbour"))
        let bomb = try await world.orchestrator.create(world.draft(
            "bomb", image: DockerFleet.workspaceImage, command: ["bash", "-c", "bomb() { bomb | bomb & }; bomb; exec sleep 600"]
        ))
        // The bomb has filled its limit once its cgroup counts as many tasks as it may have.
        var pids = 0
        let deadline = ContinuousClock.now + .seconds(30)
        while pids < hardening.pidsLimit && ContinuousClock.now < deadline {
            pids = try await world.engine.stats(bomb.containerID!).pids ?? 0
            if pids < hardening.pidsLimit { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(pids == hardening.pidsLimit, "the bomb reached its pids limit and no further (\(pids))")
        for round in 0..<5 {
            let answer = try await world.engine.exec(neighbour.containerID!, command: ["echo", "alive-\(round)"], timeout: .seconds(20))
            #expect(answer.exitCode == 0 && answer.stdoutText.contains("alive-\(round)"), "the neighbour answered round \(round)")
            _ = try await world.pool.check(world.server, timeout: .seconds(5))
            #expect(try await world.engine.stats(bomb.containerID!).pids ?? 0 <= hardening.pidsLimit)
        }
        // And the bomb's workspace can still be deleted, its processes with it.
        try await world.orchestrator.delete(bomb.id)
        #expect(try await world.running(bomb.containerID) == nil)
        try await world.expectConverged()
        await world.finish()
    }
}

