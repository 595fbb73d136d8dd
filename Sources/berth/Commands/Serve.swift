import API
import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Persistence
import ServiceLifecycle
import UnixSignals

/// `berth serve`: the HTTP service and its background loops, in one service group.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the Berth service.")

    @OptionGroup var database: DatabaseOptions

    @Option(name: .long, help: "host:port to listen on (default: $BERTH_HTTP_ADDRESS or 127.0.0.1:8080).")
    var address: String?

    func run() async throws {
        let logger = Bootstrap.logger("berth")
        let env = Environment()
        let listen: HostAndPort
        let url: String
        do {
            listen = try HostAndPort(address ?? env.value("BERTH_HTTP_ADDRESS") ?? "127.0.0.1:8080")
            guard let value = try database.databaseURL ?? env.value("BERTH_DATABASE_URL") else {
                throw ConfigurationError("BERTH_DATABASE_URL is not set (nor --database-url)")
            }
            url = value
        } catch { Bootstrap.fail("\(error)") }

        let dbConfiguration = DatabaseConfiguration(connectionString: url, poolSize: database.poolSize)
        do { try dbConfiguration.validate() } catch { Bootstrap.fail(error.description) }
        let db = Database(configuration: dbConfiguration, logger: logger)
        // Fail fast on a wrong password or unreachable host rather than serving 503s forever.
        do {
            _ = try await db.withConnection { try await $0.execute("SELECT 1") }
        } catch let error as PostgresError {
            Bootstrap.fail("cannot reach the database: \(error.description)")
        }
        let migrator = Migrator(database: db, directory: Bootstrap.sqlDirectory(), logger: logger)
        let app = buildApplication(
            services: AppServices(database: db, migrator: migrator),
            configuration: .init(address: .hostname(listen.host, port: listen.port), serverName: "berth"),
            logger: logger
        )
        let group = ServiceGroup(
            configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await group.run()
        db.shutdown()
    }
}
