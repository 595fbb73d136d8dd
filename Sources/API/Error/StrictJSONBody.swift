import Foundation
import HTTPTypes

/// Strict parsing of JSON request bodies: unknown fields and wrong types are refused with the
/// field's path, as `400 validation_failed` (or `malformed_json` when it is not JSON at all).
protocol StrictJSONBody {}

extension StrictJSONBody {
    typealias Object = [String: JSONValue]

    static func parseObject(_ body: [UInt8]) throws -> Object {
        let root: JSONValue
        do {
            root = try JSONDecoder().decode(JSONValue.self, from: Data(body))
        } catch {
            throw APIError(.badRequest, code: "malformed_json", message: "the body is not valid JSON")
        }
        guard case .object(let object) = root else { throw invalid("", "the body must be a JSON object") }
        return object
    }

    static func refuseUnknown(_ object: Object, allowed: Set<String>, at path: String) throws {
        if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw invalid(path + unknown, "unknown field \(path + unknown)")
        }
    }

    static func string(_ object: Object, _ key: String, at path: String) throws -> String {
        guard let value = object[key] else { throw invalid(path + key, "\(path + key) is required") }
        guard case .string(let text) = value else { throw invalid(path + key, "\(path + key) must be a string") }
        return text
    }

    static func number(_ object: Object, _ key: String, at path: String) throws -> Double {
        switch object[key] {
        case nil: throw invalid(path + key, "\(path + key) is required")
        case .integer(let number)?: return Double(number)
        case .number(let number)?: return number
        default: throw invalid(path + key, "\(path + key) must be a number")
        }
    }

    static func integer(_ object: Object, _ key: String, at path: String, default fallback: Int? = nil) throws -> Int {
        switch object[key] {
        case nil:
            if let fallback { return fallback }
            throw invalid(path + key, "\(path + key) is required")
        case .integer(let number)?: return number
        default: throw invalid(path + key, "\(path + key) must be a whole number")
        }
    }

    static func stringMap(_ object: Object, _ key: String) throws -> [String: String] {
        guard let value = object[key], value != .null else { return [:] }
        guard case .object(let map) = value else { throw invalid(key, "\(key) must be an object of strings") }
        return try map.mapValues { item in
            guard case .string(let text) = item else { throw invalid(key, "\(key) must be an object of strings") }
            return text
        }
    }

    static func invalid(_ field: String, _ message: String) -> APIError {
        APIError(.badRequest, code: "validation_failed", message: message, details: field.isEmpty ? [:] : ["field": .string(field)])
    }
}
