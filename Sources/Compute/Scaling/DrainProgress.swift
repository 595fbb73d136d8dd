import Domain
import Foundation
import Persistence

/// How the drain of a server is going: what is left on it, what moved off, and each workspace that
/// could not be moved, with why.
public struct DrainProgress: Sendable, Equatable, Encodable {
    public enum State: String, Sendable, Encodable {
        /// Workspaces are being moved off.
        case draining
        /// Nothing is left on the server.
        case drained
        /// The deadline passed with workspaces left; no more moves are started.
        case expired
    }

    public struct Failure: Sendable, Equatable, Encodable {
        public let workspace_id: WorkspaceID
        public let name: String
        public let status: String
        public let attempts: Int
        public let error: String
    }

    public let state: State
    public let started_at: Date?
    public let deadline: Date?
    /// Workspaces moved off since the drain began.
    public let moved: Int
    /// Workspaces still on the server, moving or not.
    public let remaining: Int
    /// Of those, the ones whose move is under way.
    public let moving: Int
    public let failed: [Failure]

    /// The progress of `server`'s drain, or nil when it is not draining.
    public static func load(_ server: ServerID, in scope: SystemScope) async throws -> DrainProgress? {
        guard let row = try await scope.first("""
            SELECT drain_started_at, drain_deadline, drain_moved, drain_deadline < now() AS expired,
                   (SELECT count(*) FROM workspaces WHERE server_id = s.id AND status <> 'deleted') AS remaining,
                   (SELECT count(*) FROM workspaces WHERE server_id = s.id AND status <> 'deleted' AND move_to_server_id IS NOT NULL) AS moving
            FROM workspace_servers s WHERE id = \(server) AND schedulable = 'draining'
            """) else { return nil }
        let failed = try await scope.execute("""
            SELECT id, name, status, move_attempts, coalesce(move_error, 'cannot be moved while ' || status) AS error
            FROM workspaces
            WHERE server_id = \(server) AND status <> 'deleted' AND move_to_server_id IS NULL
              AND (move_error IS NOT NULL OR status NOT IN ('running', 'stopped'))
            ORDER BY name, id
            """).map { row in
            Failure(
                workspace_id: try row.decode("id"), name: try row.decode("name"), status: try row.decode("status"),
                attempts: try row.decode("move_attempts"), error: try row.decode("error")
            )
        }
        let remaining = try row.decode("remaining", as: Int.self)
        let state: State = remaining == 0 ? .drained : (try row.decode("expired", as: Bool?.self) ?? false) ? .expired : .draining
        return DrainProgress(
            state: state, started_at: try row.decode("drain_started_at"), deadline: try row.decode("drain_deadline"),
            moved: try row.decode("drain_moved"), remaining: remaining, moving: try row.decode("moving"), failed: failed
        )
    }
}
