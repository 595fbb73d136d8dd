import CLibPQ
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Owns one libpq connection. Blocking: call it only from the connection's own thread.
///
/// Not `Sendable`: a `PGconn` must be used by one thread at a time, which `ConnectionBox` guarantees.
final class PostgresConnection {
    private let handle: OpaquePointer
    private let connectionString: String

    /// Connects, blocking the calling thread for up to the connect timeout.
    init(configuration: DatabaseConfiguration) throws(PostgresError) {
        let options = try ConnectionOptions.parse(configuration.connectionString)
        try options.checkValues()
        var keywords = ["dbname"]
        var values = [configuration.connectionString]
        if options.values["connect_timeout"] == nil {
            keywords.append("connect_timeout")
            values.append(String(configuration.connectTimeoutSeconds))
        }
        if options.values["application_name"] == nil {
            keywords.append("application_name")
            values.append(configuration.applicationName)
        }
        // Detects a peer that vanished without closing the socket: keepalives while idle, and
        // tcp_user_timeout while a statement waits for an answer that a partition holds back, so a
        // pool slot is never held for TCP's minutes of retransmission.
        for (keyword, value) in [("keepalives", "1"), ("keepalives_idle", "15"), ("keepalives_interval", "5"),
                                 ("keepalives_count", "3"), ("tcp_user_timeout", String(configuration.tcpUserTimeoutMilliseconds))]
            where options.values[keyword] == nil {
            keywords.append(keyword)
            values.append(value)
        }
        let conn = Self.connect(keywords: keywords, values: values)
        guard let conn else {
            throw PostgresError(code: .unavailable, message: "could not allocate a libpq connection")
        }
        guard PQstatus(conn) == CONNECTION_OK else {
            let raw = String(cString: PQerrorMessage(conn))
            PQfinish(conn)
            throw Self.connectError(raw, connectionString: configuration.connectionString)
        }
        handle = conn
        connectionString = configuration.connectionString
        // libpq prints server notices to stderr by default; they are not errors, so drop them.
        PQsetNoticeProcessor(conn, { _, _ in }, nil)
        var setup = "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'iso_8601'; SET extra_float_digits = 3"
        if let timeout = configuration.statementTimeout {
            setup += "; SET statement_timeout = \(Self.milliseconds(timeout))"
        }
        // A lock wait is bounded: one tenant's long transaction cannot park every other request.
        if let timeout = configuration.lockTimeout {
            setup += "; SET lock_timeout = \(Self.milliseconds(timeout))"
        }
        _ = try executeScript(setup)
    }

    deinit { PQfinish(handle) }

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    private static func connect(keywords: [String], values: [String]) -> OpaquePointer? {
        let keywordPointers = keywords.map { strdup($0) }
        let valuePointers = values.map { strdup($0) }
        defer {
            keywordPointers.forEach { free($0) }
            valuePointers.forEach { free($0) }
        }
        var k: [UnsafePointer<CChar>?] = keywordPointers.map { UnsafePointer($0) } + [nil]
        var v: [UnsafePointer<CChar>?] = valuePointers.map { UnsafePointer($0) } + [nil]
        return k.withUnsafeMutableBufferPointer { kp in
            v.withUnsafeMutableBufferPointer { vp in
                PQconnectdbParams(kp.baseAddress, vp.baseAddress, 1)
            }
        }
    }

    /// Turns libpq's connect failure text into a typed, one-line, password-free error.
    static func connectError(_ raw: String, connectionString: String) -> PostgresError {
        let text = ConnectionOptions.redact(raw, in: connectionString).oneLine
        let lower = text.lowercased()
        let code: PostgresError.Code
        if lower.contains("password authentication failed") || lower.contains("no password supplied")
            || lower.contains("authentication failed") || lower.contains("role") && lower.contains("does not exist")
        {
            code = .authenticationFailed
        } else if lower.contains("database") && lower.contains("does not exist")
            || lower.contains("invalid") && (lower.contains("value") || lower.contains("option"))
        {
            code = .invalidConfiguration
        } else {
            code = .unavailable
        }
        return PostgresError(code: code, message: text.isEmpty ? "could not connect" : text)
    }

    // MARK: - Statements

    /// Runs one parameterised statement (extended protocol, text format).
    func execute(_ query: PostgresQuery) throws(PostgresError) -> PostgresRows {
        let binds = query.binds.map { $0.map { strdup($0) } ?? nil }
        defer { binds.forEach { free($0) } }
        var pointers: [UnsafePointer<CChar>?] = binds.map { $0.map { UnsafePointer($0) } }
        let result = pointers.withUnsafeMutableBufferPointer { buffer in
            PQexecParams(handle, query.sql, Int32(buffer.count), nil, buffer.baseAddress, nil, nil, 0)
        }
        return try consume(result)
    }

    /// Runs a script of one or more statements with no parameters (simple protocol).
    /// Only for SQL from the code base: migrations and transaction control.
    @discardableResult
    func executeScript(_ sql: String) throws(PostgresError) -> PostgresRows {
        try consume(PQexec(handle, sql))
    }

    private func consume(_ result: OpaquePointer?) throws(PostgresError) -> PostgresRows {
        guard let result else { throw lostError() }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return Self.copy(result)
        default:
            throw serverError(result)
        }
    }

    private static func copy(_ result: OpaquePointer) -> PostgresRows {
        let rowCount = Int(PQntuples(result))
        let fieldCount = Int(PQnfields(result))
        var columns: [PostgresRows.Column] = []
        columns.reserveCapacity(fieldCount)
        for field in 0..<fieldCount {
            columns.append(.init(
                name: String(cString: PQfname(result, Int32(field))),
                type: PostgresType(oid: UInt32(PQftype(result, Int32(field))))
            ))
        }
        var values: [[String?]] = []
        values.reserveCapacity(rowCount)
        for row in 0..<rowCount {
            var rowValues: [String?] = []
            rowValues.reserveCapacity(fieldCount)
            for field in 0..<fieldCount {
                if PQgetisnull(result, Int32(row), Int32(field)) == 1 {
                    rowValues.append(nil)
                } else {
                    rowValues.append(String(cString: PQgetvalue(result, Int32(row), Int32(field))))
                }
            }
            values.append(rowValues)
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        return PostgresRows(columns: columns, values: values, affectedRows: affected)
    }

    private func serverError(_ result: OpaquePointer) -> PostgresError {
        func field(_ code: Character) -> String? {
            guard let value = PQresultErrorField(result, Int32(code.asciiValue!)) else { return nil }
            return String(cString: value)
        }
        let sqlState = field("C")
        var code = sqlState.map(PostgresError.code(forSQLState:)) ?? .other
        let message: String
        if let primary = field("M") {
            message = primary
        } else {
            message = ConnectionOptions.redact(String(cString: PQresultErrorMessage(result)), in: connectionString).oneLine
        }
        if PQstatus(handle) == CONNECTION_BAD { code = .connectionLost }
        return PostgresError(
            code: code, message: message.isEmpty ? "query failed" : message.oneLine, sqlState: sqlState,
            constraint: field("n"), table: field("t"), detail: field("D")
        )
    }

    private func lostError() -> PostgresError {
        let text = ConnectionOptions.redact(String(cString: PQerrorMessage(handle)), in: connectionString).oneLine
        let code: PostgresError.Code = PQstatus(handle) == CONNECTION_BAD ? .connectionLost : .other
        return PostgresError(code: code, message: text.isEmpty ? "no result from server" : text)
    }

    // MARK: - State

    /// Whether the connection is open and outside any transaction.
    var isIdle: Bool { PQstatus(handle) == CONNECTION_OK && PQtransactionStatus(handle) == PQTRANS_IDLE }

    /// Whether the connection is broken beyond use.
    var isBroken: Bool { PQstatus(handle) == CONNECTION_BAD }

    /// Checks, without a round trip, that an idle connection is still alive.
    ///
    /// A server that terminated the backend (or shut down) has already written its goodbye to the
    /// socket: reading it here turns the connection bad before any caller uses it.
    func checkAlive() -> Bool {
        guard isIdle else { return false }
        let fd = PQsocket(handle)
        guard fd >= 0 else { return false }
        for _ in 0..<4 {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, 0)
            if ready == 0 { return true }
            if ready < 0 { return errno == EINTR }
            if pfd.revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 && pfd.revents & Int16(POLLIN) == 0 { return false }
            if PQconsumeInput(handle) == 0 { return false }
            while let notify = PQnotifies(handle) { PQfreemem(notify) }
            if PQstatus(handle) != CONNECTION_OK { return false }
        }
        return PQstatus(handle) == CONNECTION_OK
    }

    /// A cancel handle for this connection (`PQgetCancel`), to be freed with `PQfreeCancel`.
    func makeCancelHandle() -> OpaquePointer? { PQgetCancel(handle) }

    /// The socket's `TCP_USER_TIMEOUT` in milliseconds, as the kernel has it (for diagnostics).
    var socketUserTimeout: Int32? {
        let fd = PQsocket(handle)
        guard fd >= 0 else { return nil }
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, Int32(IPPROTO_TCP), 18 /* TCP_USER_TIMEOUT */, &value, &length) == 0 else { return nil }
        return value
    }

    /// The server process id, for tests and diagnostics.
    var backendPID: Int32 { PQbackendPID(handle) }
}
