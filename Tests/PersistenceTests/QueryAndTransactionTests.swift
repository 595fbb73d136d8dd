import BerthTestSupport
import Domain
import Foundation
import Persistence
import Synchronization
import Testing

@Suite struct QueryTests {
    @Test func interpolationBindsEveryValue() {
        let name = "x'; DROP TABLE tenants; --"
        let limit = 5
        let query: PostgresQuery = "SELECT * FROM tenants WHERE name = \(name) LIMIT \(limit)"
        #expect(query.sql == "SELECT * FROM tenants WHERE name = $1 LIMIT $2")
        #expect(query.binds == [name, "5"])
        let optional: String? = nil
        let withNull: PostgresQuery = "SELECT \(optional)"
        #expect(withNull.binds == [nil])
        let fragment: PostgresQuery = "status = \(1)"
        let combined: PostgresQuery = "SELECT \(2) WHERE \(fragment: fragment) AND x = \(3)"
        #expect(combined.sql == "SELECT $1 WHERE status = $2 AND x = $3")
        #expect(combined.binds == ["2", "1", "3"])
    }

    /// A single read in its own implicit transaction: it sees committed rows as the system role, a
    /// failure reaches the caller, and the one pooled connection serves the next read and the next
    /// transaction (a failed statement left no aborted transaction behind).
    @Test func readOnceIsOneStatementInItsOwnTransaction() async throws {
        try await withTestDatabase(poolSize: 1) { _, db in
            let tenant = try await db.withSystem { try await TenantStore().create(name: "read-once", quota: .standard, in: $0).id }
            let rows = try await db.readOnce("SELECT name, current_user AS role FROM tenants WHERE id = \(tenant)")
            #expect(try rows.first?.decode("name", as: String.self) == "read-once")
            await #expect(throws: PostgresError.self) { try await db.readOnce("SELECT 1/0") }
            #expect(try await db.readOnce("SELECT 2 AS two").first?.decode("two", as: Int.self) == 2)
            let count = try await db.withSystem { try await $0.first("SELECT count(*) AS n FROM tenants")!.decode("n", as: Int.self) }
            #expect(count == 1)
        }
    }

    @Test func decodesEveryTypeBerthReads() async throws {
        try await withTestDatabase { _, db in
            let id = UUID()
            let when = Date(timeIntervalSince1970: 1_790_000_000.123456)
            let bytes: [UInt8] = [0, 1, 2, 255, 10, 0]
            struct Doc: Codable, Equatable { let region: String; let gpu: Bool }
            let row = try await db.withConnection { connection in
                try await connection.first("""
                    SELECT \(id)::uuid AS u, \("héllo ✓")::text AS t, 42::int4 AS i4, 9000000000::int8 AS i8,
                           \(Decimal(string: "3.250")!)::numeric(10,3) AS n, true AS b, \(when)::timestamptz AS ts,
                           '{"region":"eu","gpu":true}'::jsonb AS j, NULL::text AS missing, \(PostgresBytes(bytes))::bytea AS raw,
                           '2026-01-02 03:04:05+02'::timestamptz AS offset_ts
                    """)!
            }
            #expect(try row.decode("u", as: UUID.self) == id)
            #expect(try row.decode("t", as: String.self) == "héllo ✓")
            #expect(try row.decode("i4", as: Int.self) == 42)
            #expect(try row.decode("i8", as: Int64.self) == 9_000_000_000)
            #expect(try row.decode("n", as: Decimal.self) == Decimal(string: "3.25")!)
            #expect(try row.decode("n", as: Double.self) == 3.25)
            #expect(try row.decode("b", as: Bool.self))
            #expect(abs(try row.decode("ts", as: Date.self).timeIntervalSince(when)) < 0.000_002)
            #expect(try row.decode("j", as: PostgresJSON<Doc>.self).value == Doc(region: "eu", gpu: true))
            #expect(try row.decode("missing", as: String?.self) == nil)
            #expect(row.isNull("missing"))
            #expect(try row.decode("raw", as: PostgresBytes.self).bytes == bytes)
            #expect(try row.decode("offset_ts", as: Date.self) == Date(timeIntervalSince1970: 1_767_315_845))
            // NULL into a non-optional, and a type mismatch, are typed decoding errors.
            #expect(throws: PostgresError.self) { try row.decode("missing", as: String.self) }
            #expect(throws: PostgresError.self) { try row.decode("b", as: Int.self) }
            #expect(throws: PostgresError.self) { try row.decode("nope", as: Int.self) }
        }
    }

    @Test func hostileTextIsStoredAsData() async throws {
        try await withTestDatabase { _, db in
            let hostile = "'); DROP TABLE tenants; -- \u{0}".replacingOccurrences(of: "\u{0}", with: "ø")
            let stored = try await db.withConnection { connection in
                try await connection.first("SELECT \(hostile)::text AS v")!.decode("v", as: String.self)
            }
            #expect(stored == hostile)
            let tables = try await db.withConnection { try await $0.first("SELECT to_regclass('tenants') IS NOT NULL AS present")! }
            #expect(try tables.decode("present", as: Bool.self))
        }
    }
}

@Suite struct TransactionTests {
    @Test func overcommitIsRefusedByTheDatabaseAsACheckViolation() async throws {
        try await withTestDatabase { _, db in
            let server = ServerID.random()
            try await db.withSystem { scope in
                try await scope.execute("""
                    INSERT INTO workspace_servers (id, name, host, docker_port, total_cpu, total_memory_mb, total_disk_gb, max_workspaces, current_cpu_used)
                    VALUES (\(server), 'ws-small', '127.0.0.1', 2375, 4, 4096, 10, 5, 3.5)
                    """)
            }
            do {
                try await db.withSystem { scope in
                    try await scope.execute("UPDATE workspace_servers SET current_cpu_used = current_cpu_used + 1 WHERE id = \(server)")
                }
                Issue.record("the database accepted 4.5 of 4 CPUs")
            } catch let error as PostgresError {
                #expect(error.code == .checkViolation)
                #expect(error.constraint == "cpu_within_total")
                #expect(!error.isRetryable)
            }
            for (column, value) in [("current_memory_used_mb", "4097"), ("current_disk_used_gb", "11"), ("current_workspaces", "6"), ("current_cpu_used", "-1")] {
                await #expect(throws: PostgresError.self, "\(column) = \(value)") {
                    try await db.withSystem { scope in
                        try await scope.execute(PostgresQuery(unsafeSQL: "UPDATE workspace_servers SET \(column) = $1 WHERE id = $2", binds: [value, server.description]))
                    }
                }
            }
            let cpu = try await db.withSystem { try await $0.first("SELECT current_cpu_used FROM workspace_servers WHERE id = \(server)")!.decode("current_cpu_used", as: Double.self) }
            #expect(cpu == 3.5)
        }
    }

    @Test func uniqueViolationIsTyped() async throws {
        try await withTestDatabase { _, db in
            try await db.withSystem { try await $0.execute("INSERT INTO tenants (name) VALUES ('dup')") }
            do {
                try await db.withSystem { try await $0.execute("INSERT INTO tenants (name) VALUES ('dup')") }
                Issue.record("duplicate accepted")
            } catch let error as PostgresError {
                #expect(error.code == .uniqueViolation)
                #expect(error.sqlState == "23505")
                #expect(!error.description.contains("dup)"), "the conflicting value belongs in debugDescription only")
            }
        }
    }

    @Test func throwingRollsBackAndReturningCommits() async throws {
        try await withTestDatabase { _, db in
            struct Boom: Error {}
            await #expect(throws: Boom.self) {
                try await db.withSystem { scope in
                    try await scope.execute("INSERT INTO tenants (name) VALUES ('rolled-back')")
                    throw Boom()
                }
            }
            try await db.withSystem { try await $0.execute("INSERT INTO tenants (name) VALUES ('committed')") }
            let names = try await db.withSystem { try await $0.execute("SELECT name FROM tenants ORDER BY name").map { try $0.decode("name", as: String.self) } }
            #expect(names == ["committed"])
        }
    }

    @Test func serializationFailureIsTypedAndRetried() async throws {
        try await withTestDatabase(poolSize: 2) { _, db in
            try await db.withSystem { try await $0.execute("INSERT INTO placement_cursors (name, position) VALUES ('a', 0), ('b', 0)") }
            // Write skew between two serializable transactions: the second to commit must fail with 40001.
            let failure: PostgresError? = try await db.withConnection { first -> PostgresError? in
                try await db.withConnection { second -> PostgresError? in
                    try await first.executeScript("BEGIN ISOLATION LEVEL SERIALIZABLE")
                    try await second.executeScript("BEGIN ISOLATION LEVEL SERIALIZABLE")
                    _ = try await first.execute("SELECT sum(position) FROM placement_cursors")
                    _ = try await second.execute("SELECT sum(position) FROM placement_cursors")
                    try await first.execute("UPDATE placement_cursors SET position = position + 1 WHERE name = 'a'")
                    try await second.execute("UPDATE placement_cursors SET position = position + 1 WHERE name = 'b'")
                    try await first.executeScript("COMMIT")
                    do {
                        try await second.executeScript("COMMIT")
                        return nil
                    } catch let error as PostgresError {
                        return error
                    }
                }
            }
            #expect(failure?.code == .serializationFailure)
            #expect(failure?.isRetryable == true)

            // The retry helper runs the whole transaction again until it commits.
            let attempts = Counter()
            let value = try await db.retrying {
                try await db.withSystem { scope -> Int in
                    let n = attempts.increment()
                    if n < 3 { throw PostgresError(code: .deadlockDetected, message: "simulated", sqlState: "40P01") }
                    return try await scope.first("SELECT \(n)::int AS n")!.decode("n", as: Int.self)
                }
            }
            #expect(value == 3)
            // Non-retryable errors are not retried.
            let once = Counter()
            await #expect(throws: PostgresError.self) {
                try await db.retrying {
                    _ = once.increment()
                    throw PostgresError(code: .uniqueViolation, message: "no")
                }
            }
            #expect(once.value == 1)
        }
    }
}

/// A thread-safe counter for closures the tests hand out.
final class Counter: Sendable {
    private let state = Mutex(0)
    func increment() -> Int { state.withLock { $0 += 1; return $0 } }
    var value: Int { state.withLock { $0 } }
}
