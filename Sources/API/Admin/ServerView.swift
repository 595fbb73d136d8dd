import Domain
import Foundation

/// A workspace server as the admin API shows it; never a certificate's contents.
struct ServerView: Encodable {
    struct Figures: Encodable {
        let cpu: Double
        let memory_mb: Int
        let disk_gb: Int
        let workspaces: Int

        init(_ capacity: Capacity) {
            cpu = Double(capacity.cpuMillis) / 1000
            memory_mb = capacity.memoryMB
            disk_gb = capacity.diskGB
            workspaces = capacity.workspaces
        }
    }

    struct Observed: Encodable {
        let ncpu: Int
        let memory_total_mb: Int
        let containers: Int
        let containers_running: Int
        let docker_version: String
        /// Cores and memory Berth's workspace containers used at the last check (nil: not sampled yet).
        let workspace_cpu_cores: Double?
        let workspace_memory_mb: Int?
    }

    let id: ServerID
    let name: String
    let host: String
    let docker_port: Int
    let tls_enabled: Bool
    let cert_path: String?
    let socket_path: String?
    let insecure: Bool
    let network_mode: String
    let labels: [String: LabelValue]
    let status: String
    let schedulable: String
    let last_health_check: Date?
    let last_healthy_at: Date?
    let last_error: String?
    let consecutive_failures: Int
    let capacity: Figures
    let reserved: Figures
    let observed: Observed?
    let created_at: Date?

    init(_ server: WorkspaceServer) {
        let c = server.connection
        id = server.id
        name = server.name
        host = c.host
        docker_port = c.dockerPort
        tls_enabled = c.tlsEnabled
        cert_path = c.certPath
        socket_path = c.socketPath
        insecure = c.insecure
        network_mode = c.networkMode
        labels = server.labels
        status = server.status.rawValue
        schedulable = server.schedulable.rawValue
        last_health_check = server.lastHealthCheck
        last_healthy_at = server.lastHealthyAt
        last_error = server.lastError
        consecutive_failures = server.consecutiveFailures
        capacity = Figures(server.capacity)
        reserved = Figures(server.reserved)
        observed = server.observed.map {
            Observed(
                ncpu: $0.ncpu, memory_total_mb: $0.memoryTotalMB, containers: $0.containers, containers_running: $0.containersRunning,
                docker_version: $0.dockerVersion, workspace_cpu_cores: $0.workspaceCPUCores, workspace_memory_mb: $0.workspaceMemoryMB
            )
        }
        created_at = server.registeredAt
    }
}
