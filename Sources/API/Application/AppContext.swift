import Compute
import Hummingbird
import Persistence

/// What every route may use: the database, the migration state and the orchestrator.
public struct AppServices: Sendable {
    public let database: Database
    public let migrator: Migrator
    public let orchestrator: WorkspaceOrchestrator?

    public init(database: Database, migrator: Migrator, orchestrator: WorkspaceOrchestrator? = nil) {
        self.database = database
        self.migrator = migrator
        self.orchestrator = orchestrator
    }
}
