import BerthTestSupport
import Domain
import Foundation
import Persistence
import Testing

/// `berth server add|list|cordon|uncordon|drain|remove` from a shell: the admin API's validation and
/// audit rows, against a real engine.
@Suite struct ServerCommandTests {
    @Test func theFleetFromAShell() async throws {
        try await withTestDatabase { testDB, db in
            let berth = try ServedBerth.binary
            let environment = ["BERTH_DATABASE_URL": testDB.appURL]
            let engine = try ServedBerth.hostPort("BERTH_TEST_DOCKER_PLAIN_1")
            func json(_ text: String) throws -> [String: Any] {
                guard let line = text.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
                    let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
                else { throw TestEnvironment.Missing(description: "no JSON line in: \(text)") }
                return object
            }
            let added = try json(try TestEnvironment.run([
                berth, "server", "add", "--name", "ws-shell", "--host", engine.host, "--port", String(engine.port), "--cpu", "3",
                "--memory-mb", "2048", "--label", "region=eu",
            ], environment: environment))
            #expect(added["name"] as? String == "ws-shell" && (added["connection"] as? [String: Any])?["ok"] as? Bool == true, "\(added)")
            #expect((added["capacity"] as? [String: Any])?["cpu"] as? Double == 3)
            let listed = try TestEnvironment.run([berth, "server", "list"], environment: environment)
            #expect(listed.contains(#""name":"ws-shell""#) && listed.contains(#""network_mode":"none""#), "\(listed)")
            for (command, state) in [("cordon", "cordoned"), ("drain", "draining"), ("uncordon", "active")] {
                let line = try json(try TestEnvironment.run([berth, "server", command, "ws-shell"], environment: environment))
                #expect(line["schedulable"] as? String == state, "\(command): \(line)")
            }
            // The admin API's validation, said in one line; an unknown server likewise.
            for (arguments, message) in [
                (["server", "add", "--name", "Bad Name", "--host", "127.0.0.1"], "name"),
                (["server", "add", "--name", "ws-x", "--host", "127.0.0.1", "--port", "70000"], "port"),
                (["server", "cordon", "ws-nowhere"], "no server named ws-nowhere"),
                (["server", "drain", "ws-shell", "--deadline", "0"], "--deadline"),
            ] {
                do {
                    _ = try TestEnvironment.run([berth] + arguments, environment: environment)
                    Issue.record("\(arguments) succeeded")
                } catch let failure as TestEnvironment.Missing {
                    #expect(failure.description.contains(message), "\(arguments): \(failure.description)")
                }
            }
            let removed = try json(try TestEnvironment.run([berth, "server", "remove", "ws-shell"], environment: environment))
            #expect(removed["removed"] as? String == "ws-shell")
            #expect(try await db.withSystem { try await WorkspaceServerStore().list(in: $0) }.isEmpty)
            let actions = try await db.withSystem { scope in
                try await scope.execute("SELECT actor_type, action FROM audit_events ORDER BY id").map {
                    "\(try $0.decode("actor_type", as: String.self)) \(try $0.decode("action", as: String.self))"
                }
            }
            #expect(actions == ["admin server.add", "admin server.cordon", "admin server.drain", "admin server.uncordon", "admin server.remove"], "\(actions)")
        }
    }
}
