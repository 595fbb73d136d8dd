/// One entry of `GET /containers/json`.
public struct ContainerSummary: Sendable, Decodable, Equatable {
    public var id: String
    /// Names without Docker's leading slash.
    public var names: [String]
    public var image: String
    /// `created`, `running`, `exited`…
    public var state: String
    /// Docker's human text, e.g. "Up 3 minutes".
    public var status: String
    public var labels: [String: String]
    /// When it was created, in seconds since 1970.
    public var created: Int64

    enum CodingKeys: String, CodingKey {
        case id = "Id"
        case names = "Names"
        case image = "Image"
        case state = "State"
        case status = "Status"
        case labels = "Labels"
        case created = "Created"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        names = (try container.decodeIfPresent([String].self, forKey: .names) ?? []).map {
            $0.hasPrefix("/") ? String($0.dropFirst()) : $0
        }
        image = try container.decodeIfPresent(String.self, forKey: .image) ?? ""
        state = try container.decodeIfPresent(String.self, forKey: .state) ?? ""
        status = try container.decodeIfPresent(String.self, forKey: .status) ?? ""
        labels = try container.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
        created = try container.decodeIfPresent(Int64.self, forKey: .created) ?? 0
    }
}
