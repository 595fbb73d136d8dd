import Foundation
import Logging

/// One `sql/NNN_name.sql` file.
public struct MigrationFile: Sendable, Equatable {
    public let version: Int
    public let name: String
    public let fileName: String
    public let sql: String
}

/// Applies `sql/NNN_name.sql` files in order, each in its own transaction, and records them
/// with a checksum in `schema_migrations`. Running it again is a no-op; an applied file that
/// changed is refused.
public struct Migrator: Sendable {
    public let database: Database
    public let directory: URL
    let logger: Logger

    /// Serialises concurrent `berth migrate` runs.
    static let advisoryLockKey: Int64 = 0x6265_7274_686D_6967  // "berthmig"

    public init(database: Database, directory: URL, logger: Logger) {
        self.database = database
        self.directory = directory
        self.logger = logger
    }

    /// The migration files, sorted; fails on malformed names or duplicate versions.
    public func files() throws -> [MigrationFile] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw PostgresError(code: .migration, message: "cannot read migration directory \(directory.path)")
        }
        var files: [MigrationFile] = []
        for fileName in names.sorted() where fileName.hasSuffix(".sql") {
            let stem = fileName.dropLast(4)
            guard let underscore = stem.firstIndex(of: "_"),
                let version = Int(stem[..<underscore]), stem[..<underscore].count == 3
            else {
                throw PostgresError(code: .migration, message: "migration \(fileName) is not named NNN_name.sql")
            }
            guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent(fileName).path),
                let sql = String(data: data, encoding: .utf8)
            else {
                throw PostgresError(code: .migration, message: "cannot read migration \(fileName)")
            }
            if let clash = files.first(where: { $0.version == version }) {
                throw PostgresError(code: .migration, message: "migrations \(clash.fileName) and \(fileName) share version \(version)")
            }
            files.append(MigrationFile(version: version, name: String(stem[stem.index(after: underscore)...]), fileName: fileName, sql: sql))
        }
        return files
    }

    /// Applies every pending migration and returns the ones it applied.
    @discardableResult
    public func migrate() async throws -> [MigrationFile] {
        let files = try files()
        return try await database.withConnection { connection in
            try await connection.execute("SELECT pg_advisory_lock(\(Self.advisoryLockKey))")
            do {
                let applied = try await apply(files, on: connection)
                try await connection.execute("SELECT pg_advisory_unlock(\(Self.advisoryLockKey))")
                return applied
            } catch {
                _ = try? await connection.execute("SELECT pg_advisory_unlock(\(Self.advisoryLockKey))")
                throw error
            }
        }
    }

    /// The migrations not yet applied (for `/ready`); fails if an applied file changed.
    public func pending() async throws -> [MigrationFile] {
        let files = try files()
        return try await database.withConnection { connection in
            let recorded = try await recordedChecksums(on: connection, create: false)
            var pending: [MigrationFile] = []
            for file in files {
                if let checksum = recorded[file.version] {
                    if checksum != (try await Self.checksum(file.sql, on: connection)) { throw changedError(file) }
                } else {
                    pending.append(file)
                }
            }
            return pending
        }
    }

    private func apply(_ files: [MigrationFile], on connection: DatabaseConnection) async throws -> [MigrationFile] {
        // Tables force row-level security on their owner too: a data migration run by an owner that
        // does not bypass it would read no tenant's rows and change nothing, silently.
        let bypasses = try await connection.first("SELECT rolbypassrls OR rolsuper AS bypasses FROM pg_roles WHERE rolname = current_user")?
            .decode("bypasses", as: Bool.self) ?? false
        guard bypasses else {
            throw PostgresError(code: .insufficientPrivilege, message: """
                the migration role must have BYPASSRLS: migrations read and rewrite every tenant's rows, which row-level security \
                hides even from the tables' owner (as a superuser: ALTER ROLE <owner> BYPASSRLS)
                """)
        }
        let recorded = try await recordedChecksums(on: connection, create: true)
        var applied: [MigrationFile] = []
        for file in files {
            let checksum = try await Self.checksum(file.sql, on: connection)
            if let existing = recorded[file.version] {
                guard existing == checksum else { throw changedError(file) }
                continue
            }
            try await connection.executeScript("BEGIN")
            do {
                try await connection.executeScript(file.sql)
                try await connection.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES (\(file.version), \(file.name), \(checksum))"
                )
                try await connection.executeScript("COMMIT")
            } catch {
                _ = try? await connection.executeScript("ROLLBACK")
                throw PostgresError(
                    code: .migration, message: "migration \(file.fileName) failed: \(error.message)",
                    sqlState: error.sqlState, detail: error.detail
                )
            }
            logger.info("applied migration", metadata: ["file": "\(file.fileName)"])
            applied.append(file)
        }
        return applied
    }

    private func recordedChecksums(on connection: DatabaseConnection, create: Bool) async throws -> [Int: String] {
        if create {
            try await connection.executeScript("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version integer PRIMARY KEY,
                    name text NOT NULL,
                    checksum text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """)
        } else {
            let exists = try await connection.first("SELECT to_regclass('schema_migrations') IS NOT NULL AS present")
            if try exists?.decode("present", as: Bool.self) != true { return [:] }
        }
        var recorded: [Int: String] = [:]
        for row in try await connection.execute("SELECT version, checksum FROM schema_migrations") {
            recorded[try row.decode("version")] = try row.decode("checksum", as: String.self)
        }
        return recorded
    }

    private func changedError(_ file: MigrationFile) -> PostgresError {
        PostgresError(
            code: .migration,
            message: "migration \(file.fileName) was changed after it was applied; restore it and put the change in a new migration"
        )
    }

    /// SHA-256 of the file's text, computed by the server so Persistence needs no crypto library.
    static func checksum(_ sql: String, on connection: DatabaseConnection) async throws(PostgresError) -> String {
        let row = try await connection.first("SELECT encode(sha256(convert_to(\(sql), 'UTF8')), 'hex') AS checksum")
        guard let checksum = try row?.decode("checksum", as: String.self) else {
            throw PostgresError(code: .migration, message: "could not compute a migration checksum")
        }
        return checksum
    }
}
