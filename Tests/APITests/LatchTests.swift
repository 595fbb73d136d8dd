import Testing

@testable import API

/// The latch a create with `?wait=running` waits on.
@Suite struct LatchTests {
    @Test func aWaiterWakesWhenTheLatchOpensNotWhenItsTimeRunsOut() async throws {
        let latch = Latch()
        let clock = ContinuousClock()
        let started = clock.now
        let waiters = (0..<3).map { _ in Task { await latch.wait(upTo: .seconds(30)) } }
        try await Task.sleep(for: .milliseconds(50))
        #expect(!latch.isOpen)
        latch.open()
        for waiter in waiters { await waiter.value }
        // Broken, the waiters would sleep out their 30 s.
        #expect(clock.now - started < .seconds(30))
        #expect(latch.isOpen)
    }

    @Test func aWaiterOnAnOpenLatchReturnsAtOnceAndAClosedOneAfterItsLimit() async throws {
        let clock = ContinuousClock()
        let open = Latch()
        open.open()
        let before = clock.now
        await open.wait(upTo: .seconds(30))
        #expect(clock.now - before < .seconds(30))
        let closed = Latch()
        let start = clock.now
        await closed.wait(upTo: .milliseconds(100))
        #expect(clock.now - start >= .milliseconds(100))
        #expect(!closed.isOpen)
    }
}
