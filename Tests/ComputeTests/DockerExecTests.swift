import Compute
import Foundation
import Testing

/// Exec output comes back separated by stream, byte for byte, with the exit code.
@Suite struct DockerExecTests {
    @Test func stdoutStderrAndExitCodeAreSeparate() async throws {
        let client = try DockerFleet.plain(1)
        try await DockerFleet.withContainer(on: client, purpose: "exec") { id, _ in
            let result = try await client.exec(id, command: ["sh", "-c", "echo out; echo err >&2; exit 3"])
            #expect(result.stdout == Data("out\n".utf8))
            #expect(result.stderr == Data("err\n".utf8))
            #expect(result.exitCode == 3)
        }
    }

    @Test func largeInterleavedOutputSurvivesFraming() async throws {
        let client = try DockerFleet.plain(2)
        try await DockerFleet.withContainer(on: client, purpose: "exec-large") { id, _ in
            // About 1 MB on each stream, written in many small frames.
            let script = "i=0; while [ $i -lt 20000 ]; do echo \"line $i of stdout padded to fifty bytes.....\"; "
                + "echo \"line $i of stderr\" >&2; i=$((i+1)); done"
            let result = try await client.exec(id, command: ["sh", "-c", script], timeout: .seconds(120))
            let out = result.stdoutText.split(separator: "\n")
            let err = result.stderrText.split(separator: "\n")
            #expect(out.count == 20000)
            #expect(err.count == 20000)
            #expect(out.last == "line 19999 of stdout padded to fifty bytes.....")
            #expect(err.first == "line 0 of stderr")
            #expect(result.exitCode == 0)
        }
    }

    @Test func binaryOutputIsKeptExactly() async throws {
        let client = try DockerFleet.plain(1)
        try await DockerFleet.withContainer(on: client, purpose: "exec-binary") { id, _ in
            let result = try await client.exec(id, command: ["sh", "-c", "printf '\\000\\001\\377\\n\\000'"])
            #expect(result.stdout == Data([0, 1, 255, 10, 0]))
            #expect(result.exitCode == 0)
        }
    }

    @Test func environmentWorkingDirectoryAndUser() async throws {
        let client = try DockerFleet.tls()
        try await DockerFleet.withContainer(on: client, purpose: "exec-env") { id, _ in
            let result = try await client.exec(
                id, command: ["sh", "-c", "echo \"$A $B\"; pwd; id -u"],
                environment: ["A": "one", "B": "two words"], workingDirectory: "/etc", user: "65534"
            )
            #expect(result.stdoutText == "one two words\n/etc\n65534\n")
            #expect(result.exitCode == 0)
        }
    }

    @Test func aCommandThatDoesNotExistFails() async throws {
        let client = try DockerFleet.plain(2)
        try await DockerFleet.withContainer(on: client, purpose: "exec-missing") { id, _ in
            let result = try await client.exec(id, command: ["/no/such/program"])
            // Docker reports a missing executable as exit code 126 or 127, with the reason on the stream.
            #expect([126, 127].contains(result.exitCode), "\(result)")
        }
    }

    @Test func execInAStoppedContainerIsAConflict() async throws {
        let client = try DockerFleet.plain(1)
        try await DockerFleet.withContainer(on: client, purpose: "exec-stopped", start: false) { id, _ in
            do throws(DockerError) {
                let result = try await client.exec(id, command: ["true"])
                Issue.record("exec in a stopped container ran: \(result)")
            } catch {
                #expect(error.code == .http && error.status == 409, "\(error)")
                #expect(error.message.contains("is not running"), "\(error.message)")
            }
        }
    }
}
