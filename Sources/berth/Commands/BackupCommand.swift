import ArgumentParser
import Foundation
import Persistence

/// `berth backup FILE` and `berth restore FILE`: the whole database (schema, every tenant's rows,
/// the migration record) in pg_dump's custom format, through PostgreSQL's own tools.
///
/// Both connect as the owner (`BERTH_MIGRATE_DATABASE_URL`), which must bypass row-level security
/// (the tables force it on their owner too); the roles `berth_app` and `berth_tenant` must exist
/// where a backup is restored, since the grants name them.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "backup", abstract: "Write the database to FILE (pg_dump, custom format).")

    @Option(name: .long, help: "The owner's libpq conninfo or URI (default: $BERTH_MIGRATE_DATABASE_URL).") var databaseURL: String?
    @Argument(help: "Where to write the backup (replaced if it exists).") var file: String

    func run() async throws {
        let environment = try PostgresTool.environment(databaseURL)
        try PostgresTool.run("pg_dump", ["--format=custom", "--no-owner", "--file", file], environment: environment)
        print("berth: backup written to \(file)")
    }
}

struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore the database from FILE, replacing what it holds (pg_restore --clean, in one transaction)."
    )

    @Option(name: .long, help: "The owner's libpq conninfo or URI (default: $BERTH_MIGRATE_DATABASE_URL).") var databaseURL: String?
    @Argument(help: "A backup written by `berth backup`.") var file: String

    func run() async throws {
        guard FileManager.default.isReadableFile(atPath: file) else { Bootstrap.fail("cannot read \(file)") }
        let environment = try PostgresTool.environment(databaseURL)
        try PostgresTool.run(
            "pg_restore", ["--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error", "--dbname", environment["PGDATABASE"] ?? "berth", file],
            environment: environment
        )
        print("berth: restored \(file)")
    }
}

/// Runs PostgreSQL's command-line tools with the connection in their environment.
enum PostgresTool {
    static func environment(_ flag: String?) throws -> [String: String] {
        guard let url = try flag ?? Environment().value("BERTH_MIGRATE_DATABASE_URL") else {
            Bootstrap.fail("BERTH_MIGRATE_DATABASE_URL is not set (nor --database-url): backups run as the owner")
        }
        do {
            return try DatabaseConfiguration(connectionString: url).libpqEnvironment()
        } catch {
            Bootstrap.fail(error.description)
        }
    }

    /// Runs `tool` (found on PATH) and fails with its message when it does not succeed.
    static func run(_ tool: String, _ arguments: [String], environment: [String: String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let errors = Pipe()
        process.standardError = errors
        do {
            try process.run()
        } catch {
            Bootstrap.fail("cannot run \(tool): \(error)")
        }
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let text = String(decoding: message, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            Bootstrap.fail("\(tool) failed (exit \(process.terminationStatus)): \(text.isEmpty ? "no message" : text)")
        }
    }
}
