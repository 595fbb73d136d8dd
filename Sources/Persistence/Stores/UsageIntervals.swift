import Domain
import Foundation

/// The metering record billing is computed from: one `usage_intervals` row per stretch of time a
/// workspace's container runs, carrying the resources it held on which server.
///
/// Intervals follow what Docker confirmed, not what was asked: recording `running` opens one at the
/// container's `StartedAt`; recording `stopped`, `error` or `deleted` closes it at its `FinishedAt`
/// (or at the server's last successful check, for a lost server). The statuses in between
/// (`starting`, `stopping`, `deleting`) are wishes and leave the interval as it is, since the
/// container keeps running (and holding its CPU and memory) until Docker says it stopped.
public enum UsageIntervals {
    /// Opens or closes the workspace's interval for a confirmed transition to `status` at `instant`.
    static func follow(_ workspace: WorkspaceID, to status: WorkspaceStatus, at instant: Date, in scope: SystemScope) async throws {
        switch status {
        case .running: try await open(workspace, at: instant, in: scope)
        case .stopped, .error, .deleted: try await close(workspace, at: instant, in: scope)
        case .pending, .creating, .starting, .stopping, .deleting: break
        }
    }

    /// Opens an interval with the workspace's current resources; a no-op while one is open.
    public static func open(_ workspace: WorkspaceID, at instant: Date? = nil, in scope: SystemScope) async throws {
        try await scope.execute("""
            INSERT INTO usage_intervals (tenant_id, workspace_id, server_id, cpu, memory_mb, disk_gb, started_at)
            SELECT tenant_id, id, server_id, cpu, memory_mb, disk_gb, coalesce(\(instant), now()) FROM workspaces WHERE id = \(workspace)
            ON CONFLICT (workspace_id) WHERE ended_at IS NULL DO NOTHING
            """)
    }

    /// Closes the workspace's open interval, if any, at `instant` (never before it started).
    public static func close(_ workspace: WorkspaceID, at instant: Date? = nil, in scope: SystemScope) async throws {
        try await scope.execute("""
            UPDATE usage_intervals SET ended_at = greatest(coalesce(\(instant), now()), started_at)
            WHERE workspace_id = \(workspace) AND ended_at IS NULL
            """)
    }

    /// Checkpoints: records that the containers of `workspaces` were seen running just now, on
    /// their open intervals. An interval whose container then vanishes without Docker saying when it
    /// stopped ends at its last checkpoint (`lastSeen`), so metering never runs past what was seen.
    public static func checkpoint(_ workspaces: [WorkspaceID], in scope: SystemScope) async throws {
        guard !workspaces.isEmpty else { return }
        // Array input form; the ids are uuids, which need no quoting.
        let ids = "{" + workspaces.map(\.description).joined(separator: ",") + "}"
        try await scope.execute("""
            UPDATE usage_intervals SET checked_at = now() WHERE ended_at IS NULL AND workspace_id = ANY(\(ids)::uuid[])
            """)
    }

    /// When the workspace's container was last known to run: its open interval's last checkpoint,
    /// or its start when none was taken; nil without an open interval.
    public static func lastSeen(_ workspace: WorkspaceID, in scope: SystemScope) async throws -> Date? {
        try await scope.first("""
            SELECT coalesce(checked_at, started_at) AS seen FROM usage_intervals WHERE workspace_id = \(workspace) AND ended_at IS NULL
            """)?.decode("seen", as: Date.self)
    }

    /// Closes the open interval and opens the next one with the resources the row holds now
    /// (after a resize), so each interval is billed at one size.
    public static func roll(_ workspace: WorkspaceID, in scope: SystemScope) async throws {
        let open = try await scope.execute("""
            UPDATE usage_intervals SET ended_at = greatest(now(), started_at)
            WHERE workspace_id = \(workspace) AND ended_at IS NULL
            """).affectedRows
        if open > 0 { try await self.open(workspace, in: scope) }
    }
}
