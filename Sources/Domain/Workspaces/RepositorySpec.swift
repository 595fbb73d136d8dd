import Foundation

/// A git repository to clone into a workspace, as a tenant asks for it (the token apart: it is
/// sealed before it is stored and never part of this value).
public struct RepositorySpec: Sendable, Equatable, Codable {
    public var url: String
    /// The branch (or tag) to check out; nil takes the remote's default branch.
    public var branch: String?
    /// A commit to check out after the clone (detached), instead of the branch's tip.
    public var commit: String?
    /// A shallow clone of this many commits; nil clones the whole history.
    public var depth: Int?
    public var submodules: Bool
    /// Where it goes inside the container; nil is `/workspace/<repository name>`.
    public var path: String?
    /// The user name sent with the token (basic auth); nil sends `git`.
    public var username: String?

    public init(url: String, branch: String? = nil, commit: String? = nil, depth: Int? = nil, submodules: Bool = false, path: String? = nil, username: String? = nil) {
        self.url = url
        self.branch = branch
        self.commit = commit
        self.depth = depth
        self.submodules = submodules
        self.path = path
        self.username = username
    }

    /// The folder the clone lands in.
    public var destination: String {
        path ?? "/workspace/" + Self.name(of: url)
    }

    /// `https://host/team/app.git` → `app`.
    public static func name(of url: String) -> String {
        var last = url.split(separator: "/").last.map(String.init) ?? "repository"
        if last.hasSuffix(".git") { last.removeLast(4) }
        let cleaned = last.filter { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
        return cleaned.isEmpty || cleaned.hasPrefix(".") ? "repository" : cleaned
    }
}

/// Where a workspace's clone stands: `none`, `pending`, `cloning`, `ready` or `failed`.
public enum GitStatus: String, Sendable, Codable, CaseIterable {
    case none, pending, cloning, ready, failed
}

/// The rules a repository must meet before anything is stored or run. Each returns a reason or nil.
public enum RepositoryValidation {
    public static let maxURLLength = 2048

    /// `https://` always; `http://` and `git://` only when `allowInsecure` (local set-ups);
    /// `ssh://` and `user@host:path` are refused (Berth has no key support). `file://`, local paths,
    /// control characters, spaces, overlong URLs and credentials in the URL are refused.
    public static func urlProblem(_ url: String, allowInsecure: Bool) -> String? {
        if url.isEmpty || url.utf8.count > maxURLLength { return "repository.url must be 1 to \(maxURLLength) characters" }
        if url.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7f || !$0.isASCII }) {
            return "repository.url must be printable ASCII without spaces or control characters"
        }
        let lower = url.lowercased()
        guard let schemeEnd = lower.range(of: "://") else {
            return "repository.url must be an https:// URL (local paths and scp-like ssh addresses are not accepted)"
        }
        let scheme = String(lower[..<schemeEnd.lowerBound])
        switch scheme {
        case "https": break
        case "http", "git":
            if !allowInsecure { return "repository.url must use https (\(scheme):// is allowed only where BERTH_GIT_ALLOW_INSECURE is set)" }
        case "file": return "repository.url must not be a file:// URL"
        case "ssh", "git+ssh", "ssh+git": return "repository.url must use https: ssh is not supported"
        default: return "repository.url must use https"
        }
        let rest = url[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" }
        if authority.contains("@") { return "repository.url must not carry credentials: give the token in repository.token" }
        let host = authority.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
        if host.isEmpty || !host.allSatisfy({ $0.isLetter || $0.isNumber || ".-[]".contains($0) }) { return "repository.url must name a host" }
        if rest.dropFirst(authority.count).count < 2 { return "repository.url must name a repository on the host" }
        if url.hasPrefix("-") { return "repository.url must not start with -" }
        return nil
    }

    /// A branch or tag name as git allows it, and not an option.
    public static func branchProblem(_ branch: String) -> String? {
        if branch.isEmpty || branch.utf8.count > 255 { return "repository.branch must be 1 to 255 characters" }
        if branch.hasPrefix("-") || branch.hasPrefix("/") || branch.hasSuffix("/") || branch.hasSuffix(".lock") || branch.contains("..") || branch.contains("@{") {
            return "repository.branch is not a valid branch name"
        }
        if branch.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7f || "~^:?*[\\".unicodeScalars.contains($0) }) {
            return "repository.branch is not a valid branch name"
        }
        return nil
    }

    public static func commitProblem(_ commit: String) -> String? {
        (7...64).contains(commit.count) && commit.allSatisfy({ $0.isHexDigit }) ? nil : "repository.commit must be 7 to 64 hexadecimal digits"
    }

    /// An absolute path inside the container, no `..`, no control characters.
    public static func pathProblem(_ path: String) -> String? {
        guard path.hasPrefix("/"), path.count <= 1024, path != "/" else { return "repository.path must be an absolute path inside the container" }
        if path.split(separator: "/").contains("..") { return "repository.path must not contain .." }
        if path.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) { return "repository.path must not contain control characters" }
        return nil
    }

    public static func usernameProblem(_ name: String) -> String? {
        (1...128).contains(name.count) && name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.@".contains($0)) })
            ? nil : "repository.username must be 1 to 128 of A-Z a-z 0-9 - _ . @"
    }

    public static func tokenProblem(_ token: String) -> String? {
        (1...4096).contains(token.utf8.count) && !token.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f })
            ? nil : "repository.token must be 1 to 4096 characters without control characters"
    }
}
