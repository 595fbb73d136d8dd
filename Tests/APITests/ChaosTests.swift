import BerthTestSupport
import Compute
import Domain
import Foundation
import Persistence
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The fault suite (`scripts/chaos.sh`): real `berth serve` replicas, real engines and real
/// PostgreSQL, with faults injected under load. Each scenario prints what it did and what it found,
/// and ends with the engines and the database in agreement (`Convergence`).
///
/// `BERTH_CHAOS=short` (in `make test`) runs each once at the sizes the issue names; `full`
/// (`make chaos`) runs each three times at two and a half times the load.
@Suite(.serialized) struct ChaosTests {
    static var full: Bool { ProcessInfo.processInfo.environment["BERTH_CHAOS"] == "full" }
    static var rounds: Int { full ? 3 : 1 }
    static func scaled(_ n: Int) -> Int { full ? n * 5 / 2 : n }

    /// Short leases and periods, so a scenario sees crashes and losses settle in seconds.
    static let environment = [
        "BERTH_WORKSPACE_LEASE": "5", "BERTH_RECONCILE_INTERVAL": "1", "BERTH_IDEMPOTENCY_LEASE": "5",
        "BERTH_SERVER_OFFLINE_AFTER": "3", "BERTH_SERVER_LOST_AFTER": "5", "BERTH_ORPHAN_GRACE": "10", "BERTH_STOP_GRACE": "1",
        "BERTH_TENANT_MAX_CONCURRENT": "1000", "BERTH_TENANT_RATE": "100000", "BERTH_TENANT_BURST": "100000",
    ]

    /// A quota that is never the limit: the scenarios are about faults, not quotas.
    static let roomy = Quota(maxWorkspaces: 10_000, maxCPUMillis: 10_000_000, maxMemoryMB: 100_000_000)

    static func body(_ name: String, extra: String = "") -> String {
        #"{"name":"\#(name)","image":"berth-busybox:latest","resources":{"cpu":0.25,"memory_mb":32,"disk_gb":1}\#(extra)}"#
    }

    static func id(in response: CurlResponse) -> WorkspaceID? {
        struct Body: Decodable { let id: String }
        return (try? JSONDecoder().decode(Body.self, from: response.body)).flatMap { WorkspaceID($0.id) }
    }

    static func report(_ scenario: Int, _ text: String) {
        print("chaos \(scenario): \(text)")
    }

    // MARK: - 1. A replica killed in the middle of concurrent creates

    @Test func aReplicaKilledMidCreatesLeavesNothingHalfDone() async throws {
        for round in 1...Self.rounds {
            let testDB = try await TestDatabase.make()
            let servers = [(name: "chaos-a", daemon: "BERTH_TEST_DOCKER_PLAIN_1"), (name: "chaos-b", daemon: "BERTH_TEST_DOCKER_PLAIN_2")]
            var replicas = [
                try await ServedBerth.start(appURL: testDB.appURL, testDB: testDB, servers: servers, environment: Self.environment),
                try await ServedBerth.start(appURL: testDB.appURL, testDB: testDB, servers: servers, environment: Self.environment),
            ]
            let tenant = try await replicas[0].tenant("chaos-one-\(round)", quota: Self.roomy)
            let load = Self.scaled(40)
            let targets = replicas
            let outcomes = await withTaskGroup(of: (Int, CurlResponse?).self) { group in
                for index in 0..<load {
                    group.addTask {
                        let replica = targets[index % 2]
                        return (index, try? await replica.call(.post, "/v1/workspaces", body: Self.body("one-\(index)"), bearer: tenant.key, timeout: .seconds(60)))
                    }
                }
                // Mid-flight: the first replica dies.
                try? await Task.sleep(for: .milliseconds(150))
                targets[0].crash()
                var outcomes: [(Int, CurlResponse?)] = []
                for await outcome in group { outcomes.append(outcome) }
                return outcomes
            }
            replicas[0] = try await ServedBerth.start(appURL: testDB.appURL, testDB: testDB, servers: servers, environment: Self.environment)
            let accepted = outcomes.compactMap { $0.1 }.filter { $0.status == 202 }.compactMap(Self.id)
            let cut = outcomes.filter { $0.1 == nil }.count
            let statuses = outcomes.compactMap { $0.1?.status }
            #expect(!statuses.contains { $0 >= 500 && $0 != 503 }, "answers: \(statuses)")
            let (violations, took) = try await Convergence.wait(replicas[1].db, within: .seconds(180))
            #expect(violations.isEmpty, "\(violations)")
            let rows = try await Convergence.rows(replicas[1].db)
            for id in accepted {
                let row = rows.first { $0.id == id }
                #expect(row?.status == "running" || (row?.status == "error" && row?.error != nil), "accepted \(id): \(row?.status ?? "missing")")
            }
            let others = Dictionary(grouping: statuses.filter { $0 != 202 }, by: { $0 }).mapValues(\.count).sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }
            Self.report(1, "round \(round): \(load) concurrent creates over 2 replicas, one killed after 150 ms and restarted: \(accepted.count) answered 202, \(cut) cut off, other answers \(others); converged in \(took.formatted) with \(rows.filter { $0.status == "running" }.count) running, \(rows.filter { $0.status == "error" }.count) in error, \(violations.count) disagreements")
            for replica in replicas { #expect(replica.terminate() == 0) }
            await Convergence.removeContainers(replicas[1].db)
            for replica in replicas { await replica.finish(dropDatabase: false) }
            await testDB.drop()
        }
    }

    // MARK: - 2. Concurrent changes on the same workspaces

    @Test func concurrentChangesOnTheSameWorkspacesConverge() async throws {
        for round in 1...Self.rounds {
            let testDB = try await TestDatabase.make()
            let servers = [(name: "chaos-a", daemon: "BERTH_TEST_DOCKER_PLAIN_1")]
            let replicas = [
                try await ServedBerth.start(appURL: testDB.appURL, testDB: testDB, servers: servers, environment: Self.environment),
                try await ServedBerth.start(appURL: testDB.appURL, testDB: testDB, servers: servers, environment: Self.environment),
            ]
            let tenant = try await replicas[0].tenant("chaos-two-\(round)", quota: Self.roomy)
            var ids: [WorkspaceID] = []
            for index in 0..<5 {
                let response = try await replicas[0].call(.post, "/v1/workspaces?wait=running", body: Self.body("two-\(index)"), bearer: tenant.key)
                ids.append(try #require(Self.id(in: response)))
            }
            let actions = ["stop", "start", "restart", "stop", "start", "delete"]
            let load = Self.scaled(20)
            let statuses = await withTaskGroup(of: Int?.self) { group in
                for index in 0..<load {
                    let id = ids[index % ids.count], action = actions[(index * 7) % actions.count], replica = replicas[index % 2]
                    group.addTask {
                        let response = action == "delete"
                            ? try? await replica.call(.delete, "/v1/workspaces/\(id)", bearer: tenant.key)
                            : try? await replica.call(.post, "/v1/workspaces/\(id)/\(action)", bearer: tenant.key)
                        return response?.status
                    }
                }
                var statuses: [Int?] = []
                for await status in group { statuses.append(status) }
                return statuses
            }
            #expect(statuses.allSatisfy { $0 != nil && $0! < 500 }, "every request was answered without a server error: \(statuses)")
            let (violations, took) = try await Convergence.wait(replicas[0].db, within: .seconds(120))
            #expect(violations.isEmpty, "\(violations)")
            let counts = Dictionary(grouping: statuses.compactMap { $0 }, by: { $0 }).mapValues(\.count).sorted { $0.key < $1.key }
            Self.report(2, "round \(round): \(load) concurrent stop/start/restart/delete on 5 workspaces over 2 replicas: answers \(counts.map { "\($0.key)×\($0.value)" }.joined(separator: " ")); converged in \(took.formatted), \(violations.count) disagreements")
            for replica in replicas { #expect(replica.terminate() == 0) }
            await Convergence.removeContainers(replicas[0].db)
            for replica in replicas { await replica.finish(dropDatabase: false) }
            await testDB.drop()
        }
    }

    // MARK: - 3. A workspace server's daemon dies under load

    @Test func aDeadServerIsGivenUpAndReconciledWhenItReturns() async throws {
        let fleet = TestEnvironment.repositoryRoot.appendingPathComponent("scripts/fleet.sh").path
        for round in 1...Self.rounds {
            let testDB = try await TestDatabase.make()
            let servers = [(name: "chaos-c", daemon: "BERTH_TEST_DOCKER_CHAOS"), (name: "chaos-b", daemon: "BERTH_TEST_DOCKER_PLAIN_2")]
            let served = try await ServedBerth.start(appURL: testDB.appURL, testDB: testDB, servers: servers, environment: Self.environment)
            try await Convergence.waitForHealthy(served.db, servers: 2)
            let tenant = try await served.tenant("chaos-three-\(round)", quota: Self.roomy)
            var doomed: [WorkspaceID] = []
            for index in 0..<4 {
                let response = try await served.call(.post, "/v1/workspaces?wait=running", body: Self.body("three-\(index)", extra: #","placement":{"strategy":"affinity","preferred_server":"chaos-c"}"#), bearer: tenant.key)
                doomed.append(try #require(Self.id(in: response), "\(response.text)"))
            }
            #expect(try await served.call(.post, "/v1/workspaces/\(doomed[3])/stop", bearer: tenant.key).status == 200)
            try TestEnvironment.run(["bash", fleet, "kill", "ws-chaos-1"])
            // Under load while it is down: creates keep coming, and go to the server that answers.
            var placedElsewhere = 0, refused = 0
            let deadline = ContinuousClock.now + .seconds(60)
            var lost = false
            var index = 0
            var wrongAfterCaught: [String] = []
            while !lost, ContinuousClock.now < deadline {
                // Once the health monitor has seen it down, nothing may be placed there.
                let caught = try await served.db.withSystem { try await $0.first("SELECT status FROM workspace_servers WHERE name = 'chaos-c'")!.decode("status", as: String.self) } != "healthy"
                let response = try await served.call(.post, "/v1/workspaces", body: Self.body("during-\(index)"), bearer: tenant.key)
                index += 1
                if response.status == 202, let id = Self.id(in: response) {
                    let server = try await served.db.withSystem { try await $0.first("SELECT s.name FROM workspaces w JOIN workspace_servers s ON s.id = w.server_id WHERE w.id = \(id)")!.decode("name", as: String.self) }
                    if server == "chaos-b" { placedElsewhere += 1 } else if caught { wrongAfterCaught.append("during-\(index - 1)") }
                } else {
                    refused += 1
                }
                lost = try await served.db.withSystem { scope in
                    try await scope.first("""
                        SELECT count(*) AS n FROM workspaces WHERE error_code = 'server_lost'
                          AND id = ANY(\("{" + doomed.map(\.description).joined(separator: ",") + "}")::uuid[])
                        """)!.decode("n", as: Int.self)
                } == doomed.count
                try await Task.sleep(for: .milliseconds(300))
            }
            #expect(lost, "the dead server's workspaces were given up")
            #expect(placedElsewhere > 0 && wrongAfterCaught.isEmpty, "placements went elsewhere (\(placedElsewhere)); placed on the dead server after it was seen down: \(wrongAfterCaught)")
            // Unbilled from the last good check: no interval on the lost server ends after it.
            let late = try await served.db.withSystem { scope in
                try await scope.first("""
                    SELECT count(*) AS n FROM usage_intervals i JOIN workspace_servers s ON s.id = i.server_id
                    WHERE s.name = 'chaos-c' AND (i.ended_at IS NULL OR i.ended_at > greatest(s.last_healthy_at, i.started_at) + interval '1 millisecond')
                    """)!.decode("n", as: Int.self)
            }
            #expect(late == 0, "\(late) intervals on the lost server run past its last good check")
            try TestEnvironment.run(["bash", fleet, "start-one", "ws-chaos-1"])
            // It answers again: what is still there is adopted back as stopped workspaces.
            var adopted = 0
            let back = ContinuousClock.now + .seconds(60)
            while adopted < doomed.count, ContinuousClock.now < back {
                adopted = try await served.db.withSystem { scope in
                    try await scope.first("SELECT count(*) AS n FROM workspaces WHERE id = ANY(\("{" + doomed.map(\.description).joined(separator: ",") + "}")::uuid[]) AND status = 'stopped'")!.decode("n", as: Int.self)
                }
                try await Task.sleep(for: .milliseconds(300))
            }
            #expect(adopted == doomed.count, "the returned server's workspaces were adopted back (\(adopted)/\(doomed.count))")
            let (violations, took) = try await Convergence.wait(served.db, within: .seconds(120))
            #expect(violations.isEmpty, "\(violations)")
            Self.report(3, "round \(round): killed the daemon of a server with 4 workspaces; \(index) creates meanwhile: \(placedElsewhere) placed on the other server, \(index - placedElsewhere - refused) on the dead one before its health check caught it, \(refused) refused; its workspaces went to server_lost, metered up to its last good check (\(late) intervals past it); restarted: \(adopted) adopted back as stopped; converged in \(took.formatted), \(violations.count) disagreements")
            #expect(served.terminate() == 0)
            await Convergence.removeContainers(served.db)
            await served.finish(dropDatabase: false)
            await testDB.drop()
        }
    }

    // MARK: - 4. PostgreSQL stops under load

    @Test func aDatabaseOutageIsAnsweredWith503AndRecoveredFrom() async throws {
        for round in 1...Self.rounds {
            let cluster = try PrivateCluster()
            defer { cluster.destroy() }
            try cluster.start()
            try TestEnvironment.run([try ServedBerth.binary, "migrate"], environment: [
                "BERTH_MIGRATE_DATABASE_URL": try cluster.exported("BERTH_MIGRATE_DATABASE_URL"),
                "BERTH_SQL_DIR": TestEnvironment.repositoryRoot.appendingPathComponent("sql").path,
            ])
            let appURL = try cluster.exported("BERTH_DATABASE_URL")
            let served = try await ServedBerth.start(appURL: appURL, testDB: nil, servers: [(name: "chaos-a", daemon: "BERTH_TEST_DOCKER_PLAIN_1")], environment: Self.environment)
            let tenant = try await served.tenant("chaos-four-\(round)", quota: Self.roomy)
            struct Answer { let at: Duration; let status: Int?; let took: Duration }
            let start = ContinuousClock.now
            let outage = (from: Duration.seconds(5), to: Duration.seconds(15))
            let clients = Self.scaled(8)
            let answers = try await withThrowingTaskGroup(of: [Answer].self) { group in
                for client in 0..<clients {
                    group.addTask {
                        var answers: [Answer] = []
                        var index = 0
                        while ContinuousClock.now - start < .seconds(28) {
                            let sent = ContinuousClock.now
                            let response: CurlResponse?
                            if client == 0 && index % 3 == 0 {
                                response = try? await served.call(.post, "/v1/workspaces", body: Self.body("four-\(index)"), bearer: tenant.key, timeout: .seconds(20))
                            } else {
                                response = try? await served.call(.get, "/v1/workspaces", bearer: tenant.key, timeout: .seconds(20))
                            }
                            answers.append(Answer(at: sent - start, status: response?.status, took: ContinuousClock.now - sent))
                            index += 1
                            try await Task.sleep(for: .milliseconds(100))
                        }
                        return answers
                    }
                }
                group.addTask {
                    try await Task.sleep(until: start + outage.from, clock: .continuous)
                    try cluster.stop()
                    try await Task.sleep(until: start + outage.to, clock: .continuous)
                    try cluster.start()
                    return []
                }
                var all: [Answer] = []
                for try await part in group { all += part }
                return all
            }
            #expect(answers.allSatisfy { $0.status != nil }, "every request got an answer within the client's 20 s")
            #expect(!answers.contains { $0.status == 500 }, "no 500")
            let during = answers.filter { $0.at > outage.from + .seconds(1) && $0.at + $0.took < outage.to }
            #expect(!during.isEmpty && during.allSatisfy { $0.status == 503 }, "during the outage: \(Set(during.compactMap(\.status)))")
            let after = answers.filter { $0.at > outage.to + .seconds(5) }
            // Served again: lists answer, creates are placed (or refused once the server is full).
            #expect(after.contains { $0.status == 200 } && after.allSatisfy { ($0.status ?? 500) < 500 }, "after it: \(after.filter { ($0.status ?? 500) >= 500 }.map { "\($0.status ?? 0) at \($0.at.formatted)" })")
            #expect(served.alive, "the same process recovered, without a restart")
            let (violations, took) = try await Convergence.wait(served.db, within: .seconds(120))
            #expect(violations.isEmpty, "\(violations)")
            let slowest = answers.map(\.took).max() ?? .zero
            Self.report(4, "round \(round): \(answers.count) requests from \(clients) clients over 28 s, PostgreSQL stopped from 5 s to 15 s: \(during.count) sent during the outage, all 503; \(answers.filter { $0.status == 500 }.count) answered 500; slowest answer \(slowest.formatted); after it \(after.filter { ($0.status ?? 500) < 500 }.count) of \(after.count) served by the same process; converged in \(took.formatted), \(violations.count) disagreements")
            #expect(served.terminate() == 0)
            await Convergence.removeContainers(served.db)
            await served.finish(dropDatabase: false)
        }
    }

    // MARK: - 5. SIGTERM under load

    @Test func sigtermUnderLoadFinishesWhatIsInFlight() async throws {
        for round in 1...Self.rounds {
            let testDB = try await TestDatabase.make()
            let servers = [(name: "chaos-a", daemon: "BERTH_TEST_DOCKER_PLAIN_1")]
            let served = try await ServedBerth.start(appURL: testDB.appURL, testDB: testDB, servers: servers, environment: Self.environment)
            let tenant = try await served.tenant("chaos-five-\(round)", quota: Self.roomy)
            let clients = Self.scaled(12)
            let stopSending = ManagedAtomicFlag()
            let results = try await withThrowingTaskGroup(of: [(Int?, String)].self) { group in
                for client in 0..<clients {
                    group.addTask {
                        var results: [(Int?, String)] = []
                        var index = 0
                        while !stopSending.isSet {
                            let kind = client % 3 == 0 ? "create" : "list"
                            let response = kind == "create"
                                ? try? await served.call(.post, "/v1/workspaces?wait=running&timeout=30", body: Self.body("five-\(client)-\(index)"), bearer: tenant.key, timeout: .seconds(60))
                                : try? await served.call(.get, "/v1/workspaces", bearer: tenant.key, timeout: .seconds(60))
                            results.append((response?.status, kind))
                            index += 1
                        }
                        return results
                    }
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(2))
                    // Requests already sent must finish; none is started after the signal.
                    stopSending.set()
                    kill(served.pid, SIGTERM)
                    return []
                }
                var all: [(Int?, String)] = []
                for try await part in group { all += part }
                return all
            }
            let exit = served.terminate(timeout: .seconds(60))
            #expect(exit == 0, "berth serve exited with \(exit.map(String.init) ?? "a signal")")
            let failed = results.filter { $0.0 == nil || $0.0! >= 500 }
            #expect(failed.isEmpty, "\(failed.count) in-flight requests failed: \(failed)")
            // Whatever it accepted settles with the next replica.
            let next = try await ServedBerth.start(appURL: testDB.appURL, testDB: testDB, servers: servers, environment: Self.environment)
            let (violations, took) = try await Convergence.wait(next.db, within: .seconds(120))
            #expect(violations.isEmpty, "\(violations)")
            Self.report(5, "round \(round): \(results.count) requests from \(clients) clients, SIGTERM after 2 s with requests in flight: \(failed.count) failed, exit code \(exit.map(String.init) ?? "none"); converged in \(took.formatted), \(violations.count) disagreements")
            #expect(next.terminate() == 0)
            await Convergence.removeContainers(next.db)
            await next.finish(dropDatabase: false)
            await served.finish(dropDatabase: false)
            await testDB.drop()
        }
    }

    // MARK: - 6. Connections cut mid-transaction

    @Test func connectionsCutMidTransactionLeaveNoPartialWrite() async throws {
        for round in 1...Self.rounds {
            let testDB = try await TestDatabase.make()
            let servers = [(name: "chaos-a", daemon: "BERTH_TEST_DOCKER_PLAIN_1")]
            let served = try await ServedBerth.start(appURL: testDB.appURL, testDB: testDB, servers: servers, environment: Self.environment)
            let tenant = try await served.tenant("chaos-six-\(round)", quota: Self.roomy)
            let killer = testDB.superuser()
            let load = Self.scaled(20)
            let start = ContinuousClock.now
            let (statuses, terminated) = try await withThrowingTaskGroup(of: ([Int?], Int).self) { group in
                for index in 0..<load {
                    group.addTask {
                        var statuses: [Int?] = []
                        let create = try? await served.call(.post, "/v1/workspaces", body: Self.body("six-\(index)"), bearer: tenant.key, timeout: .seconds(30))
                        statuses.append(create?.status)
                        if let id = create.flatMap(Self.id(in:)) {
                            statuses.append((try? await served.call(.post, "/v1/workspaces/\(id)/stop", bearer: tenant.key, timeout: .seconds(30)))?.status)
                        }
                        return (statuses, 0)
                    }
                }
                group.addTask {
                    var terminated = 0
                    while ContinuousClock.now - start < .seconds(4) {
                        terminated += (try? await killer.withConnection { connection in
                            try await connection.execute("""
                                SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                                WHERE datname = current_database() AND application_name = 'berth' AND pid <> pg_backend_pid()
                                """).count
                        }) ?? 0
                        try await Task.sleep(for: .milliseconds(150))
                    }
                    return ([], terminated)
                }
                var statuses: [Int?] = [], terminated = 0
                for try await (part, count) in group { statuses += part; terminated += count }
                return (statuses, terminated)
            }
            #expect(!statuses.contains { $0 == 500 }, "no 500: \(statuses)")
            #expect(served.alive)
            // Every transaction landed whole or not at all: each workspace has the event its
            // placement wrote with it, and each server's reservations are its workspaces' holds.
            let orphans = try await served.db.withSystem { scope in
                try await scope.first("""
                    SELECT count(*) AS n FROM workspaces w
                    WHERE NOT EXISTS (SELECT 1 FROM workspace_events e WHERE e.workspace_id = w.id AND e.reason = 'placed')
                    """)!.decode("n", as: Int.self)
            }
            #expect(orphans == 0, "\(orphans) workspaces without the event written in their placement's transaction")
            let (violations, took) = try await Convergence.wait(served.db, within: .seconds(120))
            #expect(violations.isEmpty, "\(violations)")
            let counts = Dictionary(grouping: statuses.map { $0.map(String.init) ?? "cut" }, by: { $0 }).mapValues(\.count).sorted { $0.key < $1.key }
            Self.report(6, "round \(round): \(load) creates and stops while every berth backend was terminated each 150 ms for 4 s (\(terminated) backends terminated): answers \(counts.map { "\($0.key)×\($0.value)" }.joined(separator: " ")); \(orphans) partial writes; converged in \(took.formatted), \(violations.count) disagreements")
            killer.shutdown()
            #expect(served.terminate() == 0)
            await Convergence.removeContainers(served.db)
            await served.finish(dropDatabase: false)
            await testDB.drop()
        }
    }
}

/// A flag set once, read from many tasks.
final class ManagedAtomicFlag: Sendable {
    private let value = Mutex(false)
    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
}

extension Duration {
    var formatted: String { String(format: "%.1f s", inSeconds) }
}
