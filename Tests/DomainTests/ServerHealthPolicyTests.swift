import Domain
import Foundation
import Testing

@Suite struct ServerHealthPolicyTests {
    let policy = ServerHealthPolicy(failuresBeforeUnhealthy: 2, offlineAfter: .seconds(30))
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func anAnswerMakesItHealthyAndClearsTheError() {
        let verdict = policy.verdict(current: .offline, consecutiveFailures: 9, lastHealthyAt: nil, firstSeen: t0, now: t0, error: nil)
        #expect(verdict == .init(status: .healthy, consecutiveFailures: 0, lastHealthyAt: t0, lastError: nil))
    }

    @Test func failuresGoHealthyThenUnhealthyThenOffline() {
        var status = WorkspaceServer.HealthStatus.healthy
        var failures = 0
        var seen: [WorkspaceServer.HealthStatus] = []
        for second in stride(from: 5, through: 60, by: 5) {
            let verdict = policy.verdict(
                current: status, consecutiveFailures: failures, lastHealthyAt: t0, firstSeen: t0,
                now: t0.addingTimeInterval(Double(second)), error: "connection refused"
            )
            status = verdict.status
            failures = verdict.consecutiveFailures
            #expect(verdict.lastError == "connection refused")
            #expect(verdict.lastHealthyAt == t0)
            seen.append(status)
        }
        // One failure is tolerated, the second makes it unhealthy, 30 s of silence makes it offline.
        #expect(seen[0] == .healthy)
        #expect(seen[1] == .unhealthy)
        #expect(seen[4] == .unhealthy)
        #expect(seen[5] == .offline)
        #expect(seen.last == .offline)
    }

    @Test func neverHealthyServerCountsFromRegistration() {
        let verdict = policy.verdict(current: .unhealthy, consecutiveFailures: 5, lastHealthyAt: nil, firstSeen: t0, now: t0.addingTimeInterval(31), error: "x")
        #expect(verdict.status == .offline)
    }

    @Test(arguments: [
        (ServerConnection(host: "10.0.0.5", dockerPort: 2375), false),
        (ServerConnection(host: "10.0.0.5", dockerPort: 2375, insecure: true), true),
        (ServerConnection(host: "10.0.0.5", dockerPort: 2376, tlsEnabled: true, certPath: "/certs"), true),
        (ServerConnection(host: "10.0.0.5", dockerPort: 2376, tlsEnabled: true), false),
        (ServerConnection(host: "127.0.0.1", dockerPort: 2375), true),
        (ServerConnection(host: "localhost", dockerPort: 70000), false),
        (ServerConnection(host: "a b", dockerPort: 2375), false),
        (ServerConnection(host: "127.0.0.1", dockerPort: 2375, networkMode: "weird"), false),
    ])
    func connectionRules(_ connection: ServerConnection, _ allowed: Bool) {
        #expect((connection.problem == nil) == allowed, "\(connection): \(connection.problem ?? "ok")")
    }
}
