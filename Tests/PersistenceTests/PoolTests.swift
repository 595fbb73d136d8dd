import BerthTestSupport
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Persistence
import Testing

@Suite struct PoolTests {
    @Test func fourTimesMoreTasksThanConnectionsAllComplete() async throws {
        try await withTestDatabase(poolSize: 4) { _, db in
            let results = try await withThrowingTaskGroup(of: (Int, Int, Int32).self) { group in
                for i in 0..<16 {
                    group.addTask {
                        try await db.withConnection { connection in
                            let row = try await connection.first("SELECT \(i)::int AS echo, pg_backend_pid() AS pid, pg_sleep(0.05)::text AS s")!
                            return (i, try row.decode("echo", as: Int.self), try row.decode("pid", as: Int32.self))
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.count == 16)
            for (sent, echoed, _) in results { #expect(sent == echoed) }
            #expect(Set(results.map(\.2)).count <= 4, "more backends than the pool size")
            #expect(db.poolStatistics.total <= 4)
        }
    }

    @Test func recoversAfterEveryPooledBackendIsTerminated() async throws {
        try await withTestDatabase(poolSize: 3) { testDB, db in
            let superuser = testDB.superuser()
            defer { superuser.shutdown() }
            // Hold three connections at once so the pool really opens three.
            let pids = try await withThrowingTaskGroup(of: Int32.self) { group in
                for _ in 0..<3 {
                    group.addTask {
                        try await db.withConnection { connection in
                            _ = try await connection.execute("SELECT pg_sleep(0.2)")
                            return connection.backendPID
                        }
                    }
                }
                return try await group.reduce(into: Set<Int32>()) { $0.insert($1) }
            }
            #expect(pids.count == 3)
            try await superuser.withConnection { connection in
                for pid in pids {
                    let row = try await connection.first("SELECT pg_terminate_backend(\(pid)) AS ok")!
                    #expect(try row.decode("ok", as: Bool.self))
                }
            }
            // Wait until the backend processes are gone (the server is local): only then are their sockets
            // closed. pg_stat_activity forgets a backend a moment before its process exits.
            try await waitUntil(deadline: .seconds(10)) {
                pids.allSatisfy { kill(pid_t($0), 0) != 0 }
            }
            // The next queries, sequential and concurrent, all succeed on fresh connections.
            for _ in 0..<3 {
                let pid = try await db.withConnection { try await $0.first("SELECT pg_backend_pid() AS pid")!.decode("pid", as: Int32.self) }
                #expect(!pids.contains(pid))
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<9 {
                    group.addTask { _ = try await db.withTransaction { try await $0.execute("SELECT 1") } }
                }
                try await group.waitForAll()
            }
        }
    }

    /// Order, not durations (this suite runs in parallel on a loaded machine): the only connection
    /// is held until the test lets it go, so the waiter can only have failed at its deadline, while
    /// the connection was still held. A pool that waited for the holder instead would hang until the
    /// time limit.
    @Test(.timeLimit(.minutes(1)))
    func exhaustedPoolFailsAfterItsDeadline() async throws {
        try await withTestDatabase(poolSize: 1, acquireTimeout: .milliseconds(300)) { _, db in
            let gate = Gate()
            let holder = Task {
                try await db.withConnection { _ in await gate.wait() }
            }
            try await waitUntil(deadline: .seconds(30)) { db.poolStatistics.total == 1 && db.poolStatistics.idle == 0 }
            let start = ContinuousClock.now
            do {
                try await db.withConnection { _ = try await $0.execute("SELECT 1") }
                Issue.record("got a connection from an exhausted pool")
            } catch let error as PostgresError {
                #expect(error.code == .unavailable)
                #expect(error.message.contains("no database connection available within"), "\(error)")
            }
            // Not before the deadline: a lower bound holds however loaded the machine is.
            let waited = ContinuousClock.now - start
            #expect(waited >= .milliseconds(300), "waited \(waited)")
            #expect(db.poolStatistics.total == 1 && db.poolStatistics.idle == 0, "the connection was given back before the waiter failed")
            gate.open()
            try await holder.value
            // The connection is back in the pool and serves the next caller.
            #expect(try await db.withConnection { try await $0.first("SELECT 1 AS one")!.decode("one", as: Int.self) } == 1)
        }
    }

    /// A cluster of its own, stopped and started under the pool.
    ///
    /// "Fails fast" by its reason, not a duration: with an acquire deadline of a minute, the failure
    /// must be the server's refusal of the new connection, not the pool giving up at its deadline.
    @Test(.timeLimit(.minutes(5)))
    func failsFastWhilePostgresIsDownAndReconnectsAfterRestart() async throws {
        let cluster = try PrivateCluster()
        defer { cluster.destroy() }
        try cluster.start()
        let db = Database(
            configuration: .init(connectionString: try cluster.appURL, poolSize: 2, acquireTimeout: .seconds(60), connectTimeoutSeconds: 2),
            logger: TestDatabase.logger
        )
        #expect(try await db.withConnection { try await $0.first("SELECT 1 AS one")!.decode("one", as: Int.self) } == 1)

        try cluster.stop()
        do {
            _ = try await db.withConnection { try await $0.execute("SELECT 1") }
            Issue.record("query succeeded with PostgreSQL stopped")
        } catch let error as PostgresError {
            #expect(error.code == .unavailable, "\(error)")
            #expect(!error.message.contains("no database connection available within"), "waited out the pool's deadline: \(error)")
            #expect(error.message.lowercased().contains("connection refused"), "\(error)")
            let password = try cluster.appPassword
            #expect(!error.description.contains(password))
            #expect(!error.debugDescription.contains(password))
        }

        try cluster.start()
        #expect(try await db.withConnection { try await $0.first("SELECT 2 AS two")!.decode("two", as: Int.self) } == 2)
        db.shutdown()
    }
}

/// Polls `condition` until it holds, failing after `deadline`.
func waitUntil(deadline: Duration, _ condition: () async throws -> Bool) async throws {
    let end = ContinuousClock.now + deadline
    while ContinuousClock.now < end {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(25))
    }
    Issue.record("condition not met within \(deadline)")
}
