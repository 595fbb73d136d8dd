import Domain
import Foundation
import Hummingbird

/// The body of `POST /v1/workspaces`, parsed strictly: unknown fields and wrong types are refused
/// with the field's path in the message.
struct CreateWorkspaceRequest: StrictJSONBody {
    var name: String
    var image: String
    var resources: Resources
    var command: [String]?
    var env: [String: String]
    var labels: [String: String]
    var placement: PlacementRequest
    var repository: RepositorySpec?
    /// The repository's token, in the clear only until the controller seals it.
    var token: String?
    var idleStopMinutes: Double?
    var maxLifetimeMinutes: Double?

    static let fields: Set<String> = [
        "name", "image", "resources", "command", "repository", "env", "labels", "placement", "idle_stop_minutes", "max_lifetime_minutes",
    ]

    static func parse(_ body: [UInt8], allowInsecureGit: Bool = false) throws -> CreateWorkspaceRequest {
        let object = try parseObject(body)
        try refuseUnknown(object, allowed: fields, at: "")
        let name = try string(object, "name", at: "")
        if let problem = WorkspaceValidation.nameProblem(name) { throw invalid("name", problem) }
        let image = try string(object, "image", at: "")
        if let problem = WorkspaceValidation.imageProblem(image) { throw invalid("image", problem) }

        let resources = try parseResources(object["resources"], defaultDiskGB: 0)

        var command: [String]?
        if let raw = object["command"], raw != .null {
            guard case .array(let list) = raw else { throw invalid("command", "command must be a list of strings") }
            command = try list.map { item in
                guard case .string(let text) = item else { throw invalid("command", "command must be a list of strings") }
                return text
            }
            if let problem = WorkspaceValidation.commandProblem(command) { throw invalid("command", problem) }
        }
        var repository: RepositorySpec?, token: String?
        if let raw = object["repository"], raw != .null {
            (repository, token) = try parseRepository(raw, allowInsecure: allowInsecureGit)
        }
        let env = try stringMap(object, "env")
        if let problem = WorkspaceValidation.envProblem(env) { throw invalid("env", problem) }
        let labels = try stringMap(object, "labels")
        if let problem = WorkspaceValidation.labelsProblem(labels) { throw invalid("labels", problem) }
        let placement = try parsePlacement(object["placement"], resources: resources)
        return CreateWorkspaceRequest(
            name: name, image: image, resources: resources, command: command, env: env, labels: labels, placement: placement,
            repository: repository, token: token,
            idleStopMinutes: try TenantInput.minutes(object, "idle_stop_minutes", upTo: 525_600),
            maxLifetimeMinutes: try TenantInput.minutes(object, "max_lifetime_minutes", upTo: 5_256_000)
        )
    }

    /// `{"url", "branch"?, "commit"?, "depth"?, "submodules"?, "path"?, "username"?, "token"?}`, each
    /// checked; a problem names its field. The token's text never appears in a message.
    static func parseRepository(_ raw: JSONValue, allowInsecure: Bool) throws -> (RepositorySpec, String?) {
        guard case .object(let object) = raw else { throw invalid("repository", "repository must be an object with url (and branch, token, ...)") }
        try refuseUnknown(object, allowed: ["url", "branch", "commit", "depth", "submodules", "path", "username", "token"], at: "repository.")
        func optionalString(_ key: String) throws -> String? {
            guard let value = object[key], value != .null else { return nil }
            guard case .string(let text) = value else { throw invalid("repository.\(key)", "repository.\(key) must be a string") }
            return text
        }
        let url = try string(object, "url", at: "repository.")
        if let problem = RepositoryValidation.urlProblem(url, allowInsecure: allowInsecure) { throw invalid("repository.url", problem) }
        var spec = RepositorySpec(url: url)
        if let branch = try optionalString("branch") {
            if let problem = RepositoryValidation.branchProblem(branch) { throw invalid("repository.branch", problem) }
            spec.branch = branch
        }
        if let commit = try optionalString("commit") {
            if let problem = RepositoryValidation.commitProblem(commit) { throw invalid("repository.commit", problem) }
            spec.commit = commit.lowercased()
        }
        if let depth = object["depth"], depth != .null {
            guard case .integer(let value) = depth, (1...1_000_000).contains(value) else { throw invalid("repository.depth", "repository.depth must be from 1 to 1000000") }
            spec.depth = value
        }
        if let submodules = object["submodules"], submodules != .null {
            guard case .bool(let flag) = submodules else { throw invalid("repository.submodules", "repository.submodules must be true or false") }
            spec.submodules = flag
        }
        if let path = try optionalString("path") {
            if let problem = RepositoryValidation.pathProblem(path) { throw invalid("repository.path", problem) }
            spec.path = path
        }
        if let username = try optionalString("username") {
            if let problem = RepositoryValidation.usernameProblem(username) { throw invalid("repository.username", problem) }
            spec.username = username
        }
        let token = try optionalString("token")
        if let token, let problem = RepositoryValidation.tokenProblem(token) { throw invalid("repository.token", problem) }
        return (spec, token)
    }

    /// The body of `POST /v1/workspaces/{id}/resize`: `{"resources": {"cpu", "memory_mb", "disk_gb"?}}`.
    /// A resize body: `resources`, and `allow_move` (default false) to move the workspace to a server
    /// with room when its own has none.
    static func parseResize(_ body: [UInt8], currentDiskGB: Int) throws -> (resources: Resources, allowMove: Bool) {
        let object = try parseObject(body)
        try refuseUnknown(object, allowed: ["resources", "allow_move"], at: "")
        var allowMove = false
        switch object["allow_move"] {
        case nil, .null?: break
        case .bool(let flag)?: allowMove = flag
        default: throw invalid("allow_move", "allow_move must be true or false")
        }
        return (try parseResources(object["resources"], defaultDiskGB: currentDiskGB), allowMove)
    }

    static func parseResources(_ raw: JSONValue?, defaultDiskGB: Int) throws -> Resources {
        guard case .object(let resourcesObject)? = raw else {
            throw invalid("resources", "resources must be an object with cpu, memory_mb and disk_gb")
        }
        try refuseUnknown(resourcesObject, allowed: ["cpu", "memory_mb", "disk_gb"], at: "resources.")
        let cpu = try number(resourcesObject, "cpu", at: "resources.")
        let resources = Resources(
            cpuMillis: cpu.isFinite && abs(cpu) < 1e6 ? Int((cpu * 1000).rounded()) : -1,
            memoryMB: try integer(resourcesObject, "memory_mb", at: "resources."),
            diskGB: try integer(resourcesObject, "disk_gb", at: "resources.", default: defaultDiskGB)
        )
        if let problem = WorkspaceValidation.resourcesProblem(resources) { throw invalid("resources", problem) }
        return resources
    }

    static func parsePlacement(_ raw: JSONValue?, resources: Resources) throws -> PlacementRequest {
        guard let raw, raw != .null else { return PlacementRequest(resources: resources) }
        guard case .object(let object) = raw else { throw invalid("placement", "placement must be an object") }
        try refuseUnknown(object, allowed: ["strategy", "preferred_server", "soft", "constraints"], at: "placement.")
        var request = PlacementRequest(resources: resources)
        if let strategy = object["strategy"] {
            guard case .string(let text) = strategy, let value = PlacementStrategy(rawValue: text) else {
                throw invalid("placement.strategy", "strategy must be one of spread, best_fit, affinity, round_robin")
            }
            request.strategy = value
        }
        if let preferred = object["preferred_server"], preferred != .null {
            guard case .string(let text) = preferred, (1...100).contains(text.count) else {
                throw invalid("placement.preferred_server", "preferred_server must be a server name or id")
            }
            request.preferredServer = text
        }
        if let soft = object["soft"] {
            guard case .bool(let flag) = soft else { throw invalid("placement.soft", "soft must be true or false") }
            request.preferenceIsSoft = flag
        }
        if request.strategy == .affinity && request.preferredServer == nil {
            throw invalid("placement.preferred_server", "affinity needs preferred_server")
        }
        if let constraints = object["constraints"], constraints != .null {
            guard case .object(let map) = constraints else { throw invalid("placement.constraints", "constraints must be an object") }
            for (key, value) in map.sorted(by: { $0.key < $1.key }) {
                let path = "placement.constraints.\(key)"
                if case .object(let condition) = value {
                    guard condition.count == 1, let (op, operand) = condition.first else { throw invalid(path, "use one of in, not, not_in") }
                    switch op {
                    case "not": request.constraints.append(.notEquals(key, try label(operand, at: "\(path).not")))
                    case "in", "not_in":
                        guard case .array(let list) = operand, !list.isEmpty else { throw invalid("\(path).\(op)", "must be a non-empty list") }
                        let values = try list.map { try label($0, at: "\(path).\(op)") }
                        request.constraints.append(op == "in" ? .oneOf(key, values) : .noneOf(key, values))
                    default: throw invalid(path, "unknown operator \(op); use in, not, not_in")
                    }
                } else {
                    request.constraints.append(.equals(key, try label(value, at: path)))
                }
            }
        }
        return request
    }

    static func label(_ value: JSONValue, at path: String) throws -> LabelValue {
        switch value {
        case .bool(let flag): return .bool(flag)
        case .integer(let number): return .number(Double(number))
        case .number(let number): return .number(number)
        case .string(let text): return .string(text)
        default: throw invalid(path, "must be a string, number or boolean")
        }
    }
}
