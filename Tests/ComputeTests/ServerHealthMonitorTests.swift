import BerthTestSupport
import Compute
import Domain
import Foundation
import Persistence
import Testing

/// The monitor against a real daemon that is killed and started again.
@Suite struct ServerHealthMonitorTests {
    @Test func killedDaemonGoesUnhealthyThenOfflineAndComesBack() async throws {
        let spare = try TestEnvironment.require("BERTH_TEST_DOCKER_SPARE")  // name=host:port
        let parts = spare.split(separator: "=")
        let name = String(parts[0])
        let hostPort = parts[1].split(separator: ":")
        try await withTestDatabase { _, db in
            let server = try await db.withSystem { scope in
                try await WorkspaceServerStore().upsert(.init(
                    name: name, connection: .init(host: String(hostPort[0]), dockerPort: Int(hostPort[1])!),
                    capacity: Capacity(cpuMillis: 1000, memoryMB: 1024, diskGB: 1, workspaces: 1)
                ), in: scope)
            }
            let interval = Duration.milliseconds(500)
            let monitor = ServerHealthMonitor(
                database: db, probe: DockerServerPool(),
                configuration: .init(interval: interval, checkTimeout: .milliseconds(400),
                                     policy: ServerHealthPolicy(failuresBeforeUnhealthy: 2, offlineAfter: .seconds(8)), owner: "test"),
                logger: TestDatabase.logger
            )
            let running = Task { try await monitor.run() }
            defer { running.cancel() }
            let script = TestEnvironment.repositoryRoot.appendingPathComponent("scripts/fleet.sh").path
            func status() async throws -> WorkspaceServer {
                try await db.withSystem { try await WorkspaceServerStore().get(server.id, in: $0)! }
            }
            func waitFor(_ wanted: WorkspaceServer.HealthStatus, within limit: Duration) async throws -> Duration {
                let start = ContinuousClock.now
                while ContinuousClock.now - start < limit {
                    if try await status().status == wanted { return ContinuousClock.now - start }
                    try await Task.sleep(for: .milliseconds(50))
                }
                Issue.record("\(name) did not become \(wanted) within \(limit); it is \(try await status().status)")
                return limit
            }

            _ = try await waitFor(.healthy, within: .seconds(10))
            let healthy = try await status()
            #expect(healthy.observed?.ncpu ?? 0 > 0)
            #expect(healthy.lastError == nil)

            // The script waits for dockerd to exit; the clock for "noticed" starts when it has.
            try TestEnvironment.run(["bash", script, "kill", name])
            let toUnhealthy = try await waitFor(.unhealthy, within: .seconds(10))
            #expect(toUnhealthy <= interval * 3 + .milliseconds(500), "took \(toUnhealthy) to notice")
            let down = try await status()
            #expect(down.lastError?.contains("unreachable") == true || down.lastError?.lowercased().contains("connect") == true, "\(down.lastError ?? "no error")")
            _ = try await waitFor(.offline, within: .seconds(10))

            try TestEnvironment.run(["bash", script, "start-one", name])
            _ = try await waitFor(.healthy, within: .seconds(15))
            #expect(try await status().lastError == nil)

            running.cancel()
        }
    }
}
