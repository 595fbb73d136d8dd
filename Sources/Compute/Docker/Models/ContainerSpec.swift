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

    public init(
        name: String,
        image: String,
        command: [String]? = nil,
        environment: [String: String] = [:],
        labels: [String: String] = [:],
        workingDirectory: String? = nil,
        resources: ContainerResources = ContainerResources(nanoCPUs: 0, memoryBytes: 0),
        networkMode: String? = nil,
        diskLimitBytes: Int64? = nil
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

        enum CodingKeys: String, CodingKey {
            case networkMode = "NetworkMode"
            case storageOpt = "StorageOpt"
        }

        func encode(to encoder: any Encoder) throws {
            try limits.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encodeIfPresent(networkMode, forKey: .networkMode)
            try container.encodeIfPresent(storageOpt, forKey: .storageOpt)
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
            storageOpt: spec.diskLimitBytes.map { ["size": String($0)] }
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
