import Foundation

/// A tar archive in memory: ustar regular files, folders and symbolic links, binary-safe.
///
/// Docker's archive endpoints speak tar. Writing uses ustar, with a PAX `path` record for names
/// too long for ustar's fields. Reading also understands PAX and GNU long-name records, which Docker
/// emits for long paths; other entry kinds (devices, FIFOs, hard links) are skipped.
public struct TarArchive: Sendable, Equatable {
    /// One member of the archive.
    public struct Entry: Sendable, Equatable {
        /// What the member is.
        public enum Kind: Sendable, Equatable {
            case file(Data)
            case directory
            case symbolicLink(target: String)
        }

        /// The path inside the archive, without a trailing slash.
        public var path: String
        public var kind: Kind
        /// Permission bits, e.g. `0o644`.
        public var mode: Int
        /// Seconds since 1970.
        public var modificationTime: Int

        public init(path: String, kind: Kind, mode: Int, modificationTime: Int = 0) {
            self.path = path
            self.kind = kind
            self.mode = mode
            self.modificationTime = modificationTime
        }

        public static func file(_ path: String, _ contents: Data, mode: Int = 0o644, modificationTime: Int = 0) -> Entry {
            Entry(path: path, kind: .file(contents), mode: mode, modificationTime: modificationTime)
        }

        public static func directory(_ path: String, mode: Int = 0o755, modificationTime: Int = 0) -> Entry {
            Entry(path: path, kind: .directory, mode: mode, modificationTime: modificationTime)
        }

        /// The contents, for a regular file.
        public var contents: Data? {
            if case .file(let data) = kind { return data }
            return nil
        }
    }

    /// An archive that cannot be read or written, and why.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public var entries: [Entry]

    public init(entries: [Entry] = []) {
        self.entries = entries
    }

    /// The entry at `path` (compared without leading `./` or trailing `/`).
    public func entry(at path: String) -> Entry? {
        let wanted = Self.normalized(path)
        return entries.first { $0.path == wanted }
    }

    // MARK: Writing

    /// The archive's bytes, ended by the two zero blocks tar requires.
    public func encoded() throws(Failure) -> Data {
        var out = Data()
        for entry in entries {
            let path = Self.normalized(entry.path)
            guard !path.isEmpty else { throw Failure(description: "an entry has an empty path") }
            var name = path
            var size = 0
            var type: UInt8
            var link = ""
            switch entry.kind {
            case .file(let data):
                type = UInt8(ascii: "0")
                size = data.count
            case .directory:
                type = UInt8(ascii: "5")
                name += "/"
            case .symbolicLink(let target):
                type = UInt8(ascii: "2")
                link = target
            }
            var records: [(String, String)] = []
            let split = Self.splitForUstar(name)
            if split == nil { records.append(("path", name)) }
            if link.utf8.count > 100 { records.append(("linkpath", link)) }
            if !records.isEmpty {
                let body = Self.paxRecords(records)
                out += Self.header(
                    name: "PaxHeaders/" + String(path.suffix(80)), prefix: "", size: body.count, mode: 0o644,
                    modificationTime: entry.modificationTime, type: UInt8(ascii: "x"), link: ""
                )
                out += body
                out += Self.padding(body.count)
            }
            let (prefix, shortName) = split ?? ("", String(decoding: name.utf8.suffix(99), as: UTF8.self))
            out += Self.header(
                name: shortName, prefix: prefix, size: size, mode: entry.mode,
                modificationTime: entry.modificationTime, type: type, link: String(decoding: link.utf8.prefix(100), as: UTF8.self)
            )
            if case .file(let data) = entry.kind {
                out += data
                out += Self.padding(data.count)
            }
        }
        out += Data(count: 1024)
        return out
    }

    /// ustar's 100-byte name plus 155-byte prefix split at a slash, or nil when the path does not fit.
    private static func splitForUstar(_ path: String) -> (prefix: String, name: String)? {
        let bytes = Array(path.utf8)
        if bytes.count <= 100 { return ("", path) }
        // Split at a slash so that the prefix fits in 155 bytes and the rest in 100.
        for index in stride(from: min(bytes.count - 1, 155), through: 1, by: -1) where bytes[index] == UInt8(ascii: "/") {
            let rest = bytes.count - index - 1
            if rest <= 100 && rest > 0 {
                return (String(decoding: bytes[..<index], as: UTF8.self), String(decoding: bytes[(index + 1)...], as: UTF8.self))
            }
        }
        return nil
    }

    private static func paxRecords(_ records: [(String, String)]) -> Data {
        var out = Data()
        for (key, value) in records {
            // Each record is "<length> key=value\n", where length counts itself.
            let payload = " \(key)=\(value)\n"
            let payloadLength = payload.utf8.count
            var length = payloadLength + 1
            while String(length).count + payloadLength != length { length += 1 }
            out += Data((String(length) + payload).utf8)
        }
        return out
    }

    private static func header(
        name: String, prefix: String, size: Int, mode: Int, modificationTime: Int, type: UInt8, link: String
    ) -> Data {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int, length: Int) {
            for (index, byte) in text.utf8.prefix(length).enumerated() { block[offset + index] = byte }
        }
        func octal(_ value: Int, at offset: Int, length: Int) {
            // length - 1 digits, then NUL.
            let digits = String(value, radix: 8)
            put(String(repeating: "0", count: max(0, length - 1 - digits.count)) + digits, at: offset, length: length - 1)
        }
        put(name, at: 0, length: 100)
        octal(mode & 0o7777, at: 100, length: 8)
        octal(0, at: 108, length: 8)
        octal(0, at: 116, length: 8)
        if size < 0o77777777777 {
            octal(size, at: 124, length: 12)
        } else {
            // GNU base-256 for 8 GiB and more.
            block[124] = 0x80
            var value = UInt64(size)
            for index in stride(from: 135, through: 125, by: -1) {
                block[index] = UInt8(value & 0xff)
                value >>= 8
            }
        }
        octal(max(0, modificationTime), at: 136, length: 12)
        block[156] = type
        put(link, at: 157, length: 100)
        put("ustar", at: 257, length: 6)
        put("00", at: 263, length: 2)
        put("root", at: 265, length: 32)
        put("root", at: 297, length: 32)
        put(prefix, at: 345, length: 155)
        // The checksum is computed with its own field as spaces.
        for index in 148..<156 { block[index] = UInt8(ascii: " ") }
        let checksum = block.reduce(0) { $0 + Int($1) }
        // Six digits, NUL, space: the layout every reader accepts.
        octal(checksum, at: 148, length: 7)
        block[154] = 0
        block[155] = UInt8(ascii: " ")
        return Data(block)
    }

    private static func padding(_ count: Int) -> Data {
        Data(count: (512 - count % 512) % 512)
    }

    // MARK: Reading

    /// Reads an archive.
    public init(decoding data: Data) throws(Failure) {
        let bytes = [UInt8](data)
        var entries: [Entry] = []
        var offset = 0
        var pending: [String: String] = [:]
        var globals: [String: String] = [:]
        var longName: String?
        var longLink: String?

        while offset + 512 <= bytes.count {
            let header = offset
            let block = bytes[header..<header + 512]
            if block.allSatisfy({ $0 == 0 }) { break }
            func field(_ start: Int, _ length: Int) -> ArraySlice<UInt8> {
                bytes[(header + start)..<(header + start + length)]
            }
            func text(_ start: Int, _ length: Int) -> String {
                String(decoding: field(start, length).prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let stored = Self.number(field(148, 8)) else { throw Failure(description: "a header at \(offset) has no checksum") }
            var sum = 0
            for (index, byte) in block.enumerated() { sum += (148..<156).contains(index) ? 32 : Int(byte) }
            guard sum == stored else { throw Failure(description: "the header at \(offset) has a wrong checksum") }
            guard var size = Self.number(field(124, 12)), size >= 0 else {
                throw Failure(description: "the header at \(offset) has an unreadable size")
            }
            let attributes = globals.merging(pending) { _, new in new }
            if let paxSize = attributes["size"].flatMap({ Int($0) }) { size = paxSize }
            let type = bytes[header + 156]
            let dataStart = header + 512
            guard dataStart + size <= bytes.count else { throw Failure(description: "the archive ends inside an entry") }
            let payload = Data(bytes[dataStart..<dataStart + size])
            offset = dataStart + size + (512 - size % 512) % 512

            switch type {
            case UInt8(ascii: "x"):
                pending.merge(try Self.parsePax(payload)) { _, new in new }
                continue
            case UInt8(ascii: "g"):
                globals.merge(try Self.parsePax(payload)) { _, new in new }
                continue
            case UInt8(ascii: "L"):
                longName = String(decoding: payload.prefix { $0 != 0 }, as: UTF8.self)
                continue
            case UInt8(ascii: "K"):
                longLink = String(decoding: payload.prefix { $0 != 0 }, as: UTF8.self)
                continue
            default:
                break
            }

            var path = text(0, 100)
            let magic = text(257, 6)
            if magic.hasPrefix("ustar") {
                let prefix = text(345, 155)
                if !prefix.isEmpty { path = prefix + "/" + path }
            }
            if let name = longName { path = name }
            if let name = attributes["path"] { path = name }
            var link = text(157, 100)
            if let target = longLink { link = target }
            if let target = attributes["linkpath"] { link = target }
            let mode = Self.number(field(100, 8)) ?? 0o644
            let modificationTime = attributes["mtime"].flatMap { Double($0) }.map { Int($0) } ?? Self.number(field(136, 12)) ?? 0
            pending = [:]
            longName = nil
            longLink = nil

            let kind: Entry.Kind
            switch type {
            case UInt8(ascii: "0"), 0, UInt8(ascii: "7"):
                kind = path.hasSuffix("/") ? .directory : .file(payload)
            case UInt8(ascii: "5"):
                kind = .directory
            case UInt8(ascii: "2"):
                kind = .symbolicLink(target: link)
            default:
                continue
            }
            entries.append(Entry(path: Self.normalized(path), kind: kind, mode: mode & 0o7777, modificationTime: modificationTime))
        }
        self.entries = entries
    }

    /// An octal field (NUL- or space-terminated), or GNU base-256 when the high bit is set.
    private static func number(_ field: ArraySlice<UInt8>) -> Int? {
        guard let first = field.first else { return nil }
        if first & 0x80 != 0 {
            var value = Int(first & 0x7f)
            for byte in field.dropFirst() {
                guard value <= (Int.max >> 8) else { return nil }
                value = value << 8 | Int(byte)
            }
            return value
        }
        let digits = field.drop { $0 == UInt8(ascii: " ") || $0 == 0 }.prefix { $0 >= 0x30 && $0 <= 0x37 }
        if digits.isEmpty { return 0 }
        return Int(String(decoding: digits, as: UTF8.self), radix: 8)
    }

    private static func parsePax(_ data: Data) throws(Failure) -> [String: String] {
        var records: [String: String] = [:]
        let bytes = [UInt8](data)
        var index = 0
        while index < bytes.count {
            guard let space = bytes[index...].firstIndex(of: UInt8(ascii: " ")),
                  let length = Int(String(decoding: bytes[index..<space], as: UTF8.self)), length > 0,
                  index + length <= bytes.count
            else { throw Failure(description: "a PAX header is malformed") }
            let record = bytes[(space + 1)..<(index + length - 1)]
            if let equals = record.firstIndex(of: UInt8(ascii: "=")) {
                let key = String(decoding: record[..<equals], as: UTF8.self)
                let value = String(decoding: record[(equals + 1)...], as: UTF8.self)
                records[key] = value
            }
            index += length
        }
        return records
    }

    /// Drops a leading `./` and a trailing `/`.
    static func normalized(_ path: String) -> String {
        var path = Substring(path)
        while path.hasPrefix("./") { path = path.dropFirst(2) }
        while path.count > 1 && path.hasSuffix("/") { path = path.dropLast() }
        return String(path)
    }
}
