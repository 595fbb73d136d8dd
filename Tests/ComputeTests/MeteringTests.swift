import BerthTestSupport
@testable import Compute
import Domain
import Foundation
import Persistence
import Testing

/// Metered time is the container's time: usage intervals open at Docker's `StartedAt` and close at
/// its `FinishedAt`, read back after the start and the stop.
@Suite struct MeteringTests {
    static func interval(_ world: LifecycleWorld, _ id: WorkspaceID) async throws -> (started: Date, ended: Date?) {
        try await world.db.withSystem { scope in
            let row = try await scope.first("SELECT started_at, ended_at FROM usage_intervals WHERE workspace_id = \(id) ORDER BY id DESC LIMIT 1")!
            return (try row.decode("started_at"), try row.decode("ended_at"))
        }
    }

    /// A command that ignores SIGTERM keeps its container running through the stop's grace period
    /// until Docker kills it: the interval ends when Docker says the container stopped, not when the
    /// stop was asked for.
    @Test func anIntervalIsTheContainersOwnTime() async throws {
        let world = try await LifecycleWorld.make(name: "ws-meter", stopGrace: .seconds(3))
        let created = try await world.orchestrator.create(world.draft("stubborn", command: ["sh", "-c", "trap '' TERM; while :; do sleep 1; done"]))
        try await Task.sleep(for: .seconds(1))
        let asked = Date()
        try await world.orchestrator.stop(created.id)
        let docker = try await world.engine.inspectContainer(created.containerID!).state
        let metered = try await Self.interval(world, created.id)
        let started = try #require(docker.startedAt), finished = try #require(docker.finishedAt), ended = try #require(metered.ended)
        #expect(abs(metered.started.timeIntervalSince(started)) < 0.001, "opened at Docker's StartedAt")
        #expect(abs(ended.timeIntervalSince(finished)) < 0.001, "closed at Docker's FinishedAt")
        #expect(finished.timeIntervalSince(asked) > 2.5, "the container ran through the grace period after the stop was asked")
        try await world.expectConverged()
        await world.finish()
    }

    /// A container that stopped while nobody was watching (the service was down) stops being metered
    /// when it stopped, however long before anyone noticed.
    @Test func aContainerThatDiedUnseenIsMeteredUntilItDied() async throws {
        let world = try await LifecycleWorld.make(name: "ws-meter-dead")
        let created = try await world.orchestrator.create(world.draft("unseen"))
        try await world.engine.killContainer(created.containerID!)
        let finished = try #require(try await world.engine.inspectContainer(created.containerID!).state.finishedAt)
        // Noticed a while later.
        try await Task.sleep(for: .seconds(2))
        #expect(await world.reconciler.pass().died == [created.id])
        let ended = try #require(try await Self.interval(world, created.id).ended)
        #expect(abs(ended.timeIntervalSince(finished)) < 0.001, "metered until Docker's FinishedAt, not until it was noticed")
        try await world.expectConverged()
        await world.finish()
    }
}
