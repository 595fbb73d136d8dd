/// A workspace as asked for, before it has a server.
public struct WorkspaceDraft: Sendable, Equatable {
    public var id: WorkspaceID
    public var tenantID: TenantID
    public var name: String
    public var image: String
    public var resources: Resources
    public var command: [String]?
    public var env: [String: String]
    public var labels: [String: String]
    public var placement: PlacementRequest
    /// A repository to clone once the workspace runs.
    public var repository: RepositorySpec?
    /// Its token, sealed already (never the token itself).
    public var sealedToken: SealedToken?
    /// Idle stop and lifetime in minutes, instead of the tenant's (0: never; nil: the tenant's).
    public var idleStopMinutes: Double?
    public var maxLifetimeMinutes: Double?

    public init(
        id: WorkspaceID = .random(), tenantID: TenantID, name: String, image: String, resources: Resources,
        command: [String]? = nil, env: [String: String] = [:], labels: [String: String] = [:],
        placement: PlacementRequest, repository: RepositorySpec? = nil, sealedToken: SealedToken? = nil
    ) {
        self.id = id
        self.tenantID = tenantID
        self.name = name
        self.image = image
        self.resources = resources
        self.command = command
        self.env = env
        self.labels = labels
        self.placement = placement
        self.repository = repository
        self.sealedToken = sealedToken
    }
}

/// A credential as it is stored: AES-256-GCM ciphertext and the id of the key that sealed it.
public struct SealedToken: Sendable, Equatable {
    public var bytes: [UInt8]
    public var keyID: String

    public init(bytes: [UInt8], keyID: String) {
        self.bytes = bytes
        self.keyID = keyID
    }
}
