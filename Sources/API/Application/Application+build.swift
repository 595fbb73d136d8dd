import Hummingbird
import Logging

/// Builds the HTTP application from its dependencies.
public func buildApplication(
    services: AppServices,
    configuration: ApplicationConfiguration,
    logger: Logger
) -> some ApplicationProtocol {
    Application(router: buildRouter(services: services), configuration: configuration, logger: logger)
}

/// Every route and middleware of the service, as `buildApplication` serves them (tests compare the
/// routes with the OpenAPI document).
func buildRouter(services: AppServices) -> Router<BerthRequestContext> {
    let router = Router(context: BerthRequestContext.self)
    router.add(middleware: RequestIDMiddleware())
    router.add(middleware: ErrorMiddleware())
    router.addRoutes(OperationsController<BerthRequestContext>(services: services).routes)
    if let registry = services.metrics {
        router.add(middleware: MetricsMiddleware())
        router.addRoutes(MetricsController<BerthRequestContext>(database: services.database, registry: registry, headroom: services.capacityHeadroom).routes)
    }
    if let orchestrator = services.orchestrator {
        let tenant = router.group("v1")
            .add(middleware: APIKeyMiddleware(database: services.database, keyLimiter: RequestLimiter(limits: services.tenantLimits)))
            .group(context: TenantRequestContext.self)
            .add(middleware: TenantLimitMiddleware(limiter: TenantLimiter(limits: services.tenantLimits)))
        WorkspaceController(
            database: services.database, orchestrator: orchestrator, idempotencyLease: services.idempotencyLease,
            keyring: services.keyring, allowInsecureGit: services.allowInsecureGit
        ).addRoutes(to: tenant)
        UsageController(database: services.database).addRoutes(to: tenant)
    }
    if let pool = services.pool, let placement = services.placement {
        let admin = router.group("admin")
            .add(middleware: AdminAuthMiddleware(token: services.adminToken, database: services.database))
            .group(context: AdminRequestContext.self)
        AdminServersController(database: services.database, pool: pool, orchestrator: services.orchestrator, drainDeadline: services.drainDeadline).addRoutes(to: admin)
        AdminTenantsController(database: services.database).addRoutes(to: admin)
        AdminFleetController(database: services.database, placement: placement, headroom: services.capacityHeadroom).addRoutes(to: admin)
        AdminBillingController(database: services.database).addRoutes(to: admin)
    }
    // The admin panel: pages for people, over the same stores and shared functions as the admin API.
    if let pool = services.pool, let placement = services.placement {
        AdminPanel(
            database: services.database, pool: pool, placement: placement, adminToken: services.adminToken,
            orchestrator: services.orchestrator, drainDeadline: services.drainDeadline
        ).addRoutes(to: router)
    }
    return router
}
