import Metrics
import Persistence

/// One Docker Engine call, counted and timed through swift-metrics: `berth_docker_requests_total`
/// and `berth_docker_request_duration_seconds`, by server, operation (the path with ids taken out,
/// `POST /containers/{id}/start`) and outcome (`ok`, `http_404`, `unreachable`, `timeout`, …).
struct DockerCallMetrics {
    let server: String
    let operation: String

    init(server: String, method: CurlRequest.Method, path: String) {
        self.server = server.isEmpty ? "unnamed" : server
        operation = method.rawValue + " " + Self.template(path)
    }

    func record(outcome: String, since started: ContinuousClock.Instant) {
        Counter(label: "berth_docker_requests_total", dimensions: [("server", server), ("operation", operation), ("outcome", outcome)]).increment()
        Timer(label: "berth_docker_request_duration_seconds", dimensions: [("server", server), ("operation", operation)], preferredDisplayUnit: .seconds)
            .recordInterval(since: started)
    }

    /// The path with what names one object (a container, an exec, a network) replaced by `{id}`, so
    /// the operations are few: `/containers/3f2a…/start` → `/containers/{id}/start`.
    static func template(_ path: String) -> String {
        let collections: Set<Substring> = ["containers", "exec", "networks", "images", "volumes"]
        let verbs: Set<Substring> = ["create", "json", "prune", "load"]
        var parts = path.split(separator: "/", omittingEmptySubsequences: false)
        for index in parts.indices.dropFirst() where collections.contains(parts[index - 1]) && !verbs.contains(parts[index]) && !parts[index].isEmpty {
            parts[index] = "{id}"
        }
        return parts.joined(separator: "/")
    }
}
