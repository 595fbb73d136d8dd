/// A database failure, typed so callers can tell a conflict from an outage.
///
/// `description` holds only the server's primary message or our own text: never SQL values,
/// passwords or the connection string. Details (DETAIL lines, which can echo values) go to `debugDescription`.
public struct PostgresError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate let name: String
        public var description: String { name }

        public static let uniqueViolation = Code(name: "unique_violation")
        public static let checkViolation = Code(name: "check_violation")
        public static let foreignKeyViolation = Code(name: "foreign_key_violation")
        public static let notNullViolation = Code(name: "not_null_violation")
        /// Row-level security refused a row (42501 with a policy message).
        public static let insufficientPrivilege = Code(name: "insufficient_privilege")
        public static let serializationFailure = Code(name: "serialization_failure")
        public static let deadlockDetected = Code(name: "deadlock_detected")
        /// An established connection broke (server restart, terminated backend, network).
        public static let connectionLost = Code(name: "connection_lost")
        /// No connection could be made or leased in time: the database is unavailable.
        public static let unavailable = Code(name: "database_unavailable")
        /// The server rejected the credentials.
        public static let authenticationFailed = Code(name: "authentication_failed")
        /// The connection string could not be parsed.
        public static let invalidConfiguration = Code(name: "invalid_configuration")
        /// The statement ran past `statement_timeout` or was cancelled.
        public static let queryCanceled = Code(name: "query_canceled")
        /// A lock was not granted within `lock_timeout`.
        public static let lockTimeout = Code(name: "lock_not_available")
        /// A value in a result could not be decoded into the asked type.
        public static let decoding = Code(name: "decoding")
        /// A migration file changed after it was applied, or similar misuse.
        public static let migration = Code(name: "migration")
        /// Anything else the server reported.
        public static let other = Code(name: "other")
    }

    public var code: Code
    /// The five-character SQLSTATE when the server sent one.
    public var sqlState: String?
    /// Safe, one-line text.
    public var message: String
    /// The constraint named by the server, when any.
    public var constraint: String?
    /// The table named by the server, when any.
    public var table: String?
    /// The server's DETAIL, which may contain values: only in `debugDescription`.
    public var detail: String?

    public init(
        code: Code, message: String, sqlState: String? = nil,
        constraint: String? = nil, table: String? = nil, detail: String? = nil
    ) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.constraint = constraint
        self.table = table
        self.detail = detail
    }

    /// Whether running the whole transaction again may succeed.
    public var isRetryable: Bool { code == .serializationFailure || code == .deadlockDetected }

    /// Whether the failure is about reaching the database rather than about the statement.
    public var isConnectivity: Bool { code == .connectionLost || code == .unavailable }

    public var description: String {
        var text = "\(code): \(message)"
        if let sqlState { text += " (SQLSTATE \(sqlState))" }
        if let constraint { text += " [constraint \(constraint)]" }
        return text
    }

    public var debugDescription: String {
        var text = description
        if let table { text += " table=\(table)" }
        if let detail { text += " detail=\(detail)" }
        return text
    }

    /// Classifies a SQLSTATE into a code.
    static func code(forSQLState state: String) -> Code {
        switch state {
        case "23505": return .uniqueViolation
        case "23514": return .checkViolation
        case "23503": return .foreignKeyViolation
        case "23502": return .notNullViolation
        case "42501": return .insufficientPrivilege
        case "40001": return .serializationFailure
        case "40P01": return .deadlockDetected
        case "57014": return .queryCanceled
        case "55P03": return .lockTimeout
        case "28P01", "28000": return .authenticationFailed
        // admin_shutdown, crash_shutdown, cannot_connect_now, and the connection_exception class.
        case "57P01", "57P02", "57P03": return .connectionLost
        default:
            if state.hasPrefix("08") { return .connectionLost }
            return .other
        }
    }
}
