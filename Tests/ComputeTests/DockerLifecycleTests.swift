import Compute
import Foundation
import Testing

/// A whole container life against real daemons: plain HTTP and mutual TLS.
@Suite struct DockerLifecycleTests {
    @Test(arguments: ["plain", "tls"])
    func containerLifecycle(daemon: String) async throws {
        let client = try DockerFleet.client(daemon)
        // The server's version, capped at Berth's.
        let serverVersion = try await client.version().apiVersion
        let expected = serverVersion.compare(DockerClient.newestAPIVersion, options: .numeric) == .orderedAscending
            ? serverVersion : DockerClient.newestAPIVersion
        #expect(try await client.apiVersion() == expected)

        let info = try await client.info()
        #expect(info.cpuCount > 0)
        #expect(info.memoryBytes > 0)
        #expect(!info.driver.isEmpty)
        #expect(!info.serverVersion.isEmpty)

        let image = try await client.inspectImage(DockerFleet.busybox)
        #expect(image.repoTags.contains(DockerFleet.busybox))
        #expect(!image.hasCommand, "an imported image has no command")

        let marker = UUID().uuidString
        let name = DockerFleet.uniqueName("lifecycle")
        let spec = ContainerSpec(
            name: name, image: DockerFleet.busybox, command: ["sleep", "3600"],
            environment: ["GREETING": "hello from \(daemon)"],
            labels: [DockerFleet.testLabel: "lifecycle", "berth.marker": marker],
            workingDirectory: "/tmp",
            resources: ContainerResources(cpuMillis: 500, memoryMB: 64),
            networkMode: "host"
        )
        let id = try await client.createContainer(spec)
        do {
            let created = try await client.inspectContainer(id)
            #expect(created.name == name)
            #expect(created.state.status == "created")
            #expect(created.state.startedAt == nil)

            try await client.startContainer(id)
            try await client.startContainer(id) // already running: not an error
            let running = try await client.inspectContainer(id)
            #expect(running.state.running)
            #expect(running.state.status == "running")
            #expect(running.state.startedAt != nil)
            #expect(running.hostConfig.nanoCPUs == 500_000_000)
            #expect(running.hostConfig.memory == 64 * 1_048_576)
            #expect(running.hostConfig.networkMode == "host")
            #expect(running.config.labels["berth.marker"] == marker)
            #expect(running.config.workingDir == "/tmp")
            #expect(running.config.cmd == ["sleep", "3600"])

            let exec = try await client.exec(id, command: ["sh", "-c", "echo \"$GREETING\"; pwd"])
            #expect(exec.stdoutText == "hello from \(daemon)\n/tmp\n")
            #expect(exec.stderr.isEmpty)
            #expect(exec.exitCode == 0)

            let listed = try await client.listContainers(labels: ["berth.marker=\(marker)"])
            #expect(listed.map(\.id) == [id])
            #expect(listed.first?.names == [name])
            #expect(listed.first?.state == "running")
            #expect(try await client.listContainers(labels: ["berth.marker=someone-else"]).isEmpty)

            let stats = try await client.stats(id)
            #expect(stats.memoryLimitBytes == 64 * 1_048_576)
            #expect(stats.memoryUsageBytes > 0)
            #expect(stats.pids == 1)

            // Raising memory above the swap limit the container was created with.
            try await client.updateContainer(id, resources: ContainerResources(cpuMillis: 1_000, memoryMB: 256))
            let updated = try await client.inspectContainer(id)
            #expect(updated.hostConfig.nanoCPUs == 1_000_000_000)
            #expect(updated.hostConfig.memory == 256 * 1_048_576)
            #expect(updated.state.running)
            // And lowering it again.
            try await client.updateContainer(id, resources: ContainerResources(cpuMillis: 250, memoryMB: 32))
            #expect(try await client.inspectContainer(id).hostConfig.resources == ContainerResources(cpuMillis: 250, memoryMB: 32))

            // `sleep` as PID 1 ignores SIGTERM, so stop waits the full timeout and then kills.
            try await client.stopContainer(id, timeout: .seconds(1))
            let stopped = try await client.inspectContainer(id)
            #expect(!stopped.state.running)
            #expect(stopped.state.status == "exited")
            #expect(stopped.state.finishedAt != nil)
            try await client.stopContainer(id, timeout: .seconds(1)) // already stopped: not an error

            try await client.restartContainer(id, timeout: .seconds(1))
            let restarted = try await client.inspectContainer(id)
            #expect(restarted.state.running)
            #expect(try #require(restarted.state.startedAt) > (try #require(running.state.startedAt)))

            try await client.killContainer(id)
            let killed = try await DockerFleet.eventually {
                let state = try await client.inspectContainer(id).state
                return !state.running && state.status == "exited"
            }
            #expect(killed)
            #expect(try await client.inspectContainer(id).state.exitCode == 137)

            try await client.removeContainer(id)
            do throws(DockerError) {
                _ = try await client.inspectContainer(id)
                Issue.record("the container is still there after removal")
            } catch {
                #expect(error.isNotFound, "\(error)")
            }
        } catch {
            await DockerFleet.remove(id, from: client)
            throw error
        }
    }

    @Test func aMissingContainerIsAnHTTPErrorWithDockersMessage() async throws {
        let client = try DockerFleet.plain(1)
        let missing = "berth-test-missing-\(UUID().uuidString.prefix(8).lowercased())"
        do throws(DockerError) {
            _ = try await client.inspectContainer(missing)
            Issue.record("inspecting a missing container succeeded")
        } catch {
            #expect(error.code == .http)
            #expect(error.status == 404)
            #expect(error.isNotFound)
            #expect(error.message.contains("No such container"), "\(error.message)")
            #expect(error.message.contains(missing))
            #expect(error.description.contains("No such container"))
        }
    }

    @Test func aMissingImageIsNotFound() async throws {
        let client = try DockerFleet.plain(2)
        do throws(DockerError) {
            _ = try await client.inspectImage("berth-no-such-image:latest")
            Issue.record("inspecting a missing image succeeded")
        } catch {
            #expect(error.isNotFound, "\(error)")
            #expect(error.message.contains("No such image"), "\(error.message)")
        }
    }

    @Test func creatingWithATakenNameIsAConflict() async throws {
        let client = try DockerFleet.plain(1)
        try await DockerFleet.withContainer(on: client, purpose: "conflict", start: false) { _, name in
            let again = ContainerSpec(name: name, image: DockerFleet.busybox, command: ["true"], networkMode: "host")
            do throws(DockerError) {
                let id = try await client.createContainer(again)
                await DockerFleet.remove(id, from: client)
                Issue.record("a second container with the same name was created")
            } catch {
                #expect(error.code == .http && error.status == 409, "\(error)")
                #expect(error.message.contains("already in use"), "\(error.message)")
            }
        }
    }
}
