import BerthTestSupport
@testable import Compute
import Domain
import Foundation
import Persistence
import Testing

/// Reservations against a real PostgreSQL, under concurrency.
@Suite struct PlacementServiceTests {
    struct World {
        let testDB: TestDatabase
        let db: Database
        let service: PlacementService
        let tenant: TenantID
        var servers: [ServerID] = []
    }

    /// Runs `body` on a fresh database with a tenant and `servers`; the database is dropped afterwards, whatever happens.
    static func withWorld<T>(
        servers: [(String, Capacity, WorkspaceServer.HealthStatus)], quota: Quota = Quota(maxWorkspaces: 1000, maxCPUMillis: 1_000_000, maxMemoryMB: 1_000_000),
        _ body: (World) async throws -> T
    ) async throws -> T {
        // Every create of one tenant queues on its row lock; under a loaded machine that can take a while.
        try await withTestDatabase(poolSize: 8, acquireTimeout: .seconds(60)) { testDB, db in
            let tenant = try await db.withSystem { try await TenantStore().create(name: "acme", quota: quota, in: $0).id }
            var world = World(testDB: testDB, db: db, service: PlacementService(database: db, logger: TestDatabase.logger), tenant: tenant)
            for (name, capacity, status) in servers {
                let server = try await db.withSystem { scope in
                    try await WorkspaceServerStore().upsert(.init(name: name, connection: .init(host: "127.0.0.1", dockerPort: 2375), capacity: capacity), in: scope)
                }
                try await db.withSystem { try await $0.execute("UPDATE workspace_servers SET status = \(status.rawValue) WHERE id = \(server.id)") }
                world.servers.append(server.id)
            }
            return try await body(world)
        }
    }

    static func draft(_ world: World, _ name: String, cpu: Int = 1000, memory: Int = 512, disk: Int = 1, strategy: PlacementStrategy = .spread) -> WorkspaceDraft {
        WorkspaceDraft(tenantID: world.tenant, name: name, image: "berth-busybox:latest",
                       resources: Resources(cpuMillis: cpu, memoryMB: memory, diskGB: disk),
                       placement: PlacementRequest(resources: Resources(cpuMillis: cpu, memoryMB: memory, diskGB: disk), strategy: strategy))
    }

    @Test func concurrentReservationsNeverOvercommit() async throws {
        let small = Capacity(cpuMillis: 2000, memoryMB: 4096, diskGB: 10, workspaces: 10)
        try await Self.withWorld(servers: [("ws-1", small, .healthy), ("ws-2", small, .healthy)]) { world in
            let outcomes = await withTaskGroup(of: Result<ServerID, any Error>.self) { group in
                for i in 0..<40 {
                    group.addTask {
                        do { return .success(try await world.service.reserve(Self.draft(world, "w\(i)", strategy: i % 2 == 0 ? .spread : .roundRobin)).server.id) }
                        catch { return .failure(error) }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            let placed = outcomes.compactMap { try? $0.get() }
            // 2 servers × 2 cores, 1 core each: exactly 4 fit.
            #expect(placed.count == 4)
            for outcome in outcomes {
                if case .failure(let error) = outcome {
                    guard case PlacementError.insufficientCapacity(let exclusions)? = error as? PlacementError else {
                        Issue.record("unexpected error \(error)")
                        continue
                    }
                    #expect(exclusions["ws-1"]?.contains { $0.hasPrefix("cpu 2/2") } == true, "\(exclusions)")
                }
            }
            let rows = try await world.db.withSystem { try await WorkspaceServerStore().list(in: $0) }
            for server in rows {
                #expect(server.reserved.cpuMillis <= server.capacity.cpuMillis)
                #expect(server.reserved.cpuMillis == 2000)
                #expect(server.reserved.workspaces == 2)
            }
            let held = try await world.db.withSystem {
                try await $0.first("SELECT count(*) AS n, sum(cpu)::float8 AS cpu FROM workspaces WHERE holds_compute")!
            }
            #expect(try held.decode("n", as: Int.self) == 4)
        }
    }

    /// Concurrent placers rank the same server first; one that finds its row held by another
    /// transaction takes the next candidate instead of queueing, and waits for it only when no other
    /// candidate has room.
    @Test func aPlacementPassesOverAHeldServerRowAndWaitsOnlyWhenNothingElseFits() async throws {
        let room = Capacity(cpuMillis: 8000, memoryMB: 16384, diskGB: 100, workspaces: 100)
        try await Self.withWorld(servers: [("ws-1", room, .healthy), ("ws-2", room, .healthy)]) { world in
            let (first, second) = (world.servers[0], world.servers[1])
            // Spread ranks ws-1 first: ws-2 already holds a core.
            try await world.db.withSystem { try await $0.execute("UPDATE workspace_servers SET current_cpu_used = 1 WHERE id = \(second)") }
            #expect(try await world.service.dryRun(Self.draft(world, "probe").placement).candidates.first?.id == first)
            let held = AsyncStream<Void>.makeStream(), release = AsyncStream<Void>.makeStream()
            // Holds ws-1's row until told to let go.
            func holdFirst() -> Task<Void, any Error> {
                Task {
                    try await world.db.withSystem { scope in
                        _ = try await scope.execute("SELECT id FROM workspace_servers WHERE id = \(first) FOR UPDATE")
                        held.continuation.yield()
                        for await _ in release.stream { break }
                    }
                }
            }
            var holder = holdFirst()
            var heldIterator = held.stream.makeAsyncIterator()
            _ = await heldIterator.next()
            // Placed on ws-2 while ws-1's row is still held. (A placement that queued on the row
            // instead would be let through after 30 s, onto ws-1.)
            let watchdog = Task { try await Task.sleep(for: .seconds(30)); release.continuation.yield() }
            #expect(try await world.service.reserve(Self.draft(world, "beside")).server.id == second)
            watchdog.cancel()
            release.continuation.yield()
            try await holder.value

            // Now ws-2 has no slot left: the only candidate is held, and the placement waits for it.
            try await world.db.withSystem { try await $0.execute("UPDATE workspace_servers SET max_workspaces = current_workspaces WHERE id = \(second)") }
            holder = holdFirst()
            _ = await heldIterator.next()
            let placing = Task { try await world.service.reserve(Self.draft(world, "waiting")).server.id }
            // Released only once the placement is seen waiting on the row lock (its second pass).
            var waited = false
            for _ in 0..<600 where !waited {
                waited = try await world.db.withSystem { scope in
                    try await scope.first("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")!.decode("n", as: Int.self) > 0
                }
                if !waited { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(waited, "the placement never waited for the held row")
            release.continuation.yield()
            try await holder.value
            #expect(try await placing.value == first)
        }
    }

    @Test func noHealthyServerIsDistinctFromNoRoom() async throws {
        let capacity = Capacity(cpuMillis: 4000, memoryMB: 4096, diskGB: 10, workspaces: 10)
        try await Self.withWorld(servers: [("ws-1", capacity, .unhealthy), ("ws-2", capacity, .offline)]) { world in
            do {
                _ = try await world.service.reserve(Self.draft(world, "x"))
                Issue.record("placed on an unhealthy fleet")
            } catch let error as PlacementError {
                guard case .noHealthyServers(let exclusions) = error else { Issue.record("\(error)"); return }
                #expect(exclusions == ["ws-1": ["unhealthy"], "ws-2": ["offline"]])
            }
        }
    }

    @Test func quotaHoldsUnderConcurrentCreates() async throws {
        let big = Capacity(cpuMillis: 64000, memoryMB: 65536, diskGB: 100, workspaces: 100)
        try await Self.withWorld(servers: [("ws-1", big, .healthy)], quota: Quota(maxWorkspaces: 3, maxCPUMillis: 64000, maxMemoryMB: 65536)) { world in
            enum Outcome { case placed, refusedAtTheLimit, refusedBelowTheLimit, failed }
            let results = await withTaskGroup(of: Outcome.self) { group in
                for i in 0..<50 {
                    group.addTask {
                        do {
                            _ = try await world.service.reserve(Self.draft(world, "q\(i)"))
                            return .placed
                        } catch PlacementError.quotaExceeded(let usage, _, let quota) {
                            // Only a tenant that already holds its maximum may be refused; CPU and memory
                            // are far from their limits here.
                            guard usage.workspaces >= quota.maxWorkspaces else {
                                Issue.record("refused with \(usage.workspaces) of \(quota.maxWorkspaces) workspaces in use")
                                return .refusedBelowTheLimit
                            }
                            return .refusedAtTheLimit
                        } catch {
                            Issue.record("unexpected \(error)")
                            return .failed
                        }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.filter { $0 == .placed }.count == 3)
            #expect(results.filter { $0 == .refusedAtTheLimit }.count == 47)
            let live = try await world.db.withSystem {
                try await $0.first("SELECT count(*) AS n FROM workspaces WHERE tenant_id = \(world.tenant) AND status <> 'deleted'")!.decode("n", as: Int.self)
            }
            #expect(live == 3, "the database holds \(live) workspaces for a quota of 3")
        }
    }

    @Test func releaseGivesBackAndStartingAgainNeedsRoom() async throws {
        let capacity = Capacity(cpuMillis: 2000, memoryMB: 4096, diskGB: 10, workspaces: 10)
        try await Self.withWorld(servers: [("ws-1", capacity, .healthy)]) { world in
            let first = Self.draft(world, "first", cpu: 2000)
            _ = try await world.service.reserve(first)
            // Stopping frees CPU and memory but keeps disk and the slot.
            try await world.db.withSystem { try await world.service.release(first.id, compute: true, slot: false, in: $0) }
            var server = try await world.db.withSystem { try await WorkspaceServerStore().get(world.servers[0], in: $0)! }
            #expect(server.reserved == Capacity(cpuMillis: 0, memoryMB: 0, diskGB: 1, workspaces: 1))
            // Someone else takes the CPU; starting the first again no longer fits.
            _ = try await world.service.reserve(Self.draft(world, "second", cpu: 2000))
            let restarted = try await world.db.withSystem { try await world.service.reserveCompute(for: first.id, in: $0) }
            #expect(restarted == false)
            // Releasing twice gives back nothing more (the flags say what is held).
            try await world.db.withSystem { try await world.service.release(first.id, compute: true, slot: true, in: $0) }
            try await world.db.withSystem { try await world.service.release(first.id, compute: true, slot: true, in: $0) }
            server = try await world.db.withSystem { try await WorkspaceServerStore().get(world.servers[0], in: $0)! }
            #expect(server.reserved == Capacity(cpuMillis: 2000, memoryMB: 512, diskGB: 1, workspaces: 1))
        }
    }

    @Test func duplicateLiveNameIsRefused() async throws {
        let capacity = Capacity(cpuMillis: 8000, memoryMB: 8192, diskGB: 10, workspaces: 10)
        try await Self.withWorld(servers: [("ws-1", capacity, .healthy)]) { world in
            _ = try await world.service.reserve(Self.draft(world, "same"))
            await #expect(throws: PlacementError.nameTaken("same")) { _ = try await world.service.reserve(Self.draft(world, "same")) }
            let server = try await world.db.withSystem { try await WorkspaceServerStore().get(world.servers[0], in: $0)! }
            #expect(server.reserved.workspaces == 1, "the refused create must not keep its reservation")
        }
    }
}
