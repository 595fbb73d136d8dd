import Compute
import Domain
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Persistence
import Secrets
import Synchronization

/// The tenant's workspace routes under `/v1/workspaces`.
struct WorkspaceController {
    let database: Database
    let orchestrator: WorkspaceOrchestrator
    /// How long an unfinished idempotent create holds its key before another request may take it over.
    var idempotencyLease: Duration = .seconds(60)
    /// Seals repository tokens; nil refuses them.
    var keyring: SecretKeyring?
    /// Whether `git://` and `http://` repositories are accepted.
    var allowInsecureGit = false
    let store = WorkspaceStore()

    func addRoutes(to group: RouterGroup<TenantRequestContext>) {
        group.post("workspaces") { request, context in try await create(request, context) }
        group.get("workspaces") { request, context in try await list(request, context) }
        group.get("workspaces/:id") { _, context in try await show(context) }
        group.delete("workspaces/:id") { _, context in try await act(.delete, context) }
        group.post("workspaces/:id/start") { _, context in try await act(.start, context) }
        group.post("workspaces/:id/stop") { _, context in try await act(.stop, context) }
        group.post("workspaces/:id/restart") { _, context in try await act(.restart, context) }
        group.post("workspaces/:id/resize") { request, context in try await resize(request, context) }
        group.get("workspaces/:id/health") { _, context in try await health(context) }
        group.post("workspaces/:id/activity") { _, context in try await activity(context) }
        group.post("workspaces/:id/git/retry") { _, context in try await retryClone(context) }
    }

    func create(_ request: Request, _ context: TenantRequestContext) async throws -> Response {
        let body = Array(buffer: try await request.body.collect(upTo: context.maxUploadSize))
        let wait = try Self.waitOption(request)
        guard let key = request.headers[HTTPField.Name("Idempotency-Key")!] else {
            let (status, bytes) = try await createOnce(body, wait: wait, id: .random(), resumed: false, context)
            return JSONResponse.raw(status: Int(status.code), body: bytes)
        }
        guard (1...255).contains(key.count), key.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
            throw APIError(.badRequest, code: "validation_failed", message: "Idempotency-Key must be 1 to 255 visible ASCII characters", details: ["field": .string("Idempotency-Key")])
        }
        // Refuse a body that cannot be a create before it claims anything.
        _ = try CreateWorkspaceRequest.parse(body)
        let hash = Digest.hex(Digest.sha256(body))
        let idempotency = IdempotencyStore()
        // The claim lasts as long as this request may: the wait it asked for, and a margin.
        let lease = idempotencyLease + (wait?.limit ?? .zero)
        // A concurrent request with the same key waits for the first to finish (backing off), then
        // replays it; if the first one's replica died, the claim is taken over when its lease ends.
        let deadline = ContinuousClock.now + lease + .seconds(5)
        var pause = Duration.milliseconds(50)
        while true {
            let claim = try await database.withTenant(context.tenant) {
                try await idempotency.claim(key: key, requestHash: hash, workspace: .random(), lease: lease, in: $0)
            }
            switch claim {
            case .mismatch:
                throw APIError(.unprocessableContent, code: "idempotency_mismatch", message: "this Idempotency-Key was used with a different body")
            case .completed(let status, let stored):
                return JSONResponse.raw(status: status, body: stored)
            case .inProgress:
                guard ContinuousClock.now + pause < deadline else {
                    throw APIError(.conflict, code: "idempotency_in_progress", message: "a request with this Idempotency-Key is still running", retryAfter: 1)
                }
                try await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(2))
            case .claimed(let workspace, let resumed):
                let status: HTTPResponse.Status, bytes: [UInt8]
                do {
                    (status, bytes) = try await createOnce(body, wait: wait, id: workspace, resumed: resumed, context)
                } catch let error as APIError where !Self.isTransient(error) {
                    // A refusal is a response too: the same request gets the same answer.
                    let encoded = try error.encodedBody()
                    try await database.withTenant(context.tenant) { try await idempotency.complete(key: key, status: Int(error.status.code), body: Array(encoded), in: $0) }
                    throw error
                } catch {
                    // Refused for now (no room, over quota, busy) or failed unexpectedly: the key is
                    // given back, so the same request may succeed later.
                    try? await database.withTenant(context.tenant) { try await idempotency.release(key: key, in: $0) }
                    throw error
                }
                try await database.withTenant(context.tenant) { try await idempotency.complete(key: key, status: Int(status.code), body: bytes, in: $0) }
                return JSONResponse.raw(status: Int(status.code), body: bytes)
            }
        }
    }

    /// Refusals that depend on the moment (room, quota, load, the database), not on the request:
    /// never stored as an idempotent answer.
    static func isTransient(_ error: APIError) -> Bool {
        error.status.code >= 500 || error.status == .tooManyRequests
            || ["insufficient_capacity", "quota_exceeded", "no_healthy_servers"].contains(error.code)
    }

    /// What a create waits for before it answers.
    struct Wait: Sendable {
        enum Target: String, Sendable { case running, ready }
        var target: Target
        var limit: Duration
    }

    /// `?wait=running|ready[&timeout=seconds]`: how long create may wait for the workspace to settle
    /// (`running`: it runs or has failed; `ready`: its repository is cloned too, or has failed).
    static func waitOption(_ request: Request) throws -> Wait? {
        let query = request.uri.queryParameters
        guard let wait = query["wait"] else {
            if query["timeout"] != nil {
                throw APIError(.badRequest, code: "validation_failed", message: "timeout needs wait=running or wait=ready", details: ["field": .string("timeout")])
            }
            return nil
        }
        guard let target = Wait.Target(rawValue: String(wait)) else {
            throw APIError(.badRequest, code: "validation_failed", message: "wait must be running or ready", details: ["field": .string("wait")])
        }
        guard let text = query["timeout"] else { return Wait(target: target, limit: .seconds(120)) }
        guard let seconds = Int(text), (1...600).contains(seconds) else {
            throw APIError(.badRequest, code: "validation_failed", message: "timeout must be 1 to 600 seconds", details: ["field": .string("timeout")])
        }
        return Wait(target: target, limit: .seconds(seconds))
    }

    /// Creates the workspace and returns the response to send (and, with a key, to store).
    ///
    /// Placement (quota, capacity, the name) is decided before answering, so refusals come back at
    /// once. The container is then made in the background: without `wait` the answer is `202` with
    /// the workspace `creating`; with `wait=running` it is `201` once the workspace is running or has
    /// failed, or `202` if the timeout passes first. The work goes on either way; a process that dies
    /// meanwhile leaves a `creating` row that the reconciler finishes or undoes.
    ///
    /// `id` is the workspace to create. With `resumed`, an earlier request with the same
    /// `Idempotency-Key` died after choosing it: if that one placed the workspace, this one carries
    /// it on instead of placing a second.
    func createOnce(_ body: [UInt8], wait: Wait?, id: WorkspaceID, resumed: Bool, _ context: TenantRequestContext) async throws -> (HTTPResponse.Status, [UInt8]) {
        let parsed = try CreateWorkspaceRequest.parse(body, allowInsecureGit: allowInsecureGit)
        var sealed: SealedToken?
        if let token = parsed.token {
            guard let keyring else {
                throw APIError(.unprocessableContent, code: "not_supported", message: "repository tokens need BERTH_SECRET_KEY, which this service does not have")
            }
            // Bound to this workspace: the sealed bytes open for its row and no other.
            let (bytes, keyID) = try keyring.seal(Array(token.utf8), associatedData: Array(id.description.utf8))
            sealed = SealedToken(bytes: bytes, keyID: keyID)
        }
        let draft = {
            var draft = WorkspaceDraft(
                id: id, tenantID: context.tenant, name: parsed.name, image: parsed.image, resources: parsed.resources,
                command: parsed.command, env: parsed.env, labels: parsed.labels, placement: parsed.placement,
                repository: parsed.repository, sealedToken: sealed
            )
            draft.idleStopMinutes = parsed.idleStopMinutes
            draft.maxLifetimeMinutes = parsed.maxLifetimeMinutes
            return draft
        }()
        let actor = WorkspaceConverger.newActor("create")
        let placed = resumed ? try await database.withTenant(context.tenant) { try await store.view(id, in: $0, includingDeleted: true) } : nil
        if placed == nil {
            let server: WorkspaceServer
            do {
                server = try await orchestrator.place(draft, actor: actor)
            } catch let error as PlacementError {
                throw Self.map(error)
            }
            try await audit(context, "workspace.create", draft.id, [
                "name": draft.name, "image": draft.image, "server": server.name,
                "cpu": String(Double(draft.resources.cpuMillis) / 1000), "memory_mb": String(draft.resources.memoryMB), "disk_gb": String(draft.resources.diskGB),
            ])
            context.logger.info("workspace placed", metadata: ["workspace": "\(draft.id)", "tenant": "\(context.tenant)", "server": "\(server.name)"])
        }
        let orchestrator = orchestrator
        // A failure is recorded on the workspace (status `error` with the reason), which is what the
        // tenant sees; Docker not answering leaves it `creating` for the reconciler to carry on. A
        // resumed create whose actor died is taken on here once its lease has run out.
        let provisioned = Latch()
        orchestrator.work.spawn {
            _ = await orchestrator.provision(draft.id, actor: actor, cloneInBackground: true)
            provisioned.open()
        }
        let (view, settled) = try await settle(draft.id, wait, context, woken: provisioned)
        return (settled && wait != nil ? .created : .accepted, try JSONResponse.encode(view))
    }

    /// The workspace once it has reached what `wait` asks for, or when its limit passes (then
    /// `settled` is false); at once without `wait`.
    ///
    /// The database is read again at growing intervals, and at once when `woken` opens (this
    /// process's provisioning of the workspace has ended), so a create answers as soon as its
    /// container runs.
    func settle(_ id: WorkspaceID, _ wait: Wait?, _ context: TenantRequestContext, woken: Latch? = nil) async throws -> (view: WorkspaceStore.View, settled: Bool) {
        let deadline = ContinuousClock.now + (wait?.limit ?? .zero)
        var pause = Duration.milliseconds(25)
        while true {
            let view = try await database.withTenant(context.tenant) { try await store.view(id, in: $0, includingDeleted: true) }
            guard let view else { throw APIError(.notFound, code: "not_found", message: "workspace not found") }
            let failed = view.status == WorkspaceStatus.error.rawValue || view.status == WorkspaceStatus.deleted.rawValue
            let running = view.status == WorkspaceStatus.running.rawValue
            let cloned = view.repository.map { $0.status == GitStatus.ready.rawValue || $0.status == GitStatus.failed.rawValue } ?? true
            let settled = failed || (running && (wait?.target != .ready || cloned))
            guard let wait, !settled, ContinuousClock.now + pause < deadline else { return (view, settled && wait != nil) }
            _ = wait
            if let woken, !woken.isOpen {
                await woken.wait(upTo: pause)
                try Task.checkCancellation()
            } else {
                try await Task.sleep(for: pause)
            }
            pause = min(pause * 2, .milliseconds(500))
        }
    }

    /// Writes the audit row of a tenant mutation, in the tenant's own scope.
    func audit(_ context: TenantRequestContext, _ action: String, _ workspace: WorkspaceID, _ details: [String: String] = [:]) async throws {
        try await database.withTenant(context.tenant) { scope in
            try await AuditStore().record(context.actor, action: action, tenant: context.tenant, target: ("workspace", workspace.description), details: details, in: scope)
        }
    }

    func show(_ context: TenantRequestContext) async throws -> Response {
        let id = try Self.workspaceID(context)
        let view = try await database.withTenant(context.tenant) { try await store.view(id, in: $0) }
        guard let view else { throw APIError(.notFound, code: "not_found", message: "workspace not found") }
        return try JSONResponse.make(view, status: .ok)
    }

    func list(_ request: Request, _ context: TenantRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        var limit = 50
        if let text = query["limit"] {
            guard let value = Int(text), (1...200).contains(value) else {
                throw APIError(.badRequest, code: "validation_failed", message: "limit must be from 1 to 200", details: ["field": .string("limit")])
            }
            limit = value
        }
        var status: WorkspaceStatus?
        if let text = query["status"] {
            guard let value = WorkspaceStatus(rawValue: String(text)) else {
                throw APIError(.badRequest, code: "validation_failed", message: "unknown status", details: ["field": .string("status")])
            }
            status = value
        }
        var labels: [String: String] = [:]
        for label in query.getAll("label") {
            let parts = label.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw APIError(.badRequest, code: "validation_failed", message: "label filters are key=value", details: ["field": .string("label")])
            }
            labels[String(parts[0])] = String(parts[1])
        }
        var cursor: (Date, WorkspaceID)?
        if let text = query["cursor"] {
            guard let decoded = Self.decodeCursor(String(text)) else {
                throw APIError(.badRequest, code: "validation_failed", message: "cursor is not valid", details: ["field": .string("cursor")])
            }
            cursor = decoded
        }
        let page = try await database.withTenant(context.tenant) { scope in
            try await store.list(status: status, labels: labels, after: cursor, limit: limit + 1, in: scope)
        }
        struct Page: Encodable {
            let items: [WorkspaceStore.View]
            let next_cursor: String?
        }
        let items = Array(page.prefix(limit))
        let next = page.count > limit ? items.last.map { Self.encodeCursor($0.created_at, $0.id) } : nil
        return try JSONResponse.make(Page(items: items, next_cursor: next), status: .ok)
    }

    func act(_ action: WorkspaceAction, _ context: TenantRequestContext) async throws -> Response {
        let id = try Self.workspaceID(context)
        // Ownership first, in the tenant's own scope: another tenant's id is simply not found.
        _ = try await owned(id, context)
        let result = try await perform(action, id, context) {
            switch action {
            case .start: try await orchestrator.start(id)
            case .stop: try await orchestrator.stop(id)
            case .restart: try await orchestrator.restart(id)
            case .delete, .create, .resize, .move: try await orchestrator.delete(id)
            }
        }
        return try await answer(result, id, context, deleted: action == .delete)
    }

    /// `POST /v1/workspaces/{id}/resize` with `{"resources": {"cpu", "memory_mb", "disk_gb"}}`.
    func resize(_ request: Request, _ context: TenantRequestContext) async throws -> Response {
        let id = try Self.workspaceID(context)
        let body = Array(buffer: try await request.body.collect(upTo: context.maxUploadSize))
        let current = try await owned(id, context)
        let (resources, allowMove) = try CreateWorkspaceRequest.parseResize(body, currentDiskGB: current.resources.disk_gb)
        let result = try await perform(.resize, id, context, details: [
            "cpu": String(Double(resources.cpuMillis) / 1000), "memory_mb": String(resources.memoryMB),
            "from_cpu": String(current.resources.cpu), "from_memory_mb": String(current.resources.memory_mb), "allow_move": String(allowMove),
        ]) {
            try await orchestrator.resize(id, to: resources, allowMove: allowMove)
        }
        return try await answer(result, id, context)
    }

    /// `200` with the workspace once Docker did it (`204` for a delete), or `202` with it while the
    /// change is recorded but not yet applied (the reconciler finishes it).
    func answer(_ result: LifecycleResult, _ id: WorkspaceID, _ context: TenantRequestContext, deleted: Bool = false) async throws -> Response {
        if case .applied = result, deleted { return Response(status: .noContent) }
        let view = try await database.withTenant(context.tenant) { try await store.view(id, in: $0, includingDeleted: true) }
        guard let view else { throw APIError(.notFound, code: "not_found", message: "workspace not found") }
        if case .applied = result { return try JSONResponse.make(view, status: .ok) }
        return try JSONResponse.make(view, status: .accepted)
    }

    /// `GET /v1/workspaces/{id}/health`: the container as its engine sees it now.
    func health(_ context: TenantRequestContext) async throws -> Response {
        let id = try Self.workspaceID(context)
        _ = try await owned(id, context)
        guard let report = try await orchestrator.health(id) else { throw APIError(.notFound, code: "not_found", message: "workspace not found") }
        return try JSONResponse.make(report, status: .ok)
    }

    /// `POST /v1/workspaces/{id}/git/retry`: runs a failed clone again; `202` with the workspace
    /// (its repository `pending`), `409` when its clone has not failed.
    func retryClone(_ context: TenantRequestContext) async throws -> Response {
        let id = try Self.workspaceID(context)
        let view = try await owned(id, context)
        guard let git = orchestrator.git else { throw APIError(.unprocessableContent, code: "not_supported", message: "this service clones no repositories") }
        guard view.repository != nil else { throw APIError(.conflict, code: "invalid_state", message: "the workspace has no repository") }
        guard try await git.retry(id) else {
            throw APIError(.conflict, code: "invalid_state", message: "the repository's clone has not failed (it is \(view.repository?.status ?? "none"))")
        }
        try await audit(context, "workspace.git_retry", id)
        orchestrator.clones.spawn { await git.run(id) }
        return try JSONResponse.make(try await owned(id, context), status: .accepted)
    }

    /// `POST /v1/workspaces/{id}/activity`: the tenant says the workspace is in use (idle detection).
    /// A heartbeat, so it writes no audit row.
    func activity(_ context: TenantRequestContext) async throws -> Response {
        let id = try Self.workspaceID(context)
        let touched = try await database.withTenant(context.tenant) { try await store.touch(id, in: $0) }
        guard let touched else { throw APIError(.notFound, code: "not_found", message: "workspace not found") }
        struct Activity: Encodable { let id: WorkspaceID; let last_activity_at: Date }
        return try JSONResponse.make(Activity(id: id, last_activity_at: touched), status: .ok)
    }

    /// The tenant's own workspace; another tenant's id is simply not found (row-level security).
    func owned(_ id: WorkspaceID, _ context: TenantRequestContext) async throws -> WorkspaceStore.View {
        let view = try await database.withTenant(context.tenant) { try await store.view(id, in: $0) }
        guard let view else { throw APIError(.notFound, code: "not_found", message: "workspace not found") }
        return view
    }

    /// Runs a lifecycle call, maps its failures to API errors and audits what was carried out.
    func perform(
        _ action: WorkspaceAction, _ id: WorkspaceID, _ context: TenantRequestContext, details: [String: String] = [:],
        _ body: () async throws -> LifecycleResult
    ) async throws -> LifecycleResult {
        let result: LifecycleResult
        do {
            result = try await body()
        } catch let error as OrchestrationError {
            switch error {
            case .notFound: throw APIError(.notFound, code: "not_found", message: "workspace not found")
            case .invalidState(let reason): throw APIError(.conflict, code: "invalid_state", message: reason)
            case .insufficientCapacity(let reason):
                throw APIError(.conflict, code: "insufficient_capacity", message: "the workspace's server has no room for it", details: ["reasons": .string(reason)])
            case .unsupported(let reason): throw APIError(.unprocessableContent, code: "not_supported", message: reason)
            case .failed(let failure):
                // Docker was asked: the attempt is part of the record, whatever came of it.
                try await audit(context, "workspace.\(action.rawValue)", id, details.merging(["outcome": "failed", "reason": failure.code]) { $1 })
                throw Self.map(failure)
            case .resizeRefused(let failure):
                try await audit(context, "workspace.\(action.rawValue)", id, details.merging(["outcome": "refused", "reason": failure.code]) { $1 })
                throw APIError(.conflict, code: "resize_refused", message: "the workspace server would not apply the new size; the workspace keeps its size", details: ["reason": .string(failure.code)])
            }
        } catch let error as PlacementError {
            throw Self.map(error)
        }
        var recorded = details
        if case .accepted = result { recorded["outcome"] = "accepted" }
        try await audit(context, "workspace.\(action.rawValue)", id, recorded)
        return result
    }

    /// The answer to a lifecycle call whose Docker side failed.
    ///
    /// A container that is gone, or one that started and exited at once, is the tenant's to act on
    /// (4xx): the engine did its part, and what the workspace runs (its command, or its memory for
    /// that command) is what failed. Anything else the engine refused or failed is a 502.
    static func map(_ failure: WorkspaceFailure) -> APIError {
        switch failure.code {
        case "container_gone":
            return APIError(.conflict, code: "invalid_state", message: "the workspace's container is gone; delete the workspace and create it again")
        case "container_exited":
            return APIError(.unprocessableContent, code: "container_exited", message: failure.message, details: ["reason": .string(failure.code)])
        default:
            return APIError(.badGateway, code: "workspace_server_error", message: failure.message, details: ["reason": .string(failure.code)])
        }
    }

    static func map(_ error: PlacementError) -> APIError {
        func reasons(_ exclusions: [String: [String]]) -> [String: JSONValue] {
            ["servers": .object(exclusions.mapValues { .array($0.map(JSONValue.string)) })]
        }
        switch error {
        case .insufficientCapacity(let exclusions):
            return APIError(.conflict, code: "insufficient_capacity", message: "no healthy server has room for this workspace", details: reasons(exclusions))
        case .noHealthyServers(let exclusions):
            return APIError(.serviceUnavailable, code: "no_healthy_servers", message: "no workspace server is healthy", details: reasons(exclusions))
        case .quotaExceeded(let usage, let requested, let quota):
            return APIError(.forbidden, code: "quota_exceeded", message: "the tenant's quota does not allow this workspace", details: [
                "workspaces": .object(["used": .integer(usage.workspaces), "limit": .integer(quota.maxWorkspaces)]),
                "cpu": .object(["used": .number(Double(usage.cpuMillis) / 1000), "requested": .number(Double(requested.cpuMillis) / 1000), "limit": .number(Double(quota.maxCPUMillis) / 1000)]),
                "memory_mb": .object(["used": .integer(usage.memoryMB), "requested": .integer(requested.memoryMB), "limit": .integer(quota.maxMemoryMB)]),
                "disk_gb": .object(["used": .integer(usage.diskGB), "requested": .integer(requested.diskGB), "limit": .integer(quota.maxDiskGB)]),
            ])
        case .nameTaken(let name):
            return APIError(.conflict, code: "name_taken", message: "a workspace named \(name) already exists")
        }
    }

    static func workspaceID(_ context: TenantRequestContext) throws -> WorkspaceID {
        guard let text = context.parameters.get("id"), let id = WorkspaceID(text) else {
            throw APIError(.notFound, code: "not_found", message: "workspace not found")
        }
        return id
    }

    /// The instants a cursor may name, in microseconds since 1970: from then to the end of 9999.
    /// A cursor is only ever made from a stored `created_at`, so anything else is forged or garbage.
    static let cursorMicros: ClosedRange<Int64> = 0...253_402_300_799_999_999

    static func encodeCursor(_ date: Date, _ id: WorkspaceID) -> String {
        let micros = Int64(exactly: (date.timeIntervalSince1970 * 1_000_000).rounded()) ?? 0
        return Data("\(micros)|\(id)".utf8).base64EncodedString()
    }

    /// The `(created_at, id)` a cursor names, or nil when it is not one Berth made: never a trap,
    /// whatever the text (both Int64 extremes, overlong digits, a bad id).
    static func decodeCursor(_ text: String) -> (Date, WorkspaceID)? {
        guard text.utf8.count <= 200, let data = Data(base64Encoded: text), let plain = String(data: data, encoding: .utf8) else { return nil }
        let parts = plain.split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count == 2, let micros = Int64(parts[0]), cursorMicros.contains(micros), let id = WorkspaceID(String(parts[1])) else { return nil }
        return (Date(timeIntervalSince1970: Double(micros) / 1_000_000), id)
    }
}
