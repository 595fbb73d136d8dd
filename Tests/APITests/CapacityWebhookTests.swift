import BerthTestSupport
import Compute
import Domain
import Foundation
import Hummingbird
import Persistence
import Testing

/// The capacity signals' webhook against a real HTTP server: told of a scale-out when placements
/// cross the headroom, tried again with backoff while the server is down, and never in the way of
/// a placement.
@Suite struct CapacityWebhookTests {
    /// The bodies the receiver got, as they came.
    actor Received {
        var bodies: [Data] = []
        func add(_ body: Data) { bodies.append(body) }
    }

    @Test func aScaleOutIsToldAndADownTargetIsRetriedWithoutBlockingPlacement() async throws {
        try await withTestDatabase { _, db in
            let server = try await db.withSystem { scope in
                try await WorkspaceServerStore().upsert(.init(
                    name: "ws-signal", connection: .init(host: "127.0.0.1", dockerPort: 1), capacity: Capacity(cpuMillis: 2000, memoryMB: 4096, diskGB: 100, workspaces: 10)
                ), in: scope)
            }
            try await db.withSystem { try await $0.execute("UPDATE workspace_servers SET status = 'healthy' WHERE id = \(server.id)") }
            let tenant = try await db.withSystem { try await TenantStore().create(name: "signals", quota: .standard, in: $0).id }
            let port = try TestEnvironment.freePort()
            let placement = PlacementService(database: db, logger: TestDatabase.logger)
            let orchestrator = WorkspaceOrchestrator(database: db, placement: placement, pool: DockerServerPool(), logger: TestDatabase.logger)
            let settings = ScalingService.Settings(capacity: .init(
                headroom: 0.25, webhookURL: "http://127.0.0.1:\(port)/hook", webhookAttempts: 8, webhookBackoff: .milliseconds(200), webhookTimeout: .seconds(2)
            ))
            let scaling = ScalingService(database: db, orchestrator: orchestrator, settings: settings, logger: TestDatabase.logger)
            func place(_ name: String, cpu: Int) async throws {
                let resources = Resources(cpuMillis: cpu, memoryMB: 64, diskGB: 1)
                _ = try await placement.reserve(WorkspaceDraft(tenantID: tenant, name: name, image: "x", resources: resources, placement: PlacementRequest(resources: resources)))
            }
            func signal() async throws -> (attempts: Int, delivered: Bool, error: String?) {
                try await db.withSystem { scope in
                    let row = try await scope.first("SELECT attempts, delivered_at IS NOT NULL AS delivered, last_error FROM scaling_signals WHERE name = 'fleet'")!
                    return (try row.decode("attempts"), try row.decode("delivered"), try row.decode("last_error"))
                }
            }
            func waitFor(_ what: String, _ condition: () async throws -> Bool) async throws {
                let deadline = ContinuousClock.now + .seconds(60)
                while try await !condition() {
                    guard ContinuousClock.now < deadline else { throw TestEnvironment.Missing(description: "\(what): not within 60 s") }
                    try await Task.sleep(for: .milliseconds(50))
                }
            }

            // Half the CPU reserved keeps a quarter free: no recommendation, nothing sent.
            try await place("a", cpu: 1000)
            let calm = try #require(await scaling.pass().capacity)
            #expect(calm.plan.recommendation == .none && !calm.notified, "\(calm)")
            // 1.75 of 2 cores: one server of this size no longer keeps 25 % free.
            try await place("b", cpu: 750)
            let crossed = try #require(await scaling.pass().capacity)
            #expect(crossed.plan.recommendation == .scaleOut && crossed.plan.serversNeeded == 2 && crossed.notified, "\(crossed)")
            #expect(crossed.plan.utilisation["cpu"] == 0.875)
            // Nobody listens yet: the webhook is tried again, and placement goes on meanwhile.
            try await waitFor("two failed attempts") { try await signal().attempts >= 2 }
            let placingStarted = ContinuousClock.now
            try await place("c", cpu: 100)
            let placing = ContinuousClock.now - placingStarted
            let meanwhile = try await signal()
            #expect(!meanwhile.delivered && meanwhile.error != nil, "the webhook was still being retried while the placement was made: \(meanwhile)")
            #expect(placing < .seconds(5), "a placement waited \(placing) for the webhook")
            // A second pass with the same recommendation does not start another delivery.
            #expect(await scaling.pass().capacity?.notified == false)

            // The receiver comes up on the port: the next attempt gets through.
            let received = Received()
            let router = Router()
            router.post("hook") { request, context -> Response in
                let body = try await request.body.collect(upTo: 1 << 20)
                await received.add(Data(Array(buffer: body)))
                return Response(status: .noContent)
            }
            let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
            let serving = Task { try await app.runService() }
            defer { serving.cancel() }
            try await waitFor("the webhook delivered") { try await signal().delivered }
            let bodies = await received.bodies.map { (try? JSONSerialization.jsonObject(with: $0)) as? [String: Any] ?? [:] }
            #expect(bodies.count == 1, "\(bodies)")
            #expect(bodies.first?["recommendation"] as? String == "scale_out" && bodies.first?["servers_needed"] as? Int == 2, "\(bodies)")
            // What was recommended when it was decided.
            #expect((bodies.first?["utilisation"] as? [String: Any])?["cpu"] as? Double == 0.875)
            #expect(try await signal().attempts >= 3)
        }
    }
}
