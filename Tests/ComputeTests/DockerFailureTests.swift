import Compute
import Foundation
import Testing

/// Outages and time limits are typed, and cancellation stops a transfer at once.
@Suite struct DockerFailureTests {
    @Test func aClosedPortIsUnreachable() async throws {
        // Port 1 on loopback: nothing listens there, so the connection is refused.
        let client = DockerClient(endpoint: .http(host: "127.0.0.1", port: 1), timeout: .seconds(5))
        do throws(DockerError) {
            try await client.ping()
            Issue.record("port 1 answered")
        } catch {
            #expect(error.code == .unreachable, "\(error.debugDescription)")
            #expect(error.isConnectivity)
            #expect(error.description.contains("127.0.0.1:1"), "\(error)")
        }
    }

    @Test func anUnknownHostIsUnreachable() async throws {
        let client = DockerClient(endpoint: .http(host: "no-such-host.invalid", port: 2375), timeout: .seconds(10))
        do throws(DockerError) {
            try await client.ping()
            Issue.record("an .invalid host answered")
        } catch {
            #expect(error.code == .unreachable, "\(error.debugDescription)")
        }
    }

    @Test func aMissingSocketIsUnreachable() async throws {
        let client = DockerClient(endpoint: .unixSocket(path: "/nonexistent/berth-\(UUID().uuidString).sock"))
        do throws(DockerError) {
            try await client.ping()
            Issue.record("a missing socket answered")
        } catch {
            #expect(error.code == .unreachable, "\(error.debugDescription)")
        }
    }

    @Test func aSlowCommandPastTheLimitIsATimeout() async throws {
        let client = try DockerFleet.plain(2)
        try await DockerFleet.withContainer(on: client, purpose: "timeout") { id, _ in
            let started = ContinuousClock.now
            do throws(DockerError) {
                let result = try await client.exec(id, command: ["sleep", "5"], timeout: .milliseconds(500))
                Issue.record("a 5 s command finished within 500 ms: \(result)")
            } catch {
                #expect(error.code == .timeout, "\(error.debugDescription)")
                #expect(error.isConnectivity)
            }
            let elapsed = ContinuousClock.now - started
            #expect(elapsed < .seconds(3), "the time limit was not enforced: \(elapsed)")
        }
    }

    @Test func stopGetsItsGracePeriodOnTopOfTheClientTimeout() async throws {
        let client = try DockerFleet.plain(1).withTimeout(.seconds(2))
        try await DockerFleet.withContainer(on: try DockerFleet.plain(1), purpose: "stop-timeout") { id, _ in
            // Stop waits its grace period on purpose (`sleep` ignores SIGTERM) and gets it on top of the client's limit.
            try await client.stopContainer(id, timeout: .seconds(3))
            #expect(try await client.inspectContainer(id).state.running == false)
        }
    }

    @Test func cancellingTheTaskStopsTheTransfer() async throws {
        let client = try DockerFleet.plain(1)
        try await DockerFleet.withContainer(on: client, purpose: "cancel") { id, _ in
            let exec = Task {
                try await client.exec(id, command: ["sleep", "30"], timeout: .seconds(60))
            }
            // Wait until the command runs, so the cancellation hits a transfer in flight.
            let running = try await DockerFleet.eventually {
                let probe = try await client.exec(id, command: ["sh", "-c", "ps | grep -c '[s]leep 30$' || true"])
                return probe.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) != "0"
            }
            #expect(running)
            let started = ContinuousClock.now
            exec.cancel()
            do {
                let result = try await exec.value
                Issue.record("a cancelled exec finished: \(result)")
            } catch let error as DockerError {
                #expect(error.code == .cancelled, "\(error)")
            }
            #expect(ContinuousClock.now - started < .seconds(2))
        }
    }

    @Test func theEngineAnswersCancellationErrorToAnAlreadyCancelledTask() async throws {
        let (host, port) = try DockerFleet.hostPort("BERTH_TEST_DOCKER_PLAIN_1")
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await CurlEngine.shared.perform(CurlRequest(method: .get, url: "http://\(host):\(port)/_ping"))
        }
        await #expect(throws: CancellationError.self) { try await task.value }
    }
}
