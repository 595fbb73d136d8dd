import Testing

@testable import API

/// The handoff between an export's database read and its response body.
@Suite struct BatchHandoffTests {
    @Test func batchesArriveInOrderAndTheProducerWaitsForEachToBeTaken() async throws {
        let handoff = BatchHandoff<[Int]>()
        let sent = Counter()
        let producer = Task {
            for n in 0..<5 {
                try await handoff.send([n])
                await sent.add()
            }
            handoff.finish()
        }
        // Nothing taken yet: the first send cannot have returned.
        await Task.yield()
        #expect(await sent.value == 0)
        var received: [[Int]] = []
        while let batch = try await handoff.next() {
            received.append(batch)
            // The producer is at most one batch ahead of what was taken.
            #expect(await sent.value <= received.count)
        }
        try await producer.value
        #expect(received == [[0], [1], [2], [3], [4]])
        #expect(try await handoff.next() == nil)
    }

    @Test func theProducersFailureReachesTheConsumer() async throws {
        struct Down: Error {}
        let handoff = BatchHandoff<[Int]>()
        Task { handoff.finish(throwing: Down()) }
        await #expect(throws: Down.self) { try await handoff.next() }
    }

    @Test func aConsumerThatGivesUpReleasesAWaitingProducer() async throws {
        let handoff = BatchHandoff<[Int]>()
        let producer = Task { try await handoff.send([1]) }
        handoff.cancel()
        await #expect(throws: CancellationError.self) { try await producer.value }
        await #expect(throws: CancellationError.self) { try await handoff.next() }
    }

    @Test func anUnclaimedStreamIsCancelledAndAClaimedOneIsNot() async throws {
        let unclaimed = BatchHandoff<[Int]>()
        unclaimed.cancelUnlessClaimed()
        await #expect(throws: CancellationError.self) { try await unclaimed.send([1]) }

        let claimed = BatchHandoff<[Int]>()
        claimed.claim()
        claimed.cancelUnlessClaimed()
        let producer = Task { try await claimed.send([7]); claimed.finish() }
        #expect(try await claimed.next() == [7])
        #expect(try await claimed.next() == nil)
        try await producer.value
    }

    actor Counter {
        var value = 0
        func add() { value += 1 }
    }
}
