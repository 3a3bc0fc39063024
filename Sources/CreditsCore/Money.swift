/// Amounts are integers of minor units (cents, yen); this is the one place that shows them in
/// major units, by integer arithmetic only.
public enum Money {
    /// `123456, USD, 2` → `1,234.56 USD`; `-5, EUR, 2` → `-0.05 EUR`; `1200, JPY, 0` → `1,200 JPY`.
    public static func format(_ minor: Int, currency: String, exponent: Int?) -> String {
        let exponent = min(max(exponent ?? 2, 0), 4)
        var scale = 1
        for _ in 0..<exponent { scale *= 10 }
        let magnitude = minor.magnitude
        let sign = minor < 0 ? "-" : ""
        let major = grouped(magnitude / UInt(scale))
        guard exponent > 0 else { return "\(sign)\(major) \(currency)" }
        let fraction = String(magnitude % UInt(scale))
        return "\(sign)\(major).\(String(repeating: "0", count: exponent - fraction.count))\(fraction) \(currency)"
    }

    static func grouped(_ value: UInt) -> String {
        let digits = Array(String(value))
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return out
    }
}
