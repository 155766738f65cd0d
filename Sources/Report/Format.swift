import Foundation

/// Number formatting for the report: locale-independent (`String(format:)` uses the POSIX
/// locale) so that the same input gives the same bytes on every machine.
public enum Format {
    /// `x` with at most four significant digits and no trailing zeros: 50, 99.9, 0.25.
    public static func plain(_ x: Double) -> String {
        guard x.isFinite else { return x.isNaN ? "–" : (x > 0 ? "∞" : "−∞") }
        if x == 0 { return "0" }
        let magnitude = Int(floor(log10(abs(x))))
        if magnitude >= 6 || magnitude <= -5 { return scientific(x) }
        return trimmed(fixed(x, decimals: max(0, 3 - magnitude)))
    }

    /// Three significant digits, never in exponent form for everyday magnitudes: 1234, 12.3, 0.123.
    public static func significant(_ x: Double) -> String {
        guard x.isFinite else { return plain(x) }
        if x == 0 { return "0" }
        let magnitude = Int(floor(log10(abs(x))))
        if magnitude <= -4 { return scientific(x) }
        return fixed(x, decimals: max(0, 2 - magnitude))
    }

    /// `x` with exactly `decimals` digits after the point.
    public static func fixed(_ x: Double, decimals: Int) -> String {
        let text = String(format: "%.\(max(0, min(decimals, 12)))f", x)
        return text == "-0" || text.hasPrefix("-0.") && Double(text) == 0 ? String(text.dropFirst()) : text
    }

    /// 1.2 × 10⁻⁵, as a reader would write it.
    public static func scientific(_ x: Double) -> String {
        let exponent = Int(floor(log10(abs(x))))
        let mantissa = x / pow(10, Double(exponent))
        let superscripts: [Character: Character] = [
            "-": "⁻", "0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵", "6": "⁶", "7": "⁷", "8": "⁸", "9": "⁹",
        ]
        let power = String(String(exponent).map { superscripts[$0] ?? $0 })
        return trimmed(fixed(mantissa, decimals: 2)) + " × 10" + power
    }

    /// A value with its unit, e.g. "41.2 h", "1.5 TiB", "0.12 %", "3.4 × 10⁻⁵".
    public static func value(_ x: Double, _ unit: Quantity) -> String {
        switch unit {
        case .seconds: return duration(seconds: x)
        case .hours: return duration(seconds: x * 3600)
        case .bytes: return bytes(x)
        case .count: return count(x)
        case .repositorySeconds: return count(x) + " repo·s"
        case .probability: return probability(x)
        case .ratio: return fixed(x, decimals: 3)
        }
    }

    /// An estimate and its interval: "41.2 h (95% CI 38.0 h – 44.9 h)".
    public static func estimate(_ estimate: Estimate, _ unit: Quantity) -> String {
        let point = value(estimate.value, unit)
        guard let interval = estimate.interval else { return point }
        return point + " (" + plain(estimate.confidence * 100) + "% CI " + value(interval.lowerBound, unit)
            + " – " + value(interval.upperBound, unit) + ")"
    }

    public static func duration(seconds: Double) -> String {
        guard seconds.isFinite else { return plain(seconds) }
        let size = abs(seconds)
        if size < 120 { return significant(seconds) + " s" }
        if size < 2 * 3600 { return significant(seconds / 60) + " min" }
        if size < 72 * 3600 { return significant(seconds / 3600) + " h" }
        return significant(seconds / 86_400) + " d"
    }

    /// Binary multiples, as GitLab and Gitaly report repository and disk sizes.
    public static func bytes(_ x: Double) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var scaled = x
        var index = 0
        while abs(scaled) >= 1024 && index < units.count - 1 {
            scaled /= 1024
            index += 1
        }
        return (index == 0 ? plain(scaled) : significant(scaled)) + " " + units[index]
    }

    /// Whole counts in full below a million ("12345"), with a k/M/G suffix above.
    public static func count(_ x: Double) -> String {
        let size = abs(x)
        if size < 1e6 { return x == x.rounded() ? fixed(x, decimals: 0) : significant(x) }
        if size < 1e9 { return significant(x / 1e6) + " M" }
        return significant(x / 1e9) + " G"
    }

    public static func probability(_ p: Double) -> String {
        if p == 0 { return "0" }
        if abs(p) >= 1e-3 { return significant(p * 100) + " %" }
        return scientific(p)
    }

    /// SVG coordinates: one decimal, fast and deterministic (no `String(format:)` per point).
    static func coordinate(_ x: Double) -> String {
        let tenths = Int((x * 10).rounded())
        let whole = tenths / 10
        let fraction = abs(tenths % 10)
        let sign = tenths < 0 && whole == 0 ? "-" : ""
        return fraction == 0 ? sign + String(whole) : sign + String(whole) + "." + String(fraction)
    }

    private static func trimmed(_ text: String) -> String {
        guard text.contains(".") else { return text }
        var result = Substring(text)
        while result.hasSuffix("0") { result = result.dropLast() }
        if result.hasSuffix(".") { result = result.dropLast() }
        return String(result)
    }
}
