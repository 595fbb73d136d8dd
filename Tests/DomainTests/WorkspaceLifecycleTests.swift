import Domain
import Testing

@Suite struct WorkspaceLifecycleTests {
    @Test func deletedIsTerminalAndEveryStatusCanBeDeletedOrFail() {
        #expect(WorkspaceLifecycle.transitions[.deleted] == [])
        for status in WorkspaceStatus.allCases where status != .deleted && status != .deleting {
            #expect(WorkspaceLifecycle.canMove(from: status, to: .deleting), "\(status) cannot be deleted")
        }
        for status in WorkspaceStatus.allCases where ![.deleted, .error, .pending].contains(status) {
            #expect(WorkspaceLifecycle.canMove(from: status, to: .error), "\(status) cannot fail")
        }
    }

    @Test func everyActionStartsOnlyWhereItsFirstStepIsAllowed() {
        let firstStep: [WorkspaceAction: WorkspaceStatus] = [.create: .creating, .start: .starting, .stop: .stopping, .restart: .starting, .delete: .deleting]
        for action in WorkspaceAction.allCases {
            for status in WorkspaceStatus.allCases {
                let allowed = WorkspaceLifecycle.refusal(of: action, in: status) == nil
                guard allowed else { continue }
                if let step = firstStep[action] {
                    #expect(WorkspaceLifecycle.canMove(from: status, to: step), "\(action) from \(status)")
                } else {
                    // Resize and move keep the status, so only a workspace at rest may be resized or moved.
                    #expect([.resize, .move].contains(action) && [.running, .stopped].contains(status), "\(action) from \(status)")
                }
            }
        }
        #expect(WorkspaceLifecycle.refusal(of: .start, in: .running) == "cannot start a workspace that is running")
        #expect(WorkspaceLifecycle.refusal(of: .stop, in: .stopped) != nil)
        #expect(WorkspaceLifecycle.refusal(of: .delete, in: .deleted) != nil)
        #expect(WorkspaceLifecycle.refusal(of: .restart, in: .stopped) != nil)
    }
}
