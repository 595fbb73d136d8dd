import Hummingbird

/// The context of the admin panel's routes: the session its cookie proved (set by
/// `PanelSessionMiddleware`) and, for a POST, the form it sent (read once, its CSRF field checked).
public struct PanelRequestContext: ChildRequestContext {
    public var coreContext: CoreRequestContextStorage
    var session: PanelSession?
    var form: [String: String] = [:]
    let clientAddress: String?

    public init(context: BerthRequestContext) throws {
        self.coreContext = context.coreContext
        self.clientAddress = context.clientAddress
    }

    public var maxUploadSize: Int { 1 << 20 }
}

extension PanelRequestContext {
    /// A page of the signed-in panel: its CSRF token and any notice the redirect carried.
    func page<Body>(_ title: String, _ request: Request, nav: PanelPage<Body>.Nav, error: String? = nil, _ body: Body) -> PanelPage<Body> {
        PanelPage(title: title, nav: nav, csrf: session?.csrfToken, notice: PanelNotice.message(in: request), error: error, body: body)
    }
}
