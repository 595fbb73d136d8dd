import Domain
import Foundation
import Persistence

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
            if let unknown = raw[index].keys.first(where: { !Entry.known.contains($0) }) {
                throw Invalid(description: "\(label): unknown field \(unknown)")
            }
            if let problem = ServerName.problem(with: entry.name) { throw Invalid(description: "\(label): \(problem)") }
            guard seen.insert(entry.name).inserted else { throw Invalid(description: "\(label): name \(entry.name) appears twice") }
            let tls = entry.tls_enabled ?? false
            let connection = ServerConnection(
                host: entry.host, dockerPort: entry.docker_port ?? (tls ? 2376 : 2375), tlsEnabled: tls,
                certPath: entry.cert_path, socketPath: entry.socket_path, insecure: entry.insecure ?? false,
                networkMode: entry.network_mode ?? "host"
            )
            if let problem = connection.problem { throw Invalid(description: "\(label) (\(entry.name)): \(problem)") }
            let capacity = Capacity(
                cpuMillis: entry.total_cpu.map { Int(($0 * 1000).rounded()) } ?? defaultCapacity.cpuMillis,
                memoryMB: entry.total_memory_mb ?? defaultCapacity.memoryMB,
                diskGB: entry.total_disk_gb ?? defaultCapacity.diskGB,
                workspaces: entry.max_workspaces ?? defaultCapacity.workspaces
            )
            guard capacity.cpuMillis > 0, capacity.memoryMB > 0, capacity.diskGB >= 0, capacity.workspaces > 0 else {
                throw Invalid(description: "\(label) (\(entry.name)): capacity must be positive")
            }
            result.append(.init(name: entry.name, connection: connection, capacity: capacity, labels: entry.labels ?? [:]))
        }
        return result
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

