import Domain
import Foundation
import Logging
import Persistence
import Secrets

/// What a folder of a container holds, as a tar archive of it: how many regular files, and one
/// SHA-256 over every entry's path, kind and contents, in path order. Two archives with the same
/// manifest carry the same tree.
struct FolderManifest: Sendable, Equatable, CustomStringConvertible {
    let files: Int
    let checksum: String

    static let empty = FolderManifest(files: 0, checksum: "")

    init(files: Int, checksum: String) {
        self.files = files
        self.checksum = checksum
    }

    init(tar: Data) throws {
        let entries = try TarArchive(decoding: tar).entries.sorted { $0.path < $1.path }
        var hashed: [UInt8] = []
        var files = 0
        for entry in entries {
            hashed += Array(entry.path.utf8) + [0]
            switch entry.kind {
            case .file(let contents):
                files += 1
                hashed += Array("f\(contents.count)".utf8) + [0] + Array(contents)
            case .directory:
                hashed += Array("d".utf8) + [0]
            case .symbolicLink(let target):
                hashed += Array("l".utf8) + [0] + Array(target.utf8)
            }
        }
        self.files = files
        checksum = Digest.hex(Digest.sha256(hashed))
    }

    var description: String { "\(files) files, sha256 \(checksum.prefix(16))" }
}

extension WorkspaceConverger {
    /// How long one archive transfer of a move may take.
    static let archiveTimeout: Duration = .seconds(600)

    /// Moves the workspace to the server its row wants (`moveTo`), with its `/workspace` files:
    /// stop it, read the folder from the old container, create the container on the new server
    /// (at the wanted size), write the folder into it, check that the copy has the same files and
    /// checksum, start it if it is to run, and record it all behind the fence (what the old server
    /// held goes back, the usage interval ends at the old container's `FinishedAt` and the next
    /// begins at the new one's `StartedAt`). The old container goes last. A move that fails is undone:
    /// the new container goes, the old one runs again if it ran, and the target's reservation is
    /// given back; `move_error` says why. Returns a refusal when the move served a resize.
    func move(
        _ row: WorkspaceStore.Row, _ found: ContainerDetails?, from source: WorkspaceServer, _ sourceClient: DockerClient, actor: String
    ) async throws -> WorkspaceFailure? {
        guard let targetID = row.moveTo else { return nil }
        guard let original = found else {
            // Nothing to move: the container is gone. The move is forgotten with it.
            _ = try await record(row, actor: actor) { scope in
                try await placement.releaseMove(of: row.id, in: scope)
                try await placement.release(row.id, compute: true, slot: false, in: scope)
                try await workspaces.transition(row.id, from: nil, to: .error, failure: WorkspaceFailure(code: "container_gone", message: "the container is gone from its server"), in: scope)
            }
            return nil
        }
        let target: WorkspaceServer
        let targetClient: DockerClient
        do {
            guard let found = try await database.withSystem({ try await servers.get(targetID, in: $0) }), found.lostAt == nil else {
                return try await undoMove(row, original, sourceClient, wasRunning: false, stoppedAt: nil, failure: WorkspaceFailure(code: "target_gone", message: "the server it was to move to is gone"), actor: actor)
            }
            target = found
            targetClient = try pool.client(for: target)
        } catch let deferral as Deferral {
            throw deferral
        } catch {
            throw Deferral(failure: Self.databaseFailure(error))
        }

        // 1. Stop it where it is. Its CPU and memory stay held there until the move is recorded.
        var stopped = original
        let wasRunning = original.state.running
        if wasRunning {
            do {
                try await sourceClient.stopContainer(original.id, timeout: containers.stopGrace)
            } catch {
                if !error.isNotFound { throw Deferral(failure: Self.failure(error, doing: "stop")) }
            }
            guard let after = try await observe(row, sourceClient), !after.state.running else {
                throw Deferral(failure: WorkspaceFailure(code: "still_running", message: "the container is still running after the stop; the move will be tried again"))
            }
            stopped = after
        }
        let stoppedAt = wasRunning ? stopped.state.finishedAt : nil
        try await renewLease(row, actor: actor)

        // 2-5. Read, create, write, check; any failure undoes the move.
        var created: String?
        let manifest: FolderManifest
        do {
            let archive = try await Self.folder(of: stopped.id, sourceClient)
            manifest = try archive.map(FolderManifest.init(tar:)) ?? .empty
            try await renewLease(row, actor: actor)
            try? await targetClient.removeContainer("berth-\(row.id)")
            let deploymentID = try await deployment.id(database)
            if target.connection.networkMode == "isolated" {
                _ = try? await targetClient.createBridgeNetwork(WorkspaceContainers.networkName(row.id), labels: [
                    WorkspaceContainers.Label.workspace: row.id.description, WorkspaceContainers.Label.deployment: deploymentID,
                ])
            }
            let newID = try await targetClient.createContainer(containers.spec(for: row, on: target, deployment: deploymentID))
            created = newID
            if let archive {
                try await targetClient.putArchive(newID, path: "/", tar: archive, timeout: Self.archiveTimeout)
            }
            let copied = try await Self.folder(of: newID, targetClient).map(FolderManifest.init(tar:)) ?? .empty
            guard copied == manifest else {
                throw MoveFailure(WorkspaceFailure(code: "move_mismatch", message: "the copy of /workspace differs from the original (\(copied) against \(manifest))"))
            }
            try await renewLease(row, actor: actor)
        } catch let deferral as Deferral {
            throw deferral
        } catch {
            if let created { try? await targetClient.removeContainer(created) }
            return try await undoMove(row, stopped, sourceClient, wasRunning: wasRunning, stoppedAt: stoppedAt, failure: Self.moveFailure(error), actor: actor)
        }
        guard let newID = created else { return nil }

        // 6. Start it where it now is, if it is to run.
        var startedAt: Date?
        if row.desired == .running {
            do {
                try await targetClient.startContainer(newID)
                let confirmed = try await targetClient.inspectContainer(newID)
                guard confirmed.state.running else {
                    throw MoveFailure(WorkspaceFailure(code: "container_exited", message: "the moved container exited right after it started (exit code \(confirmed.state.exitCode))"))
                }
                startedAt = confirmed.state.startedAt
            } catch {
                try? await targetClient.removeContainer(newID)
                return try await undoMove(row, stopped, sourceClient, wasRunning: wasRunning, stoppedAt: stoppedAt, failure: Self.moveFailure(error), actor: actor)
            }
        }

        // 7. Record it behind the fence.
        let recorded = try await record(row, actor: actor) { scope in
            try await placement.commitMove(of: row.id, in: scope)
            try await workspaces.setApplied(row.id, cpuMillis: row.resources.cpuMillis, memoryMB: row.resources.memoryMB, in: scope)
            try await scope.execute("UPDATE workspaces SET container_id = \(newID), updated_at = now() WHERE id = \(row.id)")
            if wasRunning { try await UsageIntervals.close(row.id, at: stoppedAt, in: scope) }
            let reason = "moved from \(source.name) to \(target.name) (\(manifest))"
            if let startedAt {
                try await workspaces.transition(row.id, from: nil, to: .running, reason: reason, at: startedAt, in: scope)
            } else {
                try await placement.release(row.id, compute: true, slot: false, in: scope)
                try await workspaces.transition(row.id, from: nil, to: .stopped, reason: reason, at: stoppedAt, in: scope)
            }
            try await workspaces.note(row.id, reason: reason, in: scope)
            try await scope.execute("""
                UPDATE workspace_servers SET drain_moved = drain_moved + 1 WHERE id = \(source.id) AND schedulable = 'draining'
                """)
            try await AuditStore().record(.system, action: "workspace.moved", tenant: row.tenantID, target: ("workspace", row.id.description), details: [
                "from": source.name, "to": target.name, "files": String(manifest.files), "checksum": manifest.checksum, "reason": row.moveReason ?? "",
            ], in: scope)
        }
        if recorded {
            // 8. The old container goes; the orphan sweep would take it otherwise.
            try? await sourceClient.removeContainer(stopped.id)
            try? await sourceClient.removeNetwork(WorkspaceContainers.networkName(row.id))
            logger.info("workspace moved", metadata: ["workspace": "\(row.id)", "from": "\(source.name)", "to": "\(target.name)", "files": "\(manifest.files)"])
        } else {
            // A newer intent came in: this copy is not the workspace's; the next step starts afresh.
            try? await targetClient.removeContainer(newID)
        }
        return nil
    }

    /// Undoes a move that failed: the old container runs again if it ran (and is to run), the target's
    /// reservation goes back, the size a resize asked for is given up, and `move_error` says why.
    private func undoMove(
        _ row: WorkspaceStore.Row, _ container: ContainerDetails, _ client: DockerClient, wasRunning: Bool, stoppedAt: Date?,
        failure: WorkspaceFailure, actor: String
    ) async throws -> WorkspaceFailure? {
        var runningAgain: ContainerDetails?
        if wasRunning, row.desired == .running {
            do {
                try await client.startContainer(container.id)
            } catch {
                throw Deferral(failure: Self.failure(error, doing: "start"))
            }
            runningAgain = try await observe(row, client)
        }
        let forResize = row.moveReason == "resize"
        let applied = Resources(cpuMillis: row.appliedCPUMillis ?? row.resources.cpuMillis, memoryMB: row.appliedMemoryMB ?? row.resources.memoryMB, diskGB: row.resources.diskGB)
        let undone = try await record(row, actor: actor) { scope in
            try await placement.releaseMove(of: row.id, in: scope)
            try await scope.execute("""
                UPDATE workspaces SET move_error = \(failure.message), move_attempts = move_attempts + 1, updated_at = now() WHERE id = \(row.id)
                """)
            if forResize { try await workspaces.resize(row.id, to: applied, in: scope) }
            let reason = "move failed, back where it was: \(failure.message)"
            if wasRunning {
                try await UsageIntervals.close(row.id, at: stoppedAt, in: scope)
                if let runningAgain, runningAgain.state.running {
                    try await workspaces.transition(row.id, from: nil, to: .running, reason: reason, at: runningAgain.state.startedAt, in: scope)
                } else {
                    try await placement.release(row.id, compute: true, slot: false, in: scope)
                    try await workspaces.transition(row.id, from: nil, to: .stopped, reason: reason, at: stoppedAt, in: scope)
                }
            }
            try await workspaces.note(row.id, reason: reason, in: scope)
            try await AuditStore().record(.system, action: "workspace.move_failed", tenant: row.tenantID, target: ("workspace", row.id.description), details: [
                "reason": row.moveReason ?? "", "code": failure.code, "detail": failure.detail ?? failure.message,
            ], in: scope)
        }
        logger.warning("workspace move failed and was undone", metadata: ["workspace": "\(row.id)", "reason": "\(failure.code)", "detail": "\(failure.detail ?? failure.message)"])
        return undone && forResize ? failure : nil
    }

    /// The tar archive of a container's `/workspace`, or nil when it has no such folder.
    static func folder(of container: String, _ client: DockerClient) async throws -> Data? {
        do {
            return try await client.archive(container, path: "/workspace", timeout: archiveTimeout)
        } catch {
            if error.isNotFound { return nil }
            throw error
        }
    }

    /// Renews the lease between the long steps of a move; a lease lost to another actor ends this one.
    private func renewLease(_ row: WorkspaceStore.Row, actor: String) async throws {
        let held: Bool
        do {
            held = try await database.withSystem { try await workspaces.claim(row.id, actor: actor, lease: lease, in: $0) } != nil
        } catch {
            throw Deferral(failure: Self.databaseFailure(error))
        }
        guard held else { throw Deferral(failure: WorkspaceFailure(code: "busy", message: "another actor took the workspace over")) }
    }

    struct MoveFailure: Error {
        let failure: WorkspaceFailure
        init(_ failure: WorkspaceFailure) { self.failure = failure }
    }

    static func moveFailure(_ error: any Error) -> WorkspaceFailure {
        if let error = error as? MoveFailure { return error.failure }
        if let error = error as? DockerError { return failure(error, doing: "move") }
        if let error = error as? TarArchive.Failure {
            return WorkspaceFailure(code: "move_archive", message: "the workspace's files could not be read for the move", detail: error.description)
        }
        return databaseFailure(error)
    }
}
