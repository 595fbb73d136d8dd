import Foundation

/// Rules for server names: like DNS labels, dots allowed (`ws-eu-1`).
public enum ServerName {
    public static func problem(with name: String) -> String? {
        if name.isEmpty || name.count > 63 { return "name must be 1 to 63 characters" }
        let ok = name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "." }
        if !ok { return "name may contain only a-z, 0-9, '-' and '.'" }
        if name.first == "-" || name.first == "." || name.last == "-" || name.last == "." {
            return "name must start and end with a letter or digit"
        }
        return nil
    }
}

extension ServerName {
    /// Server labels: at most 32, keys like workspace label keys, string values on one line.
    public static func labelsProblem(_ labels: [String: LabelValue]) -> String? {
        var flattened: [String: String] = [:]
        for (key, value) in labels {
            if case .number(let number) = value, !number.isFinite { return "label \(key) must be a finite number" }
            flattened[key] = value.description
        }
        return WorkspaceValidation.labelsProblem(flattened)
    }
}

extension Capacity {
    /// Why these totals cannot describe a server, or nil.
    public var problem: String? {
        guard (1...1_000_000).contains(cpuMillis) else { return "total_cpu must be more than 0 and at most 1000" }
        guard (1...(1 << 30)).contains(memoryMB) else { return "total_memory_mb must be a positive whole number" }
        guard (0...(1 << 30)).contains(diskGB) else { return "total_disk_gb must be 0 or more" }
        guard (1...100_000).contains(workspaces) else { return "max_workspaces must be from 1 to 100000" }
        return nil
    }
}
