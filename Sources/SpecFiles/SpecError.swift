/// A problem in an input file (a fleet model, a policy, an experiment): what is wrong, in which file, on which line, in which field.
///
/// Parse errors (YAML syntax, an unknown field, a wrong unit or type) and build errors (a
/// storage nobody defined, a replication factor above the storage count, a negative capacity)
/// share this shape so that the command line prints them the same way:
/// `models/x.yaml:12: nodes[2].disk.readBandwidth: expected a rate like "400MB/s", got "fast"`.
public struct SpecError: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    /// 1-based line, when the problem has a place in the file.
    public var line: Int?
    /// The field path from the document root, e.g. `nodes[2].disk.readBandwidth`; empty for
    /// problems with the whole document.
    public var field: String
    public var message: String

    public init(file: String, line: Int?, field: String, message: String) {
        self.file = file
        self.line = line
        self.field = field
        self.message = message
    }

    public var description: String {
        let place = line.map { "\(file):\($0)" } ?? file
        return field.isEmpty ? "\(place): \(message)" : "\(place): \(field): \(message)"
    }
}

extension SpecError {
    /// A command-line parser's message for a bad flag as one line: the usage and help blocks
    /// ArgumentParser appends dropped, and its `Error: ` prefix (every executable prints its
    /// own name instead).
    public static func flagMessage(_ full: String) -> String {
        let kept = full.split(separator: "\n", omittingEmptySubsequences: false).prefix { !$0.hasPrefix("Usage:") && !$0.hasPrefix("Help:") }
        let text = kept.joined(separator: " ").trimmingCharacters(in: .whitespaces)
        return text.hasPrefix("Error: ") ? String(text.dropFirst(7)) : text
    }

    /// Names for a message: all of them up to `most`, else the first `most` and how many more
    /// (a fleet of 220 storages named in full buries the line that matters).
    public static func someNames(_ names: [String], most: Int = 10) -> String {
        names.count <= most ? names.joined(separator: ", ") : names.prefix(most).joined(separator: ", ") + " and \(names.count - most) more"
    }
}

/// Where a line of the model file came from, for build-time errors.
public struct SourceLine: Equatable, Sendable {
    public var line: Int?
    public var path: String
    public init(line: Int? = nil, path: String = "") { self.line = line; self.path = path }
}
