#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A validating, allocation-free scanner for one JSON text held in a byte buffer (one log line).
///
/// Why not Foundation's `JSONSerialization`: it builds an `NSDictionary` of every field (an access
/// line has 20 to 60) and parsed about 25,000 current-format lines per second on the development
/// machine, where this scanner validates about 380,000 (Sources/Traffic/README.md,
/// "Measurements"); a day of a busy node's logs is millions of lines. This
/// scanner checks the whole text against the JSON grammar (RFC 8259) so that a cut-off line is
/// told apart from a valid line, but only remembers where the values of top-level keys lie; the
/// caller decodes the few it needs.
struct JSONLineScanner {
    /// The kind of a JSON value and where its bytes lie in the line.
    enum Value {
        /// A string's bytes between the quotes, still escaped when `escaped` is true.
        case string(start: Int, end: Int, escaped: Bool)
        case number(start: Int, end: Int)
        case bool(Bool)
        case null
        /// An object or array, from its opening to just after its closing bracket.
        case object(start: Int, end: Int)
        case array(start: Int, end: Int)
    }

    struct SyntaxError: Error, Equatable {
        var offset: Int
        var reason: String
    }

    let bytes: UnsafeBufferPointer<UInt8>
    var position: Int

    init(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int = 0) {
        self.bytes = bytes
        self.position = start
    }

    /// Nesting bound: a log line nests two or three levels deep; anything past this is hostile
    /// or corrupt and is reported as malformed rather than risking the stack.
    static let maxDepth = 64

    /// Walks a whole text that must be one object, calling `field` with each top-level key (its
    /// raw bytes between the quotes) and value. Throws at the first grammar violation.
    mutating func scanObject(_ field: (_ keyStart: Int, _ keyEnd: Int, _ value: Value) -> Void) throws(SyntaxError) {
        skipWhitespace()
        guard peek() == UInt8(ascii: "{") else { throw fail("expected '{' at the start of the line") }
        position += 1
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            position += 1
        } else {
            while true {
                skipWhitespace()
                guard peek() == UInt8(ascii: "\"") else { throw fail("expected a quoted key") }
                let (ks, ke, _) = try scanString()
                skipWhitespace()
                guard peek() == UInt8(ascii: ":") else { throw fail("expected ':' after a key") }
                position += 1
                let value = try scanValue(depth: 1)
                field(ks, ke, value)
                skipWhitespace()
                let c = peek()
                position += 1
                if c == UInt8(ascii: ",") { continue }
                if c == UInt8(ascii: "}") { break }
                position -= 1
                throw fail("expected ',' or '}' after a value")
            }
        }
        skipWhitespace()
        guard position == bytes.count else { throw fail("unexpected text after the closing '}'") }
    }

    @inline(__always) func peek() -> UInt8 {
        position < bytes.count ? bytes[position] : 0
    }

    @inline(__always) mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    func fail(_ reason: String) -> SyntaxError {
        SyntaxError(offset: position, reason: position >= bytes.count ? reason + " (line ends early)" : reason)
    }

    mutating func scanValue(depth: Int) throws(SyntaxError) -> Value {
        skipWhitespace()
        let start = position
        switch peek() {
        case UInt8(ascii: "\""):
            let (s, e, escaped) = try scanString()
            return .string(start: s, end: e, escaped: escaped)
        case UInt8(ascii: "{"):
            try scanContainer(close: UInt8(ascii: "}"), keyed: true, depth: depth)
            return .object(start: start, end: position)
        case UInt8(ascii: "["):
            try scanContainer(close: UInt8(ascii: "]"), keyed: false, depth: depth)
            return .array(start: start, end: position)
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            try scanNumber()
            return .number(start: start, end: position)
        default:
            throw fail("expected a value")
        }
    }

    mutating func expectLiteral(_ word: StaticString) throws(SyntaxError) {
        let n = word.utf8CodeUnitCount
        guard position + n <= bytes.count else { throw fail("truncated literal") }
        let p = word.utf8Start
        for i in 0..<n where bytes[position + i] != p[i] { throw fail("invalid literal") }
        position += n
    }

    /// Scans a string starting at its opening quote; returns the span between the quotes.
    /// Inlined into its callers: a log line has about a hundred strings (its keys and most of
    /// its values), and the call itself was a quarter of the reader thread's time (`perf`,
    /// issue 4).
    @inline(__always) mutating func scanString() throws(SyntaxError) -> (Int, Int, Bool) {
        position += 1
        let start = position
        var escaped = false
        while position < bytes.count {
            skipPlainStringBytes()
            guard position < bytes.count else { break }
            let c = bytes[position]
            if c == UInt8(ascii: "\"") {
                let end = position
                position += 1
                return (start, end, escaped)
            }
            if c == UInt8(ascii: "\\") {
                escaped = true
                position += 1
                guard position < bytes.count else { break }
                switch bytes[position] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                     UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    position += 1
                case UInt8(ascii: "u"):
                    guard position + 4 < bytes.count else { throw fail("truncated \\u escape") }
                    for i in 1...4 where Self.hexValue(bytes[position + i]) == nil { throw fail("invalid \\u escape") }
                    position += 5
                default:
                    throw fail("invalid escape in a string")
                }
                continue
            }
            if c < 0x20 { throw fail("control character inside a string") }
            position += 1
        }
        throw fail("unterminated string")
    }

    /// Skips string bytes that need no attention (not a quote, backslash or control character)
    /// eight at a time, with the SWAR byte tests of Mycroft's "has a zero byte" trick (Anderson,
    /// "Bit Twiddling Hacks", "Determine if a word has a byte equal to n" / "less than n"): a log
    /// line is mostly long strings, and this loop is where the scanner spends its time.
    @inline(__always) mutating func skipPlainStringBytes() {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let raw = UnsafeRawBufferPointer(bytes)
        while position + 8 <= bytes.count {
            let w = raw.loadUnaligned(fromByteOffset: position, as: UInt64.self)
            let quote = w ^ (ones &* 0x22)
            let backslash = w ^ (ones &* 0x5C)
            let hasQuote = (quote &- ones) & ~quote & highs
            let hasBackslash = (backslash &- ones) & ~backslash & highs
            let hasControl = (w &- ones &* 0x20) & ~w & highs
            let hits = hasQuote | hasBackslash | hasControl
            if hits != 0 {
                // The lowest flagged byte is exact (borrows only reach above it): jump to it.
                position += hits.littleEndian.trailingZeroBitCount / 8
                return
            }
            position += 8
        }
    }

    mutating func scanNumber() throws(SyntaxError) {
        if peek() == UInt8(ascii: "-") { position += 1 }
        let c = peek()
        if c == UInt8(ascii: "0") {
            position += 1
        } else if c >= UInt8(ascii: "1") && c <= UInt8(ascii: "9") {
            while Self.isDigit(peek()) { position += 1 }
        } else {
            throw fail("invalid number")
        }
        if peek() == UInt8(ascii: ".") {
            position += 1
            guard Self.isDigit(peek()) else { throw fail("invalid number: no digit after '.'") }
            while Self.isDigit(peek()) { position += 1 }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            position += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { position += 1 }
            guard Self.isDigit(peek()) else { throw fail("invalid number: no digit in exponent") }
            while Self.isDigit(peek()) { position += 1 }
        }
    }

    mutating func scanContainer(close: UInt8, keyed: Bool, depth: Int) throws(SyntaxError) {
        guard depth < Self.maxDepth else { throw fail("nesting deeper than \(Self.maxDepth)") }
        position += 1
        skipWhitespace()
        if peek() == close { position += 1; return }
        while true {
            skipWhitespace()
            if keyed {
                guard peek() == UInt8(ascii: "\"") else { throw fail("expected a quoted key") }
                _ = try scanString()
                skipWhitespace()
                guard peek() == UInt8(ascii: ":") else { throw fail("expected ':' after a key") }
                position += 1
            }
            _ = try scanValue(depth: depth + 1)
            skipWhitespace()
            let c = peek()
            if c == UInt8(ascii: ",") { position += 1; continue }
            if c == close { position += 1; return }
            throw fail("expected ',' or a closing bracket")
        }
    }

    @inline(__always) static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    static func hexValue(_ c: UInt8) -> UInt32? {
        switch c {
        case 0x30...0x39: return UInt32(c - 0x30)
        case 0x41...0x46: return UInt32(c - 0x41 + 10)
        case 0x61...0x66: return UInt32(c - 0x61 + 10)
        default: return nil
        }
    }
}

// MARK: - Decoding values

extension JSONLineScanner {
    /// The bytes `start..<end` equal `key`.
    @inline(__always)
    static func equals(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, _ key: StaticString) -> Bool {
        let n = key.utf8CodeUnitCount
        guard end - start == n else { return false }
        return memcmp(bytes.baseAddress! + start, key.utf8Start, n) == 0
    }

    /// Decodes a string value (undoing escapes, RFC 8259 §7). Invalid UTF-8 is repaired with
    /// U+FFFD rather than rejected: a repository path is still worth keeping.
    static func decodeString(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, escaped: Bool) -> String {
        if !escaped {
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
        }
        var out: [UInt8] = []
        out.reserveCapacity(end - start)
        var i = start
        func appendScalar(_ v: UInt32) {
            let scalar = Unicode.Scalar(v) ?? "\u{FFFD}"
            out.append(contentsOf: Array(String(Character(scalar)).utf8))
        }
        while i < end {
            let c = bytes[i]
            guard c == UInt8(ascii: "\\") else { out.append(c); i += 1; continue }
            let e = bytes[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var v: UInt32 = 0
                for k in 0..<4 { v = v << 4 | (hexValue(bytes[i + k]) ?? 0) }
                i += 4
                // A high surrogate followed by an escaped low surrogate is one scalar.
                if v >= 0xD800 && v < 0xDC00, i + 6 <= end, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") {
                    var lo: UInt32 = 0
                    for k in 0..<4 { lo = lo << 4 | (hexValue(bytes[i + 2 + k]) ?? 0) }
                    if lo >= 0xDC00 && lo < 0xE000 {
                        i += 6
                        v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00)
                    }
                }
                appendScalar(v)
            default: out.append(e)  // \" \\ \/
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses a JSON number. Integers and decimals with at most 15 significant digits and a
    /// small exponent take Clinger's fast path (one exact division or multiplication by a power
    /// of ten, correctly rounded); anything else goes to `strtod`.
    static func decodeNumber(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Double {
        var i = start
        var negative = false
        if bytes[i] == UInt8(ascii: "-") { negative = true; i += 1 }
        var mantissa: UInt64 = 0
        var digits = 0
        var scale = 0
        while i < end, isDigit(bytes[i]) {
            mantissa = mantissa &* 10 &+ UInt64(bytes[i] - 0x30)
            digits += 1
            i += 1
        }
        if i < end, bytes[i] == UInt8(ascii: ".") {
            i += 1
            while i < end, isDigit(bytes[i]) {
                mantissa = mantissa &* 10 &+ UInt64(bytes[i] - 0x30)
                digits += 1
                scale += 1
                i += 1
            }
        }
        if i == end && digits <= 15 && scale <= 22 {
            let m = Double(mantissa)
            let v = scale == 0 ? m : m / powersOfTen[scale]
            return negative ? -v : v
        }
        var text = Array(UnsafeBufferPointer(rebasing: bytes[start..<end]))
        text.append(0)
        return text.withUnsafeBufferPointer { p in
            p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: p.count) { strtod($0, nil) }
        }
    }

    /// 10^0 … 10^22, each exactly representable as a Double.
    static let powersOfTen: [Double] = (0...22).map { k in
        var v = 1.0
        for _ in 0..<k { v *= 10 }
        return v
    }
}
