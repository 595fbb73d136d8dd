import API
import BerthTestSupport
import Billing
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

/// `GET /v1/usage` and `GET /v1/usage/export` on a real database, with intervals written at fixed times.
@Suite struct UsageRoutesTests {
    struct Setup {
        let testDB: TestDatabase
        let db: Database
        let fixture: UsageFixture
        let tenantA: TenantID
        let tenantB: TenantID
        let keyA: String
        let keyB: String
    }

    /// Runs `body` on a fresh database with its fixtures; the database is dropped afterwards, whatever happens.
    static func withSetup<T>(_ body: (Setup) async throws -> T) async throws -> T {
        try await withTestDatabase(poolSize: 6) { testDB, db in
            let fixture = UsageFixture(db: db)
            func tenantWithKey(_ name: String) async throws -> (TenantID, String) {
                let tenant = try await fixture.tenant(name)
                let material = APIKeyMaterial.generate()
                _ = try await db.withSystem { try await APIKeyStore().insert(tenantID: tenant, name: "k", prefix: material.prefix, hash: material.hash, in: $0) }
                return (tenant, material.secret)
            }
            let (a, keyA) = try await tenantWithKey("tenant-a")
            let (b, keyB) = try await tenantWithKey("tenant-b")
            return try await body(Setup(testDB: testDB, db: db, fixture: fixture, tenantA: a, tenantB: b, keyA: keyA, keyB: keyB))
        }
    }

    static func orchestrator(_ db: Database) -> WorkspaceOrchestrator {
        WorkspaceOrchestrator(
            database: db, placement: PlacementService(database: db, logger: TestDatabase.logger), pool: DockerServerPool(),
            stopGrace: .seconds(1), logger: TestDatabase.logger
        )
    }

    static func app(_ setup: Setup) -> some ApplicationProtocol {
        let migrator = Migrator(database: setup.db, directory: TestEnvironment.repositoryRoot.appendingPathComponent("sql"), logger: TestDatabase.logger)
        return buildApplication(
            services: AppServices(database: setup.db, migrator: migrator, orchestrator: orchestrator(setup.db)),
            configuration: .init(), logger: TestDatabase.logger
        )
    }

    static func headers(_ key: String?) -> HTTPFields {
        var fields = HTTPFields()
        if let key { fields[.authorization] = "Bearer \(key)" }
        return fields
    }

    /// Tenant A: a plan, two workspaces on one server, intervals clipped at both ends of March 2026.
    /// Tenant B: a bigger workspace running through the same month, with no plan.
    static func seed(_ setup: Setup) async throws -> (alpha: WorkspaceID, beta: WorkspaceID, foreign: WorkspaceID) {
        let fixture = setup.fixture
        try await fixture.plan("standard", cpuCoreHour: 10_000, memoryGBHour: 5_000, diskGBHour: 100, workspaceHour: 1_000, for: [setup.tenantA])
        let server = try await fixture.server("ws-eu-1")
        let alpha = try await fixture.workspace("alpha", tenant: setup.tenantA, server: server, cpu: "1.5", memoryMB: 2048, diskGB: 10)
        let beta = try await fixture.workspace("beta", tenant: setup.tenantA, server: server, cpu: "0.25", memoryMB: 100, diskGB: 0)
        try await fixture.interval(alpha, from: "2026-03-10T10:00:00Z", to: "2026-03-10T12:00:00Z")
        try await fixture.interval(alpha, from: "2026-02-28T23:00:00Z", to: "2026-03-01T01:00:00Z")
        try await fixture.interval(alpha, from: "2026-03-31T23:30:00Z", to: "2026-04-01T02:00:00Z")
        try await fixture.interval(beta, from: "2026-03-05T00:00:00Z", to: "2026-03-05T00:20:00Z")
        let foreign = try await fixture.workspace("foreign", tenant: setup.tenantB, server: server, cpu: "8", memoryMB: 8192, diskGB: 100)
        try await fixture.interval(foreign, from: "2026-03-10T00:00:00Z", to: "2026-03-20T00:00:00Z")
        return (alpha, beta, foreign)
    }

    struct Report: Decodable, Equatable {
        struct Period: Decodable, Equatable { let from: String; let to: String }
        struct Quantities: Decodable, Equatable {
            let seconds: Double
            let cpu_core_hours: Double
            let memory_gb_hours: Double
            let disk_gb_hours: Double
            let workspace_hours: Double
        }
        struct Cost: Decodable, Equatable { let micros: Int64; let amount: String }
        struct Plan: Decodable, Equatable { let name: String; let cpu_core_hour_micros: Int64 }
        struct Line: Decodable, Equatable { let id: String; let name: String; let usage: Quantities; let cost: Cost }
        let period: Period
        let measured_at: String
        let currency: String
        let price_plan: Plan?
        let totals: Quantities
        let cost: Cost
        let workspaces: [Line]
    }

    static func decode<T: Decodable>(_ type: T.Type, _ buffer: ByteBuffer) throws -> T {
        try JSONDecoder().decode(type, from: Data(String(buffer: buffer).utf8))
    }

    static let march = "from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z"

    @Test func reportHasExactTotalsAndCostsAndOnlyTheCallersWorkspaces() async throws {
        try await Self.withSetup { setup in
            let (alpha, beta, foreign) = try await Self.seed(setup)
            try await Self.app(setup).test(.router) { client in
                try await client.execute(uri: "/v1/usage?\(Self.march)", method: .get, headers: Self.headers(setup.keyA)) { response in
                    #expect(response.status == .ok, "\(String(buffer: response.body))")
                    #expect(response.headers[.contentType] == "application/json")
                    let report = try Self.decode(Report.self, response.body)
                    #expect(report.period == .init(from: "2026-03-01T00:00:00Z", to: "2026-04-01T00:00:00Z"))
                    #expect(report.currency == "EUR")
                    #expect(report.price_plan == .init(name: "standard", cpu_core_hour_micros: 10_000))
                    // alpha: 1 h + 2 h + 30 min at 1.5 CPU, 2 GiB, 10 GB; beta: 20 min at 0.25 CPU, 100 MB.
                    #expect(report.workspaces == [
                        .init(id: alpha.description, name: "alpha",
                              usage: .init(seconds: 12_600, cpu_core_hours: 5.25, memory_gb_hours: 7, disk_gb_hours: 35, workspace_hours: 3.5),
                              cost: .init(micros: 94_500, amount: "0.094500")),
                        .init(id: beta.description, name: "beta",
                              usage: .init(seconds: 1_200, cpu_core_hours: 0.083333, memory_gb_hours: 0.032552, disk_gb_hours: 0, workspace_hours: 0.333333),
                              cost: .init(micros: 1_329, amount: "0.001329")),
                    ])
                    #expect(report.totals == .init(seconds: 13_800, cpu_core_hours: 5.333333, memory_gb_hours: 7.032552, disk_gb_hours: 35, workspace_hours: 3.833333))
                    #expect(report.cost == .init(micros: 95_829, amount: "0.095829"))
                    #expect(!String(buffer: response.body).contains(foreign.description))
                }
                // B sees only its own workspace, unpriced; an offset in the query is understood.
                let uri = "/v1/usage?from=2026-03-01T01:00:00%2B01:00&to=2026-03-31T20:00:00-04:00"
                try await client.execute(uri: uri, method: .get, headers: Self.headers(setup.keyB)) { response in
                    #expect(response.status == .ok, "\(String(buffer: response.body))")
                    let report = try Self.decode(Report.self, response.body)
                    #expect(report.period == .init(from: "2026-03-01T00:00:00Z", to: "2026-04-01T00:00:00Z"))
                    #expect(report.price_plan == nil && report.currency == "EUR" && report.cost == .init(micros: 0, amount: "0.000000"))
                    #expect(report.workspaces.map(\.id) == [foreign.description])
                    #expect(report.totals.seconds == 864_000 && report.totals.cpu_core_hours == 1_920 && report.totals.memory_gb_hours == 1_920)
                    #expect(String(buffer: response.body).contains("\"price_plan\":null"))
                }
            }
        }
    }

    @Test func exportIsCSVOrJSONWithTheCallersRowsOnly() async throws {
        try await Self.withSetup { setup in
            let (alpha, beta, foreign) = try await Self.seed(setup)
            try await Self.app(setup).test(.router) { client in
                try await client.execute(uri: "/v1/usage/export?\(Self.march)&format=csv", method: .get, headers: Self.headers(setup.keyA)) { response in
                    #expect(response.status == .ok, "\(String(buffer: response.body))")
                    #expect(response.headers[.contentType] == "text/csv; charset=utf-8")
                    #expect(response.headers[.contentDisposition] == "attachment; filename=\"berth-usage-20260301T000000Z-20260401T000000Z.csv\"")
                    let a = setup.tenantA.description
                    let expected = [
                        "tenant_id,workspace_id,workspace_name,server_name,started_at,ended_at,seconds,cpu,memory_mb,disk_gb,currency,cost_micros",
                        "\(a),\(alpha),alpha,ws-eu-1,2026-03-01T00:00:00Z,2026-03-01T01:00:00Z,3600,1.5,2048,10,EUR,27000",
                        "\(a),\(beta),beta,ws-eu-1,2026-03-05T00:00:00Z,2026-03-05T00:20:00Z,1200,0.25,100,0,EUR,1329",
                        "\(a),\(alpha),alpha,ws-eu-1,2026-03-10T10:00:00Z,2026-03-10T12:00:00Z,7200,1.5,2048,10,EUR,54000",
                        "\(a),\(alpha),alpha,ws-eu-1,2026-03-31T23:30:00Z,2026-04-01T00:00:00Z,1800,1.5,2048,10,EUR,13500",
                    ].map { $0 + "\r\n" }.joined()
                    #expect(String(buffer: response.body) == expected)
                    #expect(!String(buffer: response.body).contains(setup.tenantB.description))
                }
                struct Export: Decodable {
                    struct Row: Decodable { let tenant_id: String; let workspace_id: String; let server_name: String?; let seconds: Double; let cost_micros: Int64 }
                    let period: Report.Period
                    let rows: [Row]
                }
                // JSON is the default format.
                for uri in ["/v1/usage/export?\(Self.march)", "/v1/usage/export?\(Self.march)&format=json"] {
                    try await client.execute(uri: uri, method: .get, headers: Self.headers(setup.keyA)) { response in
                        #expect(response.status == .ok, "\(String(buffer: response.body))")
                        #expect(response.headers[.contentType] == "application/json")
                        #expect(response.headers[.contentDisposition]?.hasSuffix(".json\"") == true)
                        let export = try Self.decode(Export.self, response.body)
                        #expect(export.period == .init(from: "2026-03-01T00:00:00Z", to: "2026-04-01T00:00:00Z"))
                        #expect(export.rows.map(\.seconds) == [3600, 1200, 7200, 1800])
                        #expect(export.rows.map(\.cost_micros).reduce(0, +) == 95_829)
                        #expect(export.rows.allSatisfy { $0.tenant_id == setup.tenantA.description && $0.server_name == "ws-eu-1" })
                        #expect(!export.rows.contains { $0.workspace_id == foreign.description })
                    }
                }
                try await client.execute(uri: "/v1/usage/export?\(Self.march)", method: .get, headers: Self.headers(setup.keyB)) { response in
                    let export = try Self.decode(Export.self, response.body)
                    #expect(export.rows.map(\.workspace_id) == [foreign.description])
                }
                // A period with nothing in it: a header and no rows.
                try await client.execute(uri: "/v1/usage/export?from=2025-01-01T00:00:00Z&to=2025-02-01T00:00:00Z&format=csv", method: .get, headers: Self.headers(setup.keyA)) { response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body).components(separatedBy: "\r\n") == [
                        "tenant_id,workspace_id,workspace_name,server_name,started_at,ended_at,seconds,cpu,memory_mb,disk_gb,currency,cost_micros", "",
                    ])
                }
            }
        }
    }

    @Test func theDefaultPeriodIsTheMonthSoFarAndCountsRunningWorkspaces() async throws {
        try await Self.withSetup { setup in
            let running = try await setup.fixture.workspace("running", tenant: setup.tenantA, server: nil, cpu: "2", memoryMB: 1024, diskGB: 0)
            // Started a second ago, so it is inside the current month whatever the date.
            let startedAt = try await setup.fixture.openInterval(running, secondsAgo: 1)
            try await Self.app(setup).test(.router) { client in
                try await client.execute(uri: "/v1/usage", method: .get, headers: Self.headers(setup.keyA)) { response in
                    #expect(response.status == .ok, "\(String(buffer: response.body))")
                    let report = try Self.decode(Report.self, response.body)
                    let from = try #require(RFC3339.parse(report.period.from))
                    let to = try #require(RFC3339.parse(report.period.to))
                    #expect(UsagePeriod.monthToDate(endingAt: to).from == from)
                    #expect(abs(to.timeIntervalSinceNow) < 60)
                    let measuredAt = try #require(RFC3339.parse(report.measured_at))
                    #expect(report.workspaces.map(\.name) == ["running"])
                    // Counted up to the database's now or the period's end (the service's now), whichever is first.
                    #expect(abs(report.totals.seconds - min(measuredAt, to).timeIntervalSince(startedAt)) < 0.000_01)
                    #expect(report.totals.seconds > 0.5)
                }
            }
        }
    }

    @Test func badParametersAre400WithTheFieldAndNoKeyIsA401() async throws {
        try await Self.withSetup { setup in
            try await Self.app(setup).test(.router) { client in
                let cases: [(String, String)] = [
                    ("/v1/usage?from=yesterday", "from"),
                    ("/v1/usage?from=", "from"),
                    ("/v1/usage?from=2026-03-01", "from"),
                    ("/v1/usage?to=2026-13-01T00:00:00Z", "to"),
                    ("/v1/usage?to=2026-02-29T00:00:00Z", "to"),
                    ("/v1/usage?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z", "to"),
                    ("/v1/usage?from=2026-03-01T00:00:00Z&to=2026-03-01T00:00:00Z", "to"),
                    ("/v1/usage?from=2024-01-01T00:00:00Z&to=2025-01-01T00:00:00.000001Z", "to"),
                    ("/v1/usage?from=2000-01-01T00:00:00Z", "from"),
                    ("/v1/usage?from=9999-01-01T00:00:00Z", "from"),
                    ("/v1/usage?from=0000-01-01T00:00:00Z&to=0001-01-01T00:00:00Z", "from"),
                    ("/v1/usage/export", "from"),
                    ("/v1/usage/export?to=2026-04-01T00:00:00Z", "from"),
                    ("/v1/usage/export?from=2026-03-01T00:00:00Z", "to"),
                    ("/v1/usage/export?\(Self.march)&format=xml", "format"),
                    ("/v1/usage/export?\(Self.march)&format=CSV", "format"),
                    ("/v1/usage/export?\(Self.march)&format=", "format"),
                    ("/v1/usage/export?from=2026-03-01T00:00:00Z&to=2027-03-02T00:00:01Z&format=csv", "to"),
                    ("/v1/usage/export?from=2026-03-01T00:00:00Z%27;DROP%20TABLE%20usage_intervals;--&to=2026-04-01T00:00:00Z", "from"),
                ]
                for (uri, field) in cases {
                    try await client.execute(uri: uri, method: .get, headers: Self.headers(setup.keyA)) { response in
                        #expect(response.status == .badRequest, "\(uri): \(String(buffer: response.body))")
                        #expect(response.headers[.contentType] == "application/json")
                        let body = try Self.decode(ErrorBody.self, response.body)
                        #expect(body.error.code == "validation_failed", "\(uri)")
                        #expect(body.error.details["field"] == .string(field), "\(uri): \(body.error.message)")
                    }
                }
                // The longest period allowed: 366 days (2024 is a leap year).
                try await client.execute(uri: "/v1/usage?from=2024-01-01T00:00:00Z&to=2025-01-01T00:00:00Z", method: .get, headers: Self.headers(setup.keyA)) { response in
                    #expect(response.status == .ok, "\(String(buffer: response.body))")
                }
                // Only `to`: from the start of its month.
                try await client.execute(uri: "/v1/usage?to=2026-03-15T12:00:00Z", method: .get, headers: Self.headers(setup.keyA)) { response in
                    let report = try Self.decode(Report.self, response.body)
                    #expect(report.period == .init(from: "2026-03-01T00:00:00Z", to: "2026-03-15T12:00:00Z"))
                }
                for uri in ["/v1/usage", "/v1/usage/export?\(Self.march)"] {
                    for key in [nil, "berth_0123456789abcdef_nope"] {
                        try await client.execute(uri: uri, method: .get, headers: Self.headers(key)) { response in
                            #expect(response.status == .unauthorized)
                            let body = try Self.decode(ErrorBody.self, response.body)
                            #expect(body.error.code == "unauthorized")
                        }
                    }
                }
            }
        }
    }

    /// The write side end to end: a real create and stop through the orchestrator leave one closed
    /// interval with the workspace's resources, and the report shows it.
    @Test func aRealLifecycleLeavesOneClosedIntervalThatTheReportShows() async throws {
        try await Self.withSetup { setup in
            let parts = try TestEnvironment.require("BERTH_TEST_DOCKER_PLAIN_1").split(separator: ":")
            let server = try await setup.db.withSystem { scope in
                try await WorkspaceServerStore().upsert(.init(
                    name: "ws-usage", connection: .init(host: String(parts[0]), dockerPort: Int(parts[1])!),
                    capacity: Capacity(cpuMillis: 2000, memoryMB: 1024, diskGB: 10, workspaces: 5)
                ), in: scope)
            }
            try await setup.db.withSystem { try await $0.execute("UPDATE workspace_servers SET status = 'healthy' WHERE id = \(server.id)") }
            let orchestrator = Self.orchestrator(setup.db)
            let resources = Resources(cpuMillis: 750, memoryMB: 96, diskGB: 2)
            let draft = WorkspaceDraft(
                tenantID: setup.tenantA, name: "metered", image: "berth-busybox:latest", resources: resources,
                placement: PlacementRequest(resources: resources)
            )
            let before = Date()
            #expect(try await orchestrator.create(draft).status == .running)
            try await orchestrator.stop(draft.id)
            let rows = try await setup.db.withSystem { scope in
                try await scope.execute("""
                    SELECT tenant_id, server_id, (cpu * 1000)::bigint AS cpu_millis, memory_mb, disk_gb, started_at, ended_at
                    FROM usage_intervals WHERE workspace_id = \(draft.id)
                    """)
            }
            #expect(rows.count == 1)
            let row = try #require(rows.first)
            #expect(try row.decode("tenant_id", as: TenantID.self) == setup.tenantA)
            #expect(try row.decode("server_id", as: ServerID?.self) == server.id)
            #expect(try row.decode("cpu_millis", as: Int.self) == 750)
            #expect(try row.decode("memory_mb", as: Int.self) == 96)
            #expect(try row.decode("disk_gb", as: Int.self) == 2)
            let startedAt = try row.decode("started_at", as: Date.self)
            let endedAt = try #require(try row.decode("ended_at", as: Date?.self))
            #expect(startedAt <= endedAt)

            let from = RFC3339.format(before.addingTimeInterval(-60))
            let to = RFC3339.format(Date().addingTimeInterval(60))
            try await Self.app(setup).test(.router) { client in
                try await client.execute(uri: "/v1/usage?from=\(from)&to=\(to)", method: .get, headers: Self.headers(setup.keyA)) { response in
                    #expect(response.status == .ok, "\(String(buffer: response.body))")
                    let report = try Self.decode(Report.self, response.body)
                    #expect(report.workspaces.map(\.id) == [draft.id.description])
                    #expect(abs(report.totals.seconds - endedAt.timeIntervalSince(startedAt)) < 0.000_01)
                }
                try await client.execute(uri: "/v1/usage?from=\(from)&to=\(to)", method: .get, headers: Self.headers(setup.keyB)) { response in
                    let report = try Self.decode(Report.self, response.body)
                    #expect(report.workspaces.isEmpty)
                }
            }
            try await orchestrator.delete(draft.id)
        }
    }
}
