import Hummingbird
import Logging

/// Builds the HTTP application from its dependencies.
public func buildApplication(
    services: AppServices,
    configuration: ApplicationConfiguration,
    logger: Logger
) -> some ApplicationProtocol {
    let router = Router(context: BerthRequestContext.self)
    router.add(middleware: ErrorMiddleware())
    router.addRoutes(OperationsController<BerthRequestContext>(services: services).routes)
    if let orchestrator = services.orchestrator {
        let tenant = router.group("v1")
            .add(middleware: APIKeyMiddleware(database: services.database))
            .group(context: TenantRequestContext.self)
        WorkspaceController(database: services.database, orchestrator: orchestrator).addRoutes(to: tenant)
        UsageController(database: services.database).addRoutes(to: tenant)
    }
    return Application(router: router, configuration: configuration, logger: logger)
}
