import BerthTestSupport
import Compute
import Domain
import Foundation
import Logging
import Persistence
import Synchronization
import Testing

/// A probe that answers from a table, counting who asked: for the lease logic, which lives in PostgreSQL.
final class ScriptedProbe: ServerProbe {
    let failing: Set<String>
    private let calls = Mutex<[String]>([])
    init(failing: Set<String> = []) { self.failing = failing }

    func check(_ server: WorkspaceServer, timeout: Duration) async throws -> ObservedUsage {
        calls.withLock { $0.append(server.name) }
        struct Refused: Error, CustomStringConvertible { let description = "connection refused" }
        if failing.contains(server.name) { throw Refused() }
        return ObservedUsage(ncpu: 2, memoryTotalMB: 4096, containers: 1, containersRunning: 1, dockerVersion: "test")
    }

    var checked: [String] { calls.withLock { $0 } }
}

@Suite struct HealthLeaseTests {
    @Test func twoReplicasNeverCheckTheSameServerInOneRound() async throws {
        try await withTestDatabase { _, db in
            let store = WorkspaceServerStore()
            try await db.withSystem { scope in
                for i in 1...4 {
                    _ = try await store.upsert(.init(name: "ws-\(i)", connection: .init(host: "127.0.0.1", dockerPort: 23750 + i),
                                                     capacity: Capacity(cpuMillis: 1000, memoryMB: 1024, diskGB: 1, workspaces: 1)), in: scope)
                }
            }
            let probeA = ScriptedProbe(failing: ["ws-2"]), probeB = ScriptedProbe(failing: ["ws-2"])
            // A long interval: the lease (three intervals) cannot run out during the test.
            let config = { (owner: String) in ServerHealthMonitor.Configuration(interval: .seconds(60), checkTimeout: .seconds(1), policy: .init(failuresBeforeUnhealthy: 1), owner: owner) }
            let a = ServerHealthMonitor(database: db, probe: probeA, configuration: config("replica-a"), logger: TestDatabase.logger)
            let b = ServerHealthMonitor(database: db, probe: probeB, configuration: config("replica-b"), logger: TestDatabase.logger)
            async let roundA: Void = a.pass()
            async let roundB: Void = b.pass()
            _ = await (roundA, roundB)
            // Each server was checked exactly once, by whichever replica claimed it.
            #expect((probeA.checked + probeB.checked).sorted() == ["ws-1", "ws-2", "ws-3", "ws-4"])
            // Who holds which lease now: the replica that checked the server.
            let firstA = probeA.checked.sorted(), firstB = probeB.checked.sorted()
            func owners() async throws -> [String: String] {
                try await db.withSystem { scope in
                    var result: [String: String] = [:]
                    for row in try await scope.execute("SELECT name, health_lease_owner FROM workspace_servers") {
                        result[try row.decode("name")] = try row.decode("health_lease_owner", as: String?.self) ?? "nobody"
                    }
                    return result
                }
            }
            var expectedOwners: [String: String] = [:]
            for name in firstA { expectedOwners[name] = "replica-a" }
            for name in firstB { expectedOwners[name] = "replica-b" }
            #expect(try await owners() == expectedOwners)
            // A while later (well within the lease), the replica that holds the leases keeps them and
            // the other gets nothing: each checks exactly the servers it checked before.
            try await Task.sleep(for: .milliseconds(1500))
            await b.pass()
            await a.pass()
            #expect(Array(probeA.checked.dropFirst(firstA.count)).sorted() == firstA, "replica-a held \(firstA)")
            #expect(Array(probeB.checked.dropFirst(firstB.count)).sorted() == firstB, "replica-b held \(firstB)")
            #expect(try await owners() == expectedOwners)
            let holderChecks = probeA.checked.count + probeB.checked.count
            #expect(holderChecks == 8)
            let servers = try await db.withSystem { try await store.list(in: $0) }
            for server in servers {
                #expect(server.lastHealthCheck != nil)
                if server.name == "ws-2" {
                    #expect(server.status == .unhealthy)
                    #expect(server.lastError == "connection refused")
                } else {
                    #expect(server.status == .healthy)
                    #expect(server.observed?.dockerVersion == "test")
                }
            }
            // When a replica stops renewing, the other takes over after the lease runs out.
            try await db.withSystem { try await $0.execute("UPDATE workspace_servers SET health_lease_until = now() - interval '1 second'") }
            let probeC = ScriptedProbe()
            let c = ServerHealthMonitor(database: db, probe: probeC, configuration: config("replica-c"), logger: TestDatabase.logger)
            await c.pass()
            #expect(probeC.checked.sorted() == ["ws-1", "ws-2", "ws-3", "ws-4"])
        }
    }
}
