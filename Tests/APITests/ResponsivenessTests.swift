import API
import BerthTestSupport
import Compute
import Foundation
import Hummingbird
import HummingbirdTesting
import Persistence
import Synchronization
import Testing

/// Docker calls run on libcurl's own thread, so the HTTP server keeps answering while many are in flight.
@Suite struct ResponsivenessTests {
    @Test func healthIsAnsweredWhileSixtyFourDockerCallsRun() async throws {
        try await withTestDatabase { _, db in
            let migrator = Migrator(database: db, directory: TestEnvironment.repositoryRoot.appendingPathComponent("sql"), logger: TestDatabase.logger)
            let app = buildApplication(services: AppServices(database: db, migrator: migrator), configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: TestDatabase.logger)
            let endpoints = try ["BERTH_TEST_DOCKER_PLAIN_1", "BERTH_TEST_DOCKER_PLAIN_2"].map { variable -> DockerEndpoint in
                let parts = try TestEnvironment.require(variable).split(separator: ":")
                return .http(host: String(parts[0]), port: Int(parts[1])!)
            }
            let clients = endpoints.map { DockerClient(endpoint: $0) }
            // The test's own look into the containers goes through an engine of its own, so it never
            // queues behind the calls under test.
            let probeEngine = CurlEngine(name: "berth.test.probe")
            defer { probeEngine.shutdown() }
            let probes = endpoints.map { DockerClient(endpoint: $0, engine: probeEngine) }
            var containers: [String] = []
            for client in clients {
                let id = try await client.createContainer(ContainerSpec(
                    name: "berth-test-resp-\(UUID().uuidString.prefix(8).lowercased())", image: "berth-busybox:latest",
                    command: ["sleep", "3600"], labels: ["berth.test": "true"],
                    resources: ContainerResources(cpuMillis: 500, memoryMB: 64)
                ))
                containers.append(id)
                try await client.startContainer(id)
            }
            let ids = containers
            let timeline = Timeline()
            /// How many of the 64 commands have begun inside the containers.
            @Sendable func started() async throws -> Int {
                var total = 0
                for (index, probe) in probes.enumerated() {
                    let listed = try await probe.exec(ids[index], command: ["sh", "-c", "ls /tmp | grep -c '^started-' || true"])
                    total += Int(listed.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
                }
                return total
            }
            func removeContainers() async {
                for (index, id) in ids.enumerated() { try? await probes[index].removeContainer(id) }
            }
            do {
                try await app.test(.live) { client in
                    // 64 calls, each of which marks that it has begun and then waits inside Docker until
                    // the test opens the gate: they are all in flight while /health is asked, by order,
                    // not by a guess about how long they take.
                    async let docker: [Bool] = withThrowingTaskGroup(of: Bool.self) { group in
                        for call in 0..<64 {
                            group.addTask {
                                let script = "touch /tmp/started-\(call); while [ ! -e /tmp/go ]; do sleep 0.05; done; echo \(call)"
                                let result = try await clients[call % 2].exec(ids[call % 2], command: ["sh", "-c", script], timeout: .seconds(180))
                                timeline.dockerFinished.withLock { $0.append(.now) }
                                return result.stdoutText == "\(call)\n" && result.exitCode == 0
                            }
                        }
                        let results = try await group.reduce(into: [Bool]()) { $0.append($1) }
                        timeline.dockerDone.withLock { $0 = .now }
                        return results
                    }
                    let deadline = ContinuousClock.now + .seconds(90)
                    var begun = try await started()
                    while begun < 64 && ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(100))
                        begun = try await started()
                    }
                    #expect(begun == 64, "only \(begun) of the 64 Docker calls had begun after 90 s")
                    #expect(timeline.dockerFinished.withLock { $0.isEmpty }, "a gated Docker call finished before the gate opened")
                    for _ in 0..<5 {
                        try await client.execute(uri: "/health", method: .get) { response in
                            #expect(response.status == .ok)
                        }
                        timeline.healthAnswered.withLock { $0.append(.now) }
                    }
                    // Only now may the calls finish.
                    timeline.gateOpened.withLock { $0 = .now }
                    for (index, probe) in probes.enumerated() { _ = try await probe.exec(ids[index], command: ["touch", "/tmp/go"]) }
                    let results = try await docker
                    #expect(results.count == 64 && results.allSatisfy { $0 })
                }
            } catch {
                await removeContainers()
                throw error
            }
            await removeContainers()
            let finished = try #require(timeline.dockerDone.withLock { $0 })
            let gate = try #require(timeline.gateOpened.withLock { $0 })
            let answers = timeline.healthAnswered.withLock { $0 }
            let each = timeline.dockerFinished.withLock { $0 }
            #expect(answers.count == 5 && each.count == 64)
            for answered in answers {
                #expect(answered < finished, "/health waited for the Docker calls to finish")
                #expect(answered < gate)
            }
            #expect(each.allSatisfy { $0 > gate }, "a Docker call finished before the gate opened")
        }
    }
}

/// When things happened, written from concurrent tasks.
final class Timeline: Sendable {
    let dockerDone = Mutex<ContinuousClock.Instant?>(nil)
    let dockerFinished = Mutex<[ContinuousClock.Instant]>([])
    let gateOpened = Mutex<ContinuousClock.Instant?>(nil)
    let healthAnswered = Mutex<[ContinuousClock.Instant]>([])
}
