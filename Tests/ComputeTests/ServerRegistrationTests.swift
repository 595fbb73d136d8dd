import BerthTestSupport
import Compute
import Domain
import Foundation
import Persistence
import Testing

@Suite struct ServerRegistrationTests {
    @Test func parsesTheLocalFleetList() throws {
        let certs = try TestEnvironment.require("BERTH_TEST_DOCKER_CERTS") + "/client"
        let json = """
            [{"name":"ws-local-1","host":"127.0.0.1","docker_port":23751,"tls_enabled":false,"total_cpu":2.5,"total_memory_mb":4096,"total_disk_gb":20,"max_workspaces":20,"labels":{"region":"eu","gpu":true}},
             {"name":"ws-eu-1","host":"10.0.0.7","docker_port":2376,"tls_enabled":true,"cert_path":"\(certs)"}]
            """
        let parsed = try ServerRegistrations.parse(json)
        #expect(parsed.count == 2)
        #expect(parsed[0].capacity == Capacity(cpuMillis: 2500, memoryMB: 4096, diskGB: 20, workspaces: 20))
        #expect(parsed[0].labels == ["region": .string("eu"), "gpu": .bool(true)])
        #expect(parsed[1].connection.tlsEnabled && parsed[1].connection.certPath == certs)
        #expect(parsed[1].capacity == ServerRegistrations.defaultCapacity)
    }

    @Test(arguments: [
        ("{}", "JSON list"),
        ("[{\"name\":\"a\"}]", "missing host"),
        ("[{\"name\":\"Bad Name\",\"host\":\"127.0.0.1\"}]", "name may contain"),
        ("[{\"name\":\"a\",\"host\":\"10.1.2.3\",\"docker_port\":2375}]", "plain TCP to 10.1.2.3 is refused"),
        ("[{\"name\":\"a\",\"host\":\"127.0.0.1\",\"colour\":\"red\"}]", "unknown field colour"),
        ("[{\"name\":\"a\",\"host\":\"127.0.0.1\"},{\"name\":\"a\",\"host\":\"127.0.0.1\"}]", "appears twice"),
        ("[{\"name\":\"a\",\"host\":\"127.0.0.1\",\"docker_port\":\"x\"}]", "wrong type"),
        ("[{\"name\":\"a\",\"host\":\"127.0.0.1\",\"tls_enabled\":true}]", "cert_path"),
        ("[{\"name\":\"a\",\"host\":\"127.0.0.1\",\"tls_enabled\":true,\"cert_path\":\"/etc/berth/none\"}]", "is not a folder"),
    ])
    func refusesBadEntriesNamingTheProblem(_ json: String, _ expected: String) {
        do {
            _ = try ServerRegistrations.parse(json)
            Issue.record("accepted \(json)")
        } catch {
            #expect(error.description.contains(expected), "\(error.description)")
        }
    }

    @Test func upsertByNameKeepsHealthAndReservations() async throws {
        try await withTestDatabase { _, db in
            let store = WorkspaceServerStore()
            let first = try ServerRegistrations.parse(#"[{"name":"ws-a","host":"127.0.0.1","docker_port":23751}]"#)[0]
            let created = try await db.withSystem { try await store.upsert(first, in: $0) }
            try await db.withSystem { scope in
                try await scope.execute("UPDATE workspace_servers SET status = 'healthy', current_workspaces = 2 WHERE id = \(created.id)")
            }
            var changed = first
            changed.capacity.workspaces = 30
            changed.connection.dockerPort = 23752
            let updated = try await db.withSystem { try await store.upsert(changed, in: $0) }
            #expect(updated.id == created.id)
            #expect(updated.capacity.workspaces == 30 && updated.connection.dockerPort == 23752)
            #expect(updated.status == .healthy && updated.reserved.workspaces == 2)
            #expect(try await db.withSystem { try await store.list(in: $0) }.count == 1)
        }
    }
}
