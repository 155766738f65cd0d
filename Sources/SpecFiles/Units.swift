import Foundation

/// Parsing of the human units that model files use: byte sizes ("2TiB", "500GB"), rates
/// ("400MB/s", "10Gbit/s") and durations ("30s", "5m", "250ms").
///
/// Decimal prefixes are powers of 1000 and binary ones powers of 1024, as in IEC 80000-13, so
/// "1GB" and "1GiB" differ by 7.4%: disks are sold in decimal bytes, filesystems report binary.
/// Negative numbers parse: whether a quantity may be negative is a modelling question, answered
/// with a named error when the model is built, not a syntax question.
public enum Units {
    static let bytePrefixes: [(String, Double)] = [
        ("KiB", 1024), ("MiB", 1_048_576), ("GiB", 1_073_741_824), ("TiB", 1_099_511_627_776),
        ("PiB", 1_125_899_906_842_624),
        ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12), ("PB", 1e15), ("B", 1),
    ]
    /// The largest size or rate a model may give: 2⁶³ − 1 bytes (8 EiB), the most an Int64
    /// byte counter holds, so that every later conversion to an integer count is exact.
    public static let maxBytes = 9.2e18
    /// The longest duration a model may give: 100 years (ASSUMED bound, far past any migration
    /// horizon and well inside SimTime's 292 years, so that a duration added to any instant of a
    /// run still fits the clock).
    public static let maxSeconds = 100 * 365.25 * 86_400.0

    static let bitPrefixes: [(String, Double)] = [
        ("Kbit", 1e3 / 8), ("Mbit", 1e6 / 8), ("Gbit", 1e9 / 8), ("Tbit", 1e12 / 8), ("bit", 1.0 / 8),
    ]

    /// Splits "400MB" into (400, "MB"); nil when there is no leading number. Numbers are plain
    /// decimals with an optional sign ("1.5", "-3"); exponents are not accepted, since "1e3MB"
    /// would be hard to tell from a unit.
    static func split(_ text: String) -> (Double, String)? {
        let t = text.trimmingCharacters(in: .whitespaces)
        let numberEnd = t.firstIndex { c in !(c.isASCII && (c.isNumber || c == "." || c == "-" || c == "+")) } ?? t.endIndex
        let numberText = String(t[..<numberEnd])
        let unit = String(t[numberEnd...]).trimmingCharacters(in: .whitespaces)
        guard let value = Double(numberText), value.isFinite else { return nil }
        return (value, unit)
    }

    /// Bytes in a size such as "2TiB", "500GB" or "1024" (plain bytes).
    public static func bytes(_ text: String) -> Double? {
        guard let (v, unit) = split(text) else { return nil }
        if unit.isEmpty { return v }
        for (p, m) in bytePrefixes where unit == p { return finite(v * m) }
        return nil
    }

    /// A number past Double's range times a prefix is +∞, which no later conversion can hold:
    /// refused like any other unreadable value (found by the units fuzz target,
    /// Tests/Fixtures/fuzz/FuzzUnits/size-past-double).
    static func finite(_ x: Double) -> Double? { x.isFinite ? x : nil }

    /// Bytes per second in a rate such as "400MB/s", "1.5GiB/s" or "10Gbit/s".
    public static func bytesPerSecond(_ text: String) -> Double? {
        guard let (v, unit) = split(text), unit.hasSuffix("/s") else { return nil }
        let base = String(unit.dropLast(2))
        for (p, m) in bytePrefixes where base == p { return finite(v * m) }
        for (p, m) in bitPrefixes where base == p { return finite(v * m) }
        return nil
    }

    /// Seconds in a duration such as "250ms", "30s", "5m", "2h" or "7d".
    public static func seconds(_ text: String) -> Double? {
        guard let (v, unit) = split(text) else { return nil }
        switch unit {
        case "ns": return v * 1e-9
        case "us", "µs": return v * 1e-6
        case "ms": return v * 1e-3
        case "s": return v
        case "m", "min": return finite(v * 60)
        case "h": return finite(v * 3600)
        case "d": return finite(v * 86_400)
        default: return nil
        }
    }

    /// A byte count written back in the largest binary unit that keeps it at least 1.
    public static func formatBytes(_ bytes: Double) -> String {
        let units: [(String, Double)] = [("PiB", 1_125_899_906_842_624), ("TiB", 1_099_511_627_776), ("GiB", 1_073_741_824), ("MiB", 1_048_576), ("KiB", 1024)]
        for (name, m) in units where abs(bytes) >= m { return "\(trim(bytes / m))\(name)" }
        return "\(trim(bytes))B"
    }

    public static func formatRate(_ bytesPerSecond: Double) -> String {
        let units: [(String, Double)] = [("GB", 1e9), ("MB", 1e6), ("KB", 1e3)]
        for (name, m) in units where abs(bytesPerSecond) >= m { return "\(trim(bytesPerSecond / m))\(name)/s" }
        return "\(trim(bytesPerSecond))B/s"
    }

    public static func formatSeconds(_ seconds: Double) -> String { "\(trim(seconds))s" }

    static func trim(_ x: Double) -> String {
        let r = (x * 100).rounded() / 100
        return r == r.rounded() && abs(r) < 9e18 ? String(Int64(r)) : String(r)
    }
}
