import Domain
import Foundation

/// A billing period `[from, to)`: non-empty and at most 366 days long.
public struct UsagePeriod: Sendable, Hashable {
    public let from: Date
    public let to: Date

    /// The longest period a report or export covers.
    public static let maximumLength: TimeInterval = 366 * 86_400

    /// Why a period was refused.
    public enum Problem: Error, Sendable, Equatable, CustomStringConvertible {
        case notAfterStart
        case tooLong

        public var description: String {
            switch self {
            case .notAfterStart: "to must be later than from"
            case .tooLong: "the period may be at most 366 days long"
            }
        }
    }

    /// A checked period.
    public init(from: Date, to: Date) throws(Problem) {
        guard from < to else { throw .notAfterStart }
        guard to.timeIntervalSince(from) <= Self.maximumLength else { throw .tooLong }
        self.from = from
        self.to = to
    }

    /// From the start of the UTC calendar month holding the period's last instant, up to `end`:
    /// with `end` now, the current month so far (or, at the very first instant of a month, the whole
    /// previous month, so it is never empty).
    public static func monthToDate(endingAt end: Date) -> UsagePeriod {
        let (seconds, micros) = RFC3339.split(end)
        let (year, month, _, _) = RFC3339.civil(micros > 0 ? seconds : seconds - 1)
        let start = CivilCalendar.days(year: year, month: month, day: 1) * 86_400
        return UsagePeriod(unchecked: Date(timeIntervalSince1970: Double(start)), to: end)
    }

    /// For periods that hold by construction: a month or less, ending after it starts.
    private init(unchecked from: Date, to: Date) {
        self.from = from
        self.to = to
    }
}
