import API
import BerthTestSupport
import Compute
import Domain
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Persistence
import Secrets
import Testing

/// The tenant workspace routes on a real database and a real engine.
@Suite struct WorkspaceRoutesTests {
    struct Setup {
        let testDB: TestDatabase
        let db: Database
        let keyA: String
        let keyB: String
        let revoked: String
        /// The id of `keyA`'s row: what audit rows name as the actor.
        let keyAID: APIKeyID
    }

    /// Runs `body` on a fresh database with its fixtures; the database is dropped afterwards, whatever happens.
    static func withSetup<T>(_ body: (Setup) async throws -> T) async throws -> T {
        try await withTestDatabase(poolSize: 6) { testDB, db in
            let parts = try TestEnvironment.require("BERTH_TEST_DOCKER_PLAIN_1").split(separator: ":")
            let server = try await db.withSystem { scope in
                try await WorkspaceServerStore().upsert(.init(
                    name: "ws-api", connection: .init(host: String(parts[0]), dockerPort: Int(parts[1])!),
                    capacity: Capacity(cpuMillis: 2000, memoryMB: 2048, diskGB: 10, workspaces: 10)
                ), in: scope)
            }
            try await db.withSystem { try await $0.execute("UPDATE workspace_servers SET status = 'healthy' WHERE id = \(server.id)") }
            func key(_ tenant: String) async throws -> (String, APIKeyID) {
                let material = APIKeyMaterial.generate()
                let record = try await db.withSystem { scope in
                    var id = try await TenantStore().get(named: tenant, in: scope)?.id
                    if id == nil { id = try await TenantStore().create(name: tenant, quota: .standard, in: scope).id }
                    let tenantID = id!
                    return try await APIKeyStore().insert(tenantID: tenantID, name: "k", prefix: material.prefix, hash: material.hash, in: scope)
                }
                return (material.secret, record.id)
            }
            let (a, aID) = try await key("tenant-a")
            let (b, _) = try await key("tenant-b")
            let (revoked, revokedID) = try await key("tenant-a")
            try await db.withSystem { scope in
                let tenant = try await TenantStore().get(named: "tenant-a", in: scope)!.id
                _ = try await APIKeyStore().revoke(revokedID, tenantID: tenant, in: scope)
            }
            return try await body(Setup(testDB: testDB, db: db, keyA: a, keyB: b, revoked: revoked, keyAID: aID))
        }
    }

    static func app(_ setup: Setup) -> some ApplicationProtocol {
        let placement = PlacementService(database: setup.db, logger: TestDatabase.logger)
        let orchestrator = WorkspaceOrchestrator(database: setup.db, placement: placement, pool: DockerServerPool(), stopGrace: .seconds(1), logger: TestDatabase.logger)
        let migrator = Migrator(database: setup.db, directory: TestEnvironment.repositoryRoot.appendingPathComponent("sql"), logger: TestDatabase.logger)
        return buildApplication(services: AppServices(database: setup.db, migrator: migrator, orchestrator: orchestrator), configuration: .init(), logger: TestDatabase.logger)
    }

    static func body(_ json: String) -> ByteBuffer { ByteBuffer(string: json) }

    /// The engine the test server points at.
    static func engine() throws -> DockerEndpoint {
        let parts = try TestEnvironment.require("BERTH_TEST_DOCKER_PLAIN_1").split(separator: ":")
        return .http(host: String(parts[0]), port: Int(parts[1])!)
    }

    /// Deletes every live workspace of the key's tenant through the API.
    static func deleteAll(_ client: some TestClientProtocol, key: String) async throws {
        let page = try await client.execute(uri: "/v1/workspaces", method: .get, headers: headers(key)) { response in
            try JSONDecoder().decode(Page.self, from: Data(String(buffer: response.body).utf8))
        }
        for item in page.items {
            try await client.execute(uri: "/v1/workspaces/\(item.id)", method: .delete, headers: headers(key)) { #expect($0.status == .noContent) }
        }
    }
    static func headers(_ key: String?) -> HTTPFields {
        var fields = HTTPFields()
        if let key { fields[.authorization] = "Bearer \(key)" }
        fields[.contentType] = "application/json"
        return fields
    }
    static func workspace(_ name: String, cpu: Double = 0.25) -> String {
        #"{"name":"\#(name)","image":"berth-busybox:latest","resources":{"cpu":\#(cpu),"memory_mb":64,"disk_gb":1},"labels":{"team":"\#(name)"}}"#
    }

    struct View: Decodable { let id: String; let name: String; let status: String; let container_id: String? }
    struct Page: Decodable { let items: [View]; let next_cursor: String? }

    @Test func crossTenantMatrixAndLifecycle() async throws {
        try await Self.withSetup { setup in
            try await Self.app(setup).test(.router) { client in
                func create(_ key: String, _ name: String) async throws -> View {
                    try await client.execute(uri: "/v1/workspaces?wait=running", method: .post, headers: Self.headers(key), body: Self.body(Self.workspace(name))) { response in
                        #expect(response.status == .created, "\(String(buffer: response.body))")
                        return try JSONDecoder().decode(View.self, from: Data(String(buffer: response.body).utf8))
                    }
                }
                let mine = try await create(setup.keyA, "mine")
                let theirs = try await create(setup.keyB, "theirs")
                #expect(mine.status == "running" && theirs.status == "running")
                func status(of id: String, key: String) async throws -> HTTPResponse.Status {
                    try await client.execute(uri: "/v1/workspaces/\(id)", method: .get, headers: Self.headers(key)) { $0.status }
                }
                let random = UUID().uuidString.lowercased()
                // Everything a foreign request could change, read from the database and the engine
                // directly: B's row, its events and usage intervals, every audit row of every tenant,
                // the server's reservations, and B's container as Docker describes it (state, start
                // time, restarts, CPU and memory limits).
                struct Footprint: Equatable {
                    let row: String
                    let events: [String]
                    let intervals: [String]
                    let audit: [String]
                    let server: String
                    let container: ContainerDetails
                }
                let engine = DockerClient(endpoint: try Self.engine())
                let theirContainer = try #require(theirs.container_id)
                let id = try #require(WorkspaceID(theirs.id))
                func footprint() async throws -> Footprint {
                    let rows = try await setup.db.withSystem { scope in
                        func json(_ query: PostgresQuery) async throws -> [String] {
                            try await scope.execute(query).map { try $0.decode("j", as: String.self) }
                        }
                        return (
                            try await json("SELECT row_to_json(w)::text AS j FROM workspaces w WHERE id = \(id)"),
                            try await json("SELECT row_to_json(e)::text AS j FROM workspace_events e WHERE workspace_id = \(id) ORDER BY id"),
                            try await json("SELECT row_to_json(u)::text AS j FROM usage_intervals u WHERE workspace_id = \(id) ORDER BY id"),
                            try await json("SELECT row_to_json(a)::text AS j FROM audit_events a ORDER BY id"),
                            try await json("SELECT row_to_json(s)::text AS j FROM (SELECT name, current_cpu_used, current_memory_used_mb, current_disk_used_gb, current_workspaces FROM workspace_servers ORDER BY name) s")
                        )
                    }
                    return Footprint(row: rows.0.joined(), events: rows.1, intervals: rows.2, audit: rows.3, server: rows.4.joined(separator: ","),
                                     container: try await engine.inspectContainer(theirContainer))
                }
                let before = try await footprint()
                #expect(before.container.state.running && before.container.hostConfig.nanoCPUs == 250_000_000 && before.container.hostConfig.memory == 64 << 20)
                #expect(!before.intervals.isEmpty && !before.events.isEmpty && before.row.contains(#""status":"running""#))
                // Every endpoint with B's id and a random id: 404, and nothing at all changed.
                for (method, suffix) in [(HTTPRequest.Method.get, ""), (.post, "/stop"), (.post, "/start"), (.post, "/restart"), (.post, "/resize"), (.get, "/health"), (.post, "/activity"), (.delete, "")] {
                    for id in [theirs.id, random, "not-a-uuid"] {
                        let body = suffix == "/resize" ? Self.body(#"{"resources":{"cpu":0.5,"memory_mb":128}}"#) : nil
                        try await client.execute(uri: "/v1/workspaces/\(id)\(suffix)", method: method, headers: Self.headers(setup.keyA), body: body) { response in
                            #expect(response.status == .notFound, "\(method) \(suffix) on a foreign id")
                            #expect(String(buffer: response.body).contains("\"not_found\""))
                        }
                    }
                    let after = try await footprint()
                    #expect(after.row == before.row, "\(method) \(suffix) changed B's row: \(after.row)")
                    #expect(after.events == before.events, "\(method) \(suffix) wrote B's events: \(after.events)")
                    #expect(after.intervals == before.intervals, "\(method) \(suffix) changed B's usage: \(after.intervals)")
                    #expect(after.audit == before.audit, "\(method) \(suffix) wrote audit rows: \(after.audit.dropFirst(before.audit.count))")
                    #expect(after.server == before.server, "\(method) \(suffix) changed the reservations: \(after.server)")
                    #expect(after.container == before.container, "\(method) \(suffix) changed B's container: \(after.container)")
                    let theirsNow = try await client.execute(uri: "/v1/workspaces/\(theirs.id)", method: .get, headers: Self.headers(setup.keyB)) { response in
                        try JSONDecoder().decode(View.self, from: Data(String(buffer: response.body).utf8))
                    }
                    #expect(theirsNow.status == "running")
                }
                // Own id: every endpoint works.
                #expect(try await status(of: mine.id, key: setup.keyA) == .ok)
                for (suffix, expected) in [("/stop", "stopped"), ("/start", "running"), ("/restart", "running")] {
                    try await client.execute(uri: "/v1/workspaces/\(mine.id)\(suffix)", method: .post, headers: Self.headers(setup.keyA)) { response in
                        #expect(response.status == .ok, "\(suffix): \(String(buffer: response.body))")
                        #expect(String(buffer: response.body).contains("\"status\":\"\(expected)\""))
                    }
                }
                try await client.execute(uri: "/v1/workspaces/\(mine.id)/start", method: .post, headers: Self.headers(setup.keyA)) { response in
                    #expect(response.status == .conflict)
                    #expect(String(buffer: response.body).contains("invalid_state"))
                }
                // List never shows B's rows.
                try await client.execute(uri: "/v1/workspaces", method: .get, headers: Self.headers(setup.keyA)) { response in
                    let page = try JSONDecoder().decode(Page.self, from: Data(String(buffer: response.body).utf8))
                    #expect(page.items.map(\.id) == [mine.id])
                }
                // No room: 409 with the reasons per server.
                try await client.execute(uri: "/v1/workspaces?wait=running", method: .post, headers: Self.headers(setup.keyA), body: Self.body(Self.workspace("huge", cpu: 4))) { response in
                    #expect(response.status == .conflict)
                    let text = String(buffer: response.body)
                    #expect(text.contains("insufficient_capacity") && text.contains("ws-api"), "\(text)")
                }
                // Stopped, then the server fills up: starting again is 409 and the workspace stays stopped.
                try await client.execute(uri: "/v1/workspaces/\(mine.id)/stop", method: .post, headers: Self.headers(setup.keyA)) { #expect($0.status == .ok) }
                let filler = try await create(setup.keyA, "filler-\(Int.random(in: 0..<1000))")
                _ = filler
                let fill2 = #"{"name":"filler-big","image":"berth-busybox:latest","resources":{"cpu":1.5,"memory_mb":64,"disk_gb":1}}"#
                try await client.execute(uri: "/v1/workspaces?wait=running", method: .post, headers: Self.headers(setup.keyA), body: Self.body(fill2)) { #expect($0.status == .created) }
                try await client.execute(uri: "/v1/workspaces/\(mine.id)/start", method: .post, headers: Self.headers(setup.keyA)) { response in
                    #expect(response.status == .conflict)
                    #expect(String(buffer: response.body).contains("insufficient_capacity"))
                }
                try await client.execute(uri: "/v1/workspaces/\(mine.id)", method: .get, headers: Self.headers(setup.keyA)) { response in
                    #expect(String(buffer: response.body).contains("\"status\":\"stopped\""))
                }
                try await client.execute(uri: "/v1/workspaces", method: .get, headers: Self.headers(setup.keyA)) { response in
                    let page = try JSONDecoder().decode(Page.self, from: Data(String(buffer: response.body).utf8))
                    for item in page.items where item.id != mine.id {
                        try await client.execute(uri: "/v1/workspaces/\(item.id)", method: .delete, headers: Self.headers(setup.keyA)) { #expect($0.status == .noContent) }
                    }
                }
                // Delete own: 204, then gone.
                try await client.execute(uri: "/v1/workspaces/\(mine.id)", method: .delete, headers: Self.headers(setup.keyA)) { #expect($0.status == .noContent) }
                #expect(try await status(of: mine.id, key: setup.keyA) == .notFound)
                try await client.execute(uri: "/v1/workspaces/\(theirs.id)", method: .delete, headers: Self.headers(setup.keyB)) { #expect($0.status == .noContent) }
            }
        }
    }

    @Test func badInputGetsTheRightStatusAndNoKeyLeaks() async throws {
        try await Self.withSetup { setup in
            try await Self.app(setup).test(.router) { client in
                func check(_ body: String, _ expected: HTTPResponse.Status, _ code: String, key: String? = nil) async throws {
                    try await client.execute(uri: "/v1/workspaces?wait=running", method: .post, headers: Self.headers(key ?? setup.keyA), body: Self.body(body)) { response in
                        let text = String(buffer: response.body)
                        #expect(response.status == expected, "\(body.prefix(80)): \(text)")
                        #expect(text.contains("\"code\":\"\(code)\""), "\(text)")
                        #expect(!text.contains(setup.keyA) && !text.contains(setup.keyB))
                    }
                }
                try await check("{not json", .badRequest, "malformed_json")
                try await check("[]", .badRequest, "validation_failed")
                try await check(#"{"name":5,"image":"x","resources":{"cpu":1,"memory_mb":64}}"#, .badRequest, "validation_failed")
                try await check(#"{"name":"ok","image":"berth-busybox:latest","resources":{"cpu":"1","memory_mb":64}}"#, .badRequest, "validation_failed")
                try await check(#"{"name":"ok","image":"berth-busybox:latest","resources":{"cpu":1,"memory_mb":64},"colour":"red"}"#, .badRequest, "validation_failed")
                try await check(#"{"name":"x'; DROP TABLE workspaces; --","image":"berth-busybox:latest","resources":{"cpu":1,"memory_mb":64}}"#, .badRequest, "validation_failed")
                try await check(#"{"name":"ünïcødé-名前","image":"berth-busybox:latest","resources":{"cpu":1,"memory_mb":64}}"#, .badRequest, "validation_failed")
                try await check(#"{"name":"ok","image":"UPPER/Case","resources":{"cpu":1,"memory_mb":64}}"#, .badRequest, "validation_failed")
                try await check(#"{"name":"ok","image":"berth-busybox:latest","resources":{"cpu":1000,"memory_mb":64}}"#, .badRequest, "validation_failed")
                try await check(#"{"name":"ok","image":"berth-busybox:latest","resources":{"cpu":1,"memory_mb":64},"labels":{"Bad Key":"v"}}"#, .badRequest, "validation_failed")
                try await check(#"{"name":"ok","image":"berth-busybox:latest","resources":{"cpu":1,"memory_mb":64},"placement":{"strategy":"random"}}"#, .badRequest, "validation_failed")
                let huge = #"{"name":"ok","image":"berth-busybox:latest","resources":{"cpu":1,"memory_mb":64},"env":{"A":""# + String(repeating: "x", count: 1_100_000) + #""}}"#
                try await check(huge, .contentTooLarge, "payload_too_large")
                // Authentication failures.
                try await check(Self.workspace("a"), .unauthorized, "unauthorized", key: "garbage")
                try await check(Self.workspace("a"), .unauthorized, "unauthorized", key: setup.revoked)
                try await check(Self.workspace("a"), .unauthorized, "unauthorized", key: setup.keyA + "x")
                try await client.execute(uri: "/v1/workspaces", method: .get, headers: [:]) { response in
                    #expect(response.status == .unauthorized)
                    #expect(String(buffer: response.body).contains("\"unauthorized\""))
                }
            }
        }
    }

    @Test func idempotencyKeyReplaysRefusesMismatchAndExecutesOnce() async throws {
        try await Self.withSetup { setup in
            try await Self.app(setup).test(.router) { client in
                func post(_ key: String, _ body: String) async throws -> (HTTPResponse.Status, String) {
                    var headers = Self.headers(setup.keyA)
                    headers[HTTPField.Name("Idempotency-Key")!] = key
                    return try await client.execute(uri: "/v1/workspaces?wait=running", method: .post, headers: headers, body: Self.body(body)) { ($0.status, String(buffer: $0.body)) }
                }
                let first = try await post("key-1", Self.workspace("idem"))
                #expect(first.0 == .created)
                let again = try await post("key-1", Self.workspace("idem"))
                #expect(again.0 == .created && again.1 == first.1, "the replay differs")
                let other = try await post("key-1", Self.workspace("idem-other"))
                #expect(other.0 == .unprocessableContent && other.1.contains("idempotency_mismatch"))
                // A refusal is replayed too, status included.
                let refused = try await post("key-2", Self.workspace("huge", cpu: 4))
                #expect(refused.0 == .conflict)
                #expect(try await post("key-2", Self.workspace("huge", cpu: 4)) == refused)
                // Concurrent requests with one key execute once.
                let results = try await withThrowingTaskGroup(of: (HTTPResponse.Status, String).self) { group in
                    for _ in 0..<5 { group.addTask { try await post("key-3", Self.workspace("racer")) } }
                    return try await group.reduce(into: [(HTTPResponse.Status, String)]()) { $0.append($1) }
                }
                #expect(results.allSatisfy { $0.0 == .created && $0.1 == results[0].1 }, "\(results.map(\.0))")
                let count = try await setup.db.withSystem { try await $0.first("SELECT count(*) AS n FROM workspaces WHERE name = 'racer'")!.decode("n", as: Int.self) }
                #expect(count == 1)
                // After 24 hours the key is forgotten and the request runs again (here: a name conflict).
                try await setup.db.withSystem { try await $0.execute("UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = 'key-1'") }
                let expired = try await post("key-1", Self.workspace("idem"))
                #expect(expired.0 == .conflict && expired.1.contains("name_taken"), "\(expired.1)")
                try await client.execute(uri: "/v1/workspaces", method: .get, headers: Self.headers(setup.keyA)) { response in
                    let page = try JSONDecoder().decode(Page.self, from: Data(String(buffer: response.body).utf8))
                    for item in page.items {
                        try await client.execute(uri: "/v1/workspaces/\(item.id)", method: .delete, headers: Self.headers(setup.keyA)) { #expect($0.status == .noContent) }
                    }
                }
            }
        }
    }
}
