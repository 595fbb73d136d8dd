/// What a workspace needs from a server: CPU in millicores, memory in MB, disk in GB.
public struct Resources: Sendable, Equatable, Hashable, Codable {
    public var cpuMillis: Int
    public var memoryMB: Int
    public var diskGB: Int

    public init(cpuMillis: Int, memoryMB: Int, diskGB: Int) {
        self.cpuMillis = cpuMillis
        self.memoryMB = memoryMB
        self.diskGB = diskGB
    }
}

/// How to choose among the servers that fit.
public enum PlacementStrategy: String, Sendable, Codable, CaseIterable {
    /// Least utilised first, over CPU, memory and disk.
    case spread
    /// Most utilised first: the tightest fit.
    case bestFit = "best_fit"
    /// The preferred server; others only when the preference is soft.
    case affinity
    /// Fitting servers in turn, from a cursor shared by every replica.
    case roundRobin = "round_robin"
}

/// A condition on a server's labels.
public enum LabelConstraint: Sendable, Equatable, Hashable, CustomStringConvertible {
    case equals(String, LabelValue)
    case notEquals(String, LabelValue)
    case oneOf(String, [LabelValue])
    case noneOf(String, [LabelValue])

    public var key: String {
        switch self {
        case .equals(let key, _), .notEquals(let key, _), .oneOf(let key, _), .noneOf(let key, _): key
        }
    }

    /// `nil` when `labels` satisfy the constraint, else why not (`label region=eu ≠ us`).
    public func violation(by labels: [String: LabelValue]) -> String? {
        let actual = labels[key]
        let shown = actual.map { "\(key)=\($0)" } ?? "\(key) missing"
        switch self {
        case .equals(_, let wanted):
            return actual == wanted ? nil : "label \(shown) ≠ \(wanted)"
        case .notEquals(_, let unwanted):
            return actual == unwanted ? "label \(shown) is excluded" : nil
        case .oneOf(_, let allowed):
            guard let actual, allowed.contains(actual) else {
                return "label \(shown) not in [\(allowed.map(\.description).joined(separator: ", "))]"
            }
            return nil
        case .noneOf(_, let excluded):
            guard let actual, excluded.contains(actual) else { return nil }
            return "label \(shown) is in excluded [\(excluded.map(\.description).joined(separator: ", "))]"
        }
    }

    public var description: String {
        switch self {
        case .equals(let k, let v): "\(k)=\(v)"
        case .notEquals(let k, let v): "\(k)!=\(v)"
        case .oneOf(let k, let vs): "\(k) in [\(vs.map(\.description).joined(separator: ","))]"
        case .noneOf(let k, let vs): "\(k) notin [\(vs.map(\.description).joined(separator: ","))]"
        }
    }
}

extension LabelConstraint: Codable {
    private enum CodingKeys: String, CodingKey { case key, op, values }

    /// `{"key": "region", "op": "eq" | "ne" | "in" | "notin", "values": [...]}`, as a workspace keeps
    /// its constraints for later moves.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(key, forKey: .key)
        switch self {
        case .equals(_, let value): try container.encode("eq", forKey: .op); try container.encode([value], forKey: .values)
        case .notEquals(_, let value): try container.encode("ne", forKey: .op); try container.encode([value], forKey: .values)
        case .oneOf(_, let values): try container.encode("in", forKey: .op); try container.encode(values, forKey: .values)
        case .noneOf(_, let values): try container.encode("notin", forKey: .op); try container.encode(values, forKey: .values)
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let key = try container.decode(String.self, forKey: .key)
        let values = try container.decode([LabelValue].self, forKey: .values)
        switch try container.decode(String.self, forKey: .op) {
        case "eq" where values.count == 1: self = .equals(key, values[0])
        case "ne" where values.count == 1: self = .notEquals(key, values[0])
        case "in": self = .oneOf(key, values)
        case "notin": self = .noneOf(key, values)
        default: throw DecodingError.dataCorruptedError(forKey: .op, in: container, debugDescription: "not a label constraint")
        }
    }
}

/// A request to place one workspace.
public struct PlacementRequest: Sendable, Equatable {
    public var resources: Resources
    public var strategy: PlacementStrategy
    /// Name or id of the preferred server, for `affinity`.
    public var preferredServer: String?
    /// With `affinity`: whether other servers may be used when the preferred one cannot take it.
    public var preferenceIsSoft: Bool
    public var constraints: [LabelConstraint]

    public init(
        resources: Resources, strategy: PlacementStrategy = .spread, preferredServer: String? = nil,
        preferenceIsSoft: Bool = false, constraints: [LabelConstraint] = []
    ) {
        self.resources = resources
        self.strategy = strategy
        self.preferredServer = preferredServer
        self.preferenceIsSoft = preferenceIsSoft
        self.constraints = constraints
    }
}
