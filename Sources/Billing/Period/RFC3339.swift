import Domain
import Foundation

/// Strict RFC 3339 date-times (`2026-11-01T00:00:00Z`, `2026-11-01T02:00:00.5+02:00`) at microsecond
/// resolution, the resolution PostgreSQL stores.
///
/// Own code rather than a formatter: it must refuse what is not a real instant (month 13, 31 April,
/// hour 24) instead of rolling it over, and keep all six fractional digits when it writes.
public enum RFC3339 {
    /// The instants this service accepts: years 1 to 9999 in UTC, which PostgreSQL can read back.
    static let earliestSeconds: Int64 = CivilCalendar.days(year: 1, month: 1, day: 1) * 86_400
    static let endSeconds: Int64 = CivilCalendar.days(year: 10_000, month: 1, day: 1) * 86_400

    /// The instant, or `nil` when `text` is not an RFC 3339 date-time in years 1 to 9999.
    /// Fractional digits beyond the sixth are dropped; a leap second (`:60`) is read as the next second.
    public static func parse(_ text: some StringProtocol) -> Date? {
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ width: Int) -> Int64? {
            guard index + width <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[index..<index + width] {
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int64(byte - 0x30)
            }
            index += width
            return value
        }
        func expect(_ characters: String) -> Bool {
            guard index < bytes.count, characters.utf8.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
            expect("Tt"), let hour = number(2), expect(":"), let minute = number(2), expect(":"), let second = number(2),
            (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day),
            hour < 24, minute < 60, second <= 60
        else { return nil }
        var micros: Int64 = 0
        if expect(".") {
            var digits = 0
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                if digits < 6 { micros = micros * 10 + Int64(bytes[index] - 0x30) }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            for _ in min(digits, 6)..<6 { micros *= 10 }
        }
        var offset: Int64 = 0
        if !expect("Zz") {
            guard index < bytes.count else { return nil }
            let sign: Int64 = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            guard expect("+-"), let hours = number(2), expect(":"), let minutes = number(2), hours < 24, minutes < 60 else { return nil }
            offset = sign * (hours * 3600 + minutes * 60)
        }
        guard index == bytes.count else { return nil }
        let seconds = CivilCalendar.days(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second - offset
        guard seconds >= earliestSeconds, seconds < endSeconds else { return nil }
        return Date(timeIntervalSince1970: Double(seconds) + Double(micros) / 1_000_000)
    }

    /// The instant in UTC, `2026-11-01T10:00:00Z`, with six fractional digits when it has a fraction.
    public static func format(_ date: Date) -> String {
        let (seconds, micros) = split(date)
        let (year, month, day, secondOfDay) = civil(seconds)
        let time = String(format: "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld", year, month, day,
                          secondOfDay / 3600, secondOfDay / 60 % 60, secondOfDay % 60)
        return micros == 0 ? time + "Z" : time + String(format: ".%06lldZ", micros)
    }

    /// The instant in UTC without separators or fraction, `20261101T100000Z`, for file names.
    public static func compact(_ date: Date) -> String {
        let (seconds, _) = split(date)
        let (year, month, day, secondOfDay) = civil(seconds)
        return String(format: "%04lld%02lld%02lldT%02lld%02lld%02lldZ", year, month, day,
                      secondOfDay / 3600, secondOfDay / 60 % 60, secondOfDay % 60)
    }

    /// Whole seconds since 1970 and the microseconds after them.
    static func split(_ date: Date) -> (seconds: Int64, micros: Int64) {
        // Clamped to years 1 to 9999, the instants this format can write, so no date can trap it.
        let total = Int64(min(max((date.timeIntervalSince1970 * 1_000_000).rounded(), -62_135_596_800_000_000), 253_402_300_800_000_000))
        let seconds = total >= 0 ? total / 1_000_000 : (total - 999_999) / 1_000_000
        return (seconds, total - seconds * 1_000_000)
    }

    static func civil(_ seconds: Int64) -> (year: Int64, month: Int64, day: Int64, secondOfDay: Int64) {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let (year, month, day) = CivilCalendar.date(fromDays: days)
        return (year, month, day, seconds - days * 86_400)
    }

    static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
