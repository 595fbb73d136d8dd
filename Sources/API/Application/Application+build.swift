import Hummingbird
import Logging

/// Builds the HTTP application from its dependencies.
public func buildApplication(
    services: AppServices,
    configuration: ApplicationConfiguration,
    logger: Logger
) -> some ApplicationProtocol {
    let router = Router(context: BasicRequestContext.self)
    router.add(middleware: ErrorMiddleware())
    router.addRoutes(OperationsController<BasicRequestContext>(services: services).routes)
    return Application(router: router, configuration: configuration, logger: logger)
}
