import ArgumentParser
import Foundation
import Persistence

/// `berth migrate`: applies `sql/NNN_name.sql` as the owner role.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending migrations from sql/ (as the owner role).")

    @Option(name: .long, help: "Owner connection (default: $BERTH_MIGRATE_DATABASE_URL).")
    var databaseURL: String?

    @Option(name: .long, help: "Folder of NNN_name.sql files (default: $BERTH_SQL_DIR or ./sql).")
    var sqlDir: String?

    func run() async throws {
        let logger = Bootstrap.logger("berth.migrate")
        let env = Environment()
        let url: String
        do {
            guard let value = try databaseURL ?? env.value("BERTH_MIGRATE_DATABASE_URL") else {
                Bootstrap.fail("BERTH_MIGRATE_DATABASE_URL is not set (nor --database-url)")
            }
            url = value
        } catch { Bootstrap.fail("\(error)") }
        let configuration = DatabaseConfiguration(connectionString: url, poolSize: 1)
        do { try configuration.validate() } catch { Bootstrap.fail(error.description) }
        let database = Database(configuration: configuration, logger: logger)
        defer { database.shutdown() }
        let directory = sqlDir.map { URL(fileURLWithPath: $0) } ?? Bootstrap.sqlDirectory()
        let migrator = Migrator(database: database, directory: directory, logger: logger)
        do {
            let applied = try await migrator.migrate()
            if applied.isEmpty {
                print("migrations: up to date")
            } else {
                for file in applied { print("applied \(file.fileName)") }
            }
        } catch let error as PostgresError {
            Bootstrap.fail(error.description)
        }
    }
}
