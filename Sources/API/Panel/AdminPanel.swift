import Compute
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Persistence

/// The admin panel at `/admin/ui/`: server-rendered pages over the same stores and shared admin
/// functions as the JSON admin API, signed in with the admin token.
///
/// The login page and the two assets are open; every other page sits behind
/// `PanelSessionMiddleware` (session cookie, and a CSRF token on every POST).
struct AdminPanel {
    let database: Database
    let pool: DockerServerPool
    let placement: PlacementService
    let adminToken: AdminToken?
    var orchestrator: WorkspaceOrchestrator?
    var drainDeadline: Duration = .seconds(3600)
    /// Failed sign-ins per client address, shared by the login page's handlers.
    let throttle = PanelLoginThrottle()

    var signer: PanelSessionSigner? { adminToken.map { PanelSessionSigner(key: $0.sessionKey) } }

    func addRoutes(to router: Router<BerthRequestContext>) {
        let open = router.group("admin/ui", context: PanelRequestContext.self)
            .add(middleware: PanelPageMiddleware())
        open.get("login") { request, _ in try loginPage(request) }
        open.post("login") { request, context in try await login(request, context) }
        open.get("assets/panel.css") { _, _ in PanelAssets.response(PanelAssets.css, contentType: "text/css; charset=utf-8") }
        open.get("assets/panel.js") { _, _ in PanelAssets.response(PanelAssets.javascript, contentType: "text/javascript; charset=utf-8") }

        let pages = router.group("admin/ui", context: PanelRequestContext.self)
            .add(middleware: PanelPageMiddleware())
            .add(middleware: PanelSessionMiddleware(signer: signer, database: database))
        pages.get { _, _ in Response.redirect(to: "/admin/ui/servers") }
        pages.post("logout") { request, context in
            // The session ends on the server too: its cookie, copied or not, is refused from now on.
            if let session = context.session {
                try await database.withSystem { scope in
                    try await scope.execute("""
                        INSERT INTO panel_revocations (nonce, expires_at) VALUES (\(session.nonce), \(session.expiresAt))
                        ON CONFLICT (nonce) DO NOTHING
                        """)
                }
            }
            var response = Response.redirect(to: PanelNotice.signedOut.location("/admin/ui/login"))
            response.setCookie(PanelCookies.cleared(request))
            return response
        }
        let servers = ServerAdministration(database: database, pool: pool, orchestrator: orchestrator, drainDeadline: drainDeadline)
        PanelServerPages(database: database, administration: servers).addRoutes(to: pages)
        let plans = PricePlanAdministration(database: database)
        PanelTenantPages(database: database, administration: TenantAdministration(database: database), plans: plans).addRoutes(to: pages)
        PanelPricePages(database: database, plans: plans).addRoutes(to: pages)
        PanelFleetPages(database: database, placement: placement).addRoutes(to: pages)
    }

    struct LoginBody {}

    func loginPage(_ request: Request, status: HTTPResponse.Status = .ok, error: String? = nil) throws -> Response {
        guard adminToken != nil else { throw PanelError.disabled }
        let page = PanelPage(title: "Sign in", nav: .init(), csrf: nil, notice: PanelNotice.message(in: request), error: error, body: LoginBody())
        return PanelRenderer.html(PanelRenderer.render("login", page), status: status)
    }

    /// Compares the token with the configured one (digests, constant time). A wrong token gets the
    /// login page again with 401; the token is never echoed, logged or put in the cookie. After
    /// ten wrong tokens from one address in five minutes, that address gets 429 until it is five
    /// minutes since the first of them.
    func login(_ request: Request, _ context: PanelRequestContext) async throws -> Response {
        guard let adminToken, let signer else { throw PanelError.disabled }
        let address = context.clientAddress ?? "unknown"
        if let wait = throttle.retryAfter(address) {
            var response = try loginPage(request, status: .tooManyRequests, error: "Too many wrong tokens from this address. Try again in \(wait) seconds.")
            response.headers[.retryAfter] = String(wait)
            return response
        }
        var request = request
        let form = try PanelForm.parse(try await request.collectBody(upTo: context.maxUploadSize))
        guard let token = form["token"], adminToken.matches(token) else {
            throttle.failed(address)
            return try loginPage(request, status: .unauthorized, error: "That is not the admin token.")
        }
        throttle.succeeded(address)
        let (_, cookie) = signer.issue()
        var response = Response.redirect(to: "/admin/ui/servers")
        response.setCookie(PanelCookies.session(cookie, request))
        return response
    }
}
