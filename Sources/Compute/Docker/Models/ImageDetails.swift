/// The parts of `GET /images/{name}/json` Berth uses: mainly whether the image has a command.
public struct ImageDetails: Sendable, Decodable, Equatable {
    public var id: String
    public var repoTags: [String]
    public var size: Int64?
    public var config: Config?

    /// The image's defaults for containers made from it.
    public struct Config: Sendable, Decodable, Equatable {
        public var cmd: [String]?
        public var entrypoint: [String]?
        public var workingDir: String?
        public var env: [String]?

        enum CodingKeys: String, CodingKey {
            case cmd = "Cmd"
            case entrypoint = "Entrypoint"
            case workingDir = "WorkingDir"
            case env = "Env"
        }
    }

    /// Whether a container of this image runs something when given no command
    /// (images made by `docker import` do not).
    public var hasCommand: Bool {
        !(config?.cmd ?? []).isEmpty || !(config?.entrypoint ?? []).isEmpty
    }

    enum CodingKeys: String, CodingKey {
        case id = "Id"
        case repoTags = "RepoTags"
        case size = "Size"
        case config = "Config"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        repoTags = try container.decodeIfPresent([String].self, forKey: .repoTags) ?? []
        size = try container.decodeIfPresent(Int64.self, forKey: .size)
        config = try container.decodeIfPresent(Config.self, forKey: .config)
    }
}
