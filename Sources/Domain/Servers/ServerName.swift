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
