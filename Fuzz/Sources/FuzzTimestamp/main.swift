import FuzzDriver
import Traffic

// An RFC 3339 timestamp. Besides crashes, checks what a parse promises: the instant reads
// back from its report text, a UTC time keeps its calendar date (no 2023-02-31 stored as
// March 3rd), and an offset is at most ±23:59.
runFuzzer { data, size in
    let t = text(data, size)
    guard let ns = Timestamp.parseNs(t) else { return 0 }
    let written = Timestamp.format(ns: ns)
    precondition(Timestamp.parseNs(written) == ns, "\"\(t)\" → \(ns) → \"\(written)\" does not read back")
    let chars = Array(t.utf8)
    let zoneStart = chars.indices.dropFirst(19).first { chars[$0] == UInt8(ascii: "+") || chars[$0] == UInt8(ascii: "-") }
    if let z = zoneStart {
        let hours = Int(String(decoding: chars[(z + 1)...].prefix(2), as: UTF8.self)) ?? 0
        let minutes = Int(String(decoding: chars.suffix(2), as: UTF8.self)) ?? 0
        precondition(hours < 24 && minutes < 60, "\"\(t)\" has an offset past ±23:59 and parsed")
    } else if !chars[17..<19].elementsEqual("60".utf8) {
        precondition(written.utf8.prefix(10).elementsEqual(chars.prefix(10)), "\"\(t)\" parsed as \"\(written)\"")
    }
    return 0
}
