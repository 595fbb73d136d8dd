import API
import BerthTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Persistence
import Testing

/// Panel sessions end on the server when their admin logs out, and guessing the token is throttled.
@Suite struct AdminPanelSessionTests {
    /// A copy of the session cookie taken before logging out is refused afterwards: the session
    /// was revoked in the database, not only cleared from the browser.
    @Test func loggingOutRevokesTheSessionEverywhere() async throws {
        try await AdminRoutesTests.withSetup { setup in
        try await AdminRoutesTests.app(setup).test(.router) { client in
            let (cookie, csrf) = try await AdminPanelTests.signIn(client)
            let other = try await AdminPanelTests.signIn(client)
            let logout = try await AdminPanelTests.call(client, .post, "/admin/ui/logout", form: [("csrf", csrf)], cookie: cookie)
            #expect(logout.status == .seeOther)
            let copied = try await AdminPanelTests.call(client, .get, "/admin/ui/servers", cookie: cookie)
            #expect(copied.status == .found || copied.status == .seeOther, "a logged-out cookie still opens a page: \(copied.status)")
            #expect(copied.location == "/admin/ui/login")
            // Another session of the same admin is untouched.
            #expect(try await AdminPanelTests.call(client, .get, "/admin/ui/servers", cookie: other.cookie).status == .ok)
        }
        let revoked = try await setup.db.withSystem { try await $0.first("SELECT count(*) AS n FROM panel_revocations")!.decode("n", as: Int.self) }
        #expect(revoked == 1)
        }
    }

    /// After ten wrong tokens from one address the next attempt, even with the right token, is
    /// refused with 429 and Retry-After.
    @Test func wrongTokensAreThrottledPerAddress() async throws {
        try await AdminRoutesTests.withSetup { setup in
        try await AdminRoutesTests.app(setup).test(.router) { client in
            for attempt in 0..<10 {
                let wrong = try await AdminPanelTests.call(client, .post, "/admin/ui/login", form: [("token", "not-the-token-\(attempt)")])
                #expect(wrong.status == .unauthorized, "attempt \(attempt): \(wrong.status)")
            }
            let throttled = try await AdminPanelTests.call(client, .post, "/admin/ui/login", form: [("token", AdminPanelTests.token)])
            #expect(throttled.status == .tooManyRequests)
            #expect(Int(throttled.headers[.retryAfter] ?? "") ?? 0 >= 1)
            #expect(!throttled.setCookies.contains { $0.hasPrefix("berth_admin_session=") && !$0.hasPrefix("berth_admin_session=;") })
        }
        }
    }
}
