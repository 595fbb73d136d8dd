import BerthTestSupport
import Compute
import Domain
import Foundation
import Persistence
import Testing

/// The scaling service in a real `berth serve`, through the HTTP API: idle stop with a short idle
/// period and heartbeats, and a drain of a server asked for and followed through the admin API.
@Suite struct ScalingProcessTests {
    static func json(_ response: CurlResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: response.body) as? [String: Any], "\(response.text)")
    }

    /// A tenant whose workspaces stop after 3 s without activity: the one whose client sends
    /// heartbeats runs on, the other is stopped, and both showed when they would stop.
    @Test func anIdleWorkspaceStopsAndAHeartbeatKeepsAnotherRunning() async throws {
        let served = try await ServedBerth.start(serverName: "idle-1", environment: ["BERTH_SCALING_INTERVAL": "0.5"])
        do {
            let tenant = try await served.tenant("idler")
            let patched = try await served.call(.patch, "/admin/tenants/\(tenant.id)", body: #"{"idle_stop_minutes":0.05}"#, bearer: served.adminToken)
            #expect(patched.status == 200 && patched.text.contains(#""idle_stop_minutes":0.05"#), "\(patched.text)")
            var ids: [String] = []
            for name in ["quiet", "chatty"] {
                let created = try await served.call(.post, "/v1/workspaces?wait=running", body: #"{"name":"\#(name)","image":"berth-busybox:latest","resources":{"cpu":0.1,"memory_mb":32,"disk_gb":0}}"#, bearer: tenant.key)
                #expect(created.status == 201, "\(created.text)")
                let body = try Self.json(created)
                #expect(body["idle_stop_minutes"] as? Double == 0.05 && body["idle_stop_at"] is String, "the deadline is shown: \(created.text)")
                ids.append(try #require(body["id"] as? String))
            }
            let (quiet, chatty) = (ids[0], ids[1])
            var chattyRunning = true
            try await ServedBerth.waitFor(every: .milliseconds(200), "the quiet one stopped") {
                let beat = try await served.call(.post, "/v1/workspaces/\(chatty)/activity", bearer: tenant.key)
                #expect(beat.status == 200 || beat.status == 204, "\(beat.text)")
                chattyRunning = try Self.json(try await served.call(.get, "/v1/workspaces/\(chatty)", bearer: tenant.key))["status"] as? String == "running"
                return try Self.json(try await served.call(.get, "/v1/workspaces/\(quiet)", bearer: tenant.key))["status"] as? String == "stopped"
            }
            #expect(chattyRunning, "the one with heartbeats kept running")
            let stopped = try Self.json(try await served.call(.get, "/v1/workspaces/\(quiet)", bearer: tenant.key))
            #expect(stopped["idle_stop_at"] == nil, "a stopped workspace has no idle deadline")
            let reason = try await served.db.withSystem { scope in
                try await scope.first("SELECT reason FROM workspace_events WHERE workspace_id = \(WorkspaceID(quiet)!) AND to_status = 'stopping'")?.decode("reason", as: String.self)
            }
            #expect(reason == "stopped: idle for 0.05 minutes", "\(reason ?? "no event")")
            #expect(served.terminate() == 0)
        } catch {
            await served.finish()
            throw error
        }
        await served.finish()
    }

    /// `POST /admin/servers/{id}/drain` empties a server holding a running and a stopped workspace:
    /// both end on the other server in their state, the progress says so, and the tenant sees the
    /// new server.
    @Test func aDrainAskedThroughTheAdminAPIEmptiesTheServer() async throws {
        let testDB = try await TestDatabase.make()
        let served = try await ServedBerth.start(
            appURL: testDB.appURL, testDB: testDB, servers: [("drain-a", "BERTH_TEST_DOCKER_PLAIN_1"), ("drain-b", "BERTH_TEST_DOCKER_PLAIN_2")],
            environment: ["BERTH_SCALING_INTERVAL": "0.5"]
        )
        do {
            try await Convergence.waitForHealthy(served.db, servers: 2)
            let tenant = try await served.tenant("drained")
            var ids: [String] = []
            for name in ["up", "down"] {
                let created = try await served.call(.post, "/v1/workspaces?wait=running", body: #"{"name":"\#(name)","image":"berth-busybox:latest","resources":{"cpu":0.1,"memory_mb":32,"disk_gb":0},"placement":{"strategy":"affinity","preferred_server":"drain-a"}}"#, bearer: tenant.key)
                ids.append(try #require(try Self.json(created)["id"] as? String, "\(created.text)"))
            }
            #expect(try await served.call(.post, "/v1/workspaces/\(ids[1])/stop", bearer: tenant.key).status == 200)
            let serverA = try await served.db.withSystem { try await $0.first("SELECT id FROM workspace_servers WHERE name = 'drain-a'")!.decode("id", as: ServerID.self) }
            #expect(try await served.call(.get, "/admin/servers/\(serverA)/drain", bearer: served.adminToken).status == 409, "not draining yet")
            let bad = try await served.call(.post, "/admin/servers/\(serverA)/drain", body: #"{"deadline_seconds":0}"#, bearer: served.adminToken)
            #expect(bad.status == 400 && bad.text.contains("deadline_seconds"), "\(bad.text)")
            let started = try await served.call(.post, "/admin/servers/\(serverA)/drain", body: #"{"deadline_seconds":600}"#, bearer: served.adminToken)
            #expect(started.status == 200 && started.text.contains(#""state":"draining""#), "\(started.text)")
            var progress: [String: Any] = [:]
            try await ServedBerth.waitFor(every: .milliseconds(200), "the server drained") {
                progress = try Self.json(try await served.call(.get, "/admin/servers/\(serverA)/drain", bearer: served.adminToken))
                return progress["state"] as? String == "drained"
            }
            #expect(progress["moved"] as? Int == 2 && progress["remaining"] as? Int == 0, "\(progress)")
            for (id, status) in zip(ids, ["running", "stopped"]) {
                let view = try Self.json(try await served.call(.get, "/v1/workspaces/\(id)", bearer: tenant.key))
                #expect(view["status"] as? String == status && (view["server"] as? [String: Any])?["name"] as? String == "drain-b", "\(view)")
            }
            // The server can go now.
            #expect(try await served.call(.delete, "/admin/servers/\(serverA)", bearer: served.adminToken).status == 204)
            let (violations, _) = try await Convergence.wait(served.db, within: .seconds(60))
            #expect(violations.isEmpty, "\(violations)")
            #expect(served.terminate() == 0)
        } catch {
            await served.finish(daemon: "BERTH_TEST_DOCKER_PLAIN_1", dropDatabase: false)
            await served.finish()
            throw error
        }
        await served.finish(daemon: "BERTH_TEST_DOCKER_PLAIN_1", dropDatabase: false)
        await served.finish()
    }
}
