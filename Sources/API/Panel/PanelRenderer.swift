import HTTPTypes
import Hummingbird
import Mustache
import NIOCore

/// What every page template sees: the title, the navigation, the session's CSRF token (nil when
/// signed out), a notice or an error, and the page's own `body`.
struct PanelPage<Body> {
    struct Nav {
        var servers = false
        var cluster = false
        var workspaces = false
        var tenants = false
        var plans = false
        var audit = false
        var placement = false
    }

    let title: String
    let nav: Nav
    let csrf: String?
    let notice: String?
    let error: String?
    let body: Body
}

/// Renders the panel's Mustache templates (compiled into the binary) into HTML responses.
enum PanelRenderer {
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        for (name, text) in PanelTemplates.all {
            do {
                try library.register(text, named: name)
            } catch {
                // The templates are constants of this module: one that does not parse is a bug, and every page test renders them.
                preconditionFailure("panel template \(name) does not parse: \(error)")
            }
        }
        return library
    }()

    static func render(_ template: String, _ object: Any) -> String {
        guard let text = library.render(object, withTemplate: template) else {
            preconditionFailure("no panel template named \(template)")
        }
        return text
    }

    static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// The whole page, or with `?partial=1` only its live region (the template `<name>-live`),
    /// which the panel's script swaps in every few seconds.
    static func page(_ template: String, _ page: PanelPage<some Any>, request: Request, status: HTTPResponse.Status = .ok) -> Response {
        if request.uri.queryParameters["partial"] == "1", library.getTemplate(named: template + "-live") != nil {
            return html(render(template + "-live", page), status: status)
        }
        return html(render(template, page), status: status)
    }

    struct Message { let message: String }

    /// A refusal as a page of its own, with its status.
    static func errorPage(_ status: HTTPResponse.Status, _ message: String) -> Response {
        let page = PanelPage(title: "\(status.code) \(status.reasonPhrase)", nav: .init(), csrf: nil, notice: nil, error: nil, body: Message(message: message))
        return html(render("error", page), status: status)
    }
}
