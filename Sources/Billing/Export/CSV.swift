import Foundation

/// CSV as RFC 4180 writes it: comma-separated fields, CRLF after every record, and a field quoted
/// (its quotes doubled) when it holds a comma, a quote or a line break.
public enum CSV {
    /// One field of a record.
    public enum Field: Sendable, Equatable {
        /// Free text, which a spreadsheet could take for a formula: neutralised before quoting.
        case text(String)
        /// A number, a timestamp or an identifier we wrote ourselves: written as it is.
        case literal(String)
    }

    /// One record, CRLF included.
    public static func record(_ fields: [Field]) -> String {
        fields.map { field in
            switch field {
            case .text(let text): quote(neutralise(text))
            case .literal(let text): quote(text)
            }
        }.joined(separator: ",") + "\r\n"
    }

    /// Prefixes text that a spreadsheet would evaluate (it starts with `=`, `+`, `-`, `@`, a tab or a
    /// carriage return) with an apostrophe, so it stays text (OWASP's advice against CSV injection).
    public static func neutralise(_ text: String) -> String {
        guard let first = text.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) else { return text }
        return "'" + text
    }

    /// The field, quoted when RFC 4180 requires it.
    public static func quote(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
