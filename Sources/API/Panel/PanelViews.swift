import Domain
import Foundation
import Persistence

// What the templates show. Mustache reads stored properties by name, so these are plain structs of
// text, flags and lists. An optional that is nil makes Mustache look further up the stack, so none
// of them reuses a name of the page itself (`title`, `error`, `notice`, `csrf`, `nav`, `body`).

/// A server as a row of the table and the head of its own page.
struct ServerRow {
    let id: String
    let name: String
    let address: String
    let tls: Bool
    let status: String
    let schedulable: String
    let isActive: Bool
    let isDraining: Bool
    let lastCheck: String?
    let lastCheckAgo: String?
    let lastCheckISO: String?
    let lastError: String?
    let labels: [PanelLabel]
    let hasLabels: Bool
    let dockerVersion: String?
    let cpu: PanelBar
    let cpuObserved: PanelBar?
    let memory: PanelBar
    let memoryObserved: PanelBar?
    let disk: PanelBar
    let slots: PanelBar
    let running: PanelBar?

    init(_ server: WorkspaceServer, now: Date = Date()) {
        let c = server.connection, total = server.capacity, reserved = server.reserved
        id = server.id.description
        name = server.name
        address = c.socketPath.map { "unix://\($0)" } ?? "\(c.host):\(c.dockerPort)"
        tls = c.tlsEnabled
        status = server.status.rawValue
        schedulable = server.schedulable.rawValue
        isActive = server.schedulable == .active
        isDraining = server.schedulable == .draining
        lastCheck = server.lastHealthCheck.map(PanelFormat.time)
        lastCheckAgo = server.lastHealthCheck.map { PanelFormat.ago($0, now: now) }
        lastCheckISO = server.lastHealthCheck.map(PanelFormat.iso)
        lastError = server.lastError
        labels = PanelFormat.labels(server.labels)
        hasLabels = !server.labels.isEmpty
        dockerVersion = server.observed?.dockerVersion
        let totalCores = PanelFormat.cores(millis: total.cpuMillis)
        cpu = PanelBar(label: "reserved", used: Double(reserved.cpuMillis), total: Double(total.cpuMillis),
                       text: "\(PanelFormat.cores(millis: reserved.cpuMillis)) / \(totalCores) cores", title: "CPU reserved by workspaces, of the server's total")
        memory = PanelBar(label: "reserved", used: Double(reserved.memoryMB), total: Double(total.memoryMB),
                          text: "\(reserved.memoryMB) / \(total.memoryMB) MB", title: "Memory reserved by workspaces, of the server's total")
        disk = PanelBar(label: "reserved", used: Double(reserved.diskGB), total: Double(total.diskGB),
                        text: "\(reserved.diskGB) / \(total.diskGB) GB", title: "Disk reserved by workspaces, of the server's total")
        slots = PanelBar(label: "reserved", used: Double(reserved.workspaces), total: Double(total.workspaces),
                         text: "\(reserved.workspaces) / \(total.workspaces)", title: "Workspaces placed, of the server's maximum")
        // What the health monitor last observed Berth's workspace containers using, against the
        // server's total (CPU is a rate between two checks, so it appears from the second check on),
        // and the running containers Docker reports against the maximum.
        let observed = server.observed
        cpuObserved = observed?.workspaceCPUCores.map { cores in
            PanelBar(label: "observed", used: cores * 1000, total: Double(total.cpuMillis),
                     text: "\(PanelFormat.number((cores * 100).rounded() / 100)) / \(totalCores) cores in use",
                     title: "CPU Berth's workspace containers used at the last health check, of the server's total (Docker reports \(observed?.ncpu ?? 0) CPUs)")
        }
        memoryObserved = observed?.workspaceMemoryMB.map { used in
            PanelBar(label: "observed", used: Double(used), total: Double(total.memoryMB), text: "\(used) / \(total.memoryMB) MB in use",
                     title: "Memory Berth's workspace containers used at the last health check, of the server's total (Docker reports \(observed?.memoryTotalMB ?? 0) MB)")
        }
        running = observed.map { observed in
            PanelBar(label: "running", used: Double(observed.containersRunning), total: Double(total.workspaces),
                     text: "\(observed.containersRunning) containers", title: "Running containers Docker reports, of the server's maximum")
        }
    }
}

/// The cluster roll-up of `/admin/cluster`, as figures with stable ids.
struct ClusterView {
    struct Row {
        /// `cpu`, `memory_mb`, `disk_gb` or `workspaces`: the JSON field, and the element ids' suffix.
        let key: String
        let label: String
        let total: String
        let reserved: String
        let reservedBar: PanelBar
        let schedulable: String
        let observed: String
        let observedText: String
    }

    let servers: Int
    let healthy: Int
    let unhealthy: Int
    let offline: Int
    let cordoned: Int
    let draining: Int
    let rows: [Row]

    init(_ cluster: FleetQueries.Cluster) {
        servers = cluster.servers
        healthy = cluster.servers_by_status["healthy"] ?? 0
        unhealthy = cluster.servers_by_status["unhealthy"] ?? 0
        offline = cluster.servers_by_status["offline"] ?? 0
        cordoned = cluster.servers_by_schedulable["cordoned"] ?? 0
        draining = cluster.servers_by_schedulable["draining"] ?? 0
        let t = cluster.total, r = cluster.reserved, s = cluster.schedulable_total, o = cluster.observed
        func row(_ key: String, _ label: String, _ total: Double, _ reserved: Double, _ schedulable: Double, _ observed: Int, _ observedText: String, unit: String) -> Row {
            let totalText = PanelFormat.number(total), reservedText = PanelFormat.number(reserved)
            return Row(
                key: key, label: label, total: totalText, reserved: reservedText,
                reservedBar: PanelBar(label: "reserved", used: reserved, total: total, text: "\(reservedText) / \(totalText)\(unit)", title: "Reserved of the total over all servers"),
                schedulable: PanelFormat.number(schedulable), observed: String(observed), observedText: observedText
            )
        }
        rows = [
            row("cpu", "CPU (cores)", t.cpu, r.cpu, s.cpu, o.ncpu, "\(o.ncpu) CPUs", unit: " cores"),
            row("memory_mb", "Memory (MB)", Double(t.memory_mb), Double(r.memory_mb), Double(s.memory_mb), o.memory_total_mb, "\(o.memory_total_mb) MB", unit: " MB"),
            row("disk_gb", "Disk (GB)", Double(t.disk_gb), Double(r.disk_gb), Double(s.disk_gb), 0, "not reported", unit: " GB"),
            row("workspaces", "Workspaces", Double(t.workspaces), Double(r.workspaces), Double(s.workspaces), o.containers_running,
                "\(o.containers_running) of \(o.containers) containers running", unit: ""),
        ]
    }
}

/// A workspace in the admin's tables.
struct WorkspaceRow {
    let id: String
    let name: String
    let tenant: String
    let tenantID: String
    let status: String
    let image: String
    let cpu: String
    let memory: Int
    let created: String
    let createdISO: String
    let failure: String?
    /// The repository, where the clone stands, and why it failed (never the token).
    let repository: String?
    let gitStatus: String?
    let gitError: String?
    /// When it stops if it stays idle, and at the end of its lifetime.
    let idleStopAt: String?
    let idleStopISO: String?
    let expiresAt: String?
    let movingTo: String?
    let moveError: String?

    init(_ line: FleetQueries.WorkspaceLine) {
        id = line.id.description
        name = line.name
        tenant = line.tenant.name
        tenantID = line.tenant.id.description
        status = line.status
        image = line.image
        cpu = PanelFormat.number(line.resources.cpu)
        memory = line.resources.memory_mb
        created = PanelFormat.time(line.created_at)
        createdISO = PanelFormat.iso(line.created_at)
        failure = line.error.map { error in line.error_detail.map { "\(error) (\($0))" } ?? error }
        repository = line.repository.map { repository in repository.branch.map { "\(repository.url) @ \($0)" } ?? repository.url }
        idleStopAt = line.idle_stop_at.map(PanelFormat.time)
        idleStopISO = line.idle_stop_at.map(PanelFormat.iso)
        expiresAt = line.expires_at.map(PanelFormat.time)
        movingTo = line.moving_to
        moveError = line.move_error
        gitStatus = line.repository?.status
        gitError = line.repository?.error
    }
}

/// A tenant in the list and at the head of its page.
struct TenantRow {
    let id: String
    let name: String
    let status: String
    let quota: String
    let created: String
    let createdISO: String
    let liveWorkspaces: Int

    init(_ tenant: Tenant, liveWorkspaces: Int = 0) {
        id = tenant.id.description
        name = tenant.name
        status = tenant.status.rawValue
        quota = "\(tenant.quota.maxWorkspaces) workspaces, \(PanelFormat.cores(millis: tenant.quota.maxCPUMillis)) cores, \(tenant.quota.maxMemoryMB) MB"
        created = PanelFormat.time(tenant.createdAt)
        createdISO = PanelFormat.iso(tenant.createdAt)
        self.liveWorkspaces = liveWorkspaces
    }
}

/// An API key: its prefix, never the key.
struct KeyRow {
    let id: String
    let tenantID: String
    let name: String
    let prefix: String
    let created: String
    let lastUsed: String?
    let revokedAt: String?
    let revoked: Bool

    init(_ record: APIKeyRecord) {
        id = record.id.description
        tenantID = record.tenantID.description
        name = record.name
        prefix = record.prefix
        created = PanelFormat.time(record.createdAt)
        lastUsed = record.lastUsedAt.map(PanelFormat.time)
        revokedAt = record.revokedAt.map(PanelFormat.time)
        revoked = record.revokedAt != nil
    }
}

/// One audit row.
struct AuditRow {
    let created: String
    let createdISO: String
    let actorType: String
    let actorID: String?
    let action: String
    let targetType: String?
    let targetID: String?
    let details: [PanelLabel]

    init(_ event: AuditStore.Event) {
        created = PanelFormat.time(event.created_at)
        createdISO = PanelFormat.iso(event.created_at)
        actorType = event.actor_type
        actorID = event.actor_id
        action = event.action
        targetType = event.target_type
        targetID = event.target_id
        details = PanelFormat.labels(event.details)
    }
}

/// An option of a `<select>`.
struct PanelOption {
    let value: String
    let label: String
    let selected: Bool

    static func list(_ values: [String], selected: String) -> [PanelOption] {
        values.map { PanelOption(value: $0, label: $0, selected: $0 == selected) }
    }
}
