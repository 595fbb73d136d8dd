import Domain
import Foundation
import Persistence
import Secrets

/// Parses `BERTH_WORKSPACE_SERVERS`: a JSON list of servers to register (upsert by name) at start.
public enum ServerRegistrations {
    /// A problem with the list, naming the entry and field.
    public struct Invalid: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// Capacity assumed when an entry does not give it.
    public static let defaultCapacity = Capacity(cpuMillis: 2_000, memoryMB: 4_096, diskGB: 20, workspaces: 10)

    struct Entry: Decodable {
        let name: String
        let host: String
        let docker_port: Int?
        let tls_enabled: Bool?
        let cert_path: String?
        let socket_path: String?
        let insecure: Bool?
        let network_mode: String?
        let total_cpu: Double?
        let total_memory_mb: Int?
        let total_disk_gb: Int?
        let max_workspaces: Int?
        let labels: [String: LabelValue]?

        static let known: Set<String> = [
            "name", "host", "docker_port", "tls_enabled", "cert_path", "socket_path", "insecure", "network_mode",
            "total_cpu", "total_memory_mb", "total_disk_gb", "max_workspaces", "labels",
        ]
    }

    public static func parse(_ json: String) throws(Invalid) -> [WorkspaceServerStore.Registration] {
        let data = Data(json.utf8)
        guard let raw = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
            throw Invalid(description: "BERTH_WORKSPACE_SERVERS must be a JSON list of objects")
        }
        let entries: [Entry]
        do {
            entries = try JSONDecoder().decode([Entry].self, from: data)
        } catch {
            throw Invalid(description: "BERTH_WORKSPACE_SERVERS: \(Self.describe(error))")
        }
        var seen = Set<String>()
        var result: [WorkspaceServerStore.Registration] = []
        for (index, entry) in entries.enumerated() {
            let label = "BERTH_WORKSPACE_SERVERS[\(index)]"
            let registration = try validate(entry, keys: Set(raw[index].keys), label: label)
            guard seen.insert(entry.name).inserted else { throw Invalid(description: "\(label): name \(entry.name) appears twice") }
            result.append(registration)
        }
        return result
    }

    /// One server, as `POST /admin/servers` takes it: the same fields and rules as an entry of the list.
    public static func parseServer(_ body: [UInt8]) throws(Invalid) -> WorkspaceServerStore.Registration {
        let data = Data(body)
        guard let raw = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw Invalid(description: "the body must be a JSON object")
        }
        let entry: Entry
        do {
            entry = try JSONDecoder().decode(Entry.self, from: data)
        } catch {
            throw Invalid(description: Self.describe(error))
        }
        return try validate(entry, keys: Set(raw.keys), label: nil)
    }

    static func validate(_ entry: Entry, keys: Set<String>, label: String?) throws(Invalid) -> WorkspaceServerStore.Registration {
        func invalid(_ message: String) -> Invalid { Invalid(description: label.map { "\($0): \(message)" } ?? message) }
        if let unknown = keys.sorted().first(where: { !Entry.known.contains($0) }) { throw invalid("unknown field \(unknown)") }
        if let problem = ServerName.problem(with: entry.name) { throw invalid(problem) }
        let tls = entry.tls_enabled ?? false
        let connection = ServerConnection(
            host: entry.host, dockerPort: entry.docker_port ?? (tls ? 2376 : 2375), tlsEnabled: tls,
            certPath: entry.cert_path, socketPath: entry.socket_path, insecure: entry.insecure ?? false,
            networkMode: entry.network_mode ?? "none"
        )
        if let problem = connection.problem { throw invalid("\(entry.name): \(problem)") }
        if tls, let folder = entry.cert_path, let problem = CertificateFolder.problem(at: folder) { throw invalid("\(entry.name): \(problem)") }
        let capacity = Capacity(
            cpuMillis: entry.total_cpu.map { $0.isFinite && abs($0) < 1e6 ? Int(($0 * 1000).rounded()) : -1 } ?? defaultCapacity.cpuMillis,
            memoryMB: entry.total_memory_mb ?? defaultCapacity.memoryMB,
            diskGB: entry.total_disk_gb ?? defaultCapacity.diskGB,
            workspaces: entry.max_workspaces ?? defaultCapacity.workspaces
        )
        if let problem = capacity.problem { throw invalid("\(entry.name): \(problem)") }
        if let problem = ServerName.labelsProblem(entry.labels ?? [:]) { throw invalid("\(entry.name): \(problem)") }
        return .init(name: entry.name, connection: connection, capacity: capacity, labels: entry.labels ?? [:])
    }

    static func describe(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .keyNotFound(let key, let context)?:
            return "entry \(context.codingPath.first?.intValue.map(String.init) ?? "?") is missing \(key.stringValue)"
        case .typeMismatch(_, let context)?, .valueNotFound(_, let context)?, .dataCorrupted(let context)?:
            return "field \(context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")) has the wrong type"
        default:
            return "not valid JSON"
        }
    }
}

