import Domain
import Foundation
import Persistence

/// A workspace's health as its engine reports it now (`GET /v1/workspaces/{id}/health`).
///
/// `healthy` means Berth believes the workspace is running and the container is running too.
public struct WorkspaceHealth: Sendable, Codable, Equatable {
    public struct Container: Sendable, Codable, Equatable {
        /// Docker's state: `created`, `running`, `exited`, …
        public var state: String
        public var running: Bool
        public var exit_code: Int
        public var oom_killed: Bool
        public var restart_count: Int
        public var started_at: Date?
        public var finished_at: Date?
    }

    public var id: WorkspaceID
    public var status: String
    public var healthy: Bool
    public var container: Container?
    /// Cores busy over a short sample (1.0 is one core), while running.
    public var cpu_cores: Double?
    public var memory_usage_mb: Int?
    public var memory_limit_mb: Int?
    public var last_activity_at: Date?
    public var checked_at: Date
    /// Why it is not healthy, when it is not.
    public var problem: String?
}

extension WorkspaceOrchestrator {
    /// Asks the workspace's engine about its container; `nil` when there is no such workspace.
    /// An unreachable engine or a missing container is a report (`healthy: false`), not an error.
    public func health(_ id: WorkspaceID) async throws -> WorkspaceHealth? {
        let found = try await database.withSystem { scope -> (WorkspaceStore.Row, WorkspaceServer?, Date?)? in
            guard let row = try await workspaces.get(id, in: scope), row.status != .deleted else { return nil }
            var server: WorkspaceServer?
            if let serverID = row.serverID { server = try await servers.get(serverID, in: scope) }
            let activity = try await scope.first("SELECT last_activity_at FROM workspaces WHERE id = \(id)")?.decode("last_activity_at", as: Date?.self)
            return (row, server, activity)
        }
        guard let (row, server, activity) = found else { return nil }
        var report = WorkspaceHealth(id: id, status: row.status.rawValue, healthy: false, last_activity_at: activity, checked_at: Date())
        guard let server, let containerID = row.containerID else {
            report.problem = row.error ?? "the workspace has no container"
            return report
        }
        do {
            let client = try pool.client(for: server).withTimeout(.seconds(5))
            let details = try await client.inspectContainer(containerID)
            report.container = .init(
                state: details.state.status, running: details.state.running, exit_code: details.state.exitCode,
                oom_killed: details.state.oomKilled ?? false, restart_count: details.restartCount ?? 0,
                started_at: details.state.startedAt, finished_at: details.state.finishedAt
            )
            if details.state.running {
                let first = try await client.stats(containerID)
                try? await Task.sleep(for: .milliseconds(250))
                let second = try await client.stats(containerID)
                report.cpu_cores = second.cpuFraction(since: first)
                report.memory_usage_mb = Int(second.memoryWorkingSetBytes >> 20)
                report.memory_limit_mb = Int(second.memoryLimitBytes >> 20)
            }
            report.healthy = row.status == .running && details.state.running
            if !report.healthy {
                report.problem = details.state.running
                    ? "the container runs but the workspace is \(row.status.rawValue)"
                    : row.error ?? "the container is \(details.state.status) (exit code \(details.state.exitCode))"
            }
        } catch {
            if error.isNotFound {
                report.problem = "the container is gone from its server"
            } else {
                report.problem = "workspace server \(server.name) did not answer: \(error.code.rawValue)"
            }
        }
        return report
    }
}
