import BerthTestSupport
import Domain
import Foundation
import Persistence
import Testing

/// A cancelled request or a shutdown does not wait for libpq, and lock waits are bounded.
@Suite struct CancellationTests {
    /// A task cancelled while its statement runs has the statement cancelled on the server
    /// (`PQcancel`): it fails with `query_canceled` instead of waiting for the statement, the
    /// backend stops working on it, and the pooled connection serves the next caller.
    @Test func aCancelledTaskCancelsItsStatementOnTheServer() async throws {
        let testDB = try await TestDatabase.make()
        // No statement_timeout: only the cancel can end the sleep early (without it the sleep
        // succeeds after a minute and the test fails).
        let db = Database(configuration: .init(connectionString: testDB.appURL, poolSize: 1, statementTimeout: nil), logger: TestDatabase.logger)
        let observer = testDB.superuser()
        let sleeper = Task { try await db.withConnection { try await $0.execute("SELECT pg_sleep(60)") } }
        // Wait until the server runs it, so the cancel has a statement to stop.
        var running = false
        for _ in 0..<200 where !running {
            running = try await observer.withConnection { connection in
                try await connection.first("""
                    SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND query LIKE 'SELECT pg_sleep(60)%'
                    """)!.decode("n", as: Int.self) == 1
            }
            if !running { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(running, "the statement reached the server")
        sleeper.cancel()
        let outcome = await sleeper.result
        guard case .failure(let error as PostgresError) = outcome else { Issue.record("the statement was not cancelled: \(outcome)"); return }
        #expect(error.code == .queryCanceled, "\(error)")
        let left = try await observer.withConnection { connection in
            try await connection.first("""
                SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND query LIKE 'SELECT pg_sleep(60)%'
                """)!.decode("n", as: Int.self)
        }
        #expect(left == 0, "the backend no longer runs it")
        // The one connection of the pool is fine for the next caller.
        #expect(try await db.withConnection { try await $0.first("SELECT 7 AS seven")!.decode("seven", as: Int.self) } == 7)
        // A task cancelled before its statement starts does not run it at all.
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await db.withConnection { try await $0.execute("SELECT pg_sleep(60)") }
        }
        let earlyOutcome = await early.result
        guard case .failure(let earlyError as PostgresError) = earlyOutcome else { Issue.record("ran anyway: \(earlyOutcome)"); return }
        #expect(earlyError.code == .queryCanceled || earlyError.code == .unavailable, "\(earlyError)")
        observer.shutdown()
        db.shutdown()
        await testDB.drop()
    }

    /// Every connection has a bounded lock wait and a TCP user timeout, so a held lock or a partition
    /// cannot park a pool slot for minutes.
    @Test func lockWaitsAndUnansweredSendsAreBounded() async throws {
        let testDB = try await TestDatabase.make()
        let db = Database(configuration: .init(connectionString: testDB.appURL, poolSize: 2, lockTimeout: .milliseconds(300)), logger: TestDatabase.logger)
        let settings = try await db.withConnection { connection in
            (try await connection.first("SHOW lock_timeout")!.decode("lock_timeout", as: String.self),
             await connection.socketUserTimeout())
        }
        #expect(settings.0 == "300ms")
        #expect(settings.1 == 15_000, "the kernel bounds unacknowledged sends on the libpq socket")
        let tenant = try await db.withSystem { try await TenantStore().create(name: "locks", quota: .standard, in: $0).id }
        // One transaction holds the tenant row; another that wants it gives up with lock_not_available.
        let error = await #expect(throws: PostgresError.self) {
            try await db.withSystem { holder in
                _ = try await TenantStore().lock(tenant, in: holder)
                try await db.withSystem { waiter in _ = try await TenantStore().lock(tenant, in: waiter) }
            }
        }
        #expect(error?.code == .lockTimeout, "\(String(describing: error))")
        db.shutdown()
        await testDB.drop()
    }
}
