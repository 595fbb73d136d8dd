import BerthTestSupport
import Compute
import Domain
import Foundation
import Persistence
import Testing

/// One tenant cannot hold what the others need, and an idempotent create survives the crash of the
/// replica running it; against real `berth serve` processes.
@Suite struct TenantFairnessProcessTests {
    /// 200 requests at once from tenant A, each an export that holds a database connection while it
    /// streams 20 000 rows: A is held to its share (half the pool by default; the rest `429` with
    /// `Retry-After`, refused before any database work), and tenant B's requests, sent while A's
    /// exports stream, are each answered within 2 s.
    @Test func aFloodFromOneTenantLeavesAnotherAnswered() async throws {
        let served = try await ServedBerth.start(serverName: "fair-1")
        let a = try await served.tenant("flooder"), b = try await served.tenant("bystander")
        // 20 000 intervals: each export of A reads and streams them all.
        try await served.db.withSystem { scope in
            let workspace = try await scope.first("""
                INSERT INTO workspaces (tenant_id, name, status, image, cpu, memory_mb, disk_gb, desired_status, observed_generation)
                VALUES (\(a.id), 'old', 'deleted', 'berth-busybox:latest', 1, 64, 0, 'deleted', 1) RETURNING id
                """)!.decode("id", as: WorkspaceID.self)
            try await scope.execute("""
                INSERT INTO usage_intervals (tenant_id, workspace_id, cpu, memory_mb, disk_gb, started_at, ended_at)
                SELECT \(a.id), \(workspace), 1, 64, 0, '2026-03-01'::timestamptz + n * interval '1 minute', '2026-03-01'::timestamptz + n * interval '1 minute' + interval '30 seconds'
                FROM generate_series(0, 19999) n
                """)
        }
        let export = "/v1/usage/export?from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z&format=csv"
        let streaming = Counter()
        let flood = Task {
            try await withThrowingTaskGroup(of: (Int, String?).self) { group in
                for _ in 0..<200 {
                    group.addTask {
                        await streaming.add(1)
                        let response = try await served.call(.get, export, bearer: a.key, timeout: .seconds(60))
                        await streaming.add(-1)
                        return (response.status, response.headers.first { $0.name.lowercased() == "retry-after" }?.value)
                    }
                }
                var outcomes: [(Int, String?)] = []
                for try await outcome in group { outcomes.append(outcome) }
                return outcomes
            }
        }
        // B starts once A's admitted exports are streaming (the refused ones are answered at once).
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let (started, inFlight) = await (streaming.started, streaming.value)
            if started == 200 && inFlight <= 10 { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        let inFlightWhenBStarted = await streaming.value
        var slowest = Duration.zero
        var answered = 0
        var overlapping = 0
        for _ in 0..<20 {
            let start = ContinuousClock.now
            let response = try await served.call(.get, "/v1/workspaces", bearer: b.key, timeout: .seconds(30))
            slowest = max(slowest, ContinuousClock.now - start)
            if response.status == 200 { answered += 1 }
            if await streaming.value > 0 { overlapping += 1 }
        }
        let outcomes = try await flood.value
        #expect(inFlightWhenBStarted > 0 && overlapping > 0, "B's requests ran while A's exports streamed (\(overlapping) of 20)")
        #expect(answered == 20, "every request of B was answered (\(answered)/20)")
        #expect(slowest < .seconds(2), "B's slowest answer took \(slowest)")
        let refused = outcomes.filter { $0.0 == 429 }
        let served200 = outcomes.filter { $0.0 == 200 }
        #expect(!refused.isEmpty && refused.allSatisfy { Int($0.1 ?? "") ?? 0 >= 1 }, "A was refused with Retry-After")
        #expect(!served200.isEmpty, "A was served too, within its share")
        #expect(outcomes.allSatisfy { $0.0 == 200 || $0.0 == 429 }, "A got only answers or refusals: \(Set(outcomes.map(\.0)))")
        print("fairness: B's slowest of 20 answers \(slowest), \(overlapping) of them while A's exports streamed; A: \(served200.count) exports of 20 000 rows answered, \(refused.count) refused with 429")
        #expect(served.terminate() == 0)
        await served.finish()
    }

    /// A create with an `Idempotency-Key` whose replica is killed (`kill -9`) while it holds the key
    /// is taken over by the next request with the same key, on another replica, once the claim's
    /// lease has run out: one workspace, with the id the first request chose, whether the first one
    /// died before placing it or after.
    @Test func anIdempotentCreateIsTakenOverAfterItsReplicaDies() async throws {
        let environment = [
            "BERTH_IDEMPOTENCY_LEASE": "2", "BERTH_WORKSPACE_LEASE": "3", "BERTH_RECONCILE_INTERVAL": "0.5",
            "BERTH_DATABASE_LOCK_TIMEOUT": "60",
        ]
        let testDB = try await TestDatabase.make()
        let first = try await ServedBerth.start(testDB: testDB, serverName: "idem-1", environment: environment)
        let tenant = try await first.tenant("idem")
        let holder = testDB.superuser()
        func body(_ name: String) -> String {
            #"{"name":"\#(name)","image":"berth-busybox:latest","resources":{"cpu":0.25,"memory_mb":32,"disk_gb":0}}"#
        }
        func claimedWorkspace(_ key: String) async throws -> WorkspaceID? {
            try await first.db.withSystem { scope in
                try await scope.first("SELECT workspace_id FROM idempotency_keys WHERE key = \(key) AND state = 'in_progress'")?.decode("workspace_id", as: WorkspaceID.self)
            }
        }
        /// Sends the create without waiting for its answer (the replica dies before it answers).
        func send(_ served: ServedBerth, key: String, name: String) -> Task<CurlResponse, any Error> {
            Task { try await served.call(.post, "/v1/workspaces", body: body(name), bearer: tenant.key, headers: [(name: "Idempotency-Key", value: key)]) }
        }
        func waitFor(_ condition: () async throws -> Bool) async throws {
            let deadline = ContinuousClock.now + .seconds(20)
            while try await !condition() {
                guard ContinuousClock.now < deadline else { throw TestEnvironment.Missing(description: "condition not met within 20 s") }
                try await Task.sleep(for: .milliseconds(50))
            }
        }

        // 1. The replica dies before placing: the placement waits for the tenant row, held here.
        var chosen: [String: WorkspaceID] = [:]
        try await holder.withTransaction { transaction in
            // NO KEY UPDATE: it blocks the quota check's lock, not the key-share locks of inserts that reference the tenant.
            try await transaction.execute("SELECT id FROM tenants WHERE id = \(tenant.id) FOR NO KEY UPDATE")
            let pending = send(first, key: "before-placing", name: "before")
            try await waitFor { try await claimedWorkspace("before-placing") != nil }
            chosen["before-placing"] = try await claimedWorkspace("before-placing")
            first.crash()
            _ = await pending.result
        }
        // 2. It dies after placing, before answering: the audit row it writes next waits here.
        let second = try await ServedBerth.start(testDB: testDB, serverName: "idem-1", environment: environment)
        try await holder.withTransaction { transaction in
            try await transaction.execute("LOCK TABLE audit_events IN EXCLUSIVE MODE")
            let pending = send(second, key: "after-placing", name: "after")
            try await waitFor {
                guard let id = try await claimedWorkspace("after-placing") else { return false }
                chosen["after-placing"] = id
                return try await second.db.withSystem { try await WorkspaceStore().get(id, in: $0) } != nil
            }
            second.crash()
            _ = await pending.result
        }
        #expect(!first.alive && !second.alive)

        // A third replica gets both requests again, with the same keys and bodies.
        let third = try await ServedBerth.start(testDB: testDB, serverName: "idem-1", environment: environment)
        for (key, name) in [("before-placing", "before"), ("after-placing", "after")] {
            let response = try await third.call(.post, "/v1/workspaces", body: body(name), bearer: tenant.key, headers: [(name: "Idempotency-Key", value: key)])
            #expect(response.status == 202, "\(key): \(response.status) \(response.text)")
            #expect(response.text.contains(chosen[key]!.description), "\(key) answers with the workspace the first request chose")
            // A replay gives the same answer.
            let replay = try await third.call(.post, "/v1/workspaces", body: body(name), bearer: tenant.key, headers: [(name: "Idempotency-Key", value: key)])
            #expect(replay.status == response.status && replay.body == response.body)
        }
        // Exactly the two chosen workspaces exist, and both come to run once the dead actors' leases end.
        try await waitFor {
            let rows = try await third.db.withSystem { scope in
                try await scope.execute("SELECT id, status FROM workspaces WHERE tenant_id = \(tenant.id)").map { (try $0.decode("id", as: WorkspaceID.self), try $0.decode("status", as: String.self)) }
            }
            return Set(rows.map(\.0)) == Set(chosen.values) && rows.allSatisfy { $0.1 == "running" }
        }
        let engine = try ServedBerth.hostPort("BERTH_TEST_DOCKER_PLAIN_2")
        for id in chosen.values {
            let containers = try await DockerClient(endpoint: .http(host: engine.host, port: engine.port)).listContainers(labels: ["berth.workspace=\(id)"])
            #expect(containers.count == 1, "one container for \(id)")
        }
        holder.shutdown()
        #expect(third.terminate() == 0)
        await second.finish(dropDatabase: false)
        await first.finish(dropDatabase: false)
        await third.finish()
    }

    /// Requests in flight, and how many were ever started.
    actor Counter {
        var value = 0
        var started = 0
        func add(_ delta: Int) {
            value += delta
            if delta > 0 { started += delta }
        }
    }
}
