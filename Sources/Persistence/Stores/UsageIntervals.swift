import Domain

/// The metering record billing is computed from: one `usage_intervals` row per stretch of time a
/// workspace runs, carrying the resources it held on which server.
///
/// Intervals follow the status: entering `running` opens one, leaving `running` closes it, in the
/// same transaction as the status change, so a workspace is metered exactly while it is running.
public enum UsageIntervals {
    /// Opens or closes the workspace's interval for a transition to `status`.
    static func follow(_ workspace: WorkspaceID, to status: WorkspaceStatus, in scope: SystemScope) async throws {
        if status == .running {
            try await open(workspace, in: scope)
        } else {
            try await close(workspace, in: scope)
        }
    }

    /// Opens an interval with the workspace's current resources; a no-op while one is open.
    public static func open(_ workspace: WorkspaceID, in scope: SystemScope) async throws {
        try await scope.execute("""
            INSERT INTO usage_intervals (tenant_id, workspace_id, server_id, cpu, memory_mb, disk_gb, started_at)
            SELECT tenant_id, id, server_id, cpu, memory_mb, disk_gb, now() FROM workspaces WHERE id = \(workspace)
            ON CONFLICT (workspace_id) WHERE ended_at IS NULL DO NOTHING
            """)
    }

    /// Closes the workspace's open interval, if any.
    public static func close(_ workspace: WorkspaceID, in scope: SystemScope) async throws {
        try await scope.execute("""
            UPDATE usage_intervals SET ended_at = greatest(now(), started_at)
            WHERE workspace_id = \(workspace) AND ended_at IS NULL
            """)
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
