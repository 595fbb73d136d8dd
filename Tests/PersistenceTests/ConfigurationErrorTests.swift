import BerthTestSupport
import Foundation
import Persistence
import Testing

/// Bad configuration gives one line naming the cause, and never the password.
@Suite struct ConfigurationErrorTests {
    static let secret = "Sup3r-S3cret-pw"

    func failure(_ connectionString: String) async -> PostgresError? {
        let db = Database(
            configuration: .init(connectionString: connectionString, poolSize: 1, acquireTimeout: .seconds(5), connectTimeoutSeconds: 2),
            logger: TestDatabase.logger
        )
        defer { db.shutdown() }
        do {
            _ = try await db.withConnection { try await $0.execute("SELECT 1") }
            return nil
        } catch let error as PostgresError {
            return error
        } catch {
            Issue.record("untyped error \(error)")
            return nil
        }
    }

    func checkOneLineWithoutSecret(_ error: PostgresError?) {
        guard let error else { Issue.record("expected a failure"); return }
        #expect(!error.description.contains("\n"))
        #expect(!error.description.contains(Self.secret), "password leaked: \(error.description)")
        #expect(!error.debugDescription.contains(Self.secret), "password leaked: \(error.debugDescription)")
    }

    @Test(arguments: [
        "host=127.0.0.1 password=\(secret) bogus",
        "host=127.0.0.1 password='\(secret)' port=notaport",
        "postgresql://user:\(secret)@127.0.0.1:notaport/db",
        "postgresql://user:\(secret)@127.0.0.1/db?sslmode=sometimes",
        "password \(secret)",
    ])
    func malformedConnectionString(_ text: String) async throws {
        let error = await failure(text)
        #expect(error?.code == .invalidConfiguration)
        checkOneLineWithoutSecret(error)
        let config = DatabaseConfiguration(connectionString: text)
        #expect(throws: PostgresError.self) { try config.validate() }
    }

    @Test func wrongPassword() async throws {
        let port = try TestEnvironment.require("BERTH_PG_PORT")
        let error = await failure("postgresql://berth_app:\(Self.secret)@127.0.0.1:\(port)/postgres")
        #expect(error?.code == .authenticationFailed)
        #expect(error?.message.contains("password authentication failed") == true)
        checkOneLineWithoutSecret(error)
    }

    @Test func unreachableHost() async throws {
        // Nothing listens on port 1 of loopback; an unresolvable name fails the same way.
        for text in ["host=127.0.0.1 port=1 user=x password=\(Self.secret) dbname=x", "postgresql://x:\(Self.secret)@no-such-host.invalid/x"] {
            let error = await failure(text)
            #expect(error?.code == .unavailable, "\(String(describing: error))")
            checkOneLineWithoutSecret(error)
        }
    }

    @Test func redactedConnectionStringHidesPassword() {
        let uri = DatabaseConfiguration(connectionString: "postgresql://u:\(Self.secret)@h/db")
        #expect(!uri.redactedConnectionString.contains(Self.secret))
        let kv = DatabaseConfiguration(connectionString: "host=h password='\(Self.secret)' dbname=db")
        #expect(!kv.redactedConnectionString.contains(Self.secret))
    }

    @Test func multiHostWithTargetSessionAttributesConnectsToTheWritableOne() async throws {
        let port = try TestEnvironment.require("BERTH_PG_PORT")
        let password = try TestEnvironment.require("BERTH_TEST_PG_APP_PASSWORD")
        // The first host is down; libpq moves on to the second, which accepts writes.
        let db = Database(
            configuration: .init(connectionString: "postgresql://berth_app:\(password)@127.0.0.1:1,127.0.0.1:\(port)/postgres?target_session_attrs=read-write&connect_timeout=2&sslmode=disable", poolSize: 1),
            logger: TestDatabase.logger
        )
        let row = try await db.withConnection { try await $0.first("SELECT current_setting('transaction_read_only') AS ro")! }
        #expect(try row.decode("ro", as: String.self) == "off")
        db.shutdown()
    }
}
