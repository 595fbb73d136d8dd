import Compute
import Hummingbird
import Persistence
import Prometheus
import Secrets

/// What every route may use: the database, the migration state and, for the tenant and admin
/// APIs, the orchestrator, placement, the Docker clients and the admin token.
public struct AppServices: Sendable {
    public let database: Database
    public let migrator: Migrator
    public let orchestrator: WorkspaceOrchestrator?
    public let placement: PlacementService?
    public let pool: DockerServerPool?
    /// `nil` turns the admin API off (`503 admin_disabled`).
    public let adminToken: AdminToken?
    /// Where swift-metrics records; `nil` serves no `/metrics`.
    public let metrics: PrometheusCollectorRegistry?
    /// How much one tenant may use at once.
    public let tenantLimits: TenantLimits
    /// How long an unfinished `Idempotency-Key` claim holds before another request may take it over.
    public let idempotencyLease: Duration
    /// Seals repository tokens given on create; nil refuses them.
    public let keyring: SecretKeyring?
    /// Whether `git://` and `http://` repositories are accepted (local set-ups).
    public let allowInsecureGit: Bool
    /// How long a drain may run when its request does not say.
    public let drainDeadline: Duration
    /// The fraction of each resource the capacity signals keep free.
    public let capacityHeadroom: Double

    public init(
        database: Database, migrator: Migrator, orchestrator: WorkspaceOrchestrator? = nil,
        placement: PlacementService? = nil, pool: DockerServerPool? = nil, adminToken: AdminToken? = nil,
        metrics: PrometheusCollectorRegistry? = nil, tenantLimits: TenantLimits = TenantLimits(),
        idempotencyLease: Duration = .seconds(60), keyring: SecretKeyring? = nil, allowInsecureGit: Bool = false,
        drainDeadline: Duration = .seconds(3600), capacityHeadroom: Double = 0.2
    ) {
        self.database = database
        self.migrator = migrator
        self.orchestrator = orchestrator
        self.placement = placement
        self.pool = pool
        self.adminToken = adminToken
        self.metrics = metrics
        self.tenantLimits = tenantLimits
        self.idempotencyLease = idempotencyLease
        self.keyring = keyring
        self.allowInsecureGit = allowInsecureGit
        self.drainDeadline = drainDeadline
        self.capacityHeadroom = capacityHeadroom
    }
}
