import Foundation

/// Settings from the environment; a secret may come from the file named by `<VAR>_FILE`.
struct Environment {
    var values: [String: String] = ProcessInfo.processInfo.environment

    /// The value of `name`, or the trimmed contents of the file named by `name_FILE`.
    func value(_ name: String) throws -> String? {
        if let direct = values[name], !direct.isEmpty { return direct }
        guard let path = values[name + "_FILE"], !path.isEmpty else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError("\(name)_FILE names \(path), which cannot be read")
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func required(_ name: String) throws -> String {
        guard let value = try value(name) else {
            throw ConfigurationError("\(name) is not set (nor \(name)_FILE)")
        }
        return value
    }
}

/// A configuration problem, reported as one line.
struct ConfigurationError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// `host:port` parsing for `BERTH_HTTP_ADDRESS`.
struct HostAndPort {
    let host: String
    let port: Int

    init(_ text: String) throws {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { throw ConfigurationError("address \(text) is not host:port") }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.host = host.isEmpty ? "127.0.0.1" : host
        self.port = port
    }
}
