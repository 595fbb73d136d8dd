import Domain
import Persistence
import Hummingbird
import Logging
import NIOCore

/// The request context of every route: what authentication established travels here.
public struct BerthRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by the API-key middleware.
    public var tenant: TenantID?
    /// The key the tenant authenticated with (never the secret: its id).
    public var apiKey: APIKeyID?
    /// Set by the admin middleware, or by the panel's session check.
    public var isAdmin = false
    /// The peer's IP address, as the socket says (not a forwarded header, which anyone can write).
    public let clientAddress: String?

    public init(source: Source) {
        coreContext = .init(source: source)
        tenant = nil
        apiKey = nil
        clientAddress = source.channel.remoteAddress?.ipAddress
    }

    /// Bodies over 1 MiB are refused.
    public var maxUploadSize: Int { 1 << 20 }
}

/// The context of tenant routes: the tenant is known, so a handler cannot forget who is calling.
public struct TenantRequestContext: ChildRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let tenant: TenantID
    public let apiKey: APIKeyID

    public init(context: BerthRequestContext) throws {
        guard let tenant = context.tenant, let apiKey = context.apiKey else {
            throw APIError(.unauthorized, code: "unauthorized", message: "missing or invalid API key")
        }
        self.coreContext = context.coreContext
        self.tenant = tenant
        self.apiKey = apiKey
    }

    /// Who the audit log names for this request.
    var actor: AuditStore.Actor { .tenant(apiKey) }

    public var maxUploadSize: Int { 1 << 20 }
}

/// The context of admin routes: only an authenticated admin gets one.
public struct AdminRequestContext: ChildRequestContext {
    public var coreContext: CoreRequestContextStorage

    public init(context: BerthRequestContext) throws {
        guard context.isAdmin else {
            throw APIError(.unauthorized, code: "unauthorized", message: "missing or invalid admin token")
        }
        self.coreContext = context.coreContext
    }

    public var maxUploadSize: Int { 1 << 20 }
}
