import API
import BerthTestSupport
import Domain
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Persistence
import Secrets
import Testing

/// `GET /v1/workspaces`: keyset pagination and the `status=` and `label=` filters against a list
/// computed here from the rows the test wrote, and `last_used_at` of the key that asks.
@Suite struct WorkspaceListTests {
    typealias Setup = WorkspaceRoutesTests.Setup

    /// One row as the test wrote it.
    struct Written {
        let id: String
        let createdAt: Date
        let status: String
        let labels: [String: String]
    }

    struct Page: Decodable {
        struct Item: Decodable { let id: String; let status: String; let labels: [String: String] }
        let items: [Item]
        let next_cursor: String?
    }

    /// Workspace rows written straight into the database, with chosen creation times (three at a
    /// time share one, so the order's tie-break shows), statuses and labels.
    static func write(_ count: Int, tenant: String, prefix: String, in db: Database) async throws -> [Written] {
        let statuses = ["running", "stopped", "error", "creating", "running", "deleted", "stopped"]
        let base = Date(timeIntervalSince1970: 1_780_000_000)
        return try await db.withSystem { scope in
            let tenantID = try await TenantStore().get(named: tenant, in: scope)!.id
            var written: [Written] = []
            for i in 0..<count {
                let id = UUID().uuidString.lowercased()
                let created = base.addingTimeInterval(Double(i / 3) * 60 + 0.123456)
                var labels = ["team": i % 2 == 0 ? "red" : "blue"]
                if i % 3 == 0 { labels["tier"] = "gold" }
                let status = statuses[i % statuses.count]
                try await scope.execute("""
                    INSERT INTO workspaces (id, tenant_id, name, status, image, cpu, memory_mb, disk_gb, labels, created_at)
                    VALUES (\(id)::uuid, \(tenantID), \("\(prefix)\(i)"), \(status), 'berth-busybox:latest', 0.25, 64, 0,
                        \(PostgresJSON(labels))::jsonb, \(created))
                    """)
                written.append(Written(id: id, createdAt: created, status: status, labels: labels))
            }
            return written
        }
    }

    /// What a list must show: live rows matching the filters, newest first, ties by id, highest first.
    static func expected(_ rows: [Written], status: String? = nil, labels: [String: String] = [:]) -> [String] {
        rows.filter { row in
            row.status != "deleted" && (status == nil || row.status == status)
                && labels.allSatisfy { row.labels[$0.key] == $0.value }
        }
        .sorted { $0.createdAt != $1.createdAt ? $0.createdAt > $1.createdAt : $0.id > $1.id }
        .map(\.id)
    }

    static func get(_ client: some TestClientProtocol, _ query: String, key: String) async throws -> (HTTPResponse.Status, Page?, String) {
        try await client.execute(uri: "/v1/workspaces" + query, method: .get, headers: WorkspaceRoutesTests.headers(key)) { response in
            let text = String(buffer: response.body)
            return (response.status, try? JSONDecoder().decode(Page.self, from: Data(text.utf8)), text)
        }
    }

    /// Every page of a listing, followed by its cursors; each page but the last is full.
    static func walk(_ client: some TestClientProtocol, _ filters: String, limit: Int, key: String) async throws -> [String] {
        var ids: [String] = []
        var cursor: String?
        for _ in 0..<100 {
            var query = "?limit=\(limit)" + filters
            if let cursor { query += "&cursor=" + (cursor.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? cursor) }
            let (status, page, text) = try await get(client, query, key: key)
            #expect(status == .ok, "\(query): \(text)")
            let items = try #require(page, "\(query): \(text)").items
            ids += items.map(\.id)
            guard let next = page?.next_cursor else { return ids }
            #expect(items.count == limit, "\(query): a page before the last has \(items.count) of \(limit)")
            cursor = next
        }
        Issue.record("more than 100 pages")
        return ids
    }

    @Test func keysetPagesAndFiltersShowExactlyTheRightRowsInOrder() async throws {
        try await WorkspaceRoutesTests.withSetup { setup in
            let mine = try await Self.write(20, tenant: "tenant-a", prefix: "a", in: setup.db)
            let theirs = try await Self.write(5, tenant: "tenant-b", prefix: "b", in: setup.db)
            try await WorkspaceRoutesTests.app(setup).test(.router) { client in
                // Whole listings, in pages of every size, are the reference's order exactly.
                for limit in [1, 2, 3, 7, 50, 200] {
                    let ids = try await Self.walk(client, "", limit: limit, key: setup.keyA)
                    #expect(ids == Self.expected(mine), "limit \(limit)")
                }
                #expect(try await Self.walk(client, "", limit: 2, key: setup.keyB) == Self.expected(theirs))
                // The default page holds up to 50.
                let (_, whole, _) = try await Self.get(client, "", key: setup.keyA)
                #expect(whole?.items.map(\.id) == Self.expected(mine) && whole?.next_cursor == nil)

                // Filters, alone, together and over several pages.
                for (query, status, labels) in [
                    ("&status=running", "running", [:]), ("&status=stopped", "stopped", [:]), ("&status=deleted", "deleted", [:]),
                    ("&label=team=red", nil, ["team": "red"]), ("&label=tier=gold", nil, ["tier": "gold"]),
                    ("&label=team=blue&label=tier=gold", nil, ["team": "blue", "tier": "gold"]),
                    ("&status=running&label=team=red", "running", ["team": "red"]), ("&label=team=green", nil, ["team": "green"]),
                ] as [(String, String?, [String: String])] {
                    let wanted = Self.expected(mine, status: status, labels: labels)
                    for limit in [1, 2, 200] {
                        let ids = try await Self.walk(client, query, limit: limit, key: setup.keyA)
                        #expect(ids == wanted, "\(query) limit \(limit)")
                    }
                    let (_, page, _) = try await Self.get(client, "?limit=200" + query, key: setup.keyA)
                    #expect(page?.items.allSatisfy { item in (status == nil || item.status == status) && labels.allSatisfy { item.labels[$0.key] == $0.value } } == true)
                }
                #expect(Self.expected(mine, status: "deleted").isEmpty && !Self.expected(mine, status: "running").isEmpty)

                // Keyset, not offset: a page goes on after the last row shown, whatever was added or
                // removed meanwhile. A new row that sorts first, and a deleted row already shown, move
                // nothing.
                let all = Self.expected(mine)
                let (_, first, _) = try await Self.get(client, "?limit=4", key: setup.keyA)
                #expect(first?.items.map(\.id) == Array(all.prefix(4)))
                _ = try await Self.write(1, tenant: "tenant-a", prefix: "newest", in: setup.db).first
                try await setup.db.withSystem { try await $0.execute("UPDATE workspaces SET created_at = now() WHERE name = 'newest0'") }
                let (_, second, _) = try await Self.get(client, "?limit=4&cursor=" + (first?.next_cursor ?? ""), key: setup.keyA)
                #expect(second?.items.map(\.id) == Array(all[4..<8]), "a row added before the cursor moved the page")
                try await setup.db.withSystem { try await $0.execute("UPDATE workspaces SET status = 'deleted' WHERE id = \(all[0])::uuid") }
                let (_, third, _) = try await Self.get(client, "?limit=4&cursor=" + (second?.next_cursor ?? ""), key: setup.keyA)
                #expect(third?.items.map(\.id) == Array(all[8..<12]), "a row removed before the cursor moved the page")

                // Bad parameters name the field.
                for (query, field) in [("?limit=0", "limit"), ("?limit=201", "limit"), ("?limit=x", "limit"), ("?cursor=bm90LWEtY3Vyc29y", "cursor"),
                                       ("?cursor=%25%25", "cursor"), ("?status=sleeping", "status"), ("?label=team", "label"), ("?label==red", "label")] {
                    let (status, _, text) = try await Self.get(client, query, key: setup.keyA)
                    #expect(status == .badRequest && text.contains("validation_failed") && text.contains(#""field":"\#(field)""#), "\(query): \(text)")
                }
            }
        }
    }

    @Test func lastUsedAtIsWrittenAtMostOnceAMinute() async throws {
        try await WorkspaceRoutesTests.withSetup { setup in
            @Sendable func lastUsed() async throws -> Date? {
                try await setup.db.withSystem { try await $0.first("SELECT last_used_at FROM api_keys WHERE id = \(setup.keyAID)")!.decode("last_used_at", as: Date?.self) }
            }
            #expect(try await lastUsed() == nil)
            try await WorkspaceRoutesTests.app(setup).test(.router) { client in
                func use() async throws { #expect(try await Self.get(client, "", key: setup.keyA).0 == .ok) }
                // The first use writes it.
                let before = try await setup.db.withSystem { try await $0.first("SELECT now() AS t")!.decode("t", as: Date.self) }
                try await use()
                let first = try #require(try await lastUsed())
                #expect(first >= before)
                // Further uses within the minute leave it alone.
                for _ in 0..<5 { try await use() }
                #expect(try await lastUsed() == first)
                try await setup.db.withSystem { try await $0.execute("UPDATE api_keys SET last_used_at = now() - interval '50 seconds' WHERE id = \(setup.keyAID)") }
                let fiftySecondsAgo = try await lastUsed()
                try await use()
                #expect(try await lastUsed() == fiftySecondsAgo, "written again within a minute")
                // A minute later, the next use writes it again.
                try await setup.db.withSystem { try await $0.execute("UPDATE api_keys SET last_used_at = now() - interval '61 seconds' WHERE id = \(setup.keyAID)") }
                let minuteAgo = try #require(try await lastUsed())
                let now = try await setup.db.withSystem { try await $0.first("SELECT now() AS t")!.decode("t", as: Date.self) }
                try await use()
                let again = try #require(try await lastUsed())
                #expect(again > minuteAgo && again >= now, "not written again after a minute")
                // A refused request (a wrong secret with the right prefix) writes nothing.
                try await setup.db.withSystem { try await $0.execute("UPDATE api_keys SET last_used_at = NULL WHERE id = \(setup.keyAID)") }
                #expect(try await Self.get(client, "", key: setup.keyA + "x").0 == .unauthorized)
                #expect(try await lastUsed() == nil)
            }
        }
    }
}
