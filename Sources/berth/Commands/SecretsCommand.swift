import ArgumentParser
import Domain
import Foundation
import Persistence
import Secrets

/// `berth secrets …`: the keys stored credentials are sealed with.
struct SecretsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secrets", abstract: "Manage the keys of sealed credentials.", subcommands: [Rotate.self]
    )

    /// Re-seals every repository token sealed under a previous key with the current one.
    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: """
            Re-seal repository tokens under BERTH_SECRET_KEY. Tokens sealed with a key listed in \
            BERTH_SECRET_KEYS_PREVIOUS are opened with it and sealed again; prints how many, as JSON. \
            Exits 2 when some token's key is in neither (those workspaces need their token given again).
            """)

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let keyring: SecretKeyring
            do {
                guard let found = try SecretsConfiguration.keyring(Environment()) else { Bootstrap.fail("BERTH_SECRET_KEY is not set (nor BERTH_SECRET_KEY_FILE)") }
                keyring = found
            } catch { Bootstrap.fail("\(error)") }
            let current = keyring.current.keyID
            let (resealed, unopenable) = try await CommandDatabase.run(database) { db in
                try await db.withSystem { scope -> (Int, [String]) in
                    let rows = try await scope.execute("""
                        SELECT id, repository_token_sealed, repository_token_key_id FROM workspaces
                        WHERE repository_token_sealed IS NOT NULL AND repository_token_key_id <> \(current) FOR UPDATE
                        """)
                    var resealed = 0
                    var unopenable: [String] = []
                    for row in rows {
                        let id = try row.decode("id", as: WorkspaceID.self)
                        let sealed = try row.decode("repository_token_sealed", as: PostgresBytes.self).bytes
                        let keyID = try row.decode("repository_token_key_id", as: String.self)
                        let bound = Array(id.description.utf8)
                        guard let plain = try? keyring.open(sealed, keyID: keyID, associatedData: bound) else {
                            unopenable.append(id.description)
                            continue
                        }
                        let (bytes, newKey) = try keyring.seal(plain, associatedData: bound)
                        try await scope.execute("""
                            UPDATE workspaces SET repository_token_sealed = \(PostgresBytes(bytes)), repository_token_key_id = \(newKey) WHERE id = \(id)
                            """)
                        resealed += 1
                    }
                    return (resealed, unopenable)
                }
            }
            struct Report: Encodable { let key_id: String; let resealed: Int; let unopenable: [String] }
            print(try CommandDatabase.json(Report(key_id: current, resealed: resealed, unopenable: unopenable)))
            if !unopenable.isEmpty {
                FileHandle.standardError.write(Data("berth: \(unopenable.count) tokens were sealed with a key that is not configured; their workspaces need the token given again\n".utf8))
                throw ExitCode(2)
            }
        }
    }
}

/// The sealing keys, from the environment: `BERTH_SECRET_KEY` seals, `BERTH_SECRET_KEYS_PREVIOUS`
/// (comma-separated) only opens. Either may come from its `_FILE`.
enum SecretsConfiguration {
    static func keyring(_ env: Environment) throws -> SecretKeyring? {
        guard let current = try env.value("BERTH_SECRET_KEY") else { return nil }
        do {
            return try SecretKeyring(base64Current: current, base64Previous: try env.value("BERTH_SECRET_KEYS_PREVIOUS"))
        } catch let error as SecretsError {
            throw ConfigurationError("BERTH_SECRET_KEY or BERTH_SECRET_KEYS_PREVIOUS: \(error.message) (each is 32 bytes in base64)")
        }
    }
}
