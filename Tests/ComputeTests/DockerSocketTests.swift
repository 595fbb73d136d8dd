import Compute
import Foundation
import Testing

/// The unix socket transport reaches the same engine as TCP.
@Suite struct DockerSocketTests {
    @Test func pingAndInfoOverTheSocket() async throws {
        let client = try DockerFleet.socket()
        try await client.ping()
        let info = try await client.info()
        #expect(info.cpuCount > 0)
        #expect(try await client.apiVersion() == (try await DockerFleet.plain(1).apiVersion()))
        // The socket belongs to ws-local-1, the first plain daemon.
        #expect(info.dockerRootDir != nil)
        #expect(info.dockerRootDir == (try await DockerFleet.plain(1).info()).dockerRootDir)
        #expect(info.dockerRootDir != (try await DockerFleet.plain(2).info()).dockerRootDir)
    }

    @Test func containersOverTheSocket() async throws {
        let client = try DockerFleet.socket()
        try await DockerFleet.withContainer(on: client, purpose: "socket") { id, _ in
            let result = try await client.exec(id, command: ["echo", "through the socket"])
            #expect(result.stdoutText == "through the socket\n")
        }
    }
}
