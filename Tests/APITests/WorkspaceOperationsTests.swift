import API
import BerthTestSupport
import Compute
import Domain
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Persistence
import Testing

/// Create without waiting, `wait=running`, resize, health, activity and the audit rows they leave.
@Suite struct WorkspaceOperationsTests {
    typealias Setup = WorkspaceRoutesTests.Setup

    struct Health: Decodable {
        struct Container: Decodable { let running: Bool; let state: String }
        let healthy: Bool
        let status: String
        let container: Container?
        let memory_limit_mb: Int?
        let problem: String?
    }

    struct Detail: Decodable {
        struct Resources: Decodable { let cpu: Double; let memory_mb: Int; let disk_gb: Int }
        let id: String
        let status: String
        let resources: Resources
        let error: String?
    }

    static func decode<T: Decodable>(_ type: T.Type, _ buffer: ByteBuffer) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(String(buffer: buffer).utf8))
    }

    @Test func createAnswersAt202UnlessAskedToWait() async throws {
        try await WorkspaceRoutesTests.withSetup { setup in
            let headers = WorkspaceRoutesTests.headers(setup.keyA)
            try await WorkspaceRoutesTests.app(setup).test(.router) { client in
                // No wait: placed and accepted; the container follows in the background.
                let accepted = try await client.execute(uri: "/v1/workspaces", method: .post, headers: headers, body: WorkspaceRoutesTests.body(WorkspaceRoutesTests.workspace("later"))) { response in
                    #expect(response.status == .accepted, "\(String(buffer: response.body))")
                    return try Self.decode(Detail.self, response.body)
                }
                #expect(["creating", "starting", "running"].contains(accepted.status))
                var status = accepted.status
                for _ in 0..<100 where status != "running" {
                    try await Task.sleep(for: .milliseconds(100))
                    status = try await client.execute(uri: "/v1/workspaces/\(accepted.id)", method: .get, headers: headers) { try Self.decode(Detail.self, $0.body).status }
                }
                #expect(status == "running")

                // wait=running on an image the engine does not have: 201 with the failure on the workspace.
                let missing = #"{"name":"no-image","image":"berth-missing:latest","resources":{"cpu":0.25,"memory_mb":64}}"#
                try await client.execute(uri: "/v1/workspaces?wait=running&timeout=60", method: .post, headers: headers, body: WorkspaceRoutesTests.body(missing)) { response in
                    #expect(response.status == .created)
                    let failed = try Self.decode(Detail.self, response.body)
                    #expect(failed.status == "error" && failed.error != nil, "\(String(buffer: response.body))")
                }
                // Its reservation went back: only "later" holds anything on the server.
                let held = try await setup.db.withSystem { try await $0.first("SELECT current_workspaces AS n FROM workspace_servers")!.decode("n", as: Int.self) }
                #expect(held == 1)

                // Deleted while it is still being created: no container survives and nothing stays reserved.
                let doomed = try await client.execute(uri: "/v1/workspaces", method: .post, headers: headers, body: WorkspaceRoutesTests.body(WorkspaceRoutesTests.workspace("doomed"))) {
                    try Self.decode(Detail.self, $0.body)
                }
                try await client.execute(uri: "/v1/workspaces/\(doomed.id)", method: .delete, headers: headers) { #expect($0.status == .noContent) }
                let engine = DockerClient(endpoint: try WorkspaceRoutesTests.engine())
                var leftovers = [ContainerSummary]()
                for _ in 0..<50 {
                    try await Task.sleep(for: .milliseconds(100))
                    leftovers = try await engine.listContainers(labels: ["berth.workspace=\(doomed.id)"])
                    if leftovers.isEmpty { break }
                }
                #expect(leftovers.isEmpty, "\(leftovers)")
                let stillHeld = try await setup.db.withSystem { try await $0.first("SELECT current_workspaces AS n FROM workspace_servers")!.decode("n", as: Int.self) }
                #expect(stillHeld == 1)

                // Bad wait options.
                for query in ["wait=stopped", "wait=running&timeout=0", "wait=running&timeout=abc", "timeout=5"] {
                    try await client.execute(uri: "/v1/workspaces?\(query)", method: .post, headers: headers, body: WorkspaceRoutesTests.body(WorkspaceRoutesTests.workspace("never"))) { response in
                        #expect(response.status == .badRequest, "\(query)")
                        #expect(String(buffer: response.body).contains("validation_failed"))
                    }
                }
                let never = try await setup.db.withSystem { try await $0.first("SELECT count(*) AS n FROM workspaces WHERE name = 'never'")!.decode("n", as: Int.self) }
                #expect(never == 0)
                try await WorkspaceRoutesTests.deleteAll(client, key: setup.keyA)
            }
        }
    }

    @Test func resizeChangesReservationContainerAndMetering() async throws {
        try await WorkspaceRoutesTests.withSetup { setup in
            let headers = WorkspaceRoutesTests.headers(setup.keyA)
            try await WorkspaceRoutesTests.app(setup).test(.router) { client in
                let created = try await client.execute(uri: "/v1/workspaces?wait=running", method: .post, headers: headers, body: WorkspaceRoutesTests.body(WorkspaceRoutesTests.workspace("grow"))) {
                    try Self.decode(Detail.self, $0.body)
                }
                #expect(created.status == "running")
                func resize(_ body: String) async throws -> (HTTPResponse.Status, String) {
                    try await client.execute(uri: "/v1/workspaces/\(created.id)/resize", method: .post, headers: headers, body: WorkspaceRoutesTests.body(body)) {
                        ($0.status, String(buffer: $0.body))
                    }
                }
                func reserved() async throws -> (cpu: Double, memory: Int) {
                    try await setup.db.withSystem { scope in
                        let row = try await scope.first("SELECT current_cpu_used::float8 AS cpu, current_memory_used_mb AS mem FROM workspace_servers")!
                        return (try row.decode("cpu"), try row.decode("mem"))
                    }
                }
                #expect(try await reserved() == (0.25, 64))

                let grown = try await resize(#"{"resources":{"cpu":0.5,"memory_mb":128}}"#)
                #expect(grown.0 == .ok, "\(grown.1)")
                #expect(grown.1.contains(#""cpu":0.5"#) && grown.1.contains(#""memory_mb":128"#))
                #expect(try await reserved() == (0.5, 128))
                // The engine enforces the new limits.
                let container = try await setup.db.withSystem { try await $0.first("SELECT container_id FROM workspaces WHERE name = 'grow'")!.decode("container_id", as: String.self) }
                let details = try await DockerClient(endpoint: try WorkspaceRoutesTests.engine()).inspectContainer(container)
                #expect(details.hostConfig.nanoCPUs == 500_000_000 && details.hostConfig.memory == 128 << 20)
                // Metering: the old size's interval is closed, the new one is open.
                let intervals = try await setup.db.withSystem { scope in
                    try await scope.execute("SELECT cpu::float8 AS cpu, memory_mb, ended_at IS NULL AS open FROM usage_intervals ORDER BY id").map {
                        (try $0.decode("cpu", as: Double.self), try $0.decode("memory_mb", as: Int.self), try $0.decode("open", as: Bool.self))
                    }
                }
                #expect(intervals.count == 2 && intervals[0] == (0.25, 64, false) && intervals[1] == (0.5, 128, true), "\(intervals)")

                // Refusals change nothing.
                try await setup.db.withSystem { try await $0.execute("UPDATE tenants SET max_cpu = 64 WHERE name = 'tenant-a'") }
                let noRoom = try await resize(#"{"resources":{"cpu":3,"memory_mb":128}}"#)
                #expect(noRoom.0 == .conflict && noRoom.1.contains("insufficient_capacity"), "\(noRoom.1)")
                try await setup.db.withSystem { try await $0.execute("UPDATE tenants SET max_cpu = 0.5 WHERE name = 'tenant-a'") }
                let overQuota = try await resize(#"{"resources":{"cpu":1,"memory_mb":128}}"#)
                #expect(overQuota.0 == .forbidden && overQuota.1.contains("quota_exceeded"), "\(overQuota.1)")
                let disk = try await resize(#"{"resources":{"cpu":0.5,"memory_mb":128,"disk_gb":5}}"#)
                #expect(disk.0 == .unprocessableContent && disk.1.contains("not_supported"), "\(disk.1)")
                for bad in ["{", #"{"resources":{"cpu":0.5}}"#, #"{"resources":{"cpu":0.5,"memory_mb":128},"x":1}"#, #"{"resources":{"cpu":-1,"memory_mb":128}}"#] {
                    let answer = try await resize(bad)
                    #expect(answer.0 == .badRequest, "\(bad): \(answer.1)")
                }
                #expect(try await reserved() == (0.5, 128))

                // A stopped workspace resizes without holding compute; start then reserves the new size.
                try await client.execute(uri: "/v1/workspaces/\(created.id)/stop", method: .post, headers: headers) { #expect($0.status == .ok) }
                #expect(try await reserved() == (0, 0))
                let shrunk = try await resize(#"{"resources":{"cpu":0.25,"memory_mb":96}}"#)
                #expect(shrunk.0 == .ok, "\(shrunk.1)")
                #expect(try await reserved() == (0, 0))
                // Starting again counts against the quota.
                try await setup.db.withSystem { try await $0.execute("UPDATE tenants SET max_cpu = 0.1 WHERE name = 'tenant-a'") }
                try await client.execute(uri: "/v1/workspaces/\(created.id)/start", method: .post, headers: headers) { response in
                    #expect(response.status == .forbidden && String(buffer: response.body).contains("quota_exceeded"))
                }
                #expect(try await reserved() == (0, 0))
                try await setup.db.withSystem { try await $0.execute("UPDATE tenants SET max_cpu = 8 WHERE name = 'tenant-a'") }
                try await client.execute(uri: "/v1/workspaces/\(created.id)/start", method: .post, headers: headers) { #expect($0.status == .ok) }
                #expect(try await reserved() == (0.25, 96))
                try await WorkspaceRoutesTests.deleteAll(client, key: setup.keyA)
                #expect(try await reserved() == (0, 0))
            }
        }
    }

    @Test func healthActivityAndTheAuditTrail() async throws {
        try await WorkspaceRoutesTests.withSetup { setup in
            let headers = WorkspaceRoutesTests.headers(setup.keyA)
            try await WorkspaceRoutesTests.app(setup).test(.router) { client in
                let created = try await client.execute(uri: "/v1/workspaces?wait=running", method: .post, headers: headers, body: WorkspaceRoutesTests.body(WorkspaceRoutesTests.workspace("watched"))) {
                    try Self.decode(Detail.self, $0.body)
                }
                let running = try await client.execute(uri: "/v1/workspaces/\(created.id)/health", method: .get, headers: headers) { response in
                    #expect(response.status == .ok)
                    return try Self.decode(Health.self, response.body)
                }
                #expect(running.healthy && running.container?.running == true && running.memory_limit_mb == 64 && running.problem == nil)

                try await client.execute(uri: "/v1/workspaces/\(created.id)/activity", method: .post, headers: headers) { response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body).contains("last_activity_at"))
                }
                let touched = try await setup.db.withSystem { try await $0.first("SELECT last_activity_at IS NOT NULL AS t FROM workspaces WHERE name = 'watched'")!.decode("t", as: Bool.self) }
                #expect(touched)

                // Stop, start, restart and resize, each an audited mutation; a refused one is not.
                for (suffix, body, expected) in [
                    ("/stop", nil, HTTPResponse.Status.ok), ("/start", nil, .ok), ("/start", nil, .conflict), ("/restart", nil, .ok),
                    ("/resize", #"{"resources":{"cpu":0.5,"memory_mb":96}}"#, .ok), ("/resize", #"{"resources":{"cpu":99,"memory_mb":96}}"#, .badRequest),
                ] as [(String, String?, HTTPResponse.Status)] {
                    try await client.execute(uri: "/v1/workspaces/\(created.id)\(suffix)", method: .post, headers: headers, body: body.map { WorkspaceRoutesTests.body($0) }) {
                        #expect($0.status == expected, "\(suffix): \(String(buffer: $0.body))")
                    }
                }
                try await client.execute(uri: "/v1/workspaces/\(created.id)/stop", method: .post, headers: headers) { #expect($0.status == .ok) }
                let stopped = try await client.execute(uri: "/v1/workspaces/\(created.id)/health", method: .get, headers: headers) { try Self.decode(Health.self, $0.body) }
                #expect(!stopped.healthy && stopped.status == "stopped" && stopped.container?.running == false && stopped.problem != nil)

                // A container removed behind Berth's back is reported, not a server error.
                let container = try await setup.db.withSystem { try await $0.first("SELECT container_id FROM workspaces WHERE name = 'watched'")!.decode("container_id", as: String.self) }
                try await DockerClient(endpoint: try WorkspaceRoutesTests.engine()).removeContainer(container)
                let gone = try await client.execute(uri: "/v1/workspaces/\(created.id)/health", method: .get, headers: headers) { response in
                    #expect(response.status == .ok)
                    return try Self.decode(Health.self, response.body)
                }
                #expect(!gone.healthy && gone.problem?.contains("gone") == true)
                try await client.execute(uri: "/v1/workspaces/\(created.id)", method: .delete, headers: headers) { #expect($0.status == .noContent) }

                // Every mutation left an audit row naming the key, never the key itself.
                let rows = try await setup.db.withSystem { scope in
                    try await scope.execute("SELECT action, actor_type, actor_id, target_id, details::text AS details FROM audit_events ORDER BY id").map {
                        (try $0.decode("action", as: String.self), try $0.decode("actor_type", as: String.self), try $0.decode("actor_id", as: String?.self),
                         try $0.decode("target_id", as: String?.self), try $0.decode("details", as: String.self))
                    }
                }
                #expect(rows.map(\.0) == [
                    "workspace.create", "workspace.stop", "workspace.start", "workspace.restart", "workspace.resize", "workspace.stop", "workspace.delete",
                ], "\(rows.map(\.0))")
                #expect(rows.allSatisfy { $0.1 == "tenant" && $0.2 != nil && $0.3 == created.id })
                // The actor is the key's id (not the key), and a resize says from what to what.
                #expect(rows.allSatisfy { $0.2 == setup.keyAID.description }, "\(rows.map(\.2))")
                let resize = try #require(rows.first { $0.0 == "workspace.resize" })
                let details = try #require(try JSONSerialization.jsonObject(with: Data(resize.4.utf8)) as? [String: String])
                #expect(details["cpu"] == "0.5" && details["memory_mb"] == "96" && details["from_cpu"] == "0.25" && details["from_memory_mb"] == "64", "\(details)")
                #expect(rows.allSatisfy { !$0.4.contains(setup.keyA) && !$0.2!.contains(String(setup.keyA.suffix(20))) })
                // Tenant B cannot read A's audit rows through its own scope: the tenant role may only add them.
                let tenantB = try await setup.db.withSystem { try await TenantStore().get(named: "tenant-b", in: $0)!.id }
                let refused = await #expect(throws: PostgresError.self) {
                    try await setup.db.withTenant(tenantB) { try await $0.first("SELECT count(*) AS n FROM audit_events") }
                }
                #expect(refused?.code == .insufficientPrivilege)
            }
        }
    }
}
