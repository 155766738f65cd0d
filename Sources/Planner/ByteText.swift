/// Sizes in the words of an operator: decimal units, one decimal ("3.2 TB"), as disks are sold
/// and as the infeasibility messages quote them.
public enum ByteText {
    public static func decimal(_ bytes: Double) -> String {
        let units: [(String, Double)] = [("PB", 1e15), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)]
        for (name, m) in units where abs(bytes) >= m { return "\(oneDecimal(bytes / m)) \(name)" }
        return "\(Int64(bytes.rounded())) B"
    }

    public static func decimal(_ bytes: Int64) -> String { decimal(Double(bytes)) }

    public static func oneDecimal(_ x: Double) -> String {
        let tenths = Int64((x * 10).rounded())
        let sign = tenths < 0 ? "-" : ""
        return "\(sign)\(abs(tenths) / 10).\(abs(tenths) % 10)"
    }

    public static func percent(_ fraction: Double) -> String {
        let p = fraction * 100
        return p == p.rounded() ? "\(Int(p))%" : "\(oneDecimal(p))%"
    }

    public static func duration(_ seconds: Double) -> String {
        if seconds >= 86_400 { return "\(oneDecimal(seconds / 86_400)) d" }
        if seconds >= 3600 { return "\(oneDecimal(seconds / 3600)) h" }
        if seconds >= 60 { return "\(oneDecimal(seconds / 60)) min" }
        return "\(oneDecimal(seconds)) s"
    }
}
