import BerthTestSupport
import Compute
import Domain
import Foundation
import Persistence
import Testing

/// Metering survives a crash of the service: what ran meanwhile is billed as Docker saw it, with no
/// second counted twice. A real `berth serve`, `kill -9`ed, a real engine, real PostgreSQL.
@Suite struct MeteringCrashProcessTests {
    struct Interval: Equatable {
        let startedAt: Date
        let endedAt: Date?
        let checkedAt: Date?
    }

    static func intervals(_ workspace: WorkspaceID, _ db: Database) async throws -> [Interval] {
        try await db.withSystem { scope in
            try await scope.execute("""
                SELECT started_at, ended_at, checked_at FROM usage_intervals WHERE workspace_id = \(workspace) ORDER BY started_at
                """).map { Interval(startedAt: try $0.decode("started_at"), endedAt: try $0.decode("ended_at"), checkedAt: try $0.decode("checked_at")) }
        }
    }

    /// `kill -9` the service while four workspaces run; meanwhile one container is stopped and one is
    /// removed directly through Docker; the service comes back 3 s later. The stopped one is metered up
    /// to Docker's `FinishedAt`, the removed one up to its last checkpoint before the crash (Docker can
    /// no longer say), and the two others run on in the interval they had, continuous.
    @Test func aCrashLosesNoSecondAndCountsNoneTwice() async throws {
        let environment = ["BERTH_RECONCILE_INTERVAL": "1", "BERTH_WORKSPACE_LEASE": "5"]
        let testDB = try await TestDatabase.make()
        let first = try await ServedBerth.start(testDB: testDB, serverName: "meter-1", environment: environment)
        var second: ServedBerth?
        do {
            try await run(first, &second, testDB, environment)
        } catch {
            await second?.finish(dropDatabase: false)
            await first.finish()
            throw error
        }
        await second?.finish(dropDatabase: false)
        await first.finish()
    }

    func run(_ first: ServedBerth, _ second: inout ServedBerth?, _ testDB: TestDatabase, _ environment: [String: String]) async throws {
        let tenant = try await first.tenant("meter")
        var ids: [WorkspaceID] = []
        for name in ["stopped", "removed", "steady-a", "steady-b"] {
            let response = try await first.call(.post, "/v1/workspaces?wait=running", body: #"{"name":"\#(name)","image":"berth-busybox:latest","resources":{"cpu":0.1,"memory_mb":32,"disk_gb":0}}"#, bearer: tenant.key)
            #expect(response.status == 201, "\(response.text)")
            let id = try #require(try JSONSerialization.jsonObject(with: response.body) as? [String: Any])["id"] as? String
            ids.append(try #require(WorkspaceID(id ?? "")))
        }
        let containers = try await first.db.withSystem { scope in
            try await scope.execute("SELECT id, container_id FROM workspaces").reduce(into: [WorkspaceID: String]()) {
                $0[try $1.decode("id", as: WorkspaceID.self)] = try $1.decode("container_id", as: String.self)
            }
        }
        // Every interval has had a checkpoint before the crash.
        try await ServedBerth.waitFor(every: .milliseconds(100), "a checkpoint on every interval") {
            var all = true
            for id in ids where try await Self.intervals(id, first.db).first?.checkedAt == nil { all = false }
            return all
        }
        let before = try await withThrowingTaskGroup(of: (WorkspaceID, [Interval]).self) { group in
            for id in ids { group.addTask { (id, try await Self.intervals(id, first.db)) } }
            return try await group.reduce(into: [WorkspaceID: [Interval]]()) { $0[$1.0] = $1.1 }
        }
        first.crash()
        let crashedAt = Date()

        let daemon = try ServedBerth.hostPort("BERTH_TEST_DOCKER_PLAIN_2")
        let engine = DockerClient(endpoint: .http(host: daemon.host, port: daemon.port))
        let stoppedContainer = try #require(containers[ids[0]])
        try await engine.stopContainer(stoppedContainer, timeout: .seconds(1))
        let finishedAt = try #require(try await engine.inspectContainer(stoppedContainer).state.finishedAt)
        try await engine.removeContainer(try #require(containers[ids[1]]))
        try await Task.sleep(for: .seconds(3))

        second = try await ServedBerth.start(appURL: first.appURL, testDB: testDB, servers: [("meter-1", "BERTH_TEST_DOCKER_PLAIN_2")], environment: environment)
        let served = try #require(second)
        try await ServedBerth.waitFor(every: .milliseconds(100), "both dead containers noticed") {
            try await served.db.withSystem { scope in
                try await scope.first("SELECT count(*) AS n FROM workspaces WHERE status = 'error'")!.decode("n", as: Int.self)
            } == 2
        }
        // One more pass, so the steady ones have a checkpoint after the restart.
        let restartedAt = Date()
        try await ServedBerth.waitFor(every: .milliseconds(100), "a checkpoint after the restart") {
            var all = true
            for id in ids[2...] where (try await Self.intervals(id, served.db).first?.checkedAt ?? .distantPast) < restartedAt { all = false }
            return all
        }

        // The stopped one: metered up to Docker's FinishedAt (PostgreSQL keeps microseconds).
        let stopped = try await Self.intervals(ids[0], served.db)
        #expect(stopped.count == 1 && stopped[0].startedAt == before[ids[0]]?[0].startedAt)
        let stoppedEnd = try #require(stopped[0].endedAt)
        #expect(abs(stoppedEnd.timeIntervalSince(finishedAt)) < 0.001, "ended \(stoppedEnd), Docker says \(finishedAt)")
        #expect(stoppedEnd > crashedAt.addingTimeInterval(-1), "the time it ran while the service was down is billed")

        // The removed one: up to its last checkpoint, which lies before the crash and within one
        // reconciler pass (1 s here, plus the pass itself) of it.
        let removed = try await Self.intervals(ids[1], served.db)
        let removedEnd = try #require(removed.first?.endedAt)
        let lastCheckpoint = try #require(removed.first?.checkedAt)
        #expect(removed.count == 1 && removedEnd == lastCheckpoint)
        #expect(removedEnd <= crashedAt && removedEnd > crashedAt.addingTimeInterval(-5), "ended \(removedEnd), crashed \(crashedAt)")

        // The steady ones: the very interval they had, still open, through the crash.
        for id in ids[2...] {
            let now = try await Self.intervals(id, served.db)
            #expect(now.count == 1 && now[0].endedAt == nil && now[0].startedAt == before[id]?[0].startedAt, "\(now)")
        }
        let states = try await served.db.withSystem { scope in
            try await scope.execute("SELECT name, status, error_code FROM workspaces ORDER BY name").map {
                "\(try $0.decode("name", as: String.self)) \(try $0.decode("status", as: String.self)) \(try $0.decode("error_code", as: String?.self) ?? "-")"
            }
        }
        #expect(states == ["removed error container_gone", "steady-a running -", "steady-b running -", "stopped error container_exited"])
    }
}
