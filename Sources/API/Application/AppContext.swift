import Hummingbird
import Persistence

/// What every route may use: the database and the migration state.
public struct AppServices: Sendable {
    public let database: Database
    public let migrator: Migrator

    public init(database: Database, migrator: Migrator) {
        self.database = database
        self.migrator = migrator
    }
}
