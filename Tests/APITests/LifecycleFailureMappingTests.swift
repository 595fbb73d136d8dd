import Domain
import HTTPTypes
import Testing

@testable import API

/// What a tenant is answered when the Docker side of a lifecycle call failed: never a 5xx for what
/// the workspace itself runs, a 502 for what the engine refused.
@Suite struct LifecycleFailureMappingTests {
    @Test func aContainerThatExitsAtOnceIsTheTenantsToFix() throws {
        // What the converger records when a command does not exist under Docker's init (exit 127).
        let failure = WorkspaceFailure(code: "container_exited", message: "the container exited right after it started (exit code 127)")
        let error = WorkspaceController.map(failure)
        #expect(error.status == .unprocessableContent)
        #expect(error.code == "container_exited")
        #expect(error.message.contains("exit code 127"))
    }

    @Test func aGoneContainerIsAConflictAndAnEngineRefusalIsABadGateway() throws {
        let gone = WorkspaceController.map(WorkspaceFailure(code: "container_gone", message: "the container is gone"))
        #expect(gone.status == .conflict && gone.code == "invalid_state")
        for code in ["docker_refused", "server_unreachable", "image_not_found"] {
            let error = WorkspaceController.map(WorkspaceFailure(code: code, message: "m"))
            #expect(error.status == .badGateway && error.code == "workspace_server_error", "\(code)")
            #expect(error.details["reason"] == .string(code))
        }
    }
}
