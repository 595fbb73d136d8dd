/// The result of one statement, copied out of libpq into Swift values.
public struct PostgresRows: Sendable, Sequence {
    /// A result column's name and type.
    public struct Column: Sendable, Hashable {
        public let name: String
        public let type: PostgresType
    }

    public let columns: [Column]
    let values: [[String?]]
    /// Rows affected, for INSERT/UPDATE/DELETE.
    public let affectedRows: Int

    /// Each column name's first position, built once per result: rows are decoded by name, field
    /// by field, and a scan of the names for each field was most of the cost of a wide result.
    let positions: [String: Int]

    init(columns: [Column], values: [[String?]], affectedRows: Int) {
        self.columns = columns
        self.values = values
        self.affectedRows = affectedRows
        self.positions = Dictionary(columns.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public var count: Int { values.count }
    public var isEmpty: Bool { values.isEmpty }
    public var first: PostgresRow? { values.isEmpty ? nil : PostgresRow(rows: self, index: 0) }

    public func makeIterator() -> AnyIterator<PostgresRow> {
        var index = 0
        return AnyIterator {
            guard index < values.count else { return nil }
            defer { index += 1 }
            return PostgresRow(rows: self, index: index)
        }
    }

    func columnIndex(_ name: String) -> Int? { positions[name] }
}

/// One row of a result.
public struct PostgresRow: Sendable {
    let rows: PostgresRows
    let index: Int

    /// Decodes the named column.
    public func decode<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws(PostgresError) -> T {
        guard let position = rows.columnIndex(column) else {
            throw PostgresError(code: .decoding, message: "result has no column \(column)")
        }
        return try decode(at: position, as: type)
    }

    /// Decodes the column at `position`.
    public func decode<T: PostgresDecodable>(at position: Int, as type: T.Type = T.self) throws(PostgresError) -> T {
        guard position < rows.columns.count else {
            throw PostgresError(code: .decoding, message: "result has no column at \(position)")
        }
        let column = rows.columns[position]
        return try T.decode(postgresText: rows.values[index][position], type: column.type, column: column.name)
    }

    /// Whether the named column is NULL.
    public func isNull(_ column: String) -> Bool {
        guard let position = rows.columnIndex(column) else { return true }
        return rows.values[index][position] == nil
    }
}
