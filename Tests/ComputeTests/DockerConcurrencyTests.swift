import Compute
import Foundation
import Testing

/// Many calls in flight at once, across servers, on the one curl thread.
@Suite struct DockerConcurrencyTests {
    @Test func sixtyFourConcurrentCallsAcrossTwoServers() async throws {
        let servers = [try DockerFleet.plain(1), try DockerFleet.plain(2)]
        try await DockerFleet.withContainer(on: servers[0], purpose: "concurrency-1") { first, _ in
            try await DockerFleet.withContainer(on: servers[1], purpose: "concurrency-2") { second, _ in
                let containers = [first, second]
                let infos = [try await servers[0].info(), try await servers[1].info()]
                #expect(infos[0].dockerRootDir != infos[1].dockerRootDir)
                let results = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                    for call in 0..<64 {
                        let server = call % 2
                        let client = servers[server]
                        let id = containers[server]
                        group.addTask {
                            switch call % 4 {
                            case 0, 1:
                                let exec = try await client.exec(id, command: ["sh", "-c", "echo \(call); echo e\(call) >&2; exit \(call % 7)"])
                                #expect(exec.stdoutText == "\(call)\n")
                                #expect(exec.stderrText == "e\(call)\n")
                                #expect(exec.exitCode == call % 7)
                                return (call, exec.stdoutText)
                            case 2:
                                let details = try await client.inspectContainer(id)
                                #expect(details.id == id)
                                #expect(details.state.running)
                                return (call, details.id)
                            default:
                                let info = try await client.info()
                                // Each answer comes from the server it was asked of.
                                #expect(info.dockerRootDir == infos[server].dockerRootDir)
                                return (call, info.dockerRootDir ?? "")
                            }
                        }
                    }
                    var done: [Int: String] = [:]
                    for try await (call, value) in group { done[call] = value }
                    return done
                }
                #expect(results.count == 64)
                #expect(Set(results.keys) == Set(0..<64))
            }
        }
    }
}
