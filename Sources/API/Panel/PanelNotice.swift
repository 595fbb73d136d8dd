import Hummingbird

/// What a redirect after a change says on the next page. The query carries only this code, never
/// text, so a link cannot make the panel say something it did not.
enum PanelNotice: String {
    case serverAdded = "server-added"
    case serverAddedUnreachable = "server-added-unreachable"
    case serverCordoned = "server-cordoned"
    case serverUncordoned = "server-uncordoned"
    case serverDrained = "server-drained"
    case serverRemoved = "server-removed"
    case tenantCreated = "tenant-created"
    case keyRevoked = "key-revoked"
    case planCreated = "plan-created"
    case pricesAdded = "prices-added"
    case planAssigned = "plan-assigned"
    case signedOut = "signed-out"

    var message: String {
        switch self {
        case .serverAdded: "Server added and reached. It turns healthy at its first health check."
        case .serverAddedUnreachable: "Server added, but it did not answer: the health monitor keeps trying, and its last error shows here."
        case .serverCordoned: "Server cordoned: no new workspaces are placed on it."
        case .serverUncordoned: "Server uncordoned: placement may use it again."
        case .serverDrained: "Server draining: no new workspaces are placed on it, and its workspaces are being moved to other servers; the progress shows here."
        case .serverRemoved: "Server removed."
        case .tenantCreated: "Tenant created."
        case .keyRevoked: "API key revoked."
        case .planCreated: "Price plan created."
        case .pricesAdded: "New prices added; they take effect from the moment given."
        case .planAssigned: "Price plan changed; it takes effect from the moment given (now if none)."
        case .signedOut: "Signed out."
        }
    }

    static func message(in request: Request) -> String? {
        request.uri.queryParameters["notice"].flatMap { PanelNotice(rawValue: String($0)) }?.message
    }

    /// `path?notice=code`.
    func location(_ path: String) -> String { "\(path)?notice=\(rawValue)" }
}
