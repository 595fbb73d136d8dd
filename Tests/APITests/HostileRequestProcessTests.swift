import BerthTestSupport
import Compute
import Domain
import Foundation
import Persistence
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Requests crafted to break Berth, against a real `berth serve`: each gets a clear 4xx, and the
/// same process goes on answering.
@Suite struct HostileRequestProcessTests {
    /// Cursors at both Int64 extremes, past year 9999, overlong and garbage: `400 validation_failed`
    /// on both list routes (before, the first one trapped the process with "Illegal instruction").
    @Test func craftedCursorsAreRefusedAndTheProcessLives() async throws {
        let served = try await ServedBerth.start(serverName: "hostile-1")
        let tenant = try await served.tenant("hostile")
        let id = WorkspaceID.random()
        func encoded(_ text: String) -> String {
            Data(text.utf8).base64EncodedString().addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        }
        let cursors = [
            encoded("9223372036854775807|\(id)"), encoded("-9223372036854775808|\(id)"), encoded("253402300800000000|\(id)"),
            encoded("-1|\(id)"), encoded("99999999999999999999999|\(id)"), encoded("1|not-a-uuid"), encoded("1|\(id)|extra"),
            "not%20base64!", encoded(String(repeating: "9", count: 400)),
        ]
        for cursor in cursors {
            for (path, bearer) in [("/v1/workspaces", tenant.key), ("/admin/workspaces", served.adminToken)] {
                let response = try await served.call(.get, "\(path)?cursor=\(cursor)", bearer: bearer)
                #expect(response.status == 400, "\(path) cursor \(cursor): \(response.status) \(response.text)")
                #expect(response.errorCode == "validation_failed", "\(response.text)")
                #expect(response.text.contains("\"field\":\"cursor\""), "\(response.text)")
            }
        }
        #expect(served.alive, "berth serve is still running")
        #expect(try await served.call(.get, "/health").status == 200)
        // A real cursor still pages.
        #expect(try await served.call(.get, "/v1/workspaces?cursor=\(encoded("1767225600000000|\(id)"))", bearer: tenant.key).status == 200)
        #expect(served.terminate() == 0)
        await served.finish()
    }
}

/// `berth serve` will not serve tenants as a role that row-level security does not bind.
@Suite struct PrivilegedRoleTests {
    /// The owner bypasses row-level security (migrations need it); a member of the owner's role
    /// could turn it off; a superuser escapes it: none may serve tenants.
    @Test(arguments: [("owner", "has BYPASSRLS"), ("member", "owns Berth's tables"), ("superuser", "is a superuser")])
    func serveRefusesARoleThatEscapesRowLevelSecurity(_ role: String, _ reason: String) async throws {
        let testDB = try await TestDatabase.make()
        let member = "berth_member_\(UUID().uuidString.prefix(8).lowercased())"
        if role == "member" {
            let superuser = testDB.superuser()
            try await superuser.withConnection { try await $0.executeScript("CREATE ROLE \(member) LOGIN PASSWORD 'member-password' NOBYPASSRLS IN ROLE berth_owner") }
            superuser.shutdown()
        }
        let url = switch role {
        case "owner": testDB.ownerURL
        case "member": "postgresql://\(member):member-password@" + (testDB.ownerURL.split(separator: "@", maxSplits: 1).last.map(String.init) ?? "")
        default: testDB.superuserDatabaseURL
        }
        let log = NSTemporaryDirectory() + "berth-role-\(UUID().uuidString.prefix(8)).log"
        defer { try? FileManager.default.removeItem(atPath: log) }
        let pid = try TestEnvironment.spawn([try ServedBerth.binary, "serve", "--address", "127.0.0.1:\(try TestEnvironment.freePort())"], environment: [
            "BERTH_DATABASE_URL": url, "BERTH_SQL_DIR": TestEnvironment.repositoryRoot.appendingPathComponent("sql").path,
        ], logPath: log)
        // It must exit by itself, at once; one still running after 15 s is serving and is stopped.
        var status: Int32 = 0
        let deadline = ContinuousClock.now + .seconds(15)
        var exited = false
        while !exited && ContinuousClock.now < deadline {
            exited = waitpid(pid, &status, WNOHANG) == pid
            if !exited { try await Task.sleep(for: .milliseconds(50)) }
        }
        if !exited { _ = TestEnvironment.terminate(pid) }
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(exited && status != 0, "berth serve kept running as the \(role)")
        #expect(output.contains(reason), "\(output)")
        #expect(!output.contains(url), "the refusal does not repeat the connection string")
        if role == "member" {
            let superuser = testDB.superuser()
            try await superuser.withConnection { try await $0.executeScript("DROP ROLE IF EXISTS \(member)") }
            superuser.shutdown()
        }
        await testDB.drop()
    }
}
