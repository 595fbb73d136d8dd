import CLibPQ
import Foundation

/// How to reach PostgreSQL and how many connections to keep.
public struct DatabaseConfiguration: Sendable {
    /// A libpq conninfo (`host=… dbname=…`) or URI (`postgresql://…`), multi-host and SSL modes included.
    public var connectionString: String
    /// The most connections the pool opens.
    public var poolSize: Int
    /// How long a caller waits for a connection before failing with `database_unavailable`.
    public var acquireTimeout: Duration
    /// Used as libpq's `connect_timeout` unless the connection string sets one.
    public var connectTimeoutSeconds: Int
    /// `statement_timeout` set on every connection; `nil` leaves the server's default.
    public var statementTimeout: Duration?
    /// Reported to the server as `application_name` unless the connection string sets one.
    public var applicationName: String
    /// `lock_timeout` set on every connection; `nil` leaves the server's default (none).
    public var lockTimeout: Duration?
    /// libpq's `tcp_user_timeout` unless the connection string sets one: how long sent data may
    /// stay unacknowledged before the connection counts as broken.
    public var tcpUserTimeoutMilliseconds: Int

    public init(
        connectionString: String,
        poolSize: Int = 10,
        acquireTimeout: Duration = .seconds(10),
        connectTimeoutSeconds: Int = 5,
        statementTimeout: Duration? = .seconds(30),
        applicationName: String = "berth",
        lockTimeout: Duration? = .seconds(5),
        tcpUserTimeoutMilliseconds: Int = 15_000
    ) {
        self.connectionString = connectionString
        self.poolSize = max(1, poolSize)
        self.acquireTimeout = acquireTimeout
        self.connectTimeoutSeconds = max(1, connectTimeoutSeconds)
        self.statementTimeout = statementTimeout
        self.applicationName = applicationName
        self.lockTimeout = lockTimeout
        self.tcpUserTimeoutMilliseconds = max(1, tcpUserTimeoutMilliseconds)
    }

    /// Checks the connection string with libpq's own parser without connecting.
    ///
    /// The error names the problem and never repeats the password.
    public func validate() throws(PostgresError) {
        try ConnectionOptions.parse(connectionString).checkValues()
    }

    /// The connection as libpq's environment variables (`PGHOST`, `PGPASSWORD`, …), for the
    /// PostgreSQL tools (pg_dump, pg_restore) Berth runs: the password then never appears on a
    /// command line, where any user of the machine could read it.
    public func libpqEnvironment() throws(PostgresError) -> [String: String] {
        let names = [
            "host": "PGHOST", "hostaddr": "PGHOSTADDR", "port": "PGPORT", "dbname": "PGDATABASE", "user": "PGUSER",
            "password": "PGPASSWORD", "passfile": "PGPASSFILE", "connect_timeout": "PGCONNECT_TIMEOUT", "sslmode": "PGSSLMODE",
            "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY", "target_session_attrs": "PGTARGETSESSIONATTRS",
            "application_name": "PGAPPNAME", "options": "PGOPTIONS",
        ]
        var environment: [String: String] = [:]
        for (keyword, value) in try ConnectionOptions.parse(connectionString).values where !value.isEmpty {
            if let name = names[keyword] { environment[name] = value }
        }
        return environment
    }

    /// The connection string with any password replaced, for logs.
    public var redactedConnectionString: String {
        ConnectionOptions.redact(connectionString, in: connectionString)
    }
}

/// The parsed keywords of a connection string, as libpq sees them.
struct ConnectionOptions {
    var values: [String: String]

    static func parse(_ connectionString: String) throws(PostgresError) -> ConnectionOptions {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(connectionString, &errorMessage) else {
            var text = "malformed connection string"
            if let errorMessage {
                text += ": " + redact(String(cString: errorMessage), in: connectionString).oneLine
                PQfreemem(errorMessage)
            }
            throw PostgresError(code: .invalidConfiguration, message: text)
        }
        defer { PQconninfoFree(options) }
        var values: [String: String] = [:]
        var cursor = options
        while let keyword = cursor.pointee.keyword {
            if let value = cursor.pointee.val { values[String(cString: keyword)] = String(cString: value) }
            cursor += 1
        }
        return ConnectionOptions(values: values)
    }

    /// libpq checks option values only when it connects; check the ones whose mistakes are common
    /// up front, so a typo is reported as configuration rather than as an outage.
    func checkValues() throws(PostgresError) {
        func fail(_ option: String, _ expected: String) -> PostgresError {
            PostgresError(code: .invalidConfiguration, message: "malformed connection string: option \(option) must be \(expected)")
        }
        if let port = values["port"], !port.isEmpty {
            for part in port.split(separator: ",", omittingEmptySubsequences: false) {
                guard part.isEmpty || (Int(part).map { (1...65535).contains($0) } ?? false) else { throw fail("port", "a number from 1 to 65535") }
            }
        }
        for option in ["connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout"] {
            if let value = values[option], !value.isEmpty, Int(value) == nil { throw fail(option, "a whole number") }
        }
        let enumerations: [String: Set<String>] = [
            "sslmode": ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"],
            "target_session_attrs": ["any", "read-write", "read-only", "primary", "standby", "prefer-standby"],
            "gssencmode": ["disable", "prefer", "require"],
        ]
        for (option, allowed) in enumerations {
            if let value = values[option], !value.isEmpty, !allowed.contains(value) {
                throw fail(option, "one of " + allowed.sorted().joined(separator: ", "))
            }
        }
    }

    /// Replaces every occurrence of the connection string's password in `text`.
    static func redact(_ text: String, in connectionString: String) -> String {
        var result = text
        for secret in passwordCandidates(in: connectionString) where secret.count >= 1 {
            result = result.replacingOccurrences(of: secret, with: "*****")
        }
        return result
    }

    /// Best-effort extraction of passwords from both conninfo and URI forms, even malformed ones.
    private static func passwordCandidates(in connectionString: String) -> [String] {
        var found: [String] = []
        // URI: scheme://user:password@host
        if let schemeEnd = connectionString.range(of: "://") {
            let rest = connectionString[schemeEnd.upperBound...]
            if let at = rest.lastIndex(of: "@") {
                let userInfo = rest[..<at]
                if let colon = userInfo.firstIndex(of: ":") {
                    let password = String(userInfo[userInfo.index(after: colon)...])
                    found.append(password)
                    if let decoded = password.removingPercentEncoding { found.append(decoded) }
                }
            }
            // password=... as a URI query parameter
            if let query = rest.firstIndex(of: "?") {
                for pair in rest[rest.index(after: query)...].split(separator: "&") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    if parts.count == 2, parts[0] == "password" {
                        found.append(String(parts[1]))
                        if let decoded = String(parts[1]).removingPercentEncoding { found.append(decoded) }
                    }
                }
            }
        }
        // conninfo: password = value, or password='quoted value'
        var search = connectionString[...]
        while let range = search.range(of: "password") {
            var index = range.upperBound
            let end = search.endIndex
            while index < end, search[index] == " " { index = search.index(after: index) }
            guard index < end, search[index] == "=" else { search = search[range.upperBound...]; continue }
            index = search.index(after: index)
            while index < end, search[index] == " " { index = search.index(after: index) }
            var value = ""
            if index < end, search[index] == "'" {
                index = search.index(after: index)
                while index < end, search[index] != "'" {
                    if search[index] == "\\" { index = search.index(after: index); if index == end { break } }
                    value.append(search[index])
                    index = search.index(after: index)
                }
            } else {
                while index < end, search[index] != " " {
                    value.append(search[index])
                    index = search.index(after: index)
                }
            }
            if !value.isEmpty { found.append(value) }
            search = search[index...]
        }
        // Longest first, so a password containing another candidate is replaced whole.
        return found.filter { !$0.isEmpty }.sorted { $0.count > $1.count }
    }
}

extension String {
    /// Collapses libpq's multi-line messages into one line.
    var oneLine: String {
        split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: "; ")
    }
}
