import Foundation

/// Checks of what a tenant sends when creating a workspace. Each returns a reason or `nil`.
public enum WorkspaceValidation {
    public static let cpuRange = 100...64_000          // millicores
    public static let memoryRange = 16...262_144       // MB
    public static let diskRange = 0...2_048            // GB
    public static let maxLabels = 32
    public static let maxEnv = 64

    public static func nameProblem(_ name: String) -> String? {
        TenantName.problem(with: name)
    }

    /// `[registry[:port]/]path[:tag][@sha256:digest]`, lower-case path components.
    public static func imageProblem(_ image: String) -> String? {
        guard (1...255).contains(image.count) else { return "image must be 1 to 255 characters" }
        var rest = Substring(image)
        if let at = rest.firstIndex(of: "@") {
            let digest = rest[rest.index(after: at)...]
            guard digest.hasPrefix("sha256:"), digest.count == 71, digest.dropFirst(7).allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
                return "image digest must be sha256: and 64 lower-case hex digits"
            }
            rest = rest[..<at]
        }
        var components = rest.split(separator: "/", omittingEmptySubsequences: false)
        guard let last = components.popLast() else { return "image is empty" }
        var name = last
        if let colon = last.lastIndex(of: ":") {
            let tag = last[last.index(after: colon)...]
            guard (1...128).contains(tag.count), tag.first != "." && tag.first != "-",
                tag.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) })
            else { return "image tag must be 1 to 128 of A-Z a-z 0-9 _ . -" }
            name = last[..<colon]
        }
        let pathComponents = components.dropFirst(components.count > 0 && (components[0].contains(".") || components[0].contains(":") || components[0] == "localhost") ? 1 : 0) + [name]
        for component in pathComponents {
            guard !component.isEmpty, component.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || "._-".contains($0)) }),
                component.first!.isLetter || component.first!.isNumber
            else { return "image path components must be lower-case letters, digits, '.', '_' or '-'" }
        }
        return nil
    }

    public static func resourcesProblem(_ resources: Resources) -> String? {
        if !cpuRange.contains(resources.cpuMillis) { return "resources.cpu must be from 0.1 to 64 cores" }
        if !memoryRange.contains(resources.memoryMB) { return "resources.memory_mb must be from 16 to 262144" }
        if !diskRange.contains(resources.diskGB) { return "resources.disk_gb must be from 0 to 2048" }
        return nil
    }

    public static func labelsProblem(_ labels: [String: String]) -> String? {
        if labels.count > maxLabels { return "at most \(maxLabels) labels" }
        for (key, value) in labels {
            guard (1...63).contains(key.count), key.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || "._/-".contains($0)) }) else {
                return "label keys must be 1 to 63 of a-z 0-9 . _ / -"
            }
            if key.hasPrefix("berth.") { return "label keys starting with berth. are reserved" }
            if value.count > 255 || value.contains(where: { $0.isNewline || $0 == "\0" }) {
                return "label values must be at most 255 characters on one line"
            }
        }
        return nil
    }

    public static func envProblem(_ env: [String: String]) -> String? {
        if env.count > maxEnv { return "at most \(maxEnv) environment variables" }
        for (key, value) in env {
            guard let first = key.first, first == "_" || (first.isASCII && first.isLetter),
                key.count <= 128, key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
            else { return "env names must match [A-Za-z_][A-Za-z0-9_]*" }
            if value.utf8.count > 32_768 || value.contains("\0") { return "env values must be at most 32 KiB without NUL" }
        }
        return nil
    }

    public static func commandProblem(_ command: [String]?) -> String? {
        guard let command else { return nil }
        if command.isEmpty { return "command must not be empty when given" }
        if command.count > 256 || command.contains(where: { $0.contains("\0") || $0.utf8.count > 32_768 }) {
            return "command must be at most 256 arguments without NUL"
        }
        return nil
    }
}
