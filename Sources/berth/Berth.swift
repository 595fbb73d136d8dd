import API
import ArgumentParser
import Foundation
import Logging

/// The `berth` command: the service and its admin tools.
@main
struct Berth: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "berth",
        abstract: "Multi-tenant workspace orchestration on Docker Engines.",
        subcommands: [Serve.self, Migrate.self, TenantCommand.self, APIKeyCommand.self, SecretsCommand.self, BillingCommand.self, BackupCommand.self, RestoreCommand.self, CertsCommand.self, ServerCommand.self]
    )
}

/// Options shared by every command that reaches the database.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: "libpq conninfo or URI (default: $BERTH_DATABASE_URL).")
    var databaseURL: String?

    @Option(name: .long, help: "Most database connections to keep open.")
    var poolSize: Int = 10
}

enum Bootstrap {
    /// Logging as JSON lines at `BERTH_LOG_LEVEL` (default info).
    static func logger(_ label: String) -> Logger {
        let levelText = ProcessInfo.processInfo.environment["BERTH_LOG_LEVEL"] ?? "info"
        let level = Logger.Level(rawValue: levelText.lowercased()) ?? .info
        LoggingSystem.bootstrap({ label, provider in JSONLogHandler(label: label, level: level, metadataProvider: provider) }, metadataProvider: RequestID.metadataProvider)
        return Logger(label: label)
    }

    /// Prints a one-line error and exits non-zero.
    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("berth: \(message)\n".utf8))
        exit(1)
    }

    static func sqlDirectory() -> URL {
        let path = ProcessInfo.processInfo.environment["BERTH_SQL_DIR"] ?? "sql"
        return URL(fileURLWithPath: path)
    }
}
