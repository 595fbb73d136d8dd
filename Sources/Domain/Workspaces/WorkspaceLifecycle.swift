/// Where a workspace is in its life.
public enum WorkspaceStatus: String, Sendable, Codable, CaseIterable {
    case pending, creating, starting, running, stopping, stopped, deleting, deleted, error
}

/// What a caller asks of a workspace.
public enum WorkspaceAction: String, Sendable, Codable, CaseIterable {
    case create, start, stop, restart, delete, resize, move
}

/// The lifecycle state machine: which status may follow which. Pure; the orchestrator obeys it.
public enum WorkspaceLifecycle {
    /// Every allowed status change.
    public static let transitions: [WorkspaceStatus: Set<WorkspaceStatus>] = [
        .pending: [.creating, .error, .deleting],
        .creating: [.starting, .error, .deleting],
        .starting: [.running, .error, .stopping, .deleting],
        .running: [.stopping, .starting, .error, .deleting],
        .stopping: [.stopping, .stopped, .starting, .error, .deleting],
        .stopped: [.starting, .deleting, .error],
        .error: [.starting, .deleting],
        .deleting: [.deleting, .deleted, .error],
        .deleted: [],
    ]

    public static func canMove(from: WorkspaceStatus, to: WorkspaceStatus) -> Bool {
        transitions[from]?.contains(to) ?? false
    }

    /// The statuses from which `action` may begin.
    public static func startingPoints(of action: WorkspaceAction) -> Set<WorkspaceStatus> {
        switch action {
        case .create: [.pending]
        // A change asked again while the last one is still being applied (a client retrying after a
        // 202) records the intent again: stop from stopping, delete from deleting, start from stopping.
        case .start: [.stopped, .error, .stopping]
        case .stop: [.running, .starting, .stopping]
        case .restart: [.running]
        case .delete: [.pending, .creating, .starting, .running, .stopping, .stopped, .error, .deleting]
        // Resizing changes limits in place; a workspace in motion is asked again later.
        case .resize: [.running, .stopped]
        // A move takes a workspace at rest to another server, in the state it is in.
        case .move: [.running, .stopped]
        }
    }

    /// `nil` when `action` is allowed in `status`, else why not (for `409 invalid_state`).
    public static func refusal(of action: WorkspaceAction, in status: WorkspaceStatus) -> String? {
        if startingPoints(of: action).contains(status) { return nil }
        return "cannot \(action.rawValue) a workspace that is \(status.rawValue)"
    }
}
