/// A bound on how deeply a YAML document nests, checked on the text before any parser runs.
///
/// Yams composes a document recursively, one stack frame per level, so a file nested a few
/// thousand levels deep (`[[[[…`, or `- - - -…`) overflows the stack inside Yams: a crash, not
/// an error. The scan counts, per line, the block levels open (a stack of indentations), the
/// compact `- ` entries that open a level on the same line, and the flow brackets open; quoted
/// text and comments do not count. It may overcount a level (a block scalar full of brackets),
/// never undercount, which is the safe side for a limit this far above any real file.
public enum YAMLDepth {
    /// ASSUMED: a fleet model nests about 6 levels and a traffic profile about 5; 64 leaves
    /// room for hand-written files and stays far below the some thousands of levels that
    /// overflowed the stack inside Yams (issue 7, "Nesting without a bound").
    public static let limit = 64

    /// Throws when `text` nests deeper than `limit`, naming the first line that does.
    public static func check(_ text: String, file: String) throws {
        if let line = firstLineTooDeep(text) {
            throw SpecError(file: file, line: line, field: "",
                            message: "YAML nested deeper than \(limit) levels; files this deep are refused before parsing")
        }
    }

    /// The 1-based line where the nesting first exceeds `limit`, or nil.
    public static func firstLineTooDeep(_ text: String) -> Int? {
        var indents: [Int] = []
        var flow = 0
        var quote: UInt8 = 0
        var lineNumber = 0
        for line in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            let bytes = Array(line)
            var i = 0
            if quote == 0 && flow == 0 {
                while i < bytes.count, bytes[i] == 0x20 { i += 1 }
                // Blank and comment-only lines open nothing.
                if i == bytes.count || bytes[i] == UInt8(ascii: "#") || bytes[i] == 0x0D { continue }
                while let last = indents.last, last >= i { indents.removeLast() }
                indents.append(i)
                // Compact entries: each `- ` (or `? `) on the line opens one more level.
                while i + 1 < bytes.count, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "?"), bytes[i + 1] == 0x20 {
                    indents.append(i + 1)
                    i += 2
                    while i < bytes.count, bytes[i] == 0x20 { i += 1 }
                }
            }
            var deepest = flow
            var previous: UInt8 = 0x20
            while i < bytes.count {
                let c = bytes[i]
                if quote != 0 {
                    if c == UInt8(ascii: "\\") && quote == UInt8(ascii: "\"") { i += 1 } else if c == quote { quote = 0 }
                } else if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                    if previous == 0x20 || previous == UInt8(ascii: "[") || previous == UInt8(ascii: "{") || previous == UInt8(ascii: ",") || previous == UInt8(ascii: ":") { quote = c }
                } else if c == UInt8(ascii: "#") && (previous == 0x20 || previous == 0x09) {
                    break
                } else if c == UInt8(ascii: "[") || c == UInt8(ascii: "{") {
                    flow += 1
                    deepest = max(deepest, flow)
                } else if c == UInt8(ascii: "]") || c == UInt8(ascii: "}") {
                    flow = max(0, flow - 1)
                }
                previous = c
                i += 1
            }
            if indents.count + deepest > limit { return lineNumber }
        }
        return nil
    }
}
