import Domain
import Foundation

/// A value that can be sent as a text-format bind parameter.
public protocol PostgresEncodable: Sendable {
    /// The value in PostgreSQL's text input format; `nil` is NULL.
    var postgresText: String? { get }
}

/// A value that can be read from a text-format result column.
public protocol PostgresDecodable: Sendable {
    /// Decodes a column value; `text` is `nil` for NULL.
    static func decode(postgresText text: String?, type: PostgresType, column: String) throws(PostgresError) -> Self
}

/// Convenience for non-optional values: NULL is a decoding error.
public protocol PostgresNonNullDecodable: PostgresDecodable {
    init?(postgresText: String, type: PostgresType)
}

extension PostgresNonNullDecodable {
    public static func decode(postgresText text: String?, type: PostgresType, column: String) throws(PostgresError) -> Self {
        guard let text else {
            throw PostgresError(code: .decoding, message: "column \(column) is NULL, expected \(Self.self)")
        }
        guard let value = Self(postgresText: text, type: type) else {
            throw PostgresError(code: .decoding, message: "column \(column) of type \(type) is not a valid \(Self.self)")
        }
        return value
    }
}

/// The type OID of a result column, with names for the ones Berth reads.
public struct PostgresType: Hashable, Sendable, CustomStringConvertible {
    public let oid: UInt32
    public init(oid: UInt32) { self.oid = oid }

    public static let bool = PostgresType(oid: 16)
    public static let bytea = PostgresType(oid: 17)
    public static let int8 = PostgresType(oid: 20)
    public static let int2 = PostgresType(oid: 21)
    public static let int4 = PostgresType(oid: 23)
    public static let text = PostgresType(oid: 25)
    public static let json = PostgresType(oid: 114)
    public static let float4 = PostgresType(oid: 700)
    public static let float8 = PostgresType(oid: 701)
    public static let varchar = PostgresType(oid: 1043)
    public static let timestamp = PostgresType(oid: 1114)
    public static let timestamptz = PostgresType(oid: 1184)
    public static let numeric = PostgresType(oid: 1700)
    public static let uuid = PostgresType(oid: 2950)
    public static let jsonb = PostgresType(oid: 3802)

    public var description: String {
        switch self {
        case .bool: "bool"
        case .bytea: "bytea"
        case .int8: "int8"
        case .int2: "int2"
        case .int4: "int4"
        case .text: "text"
        case .json: "json"
        case .float4: "float4"
        case .float8: "float8"
        case .varchar: "varchar"
        case .timestamp: "timestamp"
        case .timestamptz: "timestamptz"
        case .numeric: "numeric"
        case .uuid: "uuid"
        case .jsonb: "jsonb"
        default: "oid \(oid)"
        }
    }

    var isInteger: Bool { self == .int2 || self == .int4 || self == .int8 }
}

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public var postgresText: String? { self?.postgresText }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public static func decode(postgresText text: String?, type: PostgresType, column: String) throws(PostgresError) -> Self {
        guard let text else { return nil }
        return try Wrapped.decode(postgresText: text, type: type, column: column)
    }
}

extension String: PostgresEncodable, PostgresNonNullDecodable {
    public var postgresText: String? { self }
    public init?(postgresText: String, type: PostgresType) { self = postgresText }
}

extension Int: PostgresEncodable, PostgresNonNullDecodable {
    public var postgresText: String? { String(self) }
    public init?(postgresText: String, type: PostgresType) {
        guard type.isInteger || type == .numeric || type == .text else { return nil }
        guard let value = Int(postgresText) else { return nil }
        self = value
    }
}

extension Int32: PostgresEncodable, PostgresNonNullDecodable {
    public var postgresText: String? { String(self) }
    public init?(postgresText: String, type: PostgresType) {
        guard type.isInteger, let value = Int32(postgresText) else { return nil }
        self = value
    }
}

extension Int64: PostgresEncodable, PostgresNonNullDecodable {
    public var postgresText: String? { String(self) }
    public init?(postgresText: String, type: PostgresType) {
        guard type.isInteger, let value = Int64(postgresText) else { return nil }
        self = value
    }
}

extension Bool: PostgresEncodable, PostgresNonNullDecodable {
    public var postgresText: String? { self ? "t" : "f" }
    public init?(postgresText: String, type: PostgresType) {
        guard type == .bool else { return nil }
        switch postgresText {
        case "t": self = true
        case "f": self = false
        default: return nil
        }
    }
}

extension Double: PostgresEncodable, PostgresNonNullDecodable {
    public var postgresText: String? { String(self) }
    public init?(postgresText: String, type: PostgresType) {
        guard type == .float8 || type == .float4 || type == .numeric || type.isInteger,
            let value = Double(postgresText)
        else { return nil }
        self = value
    }
}

extension Decimal: PostgresEncodable, PostgresNonNullDecodable {
    public var postgresText: String? { NSDecimalNumber(decimal: self).stringValue }
    public init?(postgresText: String, type: PostgresType) {
        guard type == .numeric || type.isInteger,
            let value = Decimal(string: postgresText, locale: Locale(identifier: "en_US_POSIX"))
        else { return nil }
        self = value
    }
}

extension UUID: PostgresEncodable, PostgresNonNullDecodable {
    public var postgresText: String? { uuidString.lowercased() }
    public init?(postgresText: String, type: PostgresType) {
        guard type == .uuid || type == .text, let value = UUID.parseCanonical(postgresText) ?? UUID(uuidString: postgresText) else { return nil }
        self = value
    }

    /// The canonical 8-4-4-4-12 hex form PostgreSQL sends, parsed by hand: Foundation's parser
    /// goes through `sscanf`, which was a tenth of the cost of reading the server list.
    static func parseCanonical(_ text: String) -> UUID? {
        var text = text
        return text.withUTF8 { bytes -> UUID? in
            guard bytes.count == 36 else { return nil }
            var out: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            var written = 0
            var index = 0
            func nibble(_ byte: UInt8) -> UInt8? {
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
                default: nil
                }
            }
            let ok = withUnsafeMutableBytes(of: &out) { raw -> Bool in
                while index < 36 {
                    if index == 8 || index == 13 || index == 18 || index == 23 {
                        guard bytes[index] == UInt8(ascii: "-") else { return false }
                        index += 1
                        continue
                    }
                    guard let high = nibble(bytes[index]), let low = nibble(bytes[index + 1]) else { return false }
                    raw[written] = high << 4 | low
                    written += 1
                    index += 2
                }
                return written == 16
            }
            return ok ? UUID(uuid: out) : nil
        }
    }
}

extension Date: PostgresEncodable, PostgresNonNullDecodable {
    public var postgresText: String? { PostgresTimestamp.format(self) }
    public init?(postgresText: String, type: PostgresType) {
        guard type == .timestamptz, let value = PostgresTimestamp.parse(postgresText) else { return nil }
        self = value
    }
}

/// Raw bytes, sent and read as `bytea` in hex form.
public struct PostgresBytes: Sendable, Hashable, PostgresEncodable, PostgresNonNullDecodable {
    public var bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var postgresText: String? {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = [UInt8(ascii: "\\"), UInt8(ascii: "x")]
        out.reserveCapacity(2 + bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public init?(postgresText: String, type: PostgresType) {
        guard type == .bytea, postgresText.hasPrefix("\\x") else { return nil }
        let hex = Array(postgresText.utf8.dropFirst(2))
        guard hex.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.count / 2)
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var i = 0
        while i < hex.count {
            guard let hi = nibble(hex[i]), let lo = nibble(hex[i + 1]) else { return nil }
            bytes.append(hi << 4 | lo)
            i += 2
        }
        self.bytes = bytes
    }
}

/// A JSON value, sent as text and read from `json`/`jsonb` columns.
public struct PostgresJSON<Value: Codable & Sendable>: Sendable, PostgresEncodable, PostgresNonNullDecodable {
    public var value: Value
    public init(_ value: Value) { self.value = value }

    public var postgresText: String? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(value) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    public init?(postgresText: String, type: PostgresType) {
        guard type == .jsonb || type == .json || type == .text else { return nil }
        // An empty object (most label sets) needs no decoder: an empty dictionary casts to any
        // dictionary type with string keys.
        if postgresText == "{}", let empty = [String: String]() as? Value {
            self.value = empty
            return
        }
        guard let value = try? JSONDecoder().decode(Value.self, from: Data(postgresText.utf8))
        else { return nil }
        self.value = value
    }
}

// Typed ids travel as their UUID.
extension PostgresEncodable where Self: Identifier {
    public var postgresText: String? { rawValue.postgresText }
}

extension PostgresNonNullDecodable where Self: Identifier {
    public init?(postgresText: String, type: PostgresType) {
        guard let uuid = UUID(postgresText: postgresText, type: type) else { return nil }
        self.init(rawValue: uuid)
    }
}

extension TenantID: PostgresEncodable, PostgresNonNullDecodable {}
extension APIKeyID: PostgresEncodable, PostgresNonNullDecodable {}
extension ServerID: PostgresEncodable, PostgresNonNullDecodable {}
extension WorkspaceID: PostgresEncodable, PostgresNonNullDecodable {}
extension PricePlanID: PostgresEncodable, PostgresNonNullDecodable {}
