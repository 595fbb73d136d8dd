import BerthTestSupport
import Compute
import Domain
import Foundation
import Persistence
import Testing

/// Logs of a real `berth serve`: JSON lines, each request's id on every line of the work it causes
/// (the create's background work included), the id on every answer, and no secret anywhere.
@Suite struct RequestIDProcessTests {
    @Test func logsAreJSONWithTheRequestsIDAndNoSecrets() async throws {
        let served = try await ServedBerth.start(serverName: "rid-1", environment: ["BERTH_LOG_LEVEL": "trace"])
        do {
            let tenant = try await served.tenant("traced")
            let created = try await served.call(
                .post, "/v1/workspaces?wait=running", body: #"{"name":"traced","image":"berth-busybox:latest","resources":{"cpu":0.1,"memory_mb":32,"disk_gb":0}}"#,
                bearer: tenant.key, headers: [(name: "X-Request-Id", value: "req-create.1")]
            )
            #expect(created.status == 201, "\(created.text)")
            #expect(created.headers.first { $0.name.lowercased() == "x-request-id" }?.value == "req-create.1")
            // Not an id Berth repeats (too long, or characters a log line should not carry): a new one.
            for presented in [String(repeating: "x", count: 200), "two words", "new\\nline"] {
                let answer = try await served.call(.get, "/v1/workspaces", bearer: tenant.key, headers: [(name: "X-Request-Id", value: presented)])
                let id = answer.headers.first { $0.name.lowercased() == "x-request-id" }?.value ?? ""
                #expect(id.count == 32 && id.allSatisfy(\.isHexDigit), "\(presented) was replaced: \(id)")
            }
            // Errors, unauthenticated requests and unknown routes carry one too.
            for (path, key) in [("/v1/workspaces", "berth_not-a-key"), ("/nowhere", tenant.key)] {
                let answer = try await served.call(.get, path, bearer: key)
                #expect(answer.status >= 400 && answer.headers.contains { $0.name.lowercased() == "x-request-id" }, "\(path) \(answer.status)")
            }
            #expect(served.terminate() == 0)
            let log = try String(contentsOfFile: served.logPath, encoding: .utf8)
            let lines = log.split(separator: "\n")
            var objects: [[String: Any]] = []
            for line in lines {
                guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
                    Issue.record("not a JSON line: \(line.prefix(200))")
                    continue
                }
                objects.append(object)
            }
            let traced = objects.filter { $0["request_id"] as? String == "req-create.1" }
            let messages = Set(traced.compactMap { $0["msg"] as? String })
            #expect(messages.contains("workspace placed"), "the request's own line: \(messages)")
            #expect(messages.contains("workspace provisioned"), "the background work it started carries its id: \(messages)")
            #expect(!log.contains(tenant.key) && !log.contains(served.adminToken), "a secret is in the log")
        } catch {
            await served.finish()
            throw error
        }
        await served.finish()
    }
}
