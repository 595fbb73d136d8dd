import Domain
import Foundation

/// How the panel writes numbers and times. Everything here becomes text that the templates escape.
enum PanelFormat {
    static func cores(millis: Int) -> String { number(Double(millis) / 1000) }

    /// `6`, `1.5`, `0.25`: as a JSON encoder writes the same value, so the page and the API agree.
    static func number(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    /// `2026-11-23 05:10:03 UTC`.
    static func time(_ date: Date) -> String {
        iso(date).replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "Z", with: " UTC")
    }

    static func iso(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    /// `4 s ago`, `3 min ago`, `2 h ago`, `5 d ago`.
    static func ago(_ date: Date, now: Date = Date()) -> String {
        let seconds = max(0, Int(now.timeIntervalSince(date)))
        switch seconds {
        case ..<120: return "\(seconds) s ago"
        case ..<7200: return "\(seconds / 60) min ago"
        case ..<172_800: return "\(seconds / 3600) h ago"
        default: return "\(seconds / 86400) d ago"
        }
    }

    static func labels(_ labels: [String: LabelValue]) -> [PanelLabel] {
        labels.keys.sorted().map { PanelLabel(key: $0, value: labels[$0]!.description) }
    }

    static func labels(_ labels: [String: String]) -> [PanelLabel] {
        labels.keys.sorted().map { PanelLabel(key: $0, value: labels[$0]!) }
    }
}

/// One `key=value` label as shown.
struct PanelLabel {
    let key: String
    let value: String
}

/// A horizontal bar: `used` of `total`, drawn with CSS classes only (the CSP allows no inline styles).
struct PanelBar {
    /// What the bar measures (`reserved`, `observed`, `running`).
    let label: String
    /// The figures in words, e.g. `1.5 / 4 cores`.
    let text: String
    /// The fill in steps of 5, 0 to 100: the stylesheet has one class per step.
    let fill: Int
    let percent: Int
    /// `ok`, `high` (from `warnAt`, 80 % unless told) or `over` (above 100 %).
    let level: String
    let title: String

    init(label: String, used: Double, total: Double, text: String, title: String, warnAt: Double = 0.8) {
        let share = total > 0 ? used / total : (used > 0 ? 2 : 0)
        self.label = label
        self.text = text
        self.title = title
        percent = Int((share * 100).rounded())
        fill = min(100, max(0, Int((share * 20).rounded()) * 5))
        level = share > 1 ? "over" : share >= warnAt ? "high" : "ok"
    }
}
