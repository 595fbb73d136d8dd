import BerthTestSupport
import Compute
import Domain
import Foundation
import Testing

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
