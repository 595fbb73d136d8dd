import API
import ArgumentParser
import Compute
import Domain
import Foundation
import Hummingbird
import Logging
import Metrics
import Persistence
import Prometheus
import Secrets
import ServiceLifecycle
import UnixSignals

/// `berth serve`: the HTTP service and its background loops, in one service group.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the Berth service.")

    @OptionGroup var database: DatabaseOptions

    @Option(name: .long, help: "host:port to listen on (default: $BERTH_HTTP_ADDRESS or 127.0.0.1:8080).")
    var address: String?

    @Option(name: .long, help: "Seconds between server health checks (default: $BERTH_HEALTH_INTERVAL or 5).")
    var healthInterval: Double?

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

        let interval: Double
        let registrations: [WorkspaceServerStore.Registration]
        let adminToken: AdminToken?
        let timing: LifecycleTiming
        let keyring: SecretKeyring?
        do {
            timing = try LifecycleTiming(env, poolSize: database.poolSize)
            keyring = try SecretsConfiguration.keyring(env)
            adminToken = try env.value("BERTH_ADMIN_TOKEN").map { token in
                guard let parsed = AdminToken(token), token.count >= 16 else {
                    throw ConfigurationError("BERTH_ADMIN_TOKEN must be at least 16 characters")
                }
                return parsed
            }
            interval = try healthInterval ?? env.value("BERTH_HEALTH_INTERVAL").map { text in
                guard let value = Double(text), value > 0 else { throw ConfigurationError("BERTH_HEALTH_INTERVAL must be a positive number of seconds") }
                return value
            } ?? 5
            registrations = try env.value("BERTH_WORKSPACE_SERVERS").map { try ServerRegistrations.parse($0) } ?? []
        } catch { Bootstrap.fail("\(error)") }

        let dbConfiguration = DatabaseConfiguration(connectionString: url, poolSize: database.poolSize, lockTimeout: timing.lockTimeout)
        do { try dbConfiguration.validate() } catch { Bootstrap.fail(error.description) }
        // Before anything makes a metric: the pool makes its own once, with the pool.
        let metrics = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(BerthMetricsFactory(registry: metrics))
        let db = Database(configuration: dbConfiguration, logger: logger)
        // Fail fast on a wrong password or unreachable host rather than serving 503s forever, and
        // refuse a login role that row-level security would not bind.
        do {
            if let problem = try await Self.privilegeProblem(db) { Bootstrap.fail(problem) }
        } catch let error as PostgresError {
            Bootstrap.fail("cannot reach the database: \(error.description)")
        }
        let migrator = Migrator(database: db, directory: Bootstrap.sqlDirectory(), logger: logger)
        do {
            try await db.withSystem { scope in
                for registration in registrations {
                    let server = try await WorkspaceServerStore().upsert(registration, in: scope)
                    logger.info("registered workspace server", metadata: ["server": "\(server.name)", "id": "\(server.id)"])
                }
            }
        } catch {
            Bootstrap.fail("cannot register BERTH_WORKSPACE_SERVERS: \(error)")
        }
        let pool = DockerServerPool()
        var monitoring = ServerHealthMonitor.Configuration(
            interval: .milliseconds(Int(interval * 1000)), checkTimeout: .milliseconds(Int(min(interval, 2) * 1000)),
            policy: ServerHealthPolicy(offlineAfter: timing.serverOfflineAfter)
        )
        monitoring.busyCores = timing.idleCPUThreshold
        let monitor = ServerHealthMonitor(database: db, probe: pool, configuration: monitoring, logger: logger)
        let placement = PlacementService(database: db, logger: logger)
        var hardening = ContainerHardening.workspace
        hardening.pidsLimit = timing.pidsLimit
        let git = GitSetupService(database: db, pool: pool, keyring: keyring, settings: timing.git, logger: logger)
        let orchestrator = WorkspaceOrchestrator(
            database: db, placement: placement, pool: pool,
            containers: WorkspaceContainers(stopGrace: timing.stopGrace, hardening: hardening), lease: timing.workspaceLease,
            git: git, logger: logger
        )
        let reconciler = WorkspaceReconciler(
            database: db, orchestrator: orchestrator, interval: timing.reconcileInterval,
            lostAfter: timing.serverLostAfter, orphanGrace: timing.orphanGrace, logger: logger
        )
        let scaling = ScalingService(database: db, orchestrator: orchestrator, settings: timing.scaling, logger: logger)
        let app = buildApplication(
            services: AppServices(
                database: db, migrator: migrator, orchestrator: orchestrator, placement: placement, pool: pool, adminToken: adminToken,
                metrics: metrics, tenantLimits: timing.tenantLimits, idempotencyLease: timing.idempotencyLease,
                keyring: keyring, allowInsecureGit: timing.git.allowInsecure, drainDeadline: timing.drainDeadline,
                capacityHeadroom: timing.scaling.capacity.headroom
            ),
            configuration: .init(address: .hostname(listen.host, port: listen.port), serverName: "berth"),
            logger: logger
        )
        if adminToken == nil {
            logger.warning("no BERTH_ADMIN_TOKEN: the admin API and panel are off")
        }
        let group = ServiceGroup(
            configuration: .init(services: [app, monitor, reconciler, scaling], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await group.run()
        // Creates whose request has answered finish (or reach a point the reconciler resumes from)
        // before the pool closes.
        let left = await orchestrator.work.drain(within: .seconds(30))
        if left > 0 { logger.warning("shutting down with workspace changes in flight; the reconciler resumes them", metadata: ["count": "\(left)"]) }
        db.shutdown()
        logger.info("stopped")
        // Everything Berth runs has stopped, but threads of the C libraries may not have (libcurl's,
        // a connection closing): returning would run the libraries' exit handlers (OpenSSL's among
        // them) under those threads, which once ended a clean shutdown in "double free or corruption".
        // Leave without them.
        fflush(nil)
        _exit(0)
    }
}

extension Serve {
    /// Why the login role must not serve tenants, or nil: a superuser or a BYPASSRLS role skips
    /// row-level security, and an owner of the tables (or a member of the owner) can turn it off.
    static func privilegeProblem(_ db: Database) async throws -> String? {
        try await db.withConnection { connection in
            let row = try await connection.first("""
                SELECT current_user AS role, r.rolsuper AS super, r.rolbypassrls AS bypass,
                       (SELECT count(*) FROM pg_tables t WHERE t.schemaname = 'public'
                          AND pg_has_role(current_user, t.tableowner, 'MEMBER')) AS owned
                FROM pg_roles r WHERE r.rolname = current_user
                """)!
            let role = try row.decode("role", as: String.self)
            if try row.decode("super", as: Bool.self) { return "the database role \(role) is a superuser: row-level security would not apply; log in as the service role (berth_app)" }
            if try row.decode("bypass", as: Bool.self) { return "the database role \(role) has BYPASSRLS: row-level security would not apply; log in as the service role (berth_app)" }
            if try row.decode("owned", as: Int.self) > 0 { return "the database role \(role) owns Berth's tables (or is a member of their owner): it could turn row-level security off; log in as the service role (berth_app)" }
            return nil
        }
    }
}

/// The lifecycle's timings and limits, from the environment.
struct LifecycleTiming {
    var reconcileInterval: Duration = .seconds(10)
    var serverLostAfter: Duration = .seconds(300)
    var serverOfflineAfter: Duration = .seconds(30)
    var orphanGrace: Duration = .seconds(120)
    var stopGrace: Duration = .seconds(10)
    var pidsLimit = ContainerHardening.workspace.pidsLimit
    var tenantLimits = TenantLimits()
    var idempotencyLease: Duration = .seconds(60)
    var workspaceLease: Duration = .seconds(90)
    var git = GitSetupService.Settings()
    var lockTimeout: Duration = .seconds(5)
    var scaling = ScalingService.Settings()
    var drainDeadline: Duration = .seconds(3600)
    var idleCPUThreshold = 0.05

    init(_ env: Environment, poolSize: Int) throws {
        func seconds(_ name: String, _ range: ClosedRange<Double>) throws -> Duration? {
            guard let text = try env.value(name) else { return nil }
            guard let value = Double(text), range.contains(value) else {
                throw ConfigurationError("\(name) must be a number of seconds from \(range.lowerBound) to \(range.upperBound)")
            }
            return .milliseconds(Int((value * 1000).rounded()))
        }
        reconcileInterval = try seconds("BERTH_RECONCILE_INTERVAL", 0.1...3600) ?? reconcileInterval
        serverLostAfter = try seconds("BERTH_SERVER_LOST_AFTER", 1...604_800) ?? serverLostAfter
        serverOfflineAfter = try seconds("BERTH_SERVER_OFFLINE_AFTER", 1...86_400) ?? serverOfflineAfter
        orphanGrace = try seconds("BERTH_ORPHAN_GRACE", 0...86_400) ?? orphanGrace
        stopGrace = try seconds("BERTH_STOP_GRACE", 0...300) ?? stopGrace
        idempotencyLease = try seconds("BERTH_IDEMPOTENCY_LEASE", 1...3600) ?? idempotencyLease
        workspaceLease = try seconds("BERTH_WORKSPACE_LEASE", 1...3600) ?? workspaceLease
        lockTimeout = try seconds("BERTH_DATABASE_LOCK_TIMEOUT", 0.01...600) ?? lockTimeout
        git.cloneTimeout = try seconds("BERTH_GIT_CLONE_TIMEOUT", 1...3600) ?? git.cloneTimeout
        git.backoff = try seconds("BERTH_GIT_RETRY_BACKOFF", 0.1...3600) ?? git.backoff
        if let text = try env.value("BERTH_GIT_ALLOW_INSECURE") {
            guard let flag = ["true": true, "1": true, "false": false, "0": false][text.lowercased()] else {
                throw ConfigurationError("BERTH_GIT_ALLOW_INSECURE must be true or false")
            }
            git.allowInsecure = flag
        }
        func number(_ name: String, _ range: ClosedRange<Double>) throws -> Double? {
            guard let text = try env.value(name) else { return nil }
            guard let value = Double(text), range.contains(value) else { throw ConfigurationError("\(name) must be a number from \(range.lowerBound) to \(range.upperBound)") }
            return value
        }
        tenantLimits = TenantLimits(
            // Half the pool by default: one tenant's requests can hold at most half the connections.
            maxConcurrent: try number("BERTH_TENANT_MAX_CONCURRENT", 1...10_000).map { Int($0) } ?? max(1, poolSize / 2),
            ratePerSecond: try number("BERTH_TENANT_RATE", 0.01...1_000_000) ?? tenantLimits.ratePerSecond,
            burst: try number("BERTH_TENANT_BURST", 1...1_000_000) ?? tenantLimits.burst
        )
        scaling.interval = try seconds("BERTH_SCALING_INTERVAL", 0.1...3600) ?? scaling.interval
        drainDeadline = try seconds("BERTH_DRAIN_DEADLINE", 1...604_800) ?? drainDeadline
        scaling.drainConcurrency = try number("BERTH_DRAIN_CONCURRENCY", 1...64).map { Int($0) } ?? scaling.drainConcurrency
        scaling.capacity.headroom = try number("BERTH_SCALE_HEADROOM", 0...0.95) ?? scaling.capacity.headroom
        idleCPUThreshold = try number("BERTH_IDLE_CPU_THRESHOLD", 0...1024) ?? idleCPUThreshold
        if let url = try env.value("BERTH_SCALE_WEBHOOK_URL") {
            guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""), parsed.host != nil else {
                throw ConfigurationError("BERTH_SCALE_WEBHOOK_URL must be an http or https URL")
            }
            scaling.capacity.webhookURL = url
        }
        if let text = try env.value("BERTH_WORKSPACE_PIDS_LIMIT") {
            guard let value = Int(text), (16...1_000_000).contains(value) else {
                throw ConfigurationError("BERTH_WORKSPACE_PIDS_LIMIT must be a whole number from 16 to 1000000")
            }
            pidsLimit = value
        }
    }
}
