import Foundation

/// A throwaway PostgreSQL cluster started through the repository's own script.
public struct PrivateCluster: Sendable {
    public let directory: URL
    public let port: Int

    public init() throws {
        directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("berth-pg-\(UUID().uuidString.prefix(8))")
        // A port the kernel says is free: 56000-59999 lies in its ephemeral range (32768-60999),
        // where outgoing connections take their ports.
        port = try TestEnvironment.freePort()
    }

    public var environment: [String: String] { ["BERTH_PG_DIR": directory.path, "BERTH_PG_PORT": String(port)] }
    public var script: String { TestEnvironment.repositoryRoot.appendingPathComponent("scripts/postgres.sh").path }

    /// A variable from the script's `env` output; throws when the script fails or does not print
    /// it, so that no check can run against a placeholder.
    public func exported(_ name: String) throws -> String {
        let env = try TestEnvironment.run(["bash", script, "env"], environment: environment)
        for line in env.split(separator: "\n") where line.hasPrefix("export \(name)=") {
            let value = String(line.dropFirst("export \(name)=".count))
            guard !value.isEmpty else { throw TestEnvironment.Missing(description: "scripts/postgres.sh env printed an empty \(name)") }
            return value
        }
        throw TestEnvironment.Missing(description: "scripts/postgres.sh env printed no \(name): \(env.count) characters")
    }

    public var appURL: String { get throws { try exported("BERTH_DATABASE_URL") } }

    /// The login role's password, as the script exports it and as the URL the pool uses carries
    /// it: they must agree and be a real secret.
    public var appPassword: String {
        get throws {
            let exported = try exported("BERTH_TEST_PG_APP_PASSWORD")
            let url = try appURL
            guard let inURL = URLComponents(string: url)?.password, inURL == exported else {
                throw TestEnvironment.Missing(description: "BERTH_TEST_PG_APP_PASSWORD is not the password of BERTH_DATABASE_URL")
            }
            guard exported.count >= 16 else { throw TestEnvironment.Missing(description: "the app password has only \(exported.count) characters") }
            return exported
        }
    }

    public func start() throws {
        try TestEnvironment.run(["bash", script, "start"], environment: environment)
    }

    public func stop() throws {
        try TestEnvironment.run(["bash", script, "stop"], environment: environment)
    }

    public func destroy() {
        try? stop()
        try? FileManager.default.removeItem(at: directory)
    }
}
