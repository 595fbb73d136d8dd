import BerthTestSupport
@testable import Compute
import Domain
import Foundation
import Persistence
import Secrets
import Testing

/// The git setup service on real engines, against the fleet's real git servers: `git daemon` for
/// anonymous clones and a smart-HTTP server behind basic auth, both on the fleet's service address,
/// which workspaces on an `isolated` network reach.
@Suite struct GitSetupTests {
    static let keyring = try! SecretKeyring(current: SecretBox(key: Array(repeating: 7, count: 32)))

    static func world(_ name: String, maxAttempts: Int = 3) async throws -> LifecycleWorld {
        try await LifecycleWorld.make(
            daemon: "BERTH_TEST_DOCKER_PLAIN_2", name: name, networkMode: "isolated",
            git: GitSetupService.Settings(cloneTimeout: .seconds(60), maxAttempts: maxAttempts, backoff: .milliseconds(200), allowInsecure: true),
            keyring: keyring
        )
    }

    static func draft(_ world: LifecycleWorld, _ name: String, _ repository: RepositorySpec, token: String? = nil) throws -> WorkspaceDraft {
        var draft = world.draft(name, image: DockerFleet.workspaceImage)
        draft.repository = repository
        if let token {
            let (bytes, keyID) = try keyring.seal(Array(token.utf8), associatedData: Array(draft.id.description.utf8))
            draft.sealedToken = SealedToken(bytes: bytes, keyID: keyID)
        }
        return draft
    }

    static func repository(_ world: LifecycleWorld, _ id: WorkspaceID) async throws -> (status: String, error: String?, code: String?) {
        try await world.db.withSystem { scope in
            let row = try await scope.first("SELECT git_status, git_error, git_error_code FROM workspaces WHERE id = \(id)")!
            return (try row.decode("git_status"), try row.decode("git_error"), try row.decode("git_error_code"))
        }
    }

    /// An anonymous clone over git:// from a workspace on its own network: `ready`, and the files
    /// are in the container where they were asked for; the workspace is on a network of its own.
    @Test func anAnonymousCloneOverGitIsReady() async throws {
        let world = try await Self.world("ws-git-anon")
        let url = try TestEnvironment.require("BERTH_TEST_GIT_URL")
        let created = try await world.orchestrator.create(try Self.draft(world, "anon", RepositorySpec(url: url)))
        #expect(created.status == .running)
        #expect(try await Self.repository(world, created.id).status == "ready")
        let files = try await world.engine.exec(created.containerID!, command: ["cat", "/workspace/sample/README.md", "/workspace/sample/src/nested/hello.txt"])
        #expect(files.exitCode == 0 && files.stdoutText.contains("hello from sample"), "\(files.stdoutText) \(files.stderrText)")
        let details = try await world.engine.inspectContainer(created.containerID!)
        #expect(details.hostConfig.networkMode == WorkspaceContainers.networkName(created.id))
        // A branch, a depth and a path of one's own.
        let feature = try await world.orchestrator.create(try Self.draft(world, "feature", RepositorySpec(url: url, branch: "feature", depth: 1, path: "/home/code")))
        let listed = try await world.engine.exec(feature.containerID!, command: ["sh", "-c", "cat /home/code/FEATURE.md && git -C /home/code rev-list --count HEAD"])
        #expect(listed.stdoutText.contains("on the feature branch") && listed.stdoutText.hasSuffix("1\n"), "\(listed.stdoutText)")
        // Deleting the workspace takes its network with it.
        try await world.orchestrator.delete(created.id)
        let networks = try await world.engine.listNetworks(labels: ["berth.workspace=\(created.id)"])
        #expect(networks.isEmpty)
        await world.finish()
    }

    /// Submodules are an option: with it the submodule's files are there, without it its folder is empty.
    @Test func submodulesAreClonedWhenAsked() async throws {
        let world = try await Self.world("ws-git-sub")
        let url = try TestEnvironment.require("BERTH_TEST_GIT_SUBMODULE_URL")
        let with = try await world.orchestrator.create(try Self.draft(world, "with", RepositorySpec(url: url, submodules: true)))
        #expect(try await Self.repository(world, with.id).status == "ready")
        let files = try await world.engine.exec(with.containerID!, command: ["cat", "/workspace/with-submodule/lib/sample/src/nested/hello.txt"])
        #expect(files.exitCode == 0 && files.stdoutText.contains("hello from sample"), "\(files.stdoutText) \(files.stderrText)")
        let without = try await world.orchestrator.create(try Self.draft(world, "without", RepositorySpec(url: url)))
        #expect(try await Self.repository(world, without.id).status == "ready")
        let empty = try await world.engine.exec(without.containerID!, command: ["sh", "-c", "ls -A /workspace/with-submodule/lib/sample | wc -l"])
        #expect(empty.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "\(empty.stdoutText)")
        await world.finish()
    }

    /// A server that accepts the connection and never answers: each attempt is cut off at the clone
    /// timeout, the transient failure is tried again after the backoff, and after the last attempt
    /// the clone fails with "timeout"; the workspace runs on throughout.
    @Test func aCloneThatHangsTimesOutAndIsRetriedWithBackoff() async throws {
        let world = try await LifecycleWorld.make(
            daemon: "BERTH_TEST_DOCKER_PLAIN_2", name: "ws-git-hang", networkMode: "isolated",
            git: GitSetupService.Settings(cloneTimeout: .seconds(1), maxAttempts: 2, backoff: .milliseconds(300), allowInsecure: true),
            keyring: Self.keyring
        )
        let service = try #require(URL(string: try TestEnvironment.require("BERTH_TEST_GIT_URL"))?.host)
        let silent = try Listener(host: service)
        let created = try await world.orchestrator.create(try Self.draft(world, "hang", RepositorySpec(url: "git://\(service):\(silent.port)/silent.git")))
        #expect(created.status == .running)
        let first = try await world.db.withSystem { scope in
            try await scope.first("SELECT git_status, git_attempts, git_error_code, git_next_attempt_at > now() AS later FROM workspaces WHERE id = \(created.id)")!
        }
        #expect(try first.decode("git_status", as: String.self) == "pending" && first.decode("git_attempts", as: Int.self) == 1)
        #expect(try first.decode("git_error_code", as: String?.self) == "timeout" && first.decode("later", as: Bool?.self) == true, "the retry waits for its backoff")
        // The reconciler runs it again once it is due; the second and last attempt fails for good.
        let deadline = ContinuousClock.now + .seconds(30)
        var status = "pending"
        while status != "failed", ContinuousClock.now < deadline {
            _ = await world.reconciler.pass()
            try await Task.sleep(for: .milliseconds(200))
            status = try await Self.repository(world, created.id).status
        }
        let last = try await Self.repository(world, created.id)
        #expect(last.status == "failed" && last.code == "timeout" && (last.error ?? "").contains("time limit"), "\(last)")
        let attempts = try await world.db.withSystem { try await $0.first("SELECT git_attempts FROM workspaces WHERE id = \(created.id)")!.decode("git_attempts", as: Int.self) }
        #expect(attempts == 2)
        #expect(try await world.row(created.id).status == .running)
        await world.finish()
    }

    /// Smart HTTP with basic auth: the right token clones; a wrong token fails with "authentication
    /// failed", a missing branch with "branch not found", a missing repository with "repository not
    /// found"; a failed clone leaves the workspace running; and the token is in no trace it leaves.
    @Test func anAuthenticatedCloneOverHTTP() async throws {
        let world = try await Self.world("ws-git-http")
        let url = try TestEnvironment.require("BERTH_TEST_GIT_HTTP_URL")
        let user = try TestEnvironment.require("BERTH_TEST_GIT_HTTP_USER")
        let token = try TestEnvironment.require("BERTH_TEST_GIT_HTTP_TOKEN")

        let good = try await world.orchestrator.create(try Self.draft(world, "good", RepositorySpec(url: url, username: user), token: token))
        #expect(try await Self.repository(world, good.id).status == "ready")
        let readme = try await world.engine.exec(good.containerID!, command: ["cat", "/workspace/private/README.md"])
        #expect(readme.stdoutText.contains("private"))

        let cases: [(String, RepositorySpec, String, String)] = [
            ("wrong-token", RepositorySpec(url: url, username: user), "not-the-token", "authentication failed"),
            ("no-branch", RepositorySpec(url: url, branch: "no-such-branch", username: user), token, "branch not found"),
            ("no-repo", RepositorySpec(url: url.replacingOccurrences(of: "private.git", with: "missing.git"), username: user), token, "repository not found"),
        ]
        for (name, repository, secret, words) in cases {
            let row = try await world.orchestrator.create(try Self.draft(world, name, repository, token: secret))
            let clone = try await Self.repository(world, row.id)
            #expect(clone.status == "failed", "\(name): \(clone.status)")
            #expect(clone.error?.contains(words) == true, "\(name): \(clone.error ?? "")")
            #expect(try await world.row(row.id).status == .running, "a failed clone leaves the workspace running")
        }

        // The token is nowhere it could leak from: the container's configuration, the execs that
        // ran (their arguments), the clone's .git/config, the database beside the ciphertext.
        let inspected = try await world.engine.send(.get, "/containers/\(good.containerID!)/json")
        #expect(!String(decoding: inspected.body, as: UTF8.self).contains(token), "the container's inspect")
        // The engine's own record of the execs made in the container (exec_create events carry the
        // exec's id and its command line); each is inspected.
        let filters = #"{"event":["exec_create"],"container":["\#(good.containerID!)"]}"#
        let events = try await world.engine.send(.get, "/events", query: [
            ("since", String(Int(Date().timeIntervalSince1970) - 600)), ("until", String(Int(Date().timeIntervalSince1970) + 1)), ("filters", filters),
        ])
        let lines = String(decoding: events.body, as: UTF8.self).split(separator: "\n")
        let execIDs = lines.compactMap { line -> String? in
            let event = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return ((event?["Actor"] as? [String: Any])?["Attributes"] as? [String: String])?["execID"]
        }
        #expect(lines.contains { $0.contains("git clone") }, "the clone's exec is on the engine's record")
        #expect(!lines.contains { $0.contains(token) }, "an exec's command line")
        #expect(!execIDs.isEmpty)
        for exec in execIDs {
            let answer = try await world.engine.send(.get, "/exec/\(exec)/json")
            #expect(!String(decoding: answer.body, as: UTF8.self).contains(token), "exec \(exec)'s inspect")
        }
        let config = try await world.engine.exec(good.containerID!, command: ["sh", "-c", "cat /workspace/*/.git/config; git -C /workspace/private config --list --show-origin"])
        #expect(!config.stdoutText.contains(token) && !config.stdoutText.lowercased().contains("authorization"), "\(config.stdoutText)")
        let stored = try await world.db.withSystem { scope in
            try await scope.execute("SELECT row_to_json(w)::text AS everything FROM workspaces w").map { try $0.decode("everything", as: String.self) }
            + (try await scope.execute("SELECT row_to_json(e)::text AS everything FROM workspace_events e").map { try $0.decode("everything", as: String.self) })
        }
        #expect(!stored.contains { $0.contains(token) }, "the database holds the token in the clear")
        let sealed = try await world.db.withSystem { try await $0.first("SELECT repository_token_sealed FROM workspaces WHERE id = \(good.id)")!.decode("repository_token_sealed", as: PostgresBytes.self).bytes }
        #expect(!sealed.isEmpty && String(decoding: sealed, as: UTF8.self).contains(token) == false)
        await world.finish()
    }

    /// A clone cut off by a crash (its attempt's deadline passed, `cloning` left behind) is taken up
    /// by the reconciler and finished; a failed one runs again when asked.
    @Test func aCloneCutOffIsTakenUpAndAFailedOneRetried() async throws {
        let world = try await Self.world("ws-git-crash")
        let url = try TestEnvironment.require("BERTH_TEST_GIT_URL")
        let draft = try Self.draft(world, "cut-off", RepositorySpec(url: url))
        let row = draft.id
        // Placed and running, its clone claimed by a replica that then died.
        _ = try await world.placement.reserve(draft, actor: "placer", lease: .seconds(90))
        _ = await world.orchestrator.converger.run(row, actor: "placer")
        try await world.db.withSystem { scope in
            try await scope.execute("UPDATE workspaces SET git_status = 'cloning', git_attempts = 1, git_until = now() - interval '1 second' WHERE id = \(row)")
        }
        let report = await world.reconciler.pass()
        #expect(report.cloned == [row])
        _ = await world.orchestrator.clones.drain(within: .seconds(60))
        #expect(try await Self.repository(world, row).status == "ready")

        // A failed clone (the repository is missing) is run again on request, and fails the same way.
        let missing = try await world.orchestrator.create(try Self.draft(world, "missing", RepositorySpec(url: url.replacingOccurrences(of: "sample", with: "absent"))))
        #expect(try await Self.repository(world, missing.id).status == "failed")
        #expect(try await world.orchestrator.git!.retry(missing.id))
        #expect(try await Self.repository(world, missing.id).status == "pending")
        guard case .failed(let again)? = await world.orchestrator.git!.run(missing.id) else { Issue.record("the retried clone did not fail"); return }
        #expect(again.code == "repository_not_found")
        #expect(try await Self.repository(world, missing.id).code == "repository_not_found")
        #expect(try await world.orchestrator.git!.retry(row) == false, "a ready clone is not retried")
        await world.finish()
    }

    /// A token sealed under a key that is no longer configured fails with a clear error, not a crash.
    @Test func aTokenSealedUnderAnUnknownKeyFailsClearly() async throws {
        let world = try await Self.world("ws-git-key")
        let url = try TestEnvironment.require("BERTH_TEST_GIT_HTTP_URL")
        var draft = try Self.draft(world, "old-key", RepositorySpec(url: url, username: "berth"))
        let other = try SecretBox(key: Array(repeating: 9, count: 32))
        draft.sealedToken = SealedToken(bytes: try other.seal(Array("whatever".utf8), associatedData: Array(draft.id.description.utf8)), keyID: other.keyID)
        let row = try await world.orchestrator.create(draft)
        let clone = try await Self.repository(world, row.id)
        #expect(clone.status == "failed" && clone.code == "token_unavailable")
        #expect(clone.error?.contains("no longer configured") == true && clone.error?.contains(other.keyID) == true, "\(clone.error ?? "")")
        await world.finish()
    }
}

@Suite struct GitRulesTests {
    @Test(arguments: [
        ("https://example.com/team/app.git", false, nil),
        ("git://example.com/app.git", false, "allowed only"),
        ("git://example.com/app.git", true, nil),
        ("http://example.com/app.git", false, "allowed only"),
        ("file:///etc/passwd", true, "file://"),
        ("/srv/repo.git", true, "https://"),
        ("../repo", true, "https://"),
        ("git@github.com:team/app.git", true, "https://"),
        ("ssh://git@example.com/app.git", true, "ssh"),
        ("https://user:secret@example.com/app.git", false, "credentials"),
        ("https://example.com/app.git\nx", false, "control"),
        ("https://example.com/ app.git", false, "control"),
        ("https://example.com", false, "repository"),
        ("https://", false, "host"),
    ] as [(String, Bool, String?)])
    func urls(_ url: String, _ insecure: Bool, _ problem: String?) {
        let found = RepositoryValidation.urlProblem(url, allowInsecure: insecure)
        if let problem { #expect(found?.contains(problem) == true, "\(url): \(found ?? "accepted")") } else { #expect(found == nil, "\(url): \(found ?? "")") }
    }

    @Test func anOverlongURLIsRefused() {
        #expect(RepositoryValidation.urlProblem("https://example.com/" + String(repeating: "a", count: 3000), allowInsecure: false) != nil)
    }

    @Test func gitsWordsAreReadAsCausesAPersonCanActOn() {
        func code(_ exit: Int, _ text: String, retry: Bool = false) -> String {
            switch GitSetupService.classify(exitCode: exit, stderr: text, retryable: retry) {
            case .failed(let f): "failed:\(f.code)"
            case .later(let f): "later:\(f.code)"
            case .ready: "ready"
            }
        }
        #expect(code(128, "fatal: could not read Username for 'https://h': terminal prompts disabled") == "failed:auth_failed")
        #expect(code(128, "fatal: Authentication failed for 'https://h/x.git/'") == "failed:auth_failed")
        #expect(code(128, "fatal: Remote branch nope not found in upstream origin") == "failed:branch_not_found")
        #expect(code(128, "remote: Repository not found.\nfatal: repository 'https://h/x.git/' not found") == "failed:repository_not_found")
        #expect(code(128, "fatal: remote error: access denied or repository not exported: /x.git") == "failed:repository_not_found")
        #expect(code(128, "fatal: unable to access 'https://h/': Could not resolve host: h", retry: true) == "later:network")
        #expect(code(128, "fatal: unable to access 'https://h/': Could not resolve host: h", retry: false) == "failed:network")
        #expect(code(124, "", retry: true) == "later:timeout")
        #expect(code(127, "sh: 1: git: not found") == "failed:git_missing")
    }

    @Test func theTokenGoesOnlyToTheRepositorysOrigin() {
        #expect(GitSetupService.origin(of: "https://git.example.com:8443/team/app.git") == "https://git.example.com:8443")
        #expect(GitSetupService.scrub("x Authorization: Basic c2VjcmV0 y", ["GIT_CONFIG_VALUE_0": "Authorization: Basic c2VjcmV0"]) == "x [redacted] y")
    }
}
