/// What to create: the container a workspace runs in.
public struct ContainerSpec: Sendable, Equatable {
    /// The container's name (unique on its engine).
    public var name: String
    public var image: String
    /// The argv to run; nil uses the image's. Imported images have none, so workspaces always pass one.
    public var command: [String]?
    public var environment: [String: String]
    public var labels: [String: String]
    public var workingDirectory: String?
    public var resources: ContainerResources
    /// Docker's network mode: `host`, `none` or `bridge`, per server.
    public var networkMode: String?
    /// Docker's `StorageOpt["size"]` in bytes; nil sets none, since only some storage drivers
    /// (overlay2 on xfs with project quotas, btrfs, zfs) accept it.
    public var diskLimitBytes: Int64?
    /// What keeps one container from hurting its neighbours on the engine; `nil` sets none (tests).
    public var hardening: ContainerHardening?

    public init(
        name: String,
        image: String,
        command: [String]? = nil,
        environment: [String: String] = [:],
        labels: [String: String] = [:],
        workingDirectory: String? = nil,
        resources: ContainerResources = ContainerResources(nanoCPUs: 0, memoryBytes: 0),
        networkMode: String? = nil,
        diskLimitBytes: Int64? = nil,
        hardening: ContainerHardening? = nil
    ) {
        self.name = name
        self.image = image
        self.command = command
        self.environment = environment
        self.labels = labels
        self.workingDirectory = workingDirectory
        self.resources = resources
        self.networkMode = networkMode
        self.diskLimitBytes = diskLimitBytes
        self.hardening = hardening
    }
}

/// The limits every workspace container gets, so a fork bomb, a log flood or a raw socket in one
/// workspace cannot take its engine or its neighbours down.
public struct ContainerHardening: Sendable, Equatable {
    /// The most processes and threads the container may have (Docker's `PidsLimit`).
    public var pidsLimit: Int
    /// `json-file` log rotation: the largest file and how many are kept.
    public var logMaxSize: String
    public var logMaxFiles: Int
    /// Capabilities dropped from Docker's default set.
    public var dropCapabilities: [String]
    /// Runs Docker's init (`docker-init`) as PID 1, so signals reach the command and zombies are reaped.
    public var initProcess: Bool

    /// What Berth gives workspaces by default. `NET_RAW` (raw sockets, ARP and ICMP spoofing) and
    /// the capabilities a development container has no use for go; `no-new-privileges` is always on.
    public static let workspace = ContainerHardening(
        pidsLimit: 1024, logMaxSize: "10m", logMaxFiles: 3,
        dropCapabilities: ["NET_RAW", "MKNOD", "AUDIT_WRITE", "SETFCAP", "SETPCAP", "SYS_CHROOT"], initProcess: true
    )

    public init(pidsLimit: Int, logMaxSize: String, logMaxFiles: Int, dropCapabilities: [String], initProcess: Bool) {
        self.pidsLimit = pidsLimit
        self.logMaxSize = logMaxSize
        self.logMaxFiles = logMaxFiles
        self.dropCapabilities = dropCapabilities
        self.initProcess = initProcess
    }
}

/// The body of `POST /containers/create`.
struct ContainerCreateBody: Encodable {
    var image: String
    var cmd: [String]?
    var env: [String]
    var labels: [String: String]
    var workingDir: String?
    var tty = false
    var attachStdin = false
    var openStdin = false
    var hostConfig: HostConfig

    struct HostConfig: Encodable {
        var limits: ResourceLimitsBody
        var networkMode: String?
        var storageOpt: [String: String]?
        var hardening: ContainerHardening?

        struct LogConfig: Encodable {
            var type: String
            var config: [String: String]
            enum CodingKeys: String, CodingKey {
                case type = "Type"
                case config = "Config"
            }
        }

        enum CodingKeys: String, CodingKey {
            case networkMode = "NetworkMode"
            case storageOpt = "StorageOpt"
            case pidsLimit = "PidsLimit"
            case logConfig = "LogConfig"
            case securityOpt = "SecurityOpt"
            case capDrop = "CapDrop"
            case initProcess = "Init"
        }

        func encode(to encoder: any Encoder) throws {
            try limits.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encodeIfPresent(networkMode, forKey: .networkMode)
            try container.encodeIfPresent(storageOpt, forKey: .storageOpt)
            if let hardening {
                try container.encode(hardening.pidsLimit, forKey: .pidsLimit)
                try container.encode(
                    LogConfig(type: "json-file", config: ["max-size": hardening.logMaxSize, "max-file": String(hardening.logMaxFiles)]),
                    forKey: .logConfig
                )
                try container.encode(["no-new-privileges:true"], forKey: .securityOpt)
                try container.encode(hardening.dropCapabilities, forKey: .capDrop)
                try container.encode(hardening.initProcess, forKey: .initProcess)
            }
        }
    }

    init(_ spec: ContainerSpec) {
        image = spec.image
        cmd = spec.command
        // Sorted so the same spec always makes the same request.
        env = spec.environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        labels = spec.labels
        workingDir = spec.workingDirectory
        hostConfig = HostConfig(
            limits: ResourceLimitsBody(spec.resources),
            networkMode: spec.networkMode,
            storageOpt: spec.diskLimitBytes.map { ["size": String($0)] },
            hardening: spec.hardening
        )
    }

    enum CodingKeys: String, CodingKey {
        case image = "Image"
        case cmd = "Cmd"
        case env = "Env"
        case labels = "Labels"
        case workingDir = "WorkingDir"
        case tty = "Tty"
        case attachStdin = "AttachStdin"
        case openStdin = "OpenStdin"
        case hostConfig = "HostConfig"
    }
}

/// The answer of `POST /containers/create`.
struct ContainerCreateResponse: Decodable {
    var id: String
    var warnings: [String]?

    enum CodingKeys: String, CodingKey {
        case id = "Id"
        case warnings = "Warnings"
    }
}
