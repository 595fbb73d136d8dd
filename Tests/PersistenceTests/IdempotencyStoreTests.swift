import BerthTestSupport
import Domain
import Foundation
import Persistence
import Testing

/// Idempotency keys on a real database: the first answer stored is the one replayed.
@Suite struct IdempotencyStoreTests {
    @Test func theFirstAnswerStaysWhenATakeoverFinishesSecond() async throws {
        try await withTestDatabase { _, db in
            let tenant = try await db.withSystem { try await TenantStore().create(name: "idem", quota: .standard, in: $0).id }
            let store = IdempotencyStore()
            let workspace = WorkspaceID.random()
            let first = try await db.withTenant(tenant) { try await store.claim(key: "k", requestHash: "h", workspace: workspace, lease: .milliseconds(1), in: $0) }
            #expect(first == .claimed(workspace: workspace, resumed: false))
            try await Task.sleep(for: .milliseconds(20))
            // The lease ran out: a second request takes the key over, for the same workspace.
            let second = try await db.withTenant(tenant) { try await store.claim(key: "k", requestHash: "h", workspace: .random(), lease: .seconds(60), in: $0) }
            #expect(second == .claimed(workspace: workspace, resumed: true))
            try await db.withTenant(tenant) { try await store.complete(key: "k", status: 201, body: Array("taken over".utf8), in: $0) }
            // The slow original finishes afterwards: its answer does not replace the one given.
            try await db.withTenant(tenant) { try await store.complete(key: "k", status: 202, body: Array("original".utf8), in: $0) }
            let replay = try await db.withTenant(tenant) { try await store.claim(key: "k", requestHash: "h", workspace: .random(), lease: .seconds(60), in: $0) }
            #expect(replay == .completed(status: 201, body: Array("taken over".utf8)))
        }
    }
}
