import Domain
import Persistence

/// How a workspace's container is made: its name, command, labels, limits and hardening.
public struct WorkspaceContainers: Sendable {
    /// Images made by `docker import` have no command; this keeps such a workspace up. Under
    /// Docker's init it is not PID 1, so SIGTERM ends it at once.
    public static let keepAliveCommand = ["sleep", "infinity"]

    /// How long a container gets between SIGTERM and SIGKILL on stop and restart.
    public var stopGrace: Duration
    /// What every workspace container gets; see `ContainerHardening.workspace`.
    public var hardening: ContainerHardening

    public init(stopGrace: Duration = .seconds(10), hardening: ContainerHardening = .workspace) {
        self.stopGrace = stopGrace
        self.hardening = hardening
    }

    /// The container of `row` on `server`, labelled with the workspace, its tenant and the deployment.
    public func spec(for row: WorkspaceStore.Row, on server: WorkspaceServer, deployment: String) -> ContainerSpec {
        ContainerSpec(
            name: "berth-\(row.id)", image: row.image,
            command: row.command ?? Self.keepAliveCommand, environment: row.env,
            labels: row.labels.merging([
                Label.workspace: row.id.description, Label.tenant: row.tenantID.description, Label.deployment: deployment,
            ]) { _, berth in berth },
            resources: ContainerResources(cpuMillis: row.resources.cpuMillis, memoryMB: row.resources.memoryMB),
            networkMode: server.connection.networkMode == "isolated" ? Self.networkName(row.id) : server.connection.networkMode,
            hardening: hardening
        )
    }

    /// The network of its own a workspace gets on an `isolated` server.
    public static func networkName(_ id: WorkspaceID) -> String { "berth-\(id)" }

    /// The labels Berth puts on its containers.
    public enum Label {
        public static let workspace = "berth.workspace"
        public static let tenant = "berth.tenant"
        /// Which Berth deployment (database) the container belongs to.
        public static let deployment = "berth.deployment"
    }
}
