/// A SQL statement whose interpolated values always become `$n` bind parameters.
///
/// ```swift
/// let q: PostgresQuery = "SELECT id FROM tenants WHERE name = \(name)"
/// // sql: "SELECT id FROM tenants WHERE name = $1", binds: [name]
/// ```
/// SQL text that is not a literal needs the visibly different `init(unsafeSQL:)`.
public struct PostgresQuery: Sendable, Hashable, ExpressibleByStringInterpolation {
    public private(set) var sql: String
    /// Values in text format; `nil` is SQL NULL.
    public private(set) var binds: [String?]

    public init(stringLiteral value: String) {
        sql = value
        binds = []
    }

    public init(stringInterpolation: StringInterpolation) {
        sql = stringInterpolation.sql
        binds = stringInterpolation.binds
    }

    /// SQL built at run time. Only for text that comes from the code base itself (migration files,
    /// fixed identifiers), never from a request.
    public init(unsafeSQL sql: String, binds: [String?] = []) {
        self.sql = sql
        self.binds = binds
    }

    public struct StringInterpolation: StringInterpolationProtocol {
        var sql = ""
        var binds: [String?] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            sql.reserveCapacity(literalCapacity + interpolationCount * 3)
            binds.reserveCapacity(interpolationCount)
        }

        public mutating func appendLiteral(_ literal: String) { sql += literal }

        /// A value: becomes the next `$n`.
        public mutating func appendInterpolation(_ value: some PostgresEncodable) {
            binds.append(value.postgresText)
            sql += "$\(binds.count)"
        }

        /// An optional value: `nil` binds SQL NULL.
        public mutating func appendInterpolation(_ value: (some PostgresEncodable)?) {
            binds.append(value?.postgresText)
            sql += "$\(binds.count)"
        }

        /// A fragment of SQL from the code base, such as an ORDER BY direction chosen from an enum.
        public mutating func appendInterpolation(unsafeRaw fragment: String) { sql += fragment }

        /// Another query: its SQL is spliced in and its binds renumbered.
        public mutating func appendInterpolation(fragment: PostgresQuery) {
            let offset = binds.count
            sql += Self.renumber(fragment.sql, by: offset)
            binds += fragment.binds
        }

        static func renumber(_ sql: String, by offset: Int) -> String {
            guard offset > 0 else { return sql }
            var out = ""
            var index = sql.startIndex
            while index < sql.endIndex {
                let char = sql[index]
                if char == "$" {
                    var digitsEnd = sql.index(after: index)
                    while digitsEnd < sql.endIndex, sql[digitsEnd].isASCII, sql[digitsEnd].isNumber {
                        digitsEnd = sql.index(after: digitsEnd)
                    }
                    if let n = Int(sql[sql.index(after: index)..<digitsEnd]) {
                        out += "$\(n + offset)"
                        index = digitsEnd
                        continue
                    }
                }
                out.append(char)
                index = sql.index(after: index)
            }
            return out
        }
    }
}
