import BerthTestSupport
import Compute
import Domain
import Foundation
import Persistence
import Secrets
import Testing

/// Repositories through the whole service: a real `berth serve`, the fleet's authenticated git
/// server, and `berth secrets rotate` between two runs of it.
@Suite struct GitProcessTests {
    static func key() -> String { Data(SecureRandom.bytes(32)).base64EncodedString() }

    /// A create answers once its workspace runs, whatever its clone does: here the repository's
    /// server never answers, and the create (even with `?wait=running`) answers while the clone waits.
    @Test func aCreateDoesNotWaitForItsClone() async throws {
        let service = try #require(URL(string: try TestEnvironment.require("BERTH_TEST_GIT_URL"))?.host)
        let silent = try Listener(host: service)
        let testDB = try await TestDatabase.make()
        let served = try await ServedBerth.start(
            appURL: testDB.appURL, testDB: testDB, servers: [(name: "git-wait", daemon: "BERTH_TEST_DOCKER_PLAIN_1")], networkMode: "isolated",
            environment: ["BERTH_GIT_ALLOW_INSECURE": "true", "BERTH_GIT_CLONE_TIMEOUT": "120"]
        )
        do {
            let tenant = try await served.tenant("waits")
            let body = #"{"name":"slow-clone","image":"berth-workspace:latest","resources":{"cpu":0.5,"memory_mb":128},"repository":{"url":"git://\#(service):\#(silent.port)/never.git"}}"#
            let started = ContinuousClock.now
            let created = try await served.call(.post, "/v1/workspaces?wait=running", body: body, bearer: tenant.key)
            let took = ContinuousClock.now - started
            #expect(created.status == 201 && created.text.contains(#""status":"running""#), "\(created.text)")
            #expect(created.text.contains(#""status":"pending""#) || created.text.contains(#""status":"cloning""#), "the clone is still under way: \(created.text)")
            #expect(took < .seconds(100), "the answer did not wait out the clone's 120 s")
            let noWait = try await served.call(.post, "/v1/workspaces", body: body.replacingOccurrences(of: "slow-clone", with: "slow-clone-2"), bearer: tenant.key)
            #expect(noWait.status == 202, "\(noWait.text)")
            #expect(served.terminate() == 0)
        } catch {
            await served.finish(daemon: "BERTH_TEST_DOCKER_PLAIN_1")
            throw error
        }
        await served.finish(daemon: "BERTH_TEST_DOCKER_PLAIN_1")
    }

    @Test func aTokenClonesSurvivesARotationAndLeaksNowhere() async throws {
        let url = try TestEnvironment.require("BERTH_TEST_GIT_HTTP_URL")
        let user = try TestEnvironment.require("BERTH_TEST_GIT_HTTP_USER")
        let token = try TestEnvironment.require("BERTH_TEST_GIT_HTTP_TOKEN")
        let first = Self.key(), second = Self.key()
        let testDB = try await TestDatabase.make()
        let servers = [(name: "git-1", daemon: "BERTH_TEST_DOCKER_PLAIN_1")]
        let settings = ["BERTH_GIT_ALLOW_INSECURE": "true", "BERTH_LOG_LEVEL": "trace", "BERTH_STOP_GRACE": "1"]
        var served = try await ServedBerth.start(
            appURL: testDB.appURL, testDB: testDB, servers: servers, networkMode: "isolated",
            environment: settings.merging(["BERTH_SECRET_KEY": first]) { $1 }
        )
        let tenant = try await served.tenant("git")
        var answers: [String] = []
        let body = #"{"name":"private","image":"berth-workspace:latest","resources":{"cpu":0.5,"memory_mb":128},"repository":{"url":"\#(url)","username":"\#(user)","token":"\#(token)"}}"#
        let created = try await served.call(.post, "/v1/workspaces?wait=ready&timeout=60", body: body, bearer: tenant.key)
        answers.append(created.text)
        #expect(created.status == 201, "\(created.text)")
        #expect(created.text.contains(#""status":"ready""#), "\(created.text)")
        struct View: Decodable { let id: String; let container_id: String? }
        let view = try JSONDecoder().decode(View.self, from: created.body)
        for path in ["/v1/workspaces/\(view.id)", "/v1/workspaces"] { answers.append(try await served.call(.get, path, bearer: tenant.key).text) }
        answers.append(try await served.call(.get, "/admin/workspaces", bearer: served.adminToken).text)
        // The admin panel's workspace page shows the repository and its clone, not the token.
        let login = try await CurlEngine.shared.perform(CurlRequest(
            method: .post, url: "http://127.0.0.1:\(served.port)/admin/ui/login",
            headers: [(name: "Content-Type", value: "application/x-www-form-urlencoded")], body: Data("token=\(served.adminToken)".utf8), timeout: .seconds(30)
        ))
        let cookie = try #require(login.headers.first { $0.name.lowercased() == "set-cookie" }?.value.split(separator: ";").first.map(String.init))
        let page = try await CurlEngine.shared.perform(CurlRequest(
            method: .get, url: "http://127.0.0.1:\(served.port)/admin/ui/workspaces", headers: [(name: "Cookie", value: cookie)], timeout: .seconds(30)
        ))
        let html = String(decoding: page.body, as: UTF8.self)
        #expect(page.status == 200 && html.contains(url) && html.contains("git ready"), "\(html.prefix(2000))")
        answers.append(html)
        // A repository that carries credentials in its URL is refused, without repeating them.
        let embedded = try await served.call(.post, "/v1/workspaces", body: body.replacingOccurrences(of: "http://", with: "http://\(user):\(token)@"), bearer: tenant.key)
        #expect(embedded.status == 400 && embedded.text.contains("credentials"), "\(embedded.text)")
        answers.append(embedded.text)
        #expect(served.terminate() == 0)
        let firstLog = (try? String(contentsOfFile: served.logPath, encoding: .utf8)) ?? ""

        // Rotate: the token is sealed again under the second key; the first is kept only to open it.
        let rotated = try TestEnvironment.run([try ServedBerth.binary, "secrets", "rotate"], environment: [
            "BERTH_DATABASE_URL": testDB.appURL, "BERTH_SECRET_KEY": second, "BERTH_SECRET_KEYS_PREVIOUS": first,
        ])
        #expect(rotated.contains(#""resealed":1"#) || rotated.contains(#""resealed" : 1"#), "\(rotated)")
        let keyID = try await served.db.withSystem { try await $0.first("SELECT repository_token_key_id FROM workspaces")!.decode("repository_token_key_id", as: String.self) }
        #expect(keyID == (try SecretBox(base64Key: second)).keyID)

        // The service now knows only the second key; the clone runs again and still gets in.
        served = try await ServedBerth.start(
            appURL: testDB.appURL, testDB: testDB, servers: servers, networkMode: "isolated",
            environment: settings.merging(["BERTH_SECRET_KEY": second]) { $1 }
        )
        let engine = try ServedBerth.hostPort("BERTH_TEST_DOCKER_PLAIN_1")
        let client = DockerClient(endpoint: .http(host: engine.host, port: engine.port))
        _ = try await client.exec(try #require(view.container_id), command: ["rm", "-rf", "/workspace/private"])
        try await served.db.withSystem { try await $0.execute("UPDATE workspaces SET git_status = 'failed', git_error = 'made to fail by the test'") }
        let retried = try await served.call(.post, "/v1/workspaces/\(view.id)/git/retry", bearer: tenant.key)
        #expect(retried.status == 202, "\(retried.text)")
        answers.append(retried.text)
        var status = ""
        for _ in 0..<300 where status != "ready" && status != "failed" {
            try await Task.sleep(for: .milliseconds(100))
            status = try await served.db.withSystem { try await $0.first("SELECT git_status FROM workspaces")!.decode("git_status", as: String.self) }
        }
        #expect(status == "ready")
        let files = try await client.exec(try #require(view.container_id), command: ["cat", "/workspace/private/src/nested/hello.txt"])
        #expect(files.stdoutText.contains("hello from private"))
        answers.append(try await served.call(.get, "/v1/workspaces/\(view.id)", bearer: tenant.key).text)
        #expect(served.terminate() == 0)
        let secondLog = (try? String(contentsOfFile: served.logPath, encoding: .utf8)) ?? ""
        #expect(!firstLog.isEmpty && !secondLog.isEmpty)
        // Every row the service wrote: workspaces, their events and the audit trail.
        let rows = try await served.db.withSystem { scope in
            var rows: [String] = []
            for table in ["workspaces", "workspace_events", "audit_events", "idempotency_keys"] {
                rows += try await scope.execute(PostgresQuery(unsafeSQL: "SELECT row_to_json(t)::text AS everything FROM \(table) t"))
                    .map { "\(table): " + (try $0.decode("everything", as: String.self)) }
            }
            return rows
        }
        #expect(rows.contains { $0.hasPrefix("audit_events: ") && $0.contains("workspace.create") }, "the audit trail was searched, and has the create")
        for (place, text) in [("the first log", firstLog), ("the second log", secondLog), ("the rotation's output", rotated)] + answers.map({ ("an answer", $0) })
            + rows.map({ ("a database row", $0) }) {
            #expect(!text.contains(token), "the token is in \(place)")
            #expect(!text.contains(Data("\(user):\(token)".utf8).base64EncodedString()), "the basic credential is in \(place)")
        }
        await served.finish()
    }
}
