import BerthTestSupport
import Compute
import Domain
import Foundation
import Persistence
import Testing

/// `/metrics` of a real `berth serve` after real work: every family and label the operators' issue
/// lists, and Prometheus' own linter (`promtool check metrics`) finds nothing to say.
@Suite struct MetricsProcessTests {
    @Test func metricsCarryEveryFamilyAndPassPromtool() async throws {
        let promtool = "/usr/bin/promtool"
        guard FileManager.default.isExecutableFile(atPath: promtool) else {
            throw TestEnvironment.Missing(description: "\(promtool) is missing: install Debian's prometheus package (make test does)")
        }
        let served = try await ServedBerth.start(serverName: "metrics-1", environment: ["BERTH_RECONCILE_INTERVAL": "0.5"])
        do {
            let tenant = try await served.tenant("metered", quota: Quota(maxWorkspaces: 1, maxCPUMillis: 8000, maxMemoryMB: 8192))
            let body = #"{"name":"NAME","image":"berth-busybox:latest","resources":{"cpu":0.1,"memory_mb":32,"disk_gb":0}}"#
            let created = try await served.call(.post, "/v1/workspaces?wait=running", body: body.replacingOccurrences(of: "NAME", with: "one"), bearer: tenant.key)
            #expect(created.status == 201, "\(created.text)")
            let refused = try await served.call(.post, "/v1/workspaces", body: body.replacingOccurrences(of: "NAME", with: "two"), bearer: tenant.key)
            #expect(refused.status == 403, "a failed create: \(refused.text)")
            #expect(try await served.call(.get, "/admin/cluster", bearer: served.adminToken).status == 200)
            // A reconciler pass has run by now (every 0.5 s).
            try await Task.sleep(for: .seconds(1))
            let scraped = try await served.call(.get, "/metrics")
            #expect(scraped.status == 200)
            let text = scraped.text
            let lines = text.split(separator: "\n").filter { !$0.hasPrefix("#") }
            func has(_ family: String, _ labels: [String] = []) -> Bool {
                lines.contains { line in line.hasPrefix(family + "{") || line.hasPrefix(family + " ") ? labels.allSatisfy { line.contains($0) } : false }
            }
            let expected: [(String, [String])] = [
                ("berth_http_requests_total", [#"route="/v1/workspaces""#, #"method="POST""#, #"status="201""#]),
                ("berth_http_requests_total", [#"route="/admin/cluster""#, #"status="200""#]),
                ("berth_http_request_duration_seconds_bucket", [#"route="/v1/workspaces""#, "le="]),
                ("berth_placements_total", [#"outcome="placed""#, #"strategy="spread""#]),
                ("berth_placements_total", [#"outcome="quota_exceeded""#]),
                ("berth_placement_duration_seconds_bucket", [#"strategy="spread""#]),
                ("berth_docker_requests_total", [#"server="metrics-1""#, #"operation="POST /containers/{id}/start""#, #"outcome="ok""#]),
                ("berth_docker_request_duration_seconds_count", [#"operation="POST /containers/create""#]),
                ("berth_server_healthy", [#"server="metrics-1""#]),
                ("berth_server_cpu_cores", [#"kind="total""#]), ("berth_server_cpu_cores", [#"kind="reserved""#]),
                ("berth_server_memory_bytes", [#"kind="reserved""#]), ("berth_server_workspaces", [#"kind="total""#]),
                ("berth_workspaces", [#"status="running""#]),
                ("berth_usage_intervals_open", []),
                ("berth_db_pool_connections", [#"state="in_use""#]), ("berth_db_pool_waiting", []),
                ("berth_db_pool_wait_seconds_count", []),
                ("berth_reconciler_passes_total", []), ("berth_reconciler_corrections_total", [#"kind="reservations_corrected""#]),
                ("berth_scaling_servers_needed", []), ("berth_scaling_utilisation_ratio", [#"resource="cpu""#]),
            ]
            for (family, labels) in expected {
                #expect(has(family, labels), "\(family) with \(labels) is missing from /metrics")
            }
            #expect(lines.contains { $0.hasPrefix("berth_usage_intervals_open ") && $0.hasSuffix(" 1.0") || $0.hasSuffix(" 1") }, "one interval is open")
            // Prometheus' linter.
            let file = NSTemporaryDirectory() + "berth-metrics-\(UUID().uuidString.prefix(8)).txt"
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: file) }
            let lint = try TestEnvironment.run(["/bin/sh", "-c", "\(promtool) check metrics < '\(file)' 2>&1; echo \"exit $?\""])
            #expect(lint.hasSuffix("exit 0\n"), "promtool check metrics: \(lint)")
            #expect(served.terminate() == 0)
        } catch {
            await served.finish()
            throw error
        }
        await served.finish()
    }
}
