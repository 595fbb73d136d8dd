import Foundation

/// The parts of `GET /containers/{id}/json` Berth uses.
public struct ContainerDetails: Sendable, Decodable, Equatable {
    public var id: String
    /// The name without Docker's leading slash.
    public var name: String
    public var state: State
    public var config: Config
    public var hostConfig: HostConfig
    public var restartCount: Int?
    /// The json-file log on the engine's host.
    public var logPath: String?
    /// When the container was created.
    public var created: Date?

    /// What the container is doing.
    public struct State: Sendable, Decodable, Equatable {
        /// `created`, `running`, `paused`, `restarting`, `removing`, `exited` or `dead`.
        public var status: String
        public var running: Bool
        public var oomKilled: Bool?
        public var exitCode: Int
        /// Why the container could not start, when it could not; empty otherwise.
        public var error: String
        /// When it last started; nil if it never has.
        public var startedAt: Date?
        /// When it last stopped; nil if it never has.
        public var finishedAt: Date?

        enum CodingKeys: String, CodingKey {
            case status = "Status"
            case running = "Running"
            case oomKilled = "OOMKilled"
            case exitCode = "ExitCode"
            case error = "Error"
            case startedAt = "StartedAt"
            case finishedAt = "FinishedAt"
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            status = try container.decode(String.self, forKey: .status)
            running = try container.decode(Bool.self, forKey: .running)
            oomKilled = try container.decodeIfPresent(Bool.self, forKey: .oomKilled)
            exitCode = try container.decodeIfPresent(Int.self, forKey: .exitCode) ?? 0
            error = try container.decodeIfPresent(String.self, forKey: .error) ?? ""
            startedAt = try DockerTimestamp.date(container.decodeIfPresent(String.self, forKey: .startedAt))
            finishedAt = try DockerTimestamp.date(container.decodeIfPresent(String.self, forKey: .finishedAt))
        }
    }

    /// How the container was configured.
    public struct Config: Sendable, Decodable, Equatable {
        public var image: String
        public var cmd: [String]?
        public var labels: [String: String]
        public var workingDir: String?

        enum CodingKeys: String, CodingKey {
            case image = "Image"
            case cmd = "Cmd"
            case labels = "Labels"
            case workingDir = "WorkingDir"
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            image = try container.decode(String.self, forKey: .image)
            cmd = try container.decodeIfPresent([String].self, forKey: .cmd)
            labels = try container.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
            workingDir = try container.decodeIfPresent(String.self, forKey: .workingDir)
        }
    }

    /// The limits in force.
    public struct HostConfig: Sendable, Decodable, Equatable {
        public var nanoCPUs: Int64
        public var memory: Int64
        public var memorySwap: Int64?
        public var networkMode: String?
        public var storageOpt: [String: String]?
        public var pidsLimit: Int64?
        public var capDrop: [String]?
        public var securityOpt: [String]?
        public var initProcess: Bool?
        /// The log driver's options, e.g. `max-size` and `max-file`.
        public var logOptions: [String: String]?

        public var resources: ContainerResources { ContainerResources(nanoCPUs: nanoCPUs, memoryBytes: memory) }

        enum CodingKeys: String, CodingKey {
            case nanoCPUs = "NanoCpus"
            case memory = "Memory"
            case memorySwap = "MemorySwap"
            case networkMode = "NetworkMode"
            case storageOpt = "StorageOpt"
            case pidsLimit = "PidsLimit"
            case capDrop = "CapDrop"
            case securityOpt = "SecurityOpt"
            case initProcess = "Init"
            case logConfig = "LogConfig"
        }

        struct LogConfig: Decodable {
            var config: [String: String]?
            enum CodingKeys: String, CodingKey { case config = "Config" }
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            pidsLimit = try container.decodeIfPresent(Int64.self, forKey: .pidsLimit)
            capDrop = try container.decodeIfPresent([String].self, forKey: .capDrop)
            securityOpt = try container.decodeIfPresent([String].self, forKey: .securityOpt)
            initProcess = try container.decodeIfPresent(Bool.self, forKey: .initProcess)
            logOptions = try container.decodeIfPresent(LogConfig.self, forKey: .logConfig)?.config
            nanoCPUs = try container.decodeIfPresent(Int64.self, forKey: .nanoCPUs) ?? 0
            memory = try container.decodeIfPresent(Int64.self, forKey: .memory) ?? 0
            memorySwap = try container.decodeIfPresent(Int64.self, forKey: .memorySwap)
            networkMode = try container.decodeIfPresent(String.self, forKey: .networkMode)
            storageOpt = try container.decodeIfPresent([String: String].self, forKey: .storageOpt)
        }
    }

    enum CodingKeys: String, CodingKey {
        case id = "Id"
        case name = "Name"
        case state = "State"
        case config = "Config"
        case hostConfig = "HostConfig"
        case restartCount = "RestartCount"
        case logPath = "LogPath"
        case created = "Created"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        let name = try container.decode(String.self, forKey: .name)
        self.name = name.hasPrefix("/") ? String(name.dropFirst()) : name
        state = try container.decode(State.self, forKey: .state)
        config = try container.decode(Config.self, forKey: .config)
        hostConfig = try container.decode(HostConfig.self, forKey: .hostConfig)
        restartCount = try container.decodeIfPresent(Int.self, forKey: .restartCount)
        logPath = try container.decodeIfPresent(String.self, forKey: .logPath)
        created = try DockerTimestamp.date(container.decodeIfPresent(String.self, forKey: .created))
    }
}
