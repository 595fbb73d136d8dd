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
            let clients = try ["BERTH_TEST_DOCKER_PLAIN_1", "BERTH_TEST_DOCKER_PLAIN_2"].map { variable -> DockerClient in
                let parts = try TestEnvironment.require(variable).split(separator: ":")
                return DockerClient(endpoint: .http(host: String(parts[0]), port: Int(parts[1])!))
            }
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
            try await app.test(.live) { client in
                // 64 calls that each take at least 3 s inside Docker: /health must be answered meanwhile.
                async let docker: [Bool] = withThrowingTaskGroup(of: Bool.self) { group in
                    for call in 0..<64 {
                        group.addTask {
                            let result = try await clients[call % 2].exec(ids[call % 2], command: ["sh", "-c", "sleep 3; echo \(call)"])
                            return result.stdoutText == "\(call)\n" && result.exitCode == 0
                        }
                    }
                    let results = try await group.reduce(into: [Bool]()) { $0.append($1) }
                    timeline.dockerDone.withLock { $0 = .now }
                    return results
                }
                try await Task.sleep(for: .milliseconds(300))
                for _ in 0..<5 {
                    try await client.execute(uri: "/health", method: .get) { response in
                        #expect(response.status == .ok)
                    }
                    timeline.healthAnswered.withLock { $0.append(.now) }
                }
                let results = try await docker
                #expect(results.count == 64 && results.allSatisfy { $0 })
            }
            let finished = try #require(timeline.dockerDone.withLock { $0 })
            let answers = timeline.healthAnswered.withLock { $0 }
            #expect(answers.count == 5)
            for answered in answers {
                #expect(answered < finished, "/health waited for the Docker calls to finish")
            }
            for (index, id) in containers.enumerated() { try? await clients[index].removeContainer(id) }
        }
    }
}

/// When things happened, written from concurrent tasks.
final class Timeline: Sendable {
    let dockerDone = Mutex<ContinuousClock.Instant?>(nil)
    let healthAnswered = Mutex<[ContinuousClock.Instant]>([])
}
