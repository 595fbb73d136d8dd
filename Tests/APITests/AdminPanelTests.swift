@testable import API
import BerthTestSupport
import Billing
import Compute
import Domain
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Persistence
import Secrets
import Testing

/// The admin panel in-process: sign-in and its cookie, the session guard, CSRF on every POST,
/// tampered and expired cookies, escaping of user-controlled text, and the audit trail of panel
/// changes. (The browser test, scripts/browser-test.sh, drives the same pages in Chromium.)
@Suite struct AdminPanelTests {
    static let token = AdminRoutesTests.token
    static let cookieName = "berth_admin_session"

    struct Reply {
        let status: HTTPResponse.Status
        let headers: HTTPFields
        let text: String

        var location: String? { headers[.location] }
        var setCookies: [String] { headers[values: .setCookie] }
    }

    static func call(
        _ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String,
        form: [(String, String)]? = nil, cookie: String? = nil, headers extra: HTTPFields = [:]
    ) async throws -> Reply {
        var headers = extra
        if let cookie { headers[.cookie] = "\(cookieName)=\(cookie)" }
        if form != nil { headers[.contentType] = "application/x-www-form-urlencoded" }
        return try await client.execute(uri: uri, method: method, headers: headers, body: form.map { ByteBuffer(string: encode($0)) }) {
            Reply(status: $0.status, headers: $0.headers, text: String(buffer: $0.body))
        }
    }

    static func encode(_ form: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return form.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
    }

    /// Signs in and returns the session cookie's value and the CSRF token of its pages.
    static func signIn(_ client: some TestClientProtocol, token: String = AdminPanelTests.token) async throws -> (cookie: String, csrf: String) {
        let login = try await call(client, .post, "/admin/ui/login", form: [("token", token)])
        #expect(login.status == .seeOther && login.location == "/admin/ui/servers", "\(login.status)")
        let header = try #require(login.setCookies.first { $0.hasPrefix("\(cookieName)=") })
        let value = String(header.dropFirst(cookieName.count + 1).prefix { $0 != ";" })
        let page = try await call(client, .get, "/admin/ui/servers", cookie: value)
        #expect(page.status == .ok)
        return (value, try #require(csrf(in: page.text)))
    }

    static func csrf(in html: String) -> String? {
        guard let range = html.range(of: #"name="csrf" value="([^"]+)""#, options: .regularExpression) else { return nil }
        return String(html[range].dropFirst(#"name="csrf" value=""#.count).dropLast())
    }

    /// A cookie from the panel's own signer for `token`, as if issued at `issuedAt`: the code that
    /// signs a real login's cookie, not a copy of its key derivation.
    static func issuedCookie(token: String = AdminPanelTests.token, issuedAt: Date) throws -> String {
        let admin = try #require(AdminToken(token))
        return PanelSessionSigner(key: admin.sessionKey).issue(now: issuedAt).cookie
    }

    static func addServer(_ db: Database, name: String, labels: [String: LabelValue] = [:]) async throws -> WorkspaceServer {
        try await db.withSystem { scope in
            try await WorkspaceServerStore().insert(.init(
                name: name, connection: ServerConnection(host: "127.0.0.1", dockerPort: 1),
                capacity: Capacity(cpuMillis: 2000, memoryMB: 2048, diskGB: 10, workspaces: 5), labels: labels
            ), in: scope)
        }
    }

    static func auditActions(_ db: Database) async throws -> [(actor: String, action: String)] {
        try await db.withSystem { scope in
            try await scope.execute("SELECT actor_type, action FROM audit_events ORDER BY id").map {
                (try $0.decode("actor_type", as: String.self), try $0.decode("action", as: String.self))
            }
        }
    }

    @Test func loginSetsAStrictHttpOnlySessionCookie() async throws {
        try await AdminRoutesTests.withSetup { setup in
            try await AdminRoutesTests.app(setup).test(.router) { client in
                let page = try await Self.call(client, .get, "/admin/ui/login")
                #expect(page.status == .ok && page.headers[.contentType] == "text/html; charset=utf-8")
                let csp = page.headers[.contentSecurityPolicy] ?? ""
                #expect(csp.hasPrefix("default-src 'self'; script-src 'self'; style-src 'self'"), "\(csp)")
                #expect(page.headers[.cacheControl] == "no-store")

                let login = try await Self.call(client, .post, "/admin/ui/login", form: [("token", Self.token)])
                #expect(login.status == .seeOther && login.location == "/admin/ui/servers")
                let cookie = try #require(login.setCookies.first)
                let attributes = Set(cookie.split(separator: ";").dropFirst().map { $0.trimmingCharacters(in: .whitespaces) })
                #expect(cookie.hasPrefix("\(Self.cookieName)=v1."), "\(cookie)")
                #expect(attributes.isSuperset(of: ["HttpOnly", "SameSite=Strict", "Path=/admin/ui", "Max-Age=43200"]), "\(attributes)")
                #expect(!attributes.contains("Secure"), "plain HTTP: a Secure cookie would never come back")
                #expect(!cookie.contains(Self.token) && !cookie.contains(Digest.hex(Digest.sha256(Self.token))))

                // Behind a proxy that terminated TLS the cookie is Secure too.
                var https = HTTPFields()
                https[HTTPField.Name("X-Forwarded-Proto")!] = "https"
                let secure = try await Self.call(client, .post, "/admin/ui/login", form: [("token", Self.token)], headers: https)
                #expect(secure.setCookies.first?.contains("; Secure") == true, "\(secure.setCookies)")

                // The session opens every page; each carries the CSRF token and the security headers.
                let (session, csrf) = try await Self.signIn(client)
                for path in ["/admin/ui/servers", "/admin/ui/cluster", "/admin/ui/workspaces", "/admin/ui/tenants", "/admin/ui/audit", "/admin/ui/placement"] {
                    let reply = try await Self.call(client, .get, path, cookie: session)
                    #expect(reply.status == .ok, "\(path): \(reply.status)")
                    #expect(reply.text.contains(#"name="csrf" value="\#(csrf)""#), "\(path)")
                    #expect(reply.headers[.contentSecurityPolicy] == csp && reply.headers[HTTPField.Name("X-Frame-Options")!] == "DENY", "\(path)")
                    #expect(!reply.text.contains(Self.token), "\(path)")
                    #expect(!reply.text.contains("style=\"") && !reply.text.contains("<script>"), "\(path): inline style or script")
                }
                #expect(try await Self.call(client, .get, "/admin/ui/", cookie: session).location == "/admin/ui/servers")

                // The live region alone, for the refresh script.
                let partial = try await Self.call(client, .get, "/admin/ui/servers?partial=1", cookie: session)
                #expect(partial.status == .ok && !partial.text.contains("<html") && partial.text.contains("id=\"cluster\""), "\(partial.text.prefix(200))")

                // Assets from the binary.
                let css = try await Self.call(client, .get, "/admin/ui/assets/panel.css")
                #expect(css.status == .ok && css.headers[.contentType] == "text/css; charset=utf-8" && css.text.contains(".fill.p100 { width: 100%; }"))
                let js = try await Self.call(client, .get, "/admin/ui/assets/panel.js")
                #expect(js.status == .ok && js.headers[.contentType] == "text/javascript; charset=utf-8" && js.text.contains("partial"))

                // Logout clears the cookie.
                let logout = try await Self.call(client, .post, "/admin/ui/logout", form: [("csrf", csrf)], cookie: session)
                #expect(logout.status == .seeOther && logout.location == "/admin/ui/login?notice=signed-out")
                #expect(logout.setCookies.first?.hasPrefix("\(Self.cookieName)=;") == true && logout.setCookies.first?.contains("Max-Age=0") == true, "\(logout.setCookies)")
            }
        }
    }

    @Test func aWrongTokenIsRefusedWithoutEcho() async throws {
        try await AdminRoutesTests.withSetup { setup in
            try await AdminRoutesTests.app(setup).test(.router) { client in
                for presented in ["wrong-token-<b>guess</b>", "", Self.token + "x", setup.tenantKey] {
                    let reply = try await Self.call(client, .post, "/admin/ui/login", form: [("token", presented)])
                    #expect(reply.status == .unauthorized && reply.setCookies.isEmpty, "\(reply.status)")
                    #expect(reply.text.contains("id=\"error\"") && reply.text.contains("id=\"login-form\""))
                    #expect(presented.isEmpty || !reply.text.contains(presented), "the presented token is echoed")
                    #expect(!reply.text.contains("&lt;b&gt;guess"), "the presented token is echoed, even escaped")
                }
                #expect(try await Self.call(client, .post, "/admin/ui/login", form: []).status == .unauthorized)
            }
            // Without a configured admin token the panel is off, even for a cookie from a real login.
            let (session, _) = try await AdminRoutesTests.app(setup).test(.router) { try await Self.signIn($0) }
            try await AdminRoutesTests.app(setup, token: nil).test(.router) { client in
                let off = try await Self.call(client, .get, "/admin/ui/login")
                #expect(off.status == .serviceUnavailable && off.text.contains("BERTH_ADMIN_TOKEN"))
                #expect(try await Self.call(client, .post, "/admin/ui/login", form: [("token", Self.token)]).status == .serviceUnavailable)
                #expect(try await Self.call(client, .get, "/admin/ui/servers", cookie: session).status == .serviceUnavailable)
            }
        }
    }

    @Test func pagesRedirectToTheLoginPageWithoutASession() async throws {
        try await AdminRoutesTests.withSetup { setup in
            let server = try await Self.addServer(setup.db, name: "ws-guarded")
            try await AdminRoutesTests.app(setup).test(.router) { client in
                var bearer = HTTPFields()
                bearer[.authorization] = "Bearer \(Self.token)"
                for path in ["/admin/ui", "/admin/ui/", "/admin/ui/servers", "/admin/ui/servers?partial=1", "/admin/ui/servers/\(server.id)",
                             "/admin/ui/cluster", "/admin/ui/workspaces", "/admin/ui/tenants", "/admin/ui/tenants/\(UUID())",
                             "/admin/ui/audit", "/admin/ui/placement"] {
                    let reply = try await Self.call(client, .get, path)
                    #expect(reply.status == .seeOther && reply.location == "/admin/ui/login", "\(path): \(reply.status)")
                    // The panel takes only its cookie: the bearer token of the JSON API does not open it.
                    #expect(try await Self.call(client, .get, path, headers: bearer).location == "/admin/ui/login", "\(path)")
                }
                // A POST without a session changes nothing either.
                for path in ["/admin/ui/servers/\(server.id)/cordon", "/admin/ui/servers/\(server.id)/remove", "/admin/ui/tenants", "/admin/ui/logout"] {
                    let reply = try await Self.call(client, .post, path, form: [("csrf", "x"), ("name", "sneaky")])
                    #expect(reply.status == .seeOther && reply.location == "/admin/ui/login", "\(path): \(reply.status)")
                }
            }
            let after = try await setup.db.withSystem { try await WorkspaceServerStore().get(server.id, in: $0) }
            #expect(after?.schedulable == .active)
            #expect(try await Self.auditActions(setup.db).isEmpty)
        }
    }

    @Test func postsWithoutThisSessionsCSRFTokenAreRefusedAndChangeNothing() async throws {
        try await AdminRoutesTests.withSetup { setup in
            let server = try await Self.addServer(setup.db, name: "ws-target")
            try await AdminRoutesTests.app(setup).test(.router) { client in
                let (session, csrf) = try await Self.signIn(client)
                let (_, otherCSRF) = try await Self.signIn(client)
                #expect(csrf != otherCSRF, "each session has its own CSRF token")
                let attempts: [(String, [(String, String)])] = [
                    ("/admin/ui/servers/\(server.id)/cordon", []),
                    ("/admin/ui/servers/\(server.id)/drain", [("csrf", "")]),
                    ("/admin/ui/servers/\(server.id)/remove", [("csrf", "forged")]),
                    ("/admin/ui/servers/\(server.id)/cordon", [("csrf", otherCSRF)]),
                    ("/admin/ui/servers/\(server.id)/cordon", [("csrf", String(csrf.dropLast()))]),
                    ("/admin/ui/servers", [("name", "ws-sneaky"), ("host", "127.0.0.1"), ("docker_port", "1")]),
                    ("/admin/ui/tenants", [("csrf", otherCSRF), ("name", "sneaky")]),
                    ("/admin/ui/logout", []),
                ]
                for (path, form) in attempts {
                    let reply = try await Self.call(client, .post, path, form: form, cookie: session)
                    #expect(reply.status == .forbidden, "\(path) \(form.map(\.0)): \(reply.status)")
                    #expect(reply.text.contains("security token") && reply.setCookies.isEmpty, "\(path)")
                }
                // Not a form at all.
                var json = HTTPFields()
                json[.contentType] = "application/json"
                json[.cookie] = "\(Self.cookieName)=\(session)"
                let jsonReply = try await client.execute(uri: "/admin/ui/servers/\(server.id)/cordon", method: .post, headers: json, body: ByteBuffer(string: #"{"csrf":"\#(csrf)"}"#)) { $0.status }
                #expect(jsonReply == .forbidden || jsonReply == .badRequest, "\(jsonReply)")

                let unchanged = try await setup.db.withSystem { scope in
                    (try await WorkspaceServerStore().list(in: scope), try await TenantStore().get(named: "sneaky", in: scope))
                }
                #expect(unchanged.0.map(\.name) == ["ws-target"] && unchanged.0.first?.schedulable == .active && unchanged.1 == nil)
                #expect(try await Self.auditActions(setup.db).isEmpty, "a refused POST wrote an audit row")

                // With the right token the same POST goes through.
                let done = try await Self.call(client, .post, "/admin/ui/servers/\(server.id)/cordon", form: [("csrf", csrf)], cookie: session)
                #expect(done.status == .seeOther && done.location == "/admin/ui/servers?notice=server-cordoned", "\(done.status)")
            }
            #expect(try await Self.auditActions(setup.db).map(\.action) == ["server.cordon"])
        }
    }

    @Test func tamperedForeignAndExpiredCookiesAreRefused() async throws {
        try await AdminRoutesTests.withSetup { setup in
            // A cookie from a real login to a service with another admin token.
            let foreign = try await AdminRoutesTests.app(setup, token: "another-admin-token-0123456789").test(.router) { try await Self.signIn($0, token: "another-admin-token-0123456789").cookie }
            try await AdminRoutesTests.app(setup).test(.router) { client in
                let (session, _) = try await Self.signIn(client)
                let parts = session.split(separator: ".").map(String.init)
                #expect(parts.count == 4)
                // The real cookie expires one lifetime (12 h) from now.
                let expiry = try #require(Int(parts[1]))
                #expect(abs(Double(expiry) - Date().addingTimeInterval(12 * 3600).timeIntervalSince1970) < 120, "expiry \(expiry)")
                let later = String(expiry + 3600)
                let flipped = parts[3].first == "A" ? "B" + parts[3].dropFirst() : "A" + parts[3].dropFirst()
                let refused = [
                    "garbage",
                    "",
                    [parts[0], later, parts[2], parts[3]].joined(separator: "."),
                    [parts[0], parts[1], parts[2] + "x", parts[3]].joined(separator: "."),
                    [parts[0], parts[1], parts[2], flipped].joined(separator: "."),
                    [parts[0], parts[1], parts[2]].joined(separator: "."),
                    ["v2", parts[1], parts[2], parts[3]].joined(separator: "."),
                    [parts[0], parts[1], parts[2], parts[3], parts[3]].joined(separator: "."),
                    foreign,
                    // Signed by the panel's own signer, but expired a second ago, or issued 30 days from now.
                    try Self.issuedCookie(issuedAt: Date() - 12 * 3600 - 1),
                    try Self.issuedCookie(issuedAt: Date() + 30 * 86400),
                ]
                #expect(foreign != session && foreign.hasPrefix("v1."))
                for cookie in refused {
                    let reply = try await Self.call(client, .get, "/admin/ui/servers", cookie: cookie)
                    #expect(reply.status == .seeOther && reply.location == "/admin/ui/login", "\(cookie): \(reply.status)")
                    if !cookie.isEmpty {
                        #expect(reply.setCookies.first?.contains("Max-Age=0") == true, "a refused cookie is cleared")
                    }
                }
                // The untouched cookie, and one the signer issues now, are accepted: the refusals
                // above are about the tampering and the times, not the way the cookies were made.
                #expect(try await Self.call(client, .get, "/admin/ui/servers", cookie: session).status == .ok)
                #expect(try await Self.call(client, .get, "/admin/ui/servers", cookie: try Self.issuedCookie(issuedAt: Date())).status == .ok)
            }
            // A new admin token ends every session.
            let (session, _) = try await AdminRoutesTests.app(setup).test(.router) { try await Self.signIn($0) }
            try await AdminRoutesTests.app(setup, token: "rotated-admin-token-0123456789").test(.router) { client in
                let rotated = try await Self.call(client, .get, "/admin/ui/servers", cookie: session)
                #expect(rotated.location == "/admin/ui/login")
            }
        }
    }

    @Test func userControlledTextIsEscaped() async throws {
        try await AdminRoutesTests.withSetup { setup in
            let server = try await Self.addServer(setup.db, name: "ws-escape", labels: ["note": .string("<script>alert(1)</script>"), "q": .string(#"" onmouseover="x"#)])
            try await setup.db.withSystem { scope in
                try await scope.execute("""
                    UPDATE workspace_servers SET last_error = '<img src=x onerror=alert(2)><script>alert(3)</script>', last_health_check = now()
                    WHERE id = \(server.id)
                    """)
            }
            try await AdminRoutesTests.app(setup).test(.router) { client in
                let (session, csrf) = try await Self.signIn(client)
                for path in ["/admin/ui/servers", "/admin/ui/servers?partial=1", "/admin/ui/servers/\(server.id)", "/admin/ui/servers/\(server.id)?partial=1"] {
                    let page = try await Self.call(client, .get, path, cookie: session)
                    #expect(page.status == .ok, "\(path)")
                    for raw in ["<script>alert", "<img src=x", #"" onmouseover="x"#] {
                        #expect(!page.text.contains(raw), "\(path) carries \(raw) unescaped")
                    }
                    #expect(page.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && page.text.contains("&lt;img src=x onerror=alert(2)&gt;"), "\(path)")
                    #expect(page.text.contains("&quot; onmouseover=&quot;x"), "\(path)")
                }
                // What the admin types comes back escaped, in the form and in the refusal.
                let bad = try await Self.call(client, .post, "/admin/ui/servers", form: [
                    ("csrf", csrf), ("name", "<script>alert(4)</script>"), ("host", #""><svg onload=alert(5)>"#), ("docker_port", "1"),
                ], cookie: session)
                #expect(bad.status == .badRequest && bad.text.contains("id=\"add-error\""), "\(bad.status)")
                #expect(!bad.text.contains("<script>alert(4)") && !bad.text.contains("<svg onload"))
                #expect(bad.text.contains("value=\"&lt;script&gt;alert(4)&lt;/script&gt;\""))
                // A dry run's reasons quote the constraint, escaped.
                let dry = try await Self.call(client, .post, "/admin/ui/placement", form: [
                    ("csrf", csrf), ("cpu", "1"), ("memory_mb", "64"), ("constraints", #"{"tier": "<b>gold</b>"}"#),
                ], cookie: session)
                #expect(dry.status == .ok && dry.text.contains("id=\"dry-run-result\""), "\(dry.status)")
                #expect(!dry.text.contains("<b>gold</b>") && dry.text.contains("≠ &lt;b&gt;gold&lt;/b&gt;"), "\(dry.text)")
            }
        }
    }

    @Test func panelChangesGoThroughTheSharedAdminFunctionsAndAreAudited() async throws {
        try await AdminRoutesTests.withSetup { setup in
            try await AdminRoutesTests.app(setup).test(.router) { client in
                let (session, csrf) = try await Self.signIn(client)
                // Add (an engine that does not answer: added, and the notice says so).
                let added = try await Self.call(client, .post, "/admin/ui/servers", form: [
                    ("csrf", csrf), ("name", "ws-panel"), ("host", "127.0.0.1"), ("docker_port", "1"), ("total_cpu", "1.5"),
                    ("total_memory_mb", "1024"), ("labels", #"{"region": "eu", "gpu": true}"#),
                ], cookie: session)
                #expect(added.status == .seeOther && added.location == "/admin/ui/servers?notice=server-added-unreachable", "\(added.status) \(added.text.prefix(300))")
                let server = try #require(try await setup.db.withSystem { try await WorkspaceServerStore().list(in: $0) }.first)
                #expect(server.capacity.cpuMillis == 1500 && server.labels == ["region": .string("eu"), "gpu": .bool(true)])
                let listed = try await Self.call(client, .get, "/admin/ui/servers?notice=server-added-unreachable", cookie: session)
                #expect(listed.text.contains("data-server-name=\"ws-panel\"") && listed.text.contains("id=\"notice\""))
                // The same validation as the API; a taken name is refused beside the form.
                let taken = try await Self.call(client, .post, "/admin/ui/servers", form: [("csrf", csrf), ("name", "ws-panel"), ("host", "127.0.0.1")], cookie: session)
                #expect(taken.status == .conflict && taken.text.contains("already exists"))
                let labels = try await Self.call(client, .post, "/admin/ui/servers", form: [("csrf", csrf), ("name", "ws-x"), ("host", "127.0.0.1"), ("labels", "region=eu")], cookie: session)
                #expect(labels.status == .badRequest && labels.text.contains("JSON object"))

                // Cordon, uncordon and drain; the detail page's buttons come back to it.
                for (action, state) in [("cordon", "cordoned"), ("uncordon", "active"), ("drain", "draining")] {
                    let reply = try await Self.call(client, .post, "/admin/ui/servers/\(server.id)/\(action)", form: [("csrf", csrf), ("back", "detail")], cookie: session)
                    #expect(reply.status == .seeOther && reply.location?.hasPrefix("/admin/ui/servers/\(server.id)?notice=") == true, "\(action)")
                    let page = try await Self.call(client, .get, "/admin/ui/servers/\(server.id)", cookie: session)
                    #expect(page.text.contains("data-schedulable=\"\(state)\""), "\(action)")
                }
                #expect(try await Self.call(client, .post, "/admin/ui/servers/\(UUID())/cordon", form: [("csrf", csrf)], cookie: session).status == .notFound)

                // Tenants and keys: the secret is shown once, on the response, and stored as a hash.
                let created = try await Self.call(client, .post, "/admin/ui/tenants", form: [("csrf", csrf), ("name", "acme"), ("max_cpu", "2.5")], cookie: session)
                let tenantPath = try #require(created.location?.split(separator: "?").first.map(String.init))
                #expect(created.status == .seeOther && tenantPath.hasPrefix("/admin/ui/tenants/"), "\(created.status)")
                let badTenant = try await Self.call(client, .post, "/admin/ui/tenants", form: [("csrf", csrf), ("name", "Acme Inc")], cookie: session)
                #expect(badTenant.status == .badRequest && badTenant.text.contains("id=\"create-error\""))
                let issued = try await Self.call(client, .post, "\(tenantPath)/keys", form: [("csrf", csrf), ("name", "ci")], cookie: session)
                #expect(issued.status == .created && issued.text.contains("id=\"issued-secret\""))
                let secretRange = try #require(issued.text.range(of: "berth_[A-Za-z0-9_-]+", options: .regularExpression))
                let secret = String(issued.text[secretRange])
                let stored = try await setup.db.withSystem { try await $0.first("SELECT count(*) AS n FROM api_keys WHERE key_hash = \(PostgresBytes(Digest.sha256(secret)))")!.decode("n", as: Int.self) }
                #expect(stored == 1)
                let tenantPage = try await Self.call(client, .get, tenantPath, cookie: session)
                #expect(!tenantPage.text.contains(secret) && tenantPage.text.contains("data-action=\"revoke\""))
                let keyID = try await setup.db.withSystem { try await $0.first("SELECT id FROM api_keys WHERE name = 'ci'")!.decode("id", as: APIKeyID.self) }
                let revoked = try await Self.call(client, .post, "\(tenantPath)/keys/\(keyID)/revoke", form: [("csrf", csrf)], cookie: session)
                #expect(revoked.status == .seeOther && revoked.location == "\(tenantPath)?notice=key-revoked")
                #expect(try await Self.call(client, .post, "\(tenantPath)/keys/\(keyID)/revoke", form: [("csrf", csrf)], cookie: session).status == .notFound)

                // Remove; the audit log page shows it all, never the secret.
                let removed = try await Self.call(client, .post, "/admin/ui/servers/\(server.id)/remove", form: [("csrf", csrf)], cookie: session)
                #expect(removed.status == .seeOther && removed.location == "/admin/ui/servers?notice=server-removed")
                let audit = try await Self.call(client, .get, "/admin/ui/audit?actor=admin", cookie: session)
                #expect(audit.status == .ok && !audit.text.contains(secret))
                #expect(try await Self.call(client, .get, "/admin/ui/audit?actor=nobody", cookie: session).status == .badRequest)
                // The filter form as a browser sends it, empty fields included.
                #expect(try await Self.call(client, .get, "/admin/ui/audit?actor=&action=", cookie: session).location == "/admin/ui/audit")
                #expect(try await Self.call(client, .get, "/admin/ui/audit?actor=admin&action=", cookie: session).location == "/admin/ui/audit?actor=admin")
                let filtered = try await Self.call(client, .get, "/admin/ui/audit?actor=admin&action=server.cordon", cookie: session)
                #expect(filtered.status == .ok && filtered.text.contains(#"data-action="server.cordon""#) && !filtered.text.contains(#"data-action="server.add""#))
                #expect(filtered.text.contains(#"<option value="admin" selected>"#) && filtered.text.contains(#"value="server.cordon""#))
            }
            let actions = try await Self.auditActions(setup.db)
            #expect(actions.allSatisfy { $0.actor == "admin" })
            #expect(actions.map(\.action) == [
                "server.add", "server.cordon", "server.uncordon", "server.drain", "tenant.create", "api_key.issue", "api_key.revoke", "server.remove",
            ])
        }
    }

    /// Price plans from the panel: create one, add prices from a later moment, give a tenant a plan
    /// from a later moment; past moments are refused beside the form, as the API refuses them.
    @Test func pricePlansAndPlanChangesFromThePanel() async throws {
        try await AdminRoutesTests.withSetup { setup in
            try await AdminRoutesTests.app(setup).test(.router) { client in
                let (session, csrf) = try await Self.signIn(client)
                let empty = try await Self.call(client, .get, "/admin/ui/plans", cookie: session)
                #expect(empty.status == .ok && empty.text.contains("id=\"no-plans\""))
                let created = try await Self.call(client, .post, "/admin/ui/plans", form: [
                    ("csrf", csrf), ("name", "standard"), ("currency", ""), ("cpu_core_hour_micros", "20000"), ("memory_gb_hour_micros", ""),
                ], cookie: session)
                #expect(created.status == .seeOther && created.location == "/admin/ui/plans?notice=plan-created", "\(created.status) \(created.text.prefix(300))")
                let plan = try #require(try await PricePlanAdministration(database: setup.db).list().first)
                #expect(plan.name == "standard" && plan.currency == "EUR" && plan.cpu_core_hour_micros == 20000)
                let badPlan = try await Self.call(client, .post, "/admin/ui/plans", form: [("csrf", csrf), ("name", "x"), ("currency", "euro")], cookie: session)
                #expect(badPlan.status == .badRequest && badPlan.text.contains("id=\"plan-form-error\"") && badPlan.text.contains("ISO 4217"))

                let later = RFC3339.format(Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 7 * 86_400).rounded()))
                let version = try await Self.call(client, .post, "/admin/ui/plans/\(plan.id)/versions", form: [
                    ("csrf", csrf), ("effective_from", later), ("cpu_core_hour_micros", "25000"),
                ], cookie: session)
                #expect(version.status == .seeOther && version.location == "/admin/ui/plans?notice=prices-added", "\(version.status) \(version.text.prefix(300))")
                let past = try await Self.call(client, .post, "/admin/ui/plans/\(plan.id)/versions", form: [("csrf", csrf), ("effective_from", "2020-01-01T00:00:00Z")], cookie: session)
                #expect(past.status == .badRequest && past.text.contains("must not be in the past"))
                let page = try await Self.call(client, .get, "/admin/ui/plans", cookie: session)
                // Two versions: the first in force, the later one shown with its moment.
                #expect(page.text.contains("data-plan-name=\"standard\"") && page.text.contains("<time datetime=\"\(later)\">"), "\(page.text)")
                #expect(page.text.components(separatedBy: "data-in-force=\"true\"").count == 2)
                #expect(page.text.contains("0.020000") && page.text.contains("0.025000"))

                // A tenant's plan from a later moment: until then it keeps the one it has (none).
                let tenant = try await UsageFixture(db: setup.db).tenant("acme")
                let assigned = try await Self.call(client, .post, "/admin/ui/tenants/\(tenant)/plan", form: [
                    ("csrf", csrf), ("price_plan_id", plan.id.description), ("effective_from", later),
                ], cookie: session)
                #expect(assigned.status == .seeOther && assigned.location == "/admin/ui/tenants/\(tenant)?notice=plan-assigned", "\(assigned.status) \(assigned.text.prefix(300))")
                let history = try await TenantAdministration(database: setup.db).planHistory(tenant)
                #expect(history.count == 1 && history[0].plan == plan.id && abs(history[0].from.timeIntervalSince(RFC3339.parse(later[...])!)) < 0.001)
                let tenantPage = try await Self.call(client, .get, "/admin/ui/tenants/\(tenant)", cookie: session)
                #expect(tenantPage.text.contains("id=\"plan-history\"") && tenantPage.text.contains("standard (EUR)"))
                #expect(tenantPage.text.contains("<option value=\"\" selected>none (free)</option>"), "no plan is in force yet")
                let backdated = try await Self.call(client, .post, "/admin/ui/tenants/\(tenant)/plan", form: [
                    ("csrf", csrf), ("price_plan_id", plan.id.description), ("effective_from", "2020-01-01T00:00:00Z"),
                ], cookie: session)
                #expect(backdated.status == .badRequest && backdated.text.contains("id=\"plan-error\""))
                // Now, with an empty moment.
                let now = try await Self.call(client, .post, "/admin/ui/tenants/\(tenant)/plan", form: [("csrf", csrf), ("price_plan_id", plan.id.description), ("effective_from", "")], cookie: session)
                #expect(now.status == .seeOther)
                let current = try await setup.db.withSystem { try await TenantStore().get(tenant, in: $0) }
                #expect(current?.pricePlanID == plan.id)
            }
            let actions = try await Self.auditActions(setup.db).map(\.action)
            #expect(actions == ["price_plan.create", "price_plan.version", "tenant.update", "tenant.update"])
        }
    }

    /// A draining server's page shows the drain's progress and each workspace it could not move,
    /// with why; a running workspace with an idle period shows when it stops if it stays idle.
    @Test func drainProgressAndIdleDeadlinesAreShown() async throws {
        try await AdminRoutesTests.withSetup { setup in
            let server = try await Self.addServer(setup.db, name: "ws-draining")
            let tenant = try await setup.db.withSystem { try await TenantStore().get(named: "tenant-a", in: $0)!.id }
            try await setup.db.withSystem { scope in
                try await scope.execute("UPDATE tenants SET idle_stop_minutes = 30 WHERE id = \(tenant)")
                try await scope.execute("""
                    INSERT INTO workspaces (tenant_id, name, status, server_id, image, cpu, memory_mb, disk_gb, started_at, move_error, move_attempts)
                    VALUES (\(tenant), 'stuck', 'running', \(server.id), 'berth-busybox:latest', 1, 64, 1, now(), 'no other server has room: ws-other: cpu 2/2 + 1 > 2', 3)
                    """)
            }
            _ = try await setup.db.withSystem { try await WorkspaceServerStore().setSchedulable(server.id, .draining, drainDeadline: .seconds(900), in: $0) }
            try await AdminRoutesTests.app(setup).test(.router) { client in
                let (session, _) = try await Self.signIn(client)
                let page = try await Self.call(client, .get, "/admin/ui/servers/\(server.id)", cookie: session)
                #expect(page.status == .ok && page.text.contains(#"id="drain-progress" data-drain-state="draining""#), "\(page.text)")
                #expect(page.text.contains(#"<dd data-field="drain-remaining">1</dd>"#) && page.text.contains("Could not be moved"))
                #expect(page.text.contains("stuck (running, 3 attempts)") && page.text.contains("no other server has room: ws-other: cpu 2/2 + 1 &gt; 2"))
                let workspaces = try await Self.call(client, .get, "/admin/ui/workspaces", cookie: session)
                #expect(workspaces.text.contains("stops if idle at") && workspaces.text.contains("last move failed"), "\(workspaces.text)")
            }
        }
    }

    @Test func dryRunAndClusterPagesShowWhatTheAPIComputes() async throws {
        try await AdminRoutesTests.withSetup { setup in
            _ = try await Self.addServer(setup.db, name: "ws-eu", labels: ["region": .string("eu")])
            _ = try await Self.addServer(setup.db, name: "ws-us", labels: ["region": .string("us")])
            try await setup.db.withSystem { try await $0.execute("UPDATE workspace_servers SET status = 'healthy'") }
            try await AdminRoutesTests.app(setup).test(.router) { client in
                let (session, csrf) = try await Self.signIn(client)
                let dry = try await Self.call(client, .post, "/admin/ui/placement", form: [
                    ("csrf", csrf), ("cpu", "1"), ("memory_mb", "256"), ("strategy", "best_fit"), ("constraints", #"{"region": "eu"}"#),
                ], cookie: session)
                #expect(dry.status == .ok)
                #expect(dry.text.contains(#"id="dry-run-chosen" data-server-name="ws-eu""#), "\(dry.text)")
                #expect(dry.text.contains(#"<tr data-server-name="ws-us" data-outcome="excluded">"#) && dry.text.contains("label region=us ≠ eu"))
                #expect(dry.text.contains(#"<option value="best_fit" selected>"#), "the form keeps its strategy")
                let full = try await Self.call(client, .post, "/admin/ui/placement", form: [("csrf", csrf), ("cpu", "3"), ("memory_mb", "64")], cookie: session)
                #expect(full.text.contains(#"data-code="insufficient_capacity""#) && full.text.contains("cpu 0/2 + 3 &gt; 2"), "\(full.text)")
                let invalid = try await Self.call(client, .post, "/admin/ui/placement", form: [("csrf", csrf), ("cpu", "two"), ("memory_mb", "64")], cookie: session)
                #expect(invalid.status == .badRequest && invalid.text.contains("resources.cpu must be a number"), "\(invalid.text)")
                let reserved = try await setup.db.withSystem { try await $0.first("SELECT sum(current_workspaces) AS n FROM workspace_servers")!.decode("n", as: Int.self) }
                #expect(reserved == 0, "a dry run reserves nothing")

                // The cluster figures carry the values of GET /admin/cluster. The fleet is made so that
                // no two figures agree by chance: six servers, 3 healthy, 2 unhealthy and 1 offline, 2
                // cordoned and 1 draining, reservations and engine figures on two of them; two running
                // workspaces and one stopped.
                for name in ["ws-ap", "ws-sa", "ws-af", "ws-oc"] { _ = try await Self.addServer(setup.db, name: name) }
                try await setup.db.withSystem { scope in
                    try await scope.execute("""
                        UPDATE workspace_servers SET current_cpu_used = 1.5, current_memory_used_mb = 512, current_disk_used_gb = 3, current_workspaces = 2,
                            observed_ncpu = 8, observed_memory_total_mb = 16000, observed_containers = 5, observed_containers_running = 3
                        WHERE name = 'ws-eu'
                        """)
                    try await scope.execute("""
                        UPDATE workspace_servers SET status = 'healthy', current_cpu_used = 0.25,
                            observed_ncpu = 6, observed_memory_total_mb = 8000, observed_containers = 2, observed_containers_running = 1
                        WHERE name = 'ws-ap'
                        """)
                    try await scope.execute("UPDATE workspace_servers SET schedulable = 'cordoned' WHERE name IN ('ws-us', 'ws-sa')")
                    try await scope.execute("UPDATE workspace_servers SET status = 'unhealthy' WHERE name IN ('ws-sa', 'ws-af')")
                    try await scope.execute("UPDATE workspace_servers SET status = 'offline', schedulable = 'draining' WHERE name = 'ws-oc'")
                    let tenant = try await TenantStore().get(named: "tenant-a", in: scope)!.id
                    for (name, status) in [("one", "running"), ("two", "stopped"), ("three", "running")] {
                        try await scope.execute("""
                            INSERT INTO workspaces (tenant_id, name, image, cpu, memory_mb, disk_gb, status)
                            VALUES (\(tenant), \(name), 'berth-busybox:latest', 0.5, 256, 1, \(status))
                            """)
                    }
                }
                var bearer = HTTPFields()
                bearer[.authorization] = "Bearer \(Self.token)"
                let api = try await client.execute(uri: "/admin/cluster", method: .get, headers: bearer) { String(buffer: $0.body) }
                let cluster = try JSONDecoder().decode(FleetQueries.Cluster.self, from: Data(api.utf8))
                // The API's figures are the fleet's: six servers of 2 cores, 2048 MB, 10 GB and 5 slots,
                // of which ws-eu and ws-ap are healthy and active.
                func values(_ f: FleetQueries.Cluster.Figures) -> [Double] { [f.cpu, Double(f.memory_mb), Double(f.disk_gb), Double(f.workspaces)] }
                #expect(cluster.servers == 6 && values(cluster.total) == [12, 12288, 60, 30], "\(api)")
                #expect(values(cluster.reserved) == [1.75, 512, 3, 2], "\(api)")
                #expect(values(cluster.schedulable_total) == [4, 4096, 20, 10], "\(api)")
                #expect(cluster.servers_by_status == ["healthy": 3, "unhealthy": 2, "offline": 1], "\(api)")
                #expect(cluster.servers_by_schedulable["cordoned"] == 2 && cluster.servers_by_schedulable["draining"] == 1, "\(api)")
                #expect(cluster.workspaces_by_status["running"] == 2 && cluster.workspaces_by_status["stopped"] == 1, "\(api)")
                #expect(cluster.observed.ncpu == 14 && cluster.observed.memory_total_mb == 24000 && cluster.observed.containers == 7 && cluster.observed.containers_running == 4, "\(api)")

                // Every figure on the page, by its id, against the API's.
                let page = try await Self.call(client, .get, "/admin/ui/cluster", cookie: session)
                #expect(page.status == .ok)
                var shown: [String: Double] = [:]
                let pattern = try NSRegularExpression(pattern: #"id="(cluster-[a-z_-]+)" data-value="([^"]*)""#)
                for match in pattern.matches(in: page.text, range: NSRange(page.text.startIndex..., in: page.text)) {
                    let id = String(page.text[Range(match.range(at: 1), in: page.text)!])
                    let value = String(page.text[Range(match.range(at: 2), in: page.text)!])
                    #expect(shown[id] == nil, "\(id) appears twice")
                    shown[id] = Double(value)
                    #expect(shown[id] != nil, "\(id) shows \(value), not a number")
                }
                let figures: [(String, FleetQueries.Cluster.Figures) -> Double] = [{ $1.cpu }, { Double($1.memory_mb) }, { Double($1.disk_gb) }, { Double($1.workspaces) }]
                var expected: [String: Double] = [
                    "cluster-servers": Double(cluster.servers),
                    "cluster-healthy": Double(cluster.servers_by_status["healthy"] ?? 0),
                    "cluster-unhealthy": Double(cluster.servers_by_status["unhealthy"] ?? 0),
                    "cluster-offline": Double(cluster.servers_by_status["offline"] ?? 0),
                    "cluster-cordoned": Double(cluster.servers_by_schedulable["cordoned"] ?? 0),
                    "cluster-draining": Double(cluster.servers_by_schedulable["draining"] ?? 0),
                    "cluster-observed-cpu": Double(cluster.observed.ncpu),
                    "cluster-observed-memory_mb": Double(cluster.observed.memory_total_mb),
                    "cluster-observed-disk_gb": 0,
                    "cluster-observed-workspaces": Double(cluster.observed.containers_running),
                ]
                for (key, figure) in zip(["cpu", "memory_mb", "disk_gb", "workspaces"], figures) {
                    expected["cluster-total-\(key)"] = figure(key, cluster.total)
                    expected["cluster-reserved-\(key)"] = figure(key, cluster.reserved)
                    expected["cluster-schedulable-\(key)"] = figure(key, cluster.schedulable_total)
                }
                for status in WorkspaceStatus.allCases where status != .deleted {
                    expected["cluster-workspaces-\(status.rawValue)"] = Double(cluster.workspaces_by_status[status.rawValue] ?? 0)
                }
                #expect(shown == expected, "page \(shown.sorted { $0.key < $1.key }) api \(expected.sorted { $0.key < $1.key })")
            }
        }
    }
}
