/// Integers that stand for decimals with a fixed number of places (micros of a currency, millicores,
/// microseconds), written as exact decimal text: no binary floating point on the way.
public enum FixedPoint {
    /// `value / 10^scale` in decimal, with at least `minimumFractionDigits` digits after the point and
    /// trailing zeros beyond those dropped: `format(1_500, scale: 3) == "1.5"`,
    /// `format(54_000, scale: 6, minimumFractionDigits: 6) == "0.054000"`.
    public static func format(_ value: Int64, scale: Int, minimumFractionDigits: Int = 0) -> String {
        precondition((0...18).contains(scale) && (0...scale).contains(minimumFractionDigits))
        let magnitude = value.magnitude
        var divisor: UInt64 = 1
        for _ in 0..<scale { divisor *= 10 }
        let whole = String(magnitude / divisor)
        let digits = scale == 0 ? "" : String(magnitude % divisor)
        var fraction = String(repeating: "0", count: scale - digits.count) + digits
        while fraction.count > minimumFractionDigits, fraction.last == "0" { fraction.removeLast() }
        let sign = value < 0 ? "-" : ""
        return fraction.isEmpty ? sign + whole : sign + whole + "." + fraction
    }

    /// An amount of money held in micros (millionths of the currency unit), with all six places:
    /// `amount(micros: 54_000) == "0.054000"`.
    public static func amount(micros: Int64) -> String {
        format(micros, scale: 6, minimumFractionDigits: 6)
    }
}
