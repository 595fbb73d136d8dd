import Compute
import Domain
import Foundation
import HTTPTypes
import Hummingbird
import Persistence
import Secrets

/// The tenant's workspace routes under `/v1/workspaces`.
struct WorkspaceController {
    let database: Database
    let orchestrator: WorkspaceOrchestrator
    let store = WorkspaceStore()

    func addRoutes(to group: RouterGroup<TenantRequestContext>) {
        group.post("workspaces") { request, context in try await create(request, context) }
        group.get("workspaces") { request, context in try await list(request, context) }
        group.get("workspaces/:id") { _, context in try await show(context) }
        group.delete("workspaces/:id") { _, context in try await act(.delete, context) }
        group.post("workspaces/:id/start") { _, context in try await act(.start, context) }
        group.post("workspaces/:id/stop") { _, context in try await act(.stop, context) }
        group.post("workspaces/:id/restart") { _, context in try await act(.restart, context) }
    }

    func create(_ request: Request, _ context: TenantRequestContext) async throws -> Response {
        let body = Array(buffer: try await request.body.collect(upTo: context.maxUploadSize))
        guard let key = request.headers[HTTPField.Name("Idempotency-Key")!] else {
            let (status, bytes) = try await createOnce(body, context)
            return Self.replay(status: Int(status.code), body: bytes)
        }
        guard (1...255).contains(key.count), key.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
            throw APIError(.badRequest, code: "validation_failed", message: "Idempotency-Key must be 1 to 255 visible ASCII characters", details: ["field": .string("Idempotency-Key")])
        }
        let hash = Digest.hex(Digest.sha256(body))
        let idempotency = IdempotencyStore()
        // A concurrent request with the same key waits for the first to finish, then replays it.
        let deadline = ContinuousClock.now + .seconds(120)
        while true {
            let claim = try await database.withTenant(context.tenant) { try await idempotency.claim(key: key, requestHash: hash, in: $0) }
            switch claim {
            case .mismatch:
                throw APIError(.unprocessableContent, code: "idempotency_mismatch", message: "this Idempotency-Key was used with a different body")
            case .completed(let status, let stored):
                return Self.replay(status: status, body: stored)
            case .inProgress:
                guard ContinuousClock.now < deadline else {
                    throw APIError(.conflict, code: "idempotency_in_progress", message: "a request with this Idempotency-Key is still running")
                }
                try await Task.sleep(for: .milliseconds(100))
            case .claimed:
                let status: HTTPResponse.Status, bytes: [UInt8]
                do {
                    (status, bytes) = try await createOnce(body, context)
                } catch let error as APIError {
                    // A refusal is a response too: the same request gets the same answer.
                    let encoded = try error.encodedBody()
                    try await database.withTenant(context.tenant) { try await idempotency.complete(key: key, status: Int(error.status.code), body: Array(encoded), in: $0) }
                    throw error
                } catch {
                    try? await database.withTenant(context.tenant) { try await idempotency.release(key: key, in: $0) }
                    throw error
                }
                try await database.withTenant(context.tenant) { try await idempotency.complete(key: key, status: Int(status.code), body: bytes, in: $0) }
                return Self.replay(status: Int(status.code), body: bytes)
            }
        }
    }

    static func replay(status: Int, body: [UInt8]) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: HTTPResponse.Status(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// Creates the workspace and returns the response to send (and, with a key, to store).
    func createOnce(_ body: [UInt8], _ context: TenantRequestContext) async throws -> (HTTPResponse.Status, [UInt8]) {
        let parsed = try CreateWorkspaceRequest.parse(body)
        let draft = WorkspaceDraft(
            tenantID: context.tenant, name: parsed.name, image: parsed.image, resources: parsed.resources,
            command: parsed.command, env: parsed.env, labels: parsed.labels, placement: parsed.placement
        )
        do {
            _ = try await orchestrator.create(draft)
        } catch let error as PlacementError {
            throw Self.map(error)
        } catch is DockerError {
            // The workspace exists in `error` with the reason; show it.
        }
        let view = try await database.withTenant(context.tenant) { try await store.view(draft.id, in: $0) }
        guard let view else { throw APIError(.notFound, code: "not_found", message: "workspace not found") }
        return (.created, try Self.encode(view))
    }

    func show(_ context: TenantRequestContext) async throws -> Response {
        let id = try Self.workspaceID(context)
        let view = try await database.withTenant(context.tenant) { try await store.view(id, in: $0) }
        guard let view else { throw APIError(.notFound, code: "not_found", message: "workspace not found") }
        return try Self.json(view, status: .ok)
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
        return try Self.json(Page(items: items, next_cursor: next), status: .ok)
    }

    func act(_ action: WorkspaceAction, _ context: TenantRequestContext) async throws -> Response {
        let id = try Self.workspaceID(context)
        // Ownership first, in the tenant's own scope: another tenant's id is simply not found.
        let owned = try await database.withTenant(context.tenant) { try await store.view(id, in: $0) } != nil
        guard owned else { throw APIError(.notFound, code: "not_found", message: "workspace not found") }
        do {
            switch action {
            case .start: try await orchestrator.start(id)
            case .stop: try await orchestrator.stop(id)
            case .restart: try await orchestrator.restart(id)
            case .delete: try await orchestrator.delete(id)
            case .create: break
            }
        } catch let error as OrchestrationError {
            switch error {
            case .notFound: throw APIError(.notFound, code: "not_found", message: "workspace not found")
            case .invalidState(let reason): throw APIError(.conflict, code: "invalid_state", message: reason)
            case .insufficientCapacity(let reason):
                throw APIError(.conflict, code: "insufficient_capacity", message: "the workspace's server has no room to start it", details: ["reasons": .string(reason)])
            }
        } catch let error as DockerError {
            // The container vanished behind our back: the workspace is now in error, which is a
            // state the tenant can act on (delete), not a server failure.
            if error.isNotFound {
                throw APIError(.conflict, code: "invalid_state", message: "the workspace's container is gone; delete the workspace and create it again")
            }
            throw APIError(.badGateway, code: "workspace_server_error", message: error.description)
        }
        if action == .delete { return Response(status: .noContent) }
        let view = try await database.withTenant(context.tenant) { try await store.view(id, in: $0) }
        guard let view else { throw APIError(.notFound, code: "not_found", message: "workspace not found") }
        return try Self.json(view, status: .ok)
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

    static func encode(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return Array(try encoder.encode(value))
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status) throws -> Response {
        replay(status: Int(status.code), body: try encode(value))
    }

    static func encodeCursor(_ date: Date, _ id: WorkspaceID) -> String {
        let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        return Data("\(micros)|\(id)".utf8).base64EncodedString()
    }

    static func decodeCursor(_ text: String) -> (Date, WorkspaceID)? {
        guard let data = Data(base64Encoded: text), let plain = String(data: data, encoding: .utf8) else { return nil }
        let parts = plain.split(separator: "|")
        guard parts.count == 2, let micros = Int64(parts[0]), let id = WorkspaceID(String(parts[1])) else { return nil }
        return (Date(timeIntervalSince1970: Double(micros) / 1_000_000), id)
    }
}
