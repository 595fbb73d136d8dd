@testable import Persistence
import Testing

/// The pool's decisions, without any I/O.
@Suite struct PoolStateMachineTests {
    typealias Machine = PoolStateMachine<String, String>

    @Test func opensUpToTheLimitThenQueues() {
        var machine = Machine(maxConnections: 2)
        guard case .open = machine.lease(id: 1, waiter: "w1") else { Issue.record("expected open"); return }
        guard case .open = machine.lease(id: 2, waiter: "w2") else { Issue.record("expected open"); return }
        guard case .wait = machine.lease(id: 3, waiter: "w3") else { Issue.record("expected wait"); return }
        #expect(machine.total == 2)
        #expect(machine.waitingCount == 1)
        // A returned connection goes straight to the first waiter.
        guard case .handOver(let connection, let waiter) = machine.release("c1") else { Issue.record("expected hand-over"); return }
        #expect(connection == "c1" && waiter == "w3")
        guard case .keep = machine.release("c1") else { Issue.record("expected keep"); return }
        guard case .use(let reused) = machine.lease(id: 4, waiter: "w4") else { Issue.record("expected use"); return }
        #expect(reused == "c1")
    }

    @Test func discardedConnectionLetsAWaiterOpen() {
        var machine = Machine(maxConnections: 1)
        _ = machine.lease(id: 1, waiter: "w1")
        _ = machine.lease(id: 2, waiter: "w2")
        guard case .openFor(let waiter) = machine.discard() else { Issue.record("expected openFor"); return }
        #expect(waiter == "w2")
        #expect(machine.total == 1)
        guard case .none = machine.discard() else { Issue.record("expected none"); return }
        #expect(machine.total == 0)
    }

    @Test func cancelledWaiterIsRemovedOnce() {
        var machine = Machine(maxConnections: 1)
        _ = machine.lease(id: 1, waiter: "w1")
        _ = machine.lease(id: 2, waiter: "w2")
        #expect(machine.cancel(id: 2) == "w2")
        #expect(machine.cancel(id: 2) == nil)
        guard case .keep = machine.release("c1") else { Issue.record("expected keep"); return }
    }

    @Test func shutDownFailsWaitersAndClosesReturns() {
        var machine = Machine(maxConnections: 1)
        _ = machine.lease(id: 1, waiter: "w1")
        _ = machine.lease(id: 2, waiter: "w2")
        let (idle, waiters) = machine.shutDown()
        #expect(idle.isEmpty && waiters == ["w2"])
        guard case .close("c1") = machine.release("c1") else { Issue.record("expected close"); return }
        guard case .shutDown = machine.lease(id: 3, waiter: "w3") else { Issue.record("expected shutDown"); return }
        #expect(machine.total == 0)
    }

    @Test func randomOperationsKeepTheInvariants() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let limit = Int.random(in: 1...5, using: &generator)
            var machine = Machine(maxConnections: limit)
            var leased: [String] = []
            var nextID = 0
            for _ in 0..<200 {
                nextID += 1
                switch Int.random(in: 0..<3, using: &generator) {
                case 0:
                    switch machine.lease(id: nextID, waiter: "w\(nextID)") {
                    case .use(let c): leased.append(c)
                    case .open: leased.append("c\(nextID)")
                    case .wait, .shutDown: break
                    }
                case 1 where !leased.isEmpty:
                    let c = leased.removeLast()
                    if case .handOver(let c, _) = machine.release(c) { leased.append(c) }
                case 2 where !leased.isEmpty:
                    leased.removeLast()
                    if case .openFor(let w) = machine.discard() { leased.append("n\(w)") }
                default: break
                }
                #expect(machine.total <= limit)
                #expect(machine.total == leased.count + machine.idle.count)
                #expect(machine.waitingCount == 0 || machine.idle.isEmpty, "a waiter waits while a connection is idle")
            }
        }
    }
}
