import BerthTestSupport
import Compute
import Domain
import Foundation
import Persistence
import Testing

/// Two real `berth serve` processes on one database: each server is checked by one of them, and the
/// survivor takes over when the other stops.
@Suite struct TwoReplicaHealthTests {
    @Test func eachServerIsClaimedByOneReplicaAndTakenOverWhenItStops() async throws {
        try await withTestDatabase { testDB, db in
            let binary = TestEnvironment.repositoryRoot.appendingPathComponent(".build/debug/berth").path
            guard FileManager.default.isExecutableFile(atPath: binary) else {
                throw TestEnvironment.Missing(description: "\(binary) is not built: run `swift build` (make test does)")
            }
            let servers = """
                [{"name":"ws-a","host":"127.0.0.1","docker_port":\(try DockerFleet.hostPort("BERTH_TEST_DOCKER_PLAIN_1").port)},
                 {"name":"ws-b","host":"127.0.0.1","docker_port":\(try DockerFleet.hostPort("BERTH_TEST_DOCKER_PLAIN_2").port)}]
                """
            let logs = NSTemporaryDirectory() + "berth-replica-\(UUID().uuidString.prefix(8))"
            func start(_ index: Int) throws -> pid_t {
                try TestEnvironment.spawn([binary, "serve", "--address", "127.0.0.1:0"], environment: [
                    "BERTH_DATABASE_URL": testDB.appURL, "BERTH_HEALTH_INTERVAL": "0.5",
                    "BERTH_WORKSPACE_SERVERS": servers, "BERTH_SQL_DIR": TestEnvironment.repositoryRoot.appendingPathComponent("sql").path,
                ], logPath: "\(logs)-\(index).log")
            }
            let first = try start(1), second = try start(2)
            var stopped = false
            defer {
                TestEnvironment.terminate(first)
                if !stopped { TestEnvironment.terminate(second) }
            }
            func owners() async throws -> [String: (owner: String?, status: String, checked: Date?)] {
                try await db.withSystem { scope in
                    var result: [String: (String?, String, Date?)] = [:]
                    for row in try await scope.execute("SELECT name, health_lease_owner, status, last_health_check FROM workspace_servers") {
                        result[try row.decode("name")] = (try row.decode("health_lease_owner"), try row.decode("status"), try row.decode("last_health_check"))
                    }
                    return result
                }
            }
            // Both replicas registered the same two servers (upsert by name) and they turn healthy.
            try await TestEnvironment.waitUntilReady(within: .seconds(20), logs: ["\(logs)-1.log", "\(logs)-2.log"]) {
                let now = try await owners()
                if now.count == 2, now.values.allSatisfy({ $0.status == "healthy" }) { return nil }
                return "servers: \(now.map { "\($0.key) \($0.value.status) owned by \($0.value.owner ?? "nobody")" }.sorted())"
            }
            let before = try await owners()
            #expect(before.count == 2)
            #expect(before.values.allSatisfy { $0.status == "healthy" && $0.owner != nil }, "\(before)")
            // Over several intervals the owners do not flip: each server is checked by one replica.
            for _ in 0..<6 {
                try await Task.sleep(for: .milliseconds(250))
                let now = try await owners()
                for (name, entry) in now { #expect(entry.owner == before[name]?.owner, "\(name) changed hands while both replicas ran") }
            }
            // Stop the replica that owns ws-a; the other takes it over once the lease runs out.
            let ownerOfA = before["ws-a"]!.owner!
            let (victim, survivorIndex) = try await Self.replica(owning: ownerOfA, first: first, second: second, db: db)
            TestEnvironment.terminate(victim)
            if victim == second { stopped = true }
            let takeover = ContinuousClock.now + .seconds(10)
            var taken = false
            while ContinuousClock.now < takeover {
                let now = try await owners()
                if let a = now["ws-a"], a.owner != ownerOfA, let checked = a.checked, checked > Date().addingTimeInterval(-1) {
                    taken = true
                    break
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(taken, "replica \(survivorIndex) did not take over ws-a")
        }
    }

    /// Which process holds a lease: the owner string carries the process id.
    static func replica(owning owner: String, first: pid_t, second: pid_t, db: Database) async throws -> (pid_t, Int) {
        if owner.hasPrefix("berth-\(first)-") { return (first, 2) }
        if owner.hasPrefix("berth-\(second)-") { return (second, 1) }
        Issue.record("lease owner \(owner) is neither replica (\(first), \(second))")
        return (first, 2)
    }
}
