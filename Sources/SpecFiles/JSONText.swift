import Foundation

/// JSON written by hand, for outputs whose key order and number format must stay the same from
/// run to run (`--json` objects, inventories): a number, and a string with its escapes.

/// A finite number as JSON: integers without a fraction, others with up to 17 significant
/// digits (round-trips); non-finite values, which JSON cannot carry, as null.
public func jsonNumber(_ x: Double) -> String {
    guard x.isFinite else { return "null" }
    if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
    return "\(x)"
}

/// A string as JSON: quotes, backslashes and control characters escaped (RFC 8259 §7).
public func jsonString(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case let c where c.value < 0x20: out += String(format: "\\u%04x", c.value)
        default: out.unicodeScalars.append(u)
        }
    }
    return out + "\""
}
