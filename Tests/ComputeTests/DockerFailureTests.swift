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

    /// Whether `sleep <seconds>` still runs in the container.
    static func stillSleeping(_ client: DockerClient, _ id: String, _ seconds: Int) async throws(DockerError) -> Bool {
        let probe = try await client.exec(id, command: ["sh", "-c", "ps | grep -c '[s]leep \(seconds)$' || true"])
        return probe.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) != "0"
    }

    /// Order, not durations (this suite runs in parallel on a loaded machine): the limit was enforced
    /// if the call gave up while its command was still running in the container.
    @Test func aSlowCommandPastTheLimitIsATimeout() async throws {
        let client = try DockerFleet.plain(2)
        try await DockerFleet.withContainer(on: client, purpose: "timeout") { id, _ in
            let started = ContinuousClock.now
            do throws(DockerError) {
                let result = try await client.exec(id, command: ["sleep", "300"], timeout: .milliseconds(500))
                Issue.record("a 300 s command finished within 500 ms: \(result)")
            } catch {
                #expect(error.code == .timeout, "\(error.debugDescription)")
                #expect(error.isConnectivity)
            }
            // Not before the limit (a lower bound holds however loaded the machine is)…
            let elapsed = ContinuousClock.now - started
            #expect(elapsed >= .milliseconds(500), "gave up before the limit: \(elapsed)")
            // …and before the command ended: Docker cannot stop an exec, so it is still running.
            let sleeping = try await Self.stillSleeping(client, id, 300)
            #expect(sleeping, "the call returned only once the command had ended")
        }
    }

    @Test func stopGetsItsGracePeriodOnTopOfTheClientTimeout() async throws {
        // The stop takes its whole grace (6 s: `sleep` as PID 1 ignores SIGTERM), longer than the
        // client's own limit (4 s): it succeeds only if the grace is added to that limit. The 4 s
        // left over are for a loaded engine.
        let client = try DockerFleet.plain(1).withTimeout(.seconds(4))
        try await DockerFleet.withContainer(on: try DockerFleet.plain(1), purpose: "stop-timeout") { id, _ in
            try await client.stopContainer(id, timeout: .seconds(6))
            #expect(try await client.inspectContainer(id).state.running == false)
        }
    }

    /// Order, not durations: the cancelled call ended while its command was still running.
    @Test func cancellingTheTaskStopsTheTransfer() async throws {
        let client = try DockerFleet.plain(1)
        try await DockerFleet.withContainer(on: client, purpose: "cancel") { id, _ in
            let exec = Task {
                try await client.exec(id, command: ["sleep", "300"], timeout: .seconds(600))
            }
            // Wait until the command runs, so the cancellation hits a transfer in flight.
            let running = try await DockerFleet.eventually(timeout: .seconds(60)) { try await Self.stillSleeping(client, id, 300) }
            #expect(running)
            exec.cancel()
            do {
                let result = try await exec.value
                Issue.record("a cancelled exec finished: \(result)")
            } catch let error as DockerError {
                #expect(error.code == .cancelled, "\(error)")
            }
            #expect(try await Self.stillSleeping(client, id, 300), "the cancelled call returned only once the command had ended")
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
