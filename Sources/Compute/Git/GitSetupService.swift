import Domain
import Foundation
import Logging
import Persistence
import Secrets

/// Clones a workspace's repository inside its container, once it runs, with `docker exec`.
///
/// The token is opened from its sealed form only for the clone and handed to git through the exec's
/// environment, as an `http.<origin>.extraHeader` carried by `GIT_CONFIG_COUNT`/`_KEY_0`/`_VALUE_0`:
/// git sends it to that origin only, and never writes it into `.git/config`; it is in no argument,
/// no log line, no event, no audit row and no answer. A clone holds its attempt with a deadline, so
/// one cut off by a crash is taken up again by the reconciler; transient failures (the network, a
/// timeout) are tried again with backoff, up to `maxAttempts`; the workspace keeps running whatever
/// comes of it, and says what happened in `repository.status` and `repository.error`.
public struct GitSetupService: Sendable {
    public struct Settings: Sendable {
        /// How long one clone may take (git runs under `timeout` inside the container).
        public var cloneTimeout: Duration
        public var maxAttempts: Int
        /// The first wait before trying again; it doubles with each attempt.
        public var backoff: Duration
        /// Whether `git://` and `http://` remotes are allowed (local set-ups only).
        public var allowInsecure: Bool

        public init(cloneTimeout: Duration = .seconds(600), maxAttempts: Int = 4, backoff: Duration = .seconds(5), allowInsecure: Bool = false) {
            self.cloneTimeout = cloneTimeout
            self.maxAttempts = max(1, maxAttempts)
            self.backoff = backoff
            self.allowInsecure = allowInsecure
        }
    }

    let database: Database
    let pool: DockerServerPool
    let keyring: SecretKeyring?
    public let settings: Settings
    let logger: Logger

    public init(database: Database, pool: DockerServerPool, keyring: SecretKeyring?, settings: Settings = Settings(), logger: Logger) {
        self.database = database
        self.pool = pool
        self.keyring = keyring
        self.settings = settings
        self.logger = logger
    }

    /// What one run came to; nil when there was nothing to do (not due, not running, another holds it).
    public enum Outcome: Sendable, Equatable {
        case ready
        case failed(WorkspaceFailure)
        /// Tried again later (transient), or when the workspace runs again.
        case later(WorkspaceFailure)
    }

    struct Attempt {
        let id: WorkspaceID
        let number: Int
        let containerID: String
        let serverID: ServerID
        let repository: RepositorySpec
        let sealed: SealedToken?
    }

    /// Runs the clone of `id` if one is due and the workspace runs; records the outcome.
    @discardableResult
    public func run(_ id: WorkspaceID) async -> Outcome? {
        let attempt: Attempt?
        do {
            attempt = try await claim(id)
        } catch {
            logger.warning("git setup could not claim a clone", metadata: ["workspace": "\(id)", "error": "\(error)"])
            return nil
        }
        guard let attempt else { return nil }
        let outcome = await clone(attempt)
        do {
            try await record(attempt, outcome)
        } catch {
            // The attempt's deadline runs out and the reconciler takes the clone up again.
            logger.warning("git setup could not record a clone", metadata: ["workspace": "\(id)", "error": "\(error)"])
        }
        switch outcome {
        case .ready: logger.info("repository cloned", metadata: ["workspace": "\(id)", "attempt": "\(attempt.number)"])
        case .failed(let failure), .later(let failure):
            logger.warning("repository clone did not succeed", metadata: ["workspace": "\(id)", "attempt": "\(attempt.number)", "reason": "\(failure.code)", "detail": "\(failure.detail ?? "")"])
        }
        return outcome
    }

    /// Workspaces whose clone is due: pending and due, or cut off (their attempt's deadline passed).
    public func due(limit: Int) async throws -> [WorkspaceID] {
        try await database.withSystem { scope in
            try await scope.execute("""
                SELECT id FROM workspaces
                WHERE status = 'running' AND observed_generation >= generation
                  AND ((git_status = 'pending' AND coalesce(git_next_attempt_at, now()) <= now()) OR (git_status = 'cloning' AND git_until < now()))
                ORDER BY git_next_attempt_at NULLS FIRST LIMIT \(limit)
                """).map { try $0.decode("id") }
        }
    }

    /// Asks for a failed clone to be run again (`POST /v1/workspaces/{id}/git/retry`); false when it has not failed.
    public func retry(_ id: WorkspaceID) async throws -> Bool {
        try await database.withSystem { scope in
            try await scope.execute("""
                UPDATE workspaces SET git_status = 'pending', git_attempts = 0, git_next_attempt_at = NULL, git_error = NULL,
                    git_error_code = NULL, updated_at = now()
                WHERE id = \(id) AND git_status = 'failed'
                """).affectedRows == 1
        }
    }

    // MARK: - Steps

    private func claim(_ id: WorkspaceID) async throws -> Attempt? {
        let deadline = settings.cloneTimeout.inSeconds + 60
        return try await database.withSystem { scope in
            guard let row = try await scope.first("""
                UPDATE workspaces SET git_status = 'cloning', git_attempts = git_attempts + 1,
                    git_until = now() + make_interval(secs => \(deadline)), updated_at = now()
                WHERE id = \(id) AND status = 'running' AND observed_generation >= generation AND container_id IS NOT NULL
                  AND ((git_status = 'pending' AND coalesce(git_next_attempt_at, now()) <= now()) OR (git_status = 'cloning' AND git_until < now()))
                RETURNING git_attempts, container_id, server_id, repository_url, repository_branch, repository_commit, repository_depth,
                    repository_submodules, repository_path, repository_username, repository_token_sealed, repository_token_key_id
                """) else { return nil }
            let sealed: SealedToken? = try row.decode("repository_token_sealed", as: PostgresBytes?.self).map {
                SealedToken(bytes: $0.bytes, keyID: try row.decode("repository_token_key_id", as: String?.self) ?? "")
            }
            return Attempt(
                id: id, number: try row.decode("git_attempts"), containerID: try row.decode("container_id"), serverID: try row.decode("server_id"),
                repository: RepositorySpec(
                    url: try row.decode("repository_url"), branch: try row.decode("repository_branch"), commit: try row.decode("repository_commit"),
                    depth: try row.decode("repository_depth"), submodules: try row.decode("repository_submodules"),
                    path: try row.decode("repository_path"), username: try row.decode("repository_username")
                ),
                sealed: sealed
            )
        }
    }

    private func clone(_ attempt: Attempt) async -> Outcome {
        let repository = attempt.repository
        if let problem = RepositoryValidation.urlProblem(repository.url, allowInsecure: settings.allowInsecure) {
            return .failed(WorkspaceFailure(code: "url_refused", message: problem))
        }
        guard let server = try? await database.withSystem({ try await WorkspaceServerStore().get(attempt.serverID, in: $0) }) else {
            return .later(WorkspaceFailure(code: "server_unavailable", message: "the workspace's server could not be read; the clone will be tried again"))
        }
        if server.connection.networkMode == "none" {
            return .failed(WorkspaceFailure(
                code: "no_network", message: "the workspace has no network (its server's network_mode is none), so the repository cannot be cloned"))
        }
        var environment = ["GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "/bin/false", "SSH_ASKPASS": "/bin/false"]
        if let sealed = attempt.sealed {
            guard let keyring else {
                return .failed(WorkspaceFailure(code: "token_unavailable", message: "the repository token cannot be opened: BERTH_SECRET_KEY is not configured"))
            }
            let token: String
            do {
                token = String(decoding: try keyring.open(sealed.bytes, keyID: sealed.keyID, associatedData: Array(attempt.id.description.utf8)), as: UTF8.self)
            } catch {
                return .failed(WorkspaceFailure(
                    code: "token_unavailable",
                    message: "the repository token was sealed with a key that is no longer configured (key \(sealed.keyID)); give the token again",
                    detail: "\(error)"))
            }
            let credential = Data("\(repository.username ?? "git"):\(token)".utf8).base64EncodedString()
            environment["GIT_CONFIG_COUNT"] = "1"
            environment["GIT_CONFIG_KEY_0"] = "http.\(Self.origin(of: repository.url))/.extraHeader"
            environment["GIT_CONFIG_VALUE_0"] = "Authorization: Basic \(credential)"
        }
        let client: DockerClient
        do { client = try pool.client(for: server) } catch {
            return .later(WorkspaceFailure(code: "network", message: "the workspace's server could not be reached; the clone will be tried again", detail: error.description))
        }
        let seconds = Int(settings.cloneTimeout.inSeconds.rounded(.up))
        var command = ["timeout", String(seconds), "git", "clone", "--quiet"]
        if let branch = repository.branch { command += ["--branch", branch] }
        if let depth = repository.depth { command += ["--depth", String(depth)] }
        if repository.submodules { command += ["--recurse-submodules"] }
        command += ["--", repository.url, repository.destination]
        do {
            // A clone cut off earlier left a partial folder, which git would refuse to clone into.
            if attempt.number > 1 {
                _ = try await client.exec(attempt.containerID, command: ["rm", "-rf", "--", repository.destination], timeout: .seconds(60))
            }
            let result = try await client.exec(attempt.containerID, command: command, environment: environment, timeout: settings.cloneTimeout + .seconds(30))
            if result.exitCode != 0 {
                return Self.classify(exitCode: result.exitCode, stderr: Self.scrub(result.stderrText, environment), retryable: attempt.number < settings.maxAttempts)
            }
            if let commit = repository.commit {
                let checkout = try await client.exec(
                    attempt.containerID, command: ["git", "-C", repository.destination, "checkout", "--quiet", "--detach", commit], timeout: .seconds(120)
                )
                if checkout.exitCode != 0 {
                    return .failed(WorkspaceFailure(code: "commit_not_found", message: "commit \(commit) is not in the clone (a shallow clone may not reach it)", detail: checkout.stderrText))
                }
            }
            return .ready
        } catch {
            if error.code == .http && error.status == 409 {
                return .later(WorkspaceFailure(code: "not_running", message: "the workspace stopped during the clone; it is cloned when it runs again"))
            }
            let failure = WorkspaceFailure(code: "network", message: "the workspace's server did not answer during the clone", detail: error.description)
            return attempt.number < settings.maxAttempts ? .later(failure) : .failed(failure)
        }
    }

    private func record(_ attempt: Attempt, _ outcome: Outcome) async throws {
        let backoff = settings.backoff.inSeconds * Double(1 << min(attempt.number - 1, 10))
        try await database.withSystem { scope in
            switch outcome {
            case .ready:
                try await scope.execute("""
                    UPDATE workspaces SET git_status = 'ready', git_error = NULL, git_error_code = NULL, git_until = NULL, updated_at = now()
                    WHERE id = \(attempt.id) AND git_status = 'cloning' AND git_attempts = \(attempt.number)
                    """)
            case .failed(let failure):
                try await scope.execute("""
                    UPDATE workspaces SET git_status = 'failed', git_error = \(failure.message), git_error_code = \(failure.code), git_until = NULL, updated_at = now()
                    WHERE id = \(attempt.id) AND git_status = 'cloning' AND git_attempts = \(attempt.number)
                    """)
            case .later(let failure):
                // A workspace that stopped meanwhile is cloned when it runs again: that try does not count.
                let counts = failure.code != "not_running"
                try await scope.execute("""
                    UPDATE workspaces SET git_status = 'pending', git_error = \(failure.message), git_error_code = \(failure.code), git_until = NULL,
                        git_attempts = git_attempts - CASE WHEN \(counts) THEN 0 ELSE 1 END,
                        git_next_attempt_at = now() + make_interval(secs => \(counts ? backoff : 0)), updated_at = now()
                    WHERE id = \(attempt.id) AND git_status = 'cloning' AND git_attempts = \(attempt.number)
                    """)
            }
        }
    }

    // MARK: - Pure parts

    /// `https://user@host:443/team/app.git` → `https://host:443`: where the token may go.
    static func origin(of url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url }
        let rest = url[schemeEnd.upperBound...]
        return String(url[..<schemeEnd.upperBound]) + rest.prefix { $0 != "/" }
    }

    /// git's own text with anything secret in `environment` replaced, should git ever repeat it.
    static func scrub(_ text: String, _ environment: [String: String]) -> String {
        var text = text
        for (key, value) in environment where key.hasPrefix("GIT_CONFIG_VALUE") && !value.isEmpty {
            text = text.replacingOccurrences(of: value, with: "[redacted]")
            if let credential = value.split(separator: " ").last { text = text.replacingOccurrences(of: String(credential), with: "[redacted]") }
        }
        return String(text.prefix(2000))
    }

    /// What a failed `git clone` means, in words a person can act on. `retryable` says whether a
    /// transient failure may be tried again.
    static func classify(exitCode: Int, stderr: String, retryable: Bool) -> Outcome {
        let text = stderr.lowercased()
        func failed(_ code: String, _ message: String) -> Outcome { .failed(WorkspaceFailure(code: code, message: message, detail: stderr)) }
        func transient(_ code: String, _ message: String) -> Outcome {
            let failure = WorkspaceFailure(code: code, message: message, detail: stderr)
            return retryable ? .later(failure) : .failed(failure)
        }
        if exitCode == 124 { return transient("timeout", "the clone did not finish within its time limit") }
        if exitCode == 127 || text.contains("git: not found") || text.contains("executable file not found") {
            return failed("git_missing", "git is not installed in the workspace's image")
        }
        if text.contains("authentication failed") || text.contains("could not read username") || text.contains("could not read password")
            || text.contains("the requested url returned error: 401") || text.contains("the requested url returned error: 403")
            || text.contains("invalid username or password") || text.contains("terminal prompts disabled")
        {
            return failed("auth_failed", "authentication failed: check the token (and the username) for this repository")
        }
        if text.contains("remote branch") && text.contains("not found") || text.contains("couldn't find remote ref") {
            return failed("branch_not_found", "branch not found in the repository")
        }
        if text.contains("repository not found") || text.contains("does not appear to be a git repository")
            || text.contains("the requested url returned error: 404") || text.contains("not found") || text.contains("no such repository")
            || text.contains("repository not exported")
        {
            return failed("repository_not_found", "repository not found: check the URL")
        }
        if text.contains("could not resolve host") || text.contains("connection refused") || text.contains("network is unreachable")
            || text.contains("failed to connect") || text.contains("unable to connect") || text.contains("connection timed out")
            || text.contains("operation timed out") || text.contains("early eof") || text.contains("the remote end hung up")
        {
            return transient("network", "the repository's server could not be reached")
        }
        if text.contains("already exists and is not an empty directory") {
            return failed("destination_exists", "the destination folder already exists in the workspace and is not empty")
        }
        return failed("clone_failed", "git clone failed (exit code \(exitCode))")
    }
}
