import Foundation

/// A Docker Engine that workspaces are placed on, as Berth records it.
public struct WorkspaceServer: Sendable, Equatable {
    public var id: ServerID
    public var name: String
    public var connection: ServerConnection
    public var capacity: Capacity
    public var labels: [String: LabelValue]
    public var status: HealthStatus
    public var schedulable: Schedulable
    public var lastHealthCheck: Date?
    public var lastHealthyAt: Date?
    public var lastError: String?
    public var consecutiveFailures: Int
    /// Committed reservations: what placement works from.
    public var reserved: Capacity
    public var observed: ObservedUsage?
    /// When the server was registered.
    public var registeredAt: Date?
    /// When the reconciler gave its workspaces up, offline for too long; nil while it is not lost.
    public var lostAt: Date?

    public init(
        id: ServerID, name: String, connection: ServerConnection, capacity: Capacity,
        labels: [String: LabelValue] = [:], status: HealthStatus = .unhealthy, schedulable: Schedulable = .active,
        lastHealthCheck: Date? = nil, lastHealthyAt: Date? = nil, lastError: String? = nil,
        consecutiveFailures: Int = 0, reserved: Capacity = .zero, observed: ObservedUsage? = nil,
        registeredAt: Date? = nil, lostAt: Date? = nil
    ) {
        self.id = id
        self.name = name
        self.connection = connection
        self.capacity = capacity
        self.labels = labels
        self.status = status
        self.schedulable = schedulable
        self.lastHealthCheck = lastHealthCheck
        self.lastHealthyAt = lastHealthyAt
        self.lastError = lastError
        self.consecutiveFailures = consecutiveFailures
        self.reserved = reserved
        self.observed = observed
        self.registeredAt = registeredAt
        self.lostAt = lostAt
    }

    /// Health as the monitor last saw it.
    public enum HealthStatus: String, Sendable, Codable, CaseIterable {
        case healthy, unhealthy, offline
    }

    /// Whether placement may put new workspaces here.
    public enum Schedulable: String, Sendable, Codable, CaseIterable {
        case active, cordoned, draining
    }
}

/// How to reach a Docker Engine.
public struct ServerConnection: Sendable, Equatable, Codable {
    public var host: String
    public var dockerPort: Int
    public var tlsEnabled: Bool
    /// Folder with `ca.pem`, `cert.pem` and `key.pem` when TLS is on.
    public var certPath: String?
    /// A unix socket to use instead of TCP, when given.
    public var socketPath: String?
    /// Allows plain TCP to a host that is not loopback.
    public var insecure: Bool
    /// Docker network mode for workspace containers on this server: `none` (no network, the
    /// default); `isolated`, a bridge network of its own per workspace (nothing else on it, so no
    /// other workspace; the host's loopback unreachable; egress as the engine routes it); or `host`,
    /// which an admin must set on purpose: a workspace then reaches every service on the host's
    /// loopback (other engines' APIs, the database, Berth) and every other workspace's ports.
    public var networkMode: String

    public init(
        host: String, dockerPort: Int, tlsEnabled: Bool = false, certPath: String? = nil,
        socketPath: String? = nil, insecure: Bool = false, networkMode: String = "none"
    ) {
        self.host = host
        self.dockerPort = dockerPort
        self.tlsEnabled = tlsEnabled
        self.certPath = certPath
        self.socketPath = socketPath
        self.insecure = insecure
        self.networkMode = networkMode
    }

    /// Why this connection must not be used, or `nil` when it may.
    ///
    /// Plain TCP exposes the Docker API, root on the host, to anyone on the path: like Docker
    /// itself since Engine 27, Berth refuses it to a non-loopback host unless marked insecure.
    public var problem: String? {
        if host.isEmpty || host.count > 255 { return "host must be 1 to 255 characters" }
        if !host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || ".-:[]_".contains($0)) }) { return "host must be a hostname or IP address" }
        if socketPath == nil, !(1...65535).contains(dockerPort) { return "docker_port must be from 1 to 65535" }
        if tlsEnabled, (certPath ?? "").isEmpty { return "tls_enabled needs cert_path (a folder with ca.pem, cert.pem, key.pem)" }
        if !["host", "none", "bridge", "isolated"].contains(networkMode) { return "network_mode must be none, isolated, host or bridge" }
        if socketPath == nil, !tlsEnabled, !insecure, !Self.isLoopback(host) {
            return "plain TCP to \(host) is refused: enable TLS, or mark the server insecure"
        }
        return nil
    }

    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }
}

/// CPU in millicores, memory in MB, disk in GB and a count of workspaces.
public struct Capacity: Sendable, Equatable, Codable {
    public var cpuMillis: Int
    public var memoryMB: Int
    public var diskGB: Int
    public var workspaces: Int

    public init(cpuMillis: Int, memoryMB: Int, diskGB: Int, workspaces: Int) {
        self.cpuMillis = cpuMillis
        self.memoryMB = memoryMB
        self.diskGB = diskGB
        self.workspaces = workspaces
    }

    public static let zero = Capacity(cpuMillis: 0, memoryMB: 0, diskGB: 0, workspaces: 0)
}

/// What Docker itself reported at the last health check.
public struct ObservedUsage: Sendable, Equatable, Codable {
    public var ncpu: Int
    public var memoryTotalMB: Int
    public var containers: Int
    public var containersRunning: Int
    public var dockerVersion: String
    /// Cores Berth's running workspace containers used since the previous check; nil on a first check
    /// or when the containers could not be sampled.
    public var workspaceCPUCores: Double?
    /// Memory (working set) of Berth's running workspace containers; nil when not sampled.
    public var workspaceMemoryMB: Int?
    /// Cores each running workspace used since the previous check, by workspace id (for idle stop).
    public var coresByWorkspace: [String: Double]?

    public init(
        ncpu: Int, memoryTotalMB: Int, containers: Int, containersRunning: Int, dockerVersion: String,
        workspaceCPUCores: Double? = nil, workspaceMemoryMB: Int? = nil
    ) {
        self.ncpu = ncpu
        self.memoryTotalMB = memoryTotalMB
        self.containers = containers
        self.containersRunning = containersRunning
        self.dockerVersion = dockerVersion
        self.workspaceCPUCores = workspaceCPUCores
        self.workspaceMemoryMB = workspaceMemoryMB
    }
}

/// A label value: text, number or flag (`{"region": "eu", "gpu": true}`).
public enum LabelValue: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    case string(String)
    case number(Double)
    case bool(Bool)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else { self = .string(try container.decode(String.self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        }
    }

    public var description: String {
        switch self {
        case .string(let value): value
        case .number(let value): value.truncatingRemainder(dividingBy: 1) == 0 ? String(Int(value)) : String(value)
        case .bool(let value): String(value)
        }
    }
}
