import Foundation
import Yams

/// A position in a parsed YAML document: the node, its field path and its file, so that every
/// value read through it can fail with an error naming file, line and field.
public struct YAMLCursor {
    public let node: Node
    public let path: String
    public let file: String

    public var line: Int? { node.mark?.line }

    /// A field written with no value (`claims:`), which YAML reads as null.
    public var isNull: Bool {
        if case .scalar(let s) = node { return s.string.isEmpty || s.string == "~" || s.string == "null" }
        return false
    }

    public func error(_ message: String) -> SpecError {
        SpecError(file: file, line: line, field: path, message: message)
    }

    /// Parses a whole document; YAML syntax errors carry the line libyaml reports. A document
    /// nested deeper than `YAMLDepth.limit` is refused before Yams sees it (Yams recurses once
    /// per level and overflows the stack some thousands deep).
    public static func document(_ text: String, file: String) throws -> YAMLCursor {
        try YAMLDepth.check(text, file: file)
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw SpecError(file: file, line: 1, field: "", message: "the file is empty; expected a mapping")
            }
            return YAMLCursor(node: node, path: "", file: file)
        } catch let e as YamlError {
            throw SpecError(file: file, line: Self.line(of: e), field: "", message: "YAML syntax error: \(Self.problem(of: e))")
        }
    }

    public static func line(of e: YamlError) -> Int? {
        switch e {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): return mark.line
        default: return nil
        }
    }

    public static func problem(of e: YamlError) -> String {
        switch e {
        case .scanner(let c, let p, _, _), .parser(let c, let p, _, _), .composer(let c, let p, _, _):
            return c.map { "\(p) \($0.text)" } ?? p
        default: return "\(e)"
        }
    }

    public func child(_ key: String, _ node: Node) -> YAMLCursor {
        YAMLCursor(node: node, path: path.isEmpty ? key : "\(path).\(key)", file: file)
    }

    /// A mapping whose keys must all be in `allowed`: an unknown field is an error, because a
    /// misspelt field silently taking its default is the worst kind of model bug.
    public func mapping(allowed: [String]) throws -> YAMLMapping {
        guard case .mapping(let m) = node else { throw error("expected a mapping with fields \(allowed.joined(separator: ", ")), got \(describe())") }
        var entries: [(String, YAMLCursor)] = []
        for (k, v) in m {
            guard case .scalar(let ks) = k else { throw error("keys must be plain names") }
            let key = ks.string
            let c = child(key, v)
            guard allowed.contains(key) else {
                throw SpecError(file: file, line: k.mark?.line, field: c.path, message: "unknown field; expected one of \(allowed.joined(separator: ", "))")
            }
            if entries.contains(where: { $0.0 == key }) {
                throw SpecError(file: file, line: k.mark?.line, field: c.path, message: "field given twice")
            }
            entries.append((key, c))
        }
        return YAMLMapping(cursor: self, entries: entries)
    }

    /// A mapping from free names to values (e.g. storage weights), in file order.
    public func namedEntries() throws -> [(String, YAMLCursor)] {
        guard case .mapping(let m) = node else { throw error("expected a mapping of names to values, got \(describe())") }
        var out: [(String, YAMLCursor)] = []
        for (k, v) in m {
            guard case .scalar(let ks) = k else { throw error("keys must be plain names") }
            if out.contains(where: { $0.0 == ks.string }) {
                throw SpecError(file: file, line: k.mark?.line, field: child(ks.string, v).path, message: "name given twice")
            }
            out.append((ks.string, child(ks.string, v)))
        }
        return out
    }

    public func list() throws -> [YAMLCursor] {
        guard case .sequence(let s) = node else { throw error("expected a list, got \(describe())") }
        return s.enumerated().map { i, n in YAMLCursor(node: n, path: "\(path)[\(i)]", file: file) }
    }

    public func scalarText() throws -> String {
        guard case .scalar(let s) = node else { throw error("expected a single value, got \(describe())") }
        return s.string
    }

    public func string() throws -> String {
        let s = try scalarText()
        guard !s.isEmpty else { throw error("expected a non-empty name") }
        return s
    }

    public func int() throws -> Int {
        let s = try scalarText()
        guard let v = Int(s) else {
            if let d = Double(s), d == d.rounded(), abs(d) >= 9.2e18 { throw error("\(s) is too large; a whole number here is below 2^63") }
            throw error("expected a whole number, got \"\(s)\"")
        }
        return v
    }

    /// A whole number in `range`, e.g. a count of workers that becomes an allocation: the
    /// message names the limit.
    public func int(in range: ClosedRange<Int>) throws -> Int {
        let v = try int()
        guard range.contains(v) else { throw error("must be \(range.lowerBound) to \(range.upperBound), got \(v)") }
        return v
    }

    public func bool() throws -> Bool {
        switch try scalarText() {
        case "true": return true
        case "false": return false
        case let s: throw error("expected true or false, got \"\(s)\"")
        }
    }

    public func double() throws -> Double {
        let s = try scalarText()
        guard let v = Double(s), v.isFinite else { throw error("expected a number, got \"\(s)\"") }
        return v
    }

    /// A size in bytes, at most `Units.maxBytes` either way.
    public func bytes() throws -> Double {
        let s = try scalarText()
        guard let v = Units.bytes(s) else { throw error("expected a size like \"2TiB\" or \"500GB\", got \"\(s)\"") }
        guard abs(v) <= Units.maxBytes else { throw error("size \(s) is beyond the largest supported, 8EiB") }
        return v
    }

    /// A rate in bytes per second, at most `Units.maxBytes` per second either way.
    public func rate() throws -> Double {
        let s = try scalarText()
        guard let v = Units.bytesPerSecond(s) else { throw error("expected a rate like \"400MB/s\", got \"\(s)\"") }
        guard abs(v) <= Units.maxBytes else { throw error("rate \(s) is beyond the largest supported, 8EiB/s") }
        return v
    }

    /// Which durations a field accepts: a wait may be 0, an interval or a period may not
    /// (a zero interval reschedules itself at the same instant forever).
    public enum DurationKind { case nonNegative, positive }

    /// A duration in seconds: never negative (a simulated clock does not run backwards), above
    /// 0 for a `.positive` one, and at most `Units.maxSeconds`.
    public func seconds(_ kind: DurationKind = .nonNegative) throws -> Double {
        let s = try scalarText()
        guard let v = Units.seconds(s) else { throw error("expected a duration like \"30s\", \"250ms\" or \"5m\", got \"\(s)\"") }
        guard v >= 0 else { throw error("a duration is at least 0, got \(s)") }
        if kind == .positive, v == 0 { throw error("must be above 0: an interval of \(s) never lets the simulated clock advance") }
        guard v <= Units.maxSeconds else { throw error("duration \(s) is beyond the longest supported, 100 years") }
        return v
    }

    public func oneOf<T: RawRepresentable & CaseIterable>(_ type: T.Type) throws -> T where T.RawValue == String {
        let s = try scalarText()
        guard let v = T(rawValue: s) else {
            throw error("expected one of \(T.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(s)\"")
        }
        return v
    }

    public func stringList() throws -> [String] { try list().map { try $0.string() } }

    public func describe() -> String {
        switch node {
        case .scalar(let s): return "\"\(s.string)\""
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        }
    }
}

/// The fields of one YAML mapping, already checked against the allowed names.
public struct YAMLMapping {
    public let cursor: YAMLCursor
    public let entries: [(String, YAMLCursor)]

    public var line: Int? { cursor.line }
    public var path: String { cursor.path }

    public subscript(_ key: String) -> YAMLCursor? { entries.first { $0.0 == key }?.1 }

    public func required(_ key: String) throws -> YAMLCursor {
        guard let c = self[key] else {
            let field = cursor.path.isEmpty ? key : "\(cursor.path).\(key)"
            throw SpecError(file: cursor.file, line: cursor.line, field: field, message: "missing required field")
        }
        return c
    }

    /// Reads an optional field with `read`, or returns `fallback` when it is absent.
    public func get<T>(_ key: String, _ fallback: T, _ read: (YAMLCursor) throws -> T) throws -> T {
        guard let c = self[key] else { return fallback }
        return try read(c)
    }
}
