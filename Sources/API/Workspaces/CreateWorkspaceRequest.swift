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

    static let fields: Set<String> = ["name", "image", "resources", "command", "repository", "env", "labels", "placement"]

    static func parse(_ body: [UInt8]) throws -> CreateWorkspaceRequest {
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
        if let repository = object["repository"], repository != .null {
            throw APIError(.unprocessableContent, code: "not_supported", message: "repositories are not supported yet")
        }
        let env = try stringMap(object, "env")
        if let problem = WorkspaceValidation.envProblem(env) { throw invalid("env", problem) }
        let labels = try stringMap(object, "labels")
        if let problem = WorkspaceValidation.labelsProblem(labels) { throw invalid("labels", problem) }
        let placement = try parsePlacement(object["placement"], resources: resources)
        return CreateWorkspaceRequest(name: name, image: image, resources: resources, command: command, env: env, labels: labels, placement: placement)
    }

    /// The body of `POST /v1/workspaces/{id}/resize`: `{"resources": {"cpu", "memory_mb", "disk_gb"?}}`.
    static func parseResize(_ body: [UInt8], currentDiskGB: Int) throws -> Resources {
        let object = try parseObject(body)
        try refuseUnknown(object, allowed: ["resources"], at: "")
        return try parseResources(object["resources"], defaultDiskGB: currentDiskGB)
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
