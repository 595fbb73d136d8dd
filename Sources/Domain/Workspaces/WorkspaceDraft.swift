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

    public init(
        id: WorkspaceID = .random(), tenantID: TenantID, name: String, image: String, resources: Resources,
        command: [String]? = nil, env: [String: String] = [:], labels: [String: String] = [:],
        placement: PlacementRequest
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
    }
}
