import SpecFiles
import Yams

/// A parameter grid over an experiment's model and policy files:
///
///     sweep:
///       policy.concurrency.perSource: [2, 5, 10]
///       model.faults.nodeCrash.mtbf: [720h, 168h]
///
/// Each key is `model` or `policy` and a path of field names (a number picks a list entry, from
/// 0); each value list holds what the field takes, written as in that file. The points are the
/// grid's every combination, the first parameter varying slowest. Every point runs the same
/// replications with the same seed, so points differ only by their parameters (common random
/// numbers), and each point's files go through the usual readers, with their checks.
public struct Sweep: Sendable, Equatable {
    public enum Target: String, Sendable, Equatable { case model, policy }

    public struct Parameter: Sendable, Equatable {
        public var key: String
        public var target: Target
        public var path: [String]
        public var values: [String]
    }

    /// One field set to one value.
    public struct Assignment: Sendable, Equatable {
        /// The parameter and value as a results database stores them.
        public var stored: SweepValue { SweepValue(key: parameter.key, value: value) }
        public var parameter: Parameter
        public var value: String
        public var label: String { "\(parameter.key)=\(value)" }
    }

    public var parameters: [Parameter]

    /// Points at most (ASSUMED: past this a grid is a mistake, or a job for sharded sweeps).
    public static let maxPoints = 10_000

    /// `model.<field>...` or `policy.<field>...` split into its target and path.
    static func parseKey(_ key: String, at c: YAMLCursor) throws -> (Target, [String]) {
        let parts = key.split(separator: ".").map(String.init)
        guard parts.count >= 2, let target = Target(rawValue: parts[0]) else {
            throw c.error("a key is model.<field>... or policy.<field>..., got \"\(key)\"")
        }
        return (target, Array(parts.dropFirst()))
    }

    static func parse(_ c: YAMLCursor) throws -> Sweep {
        var parameters: [Parameter] = []
        var points = 1
        for (key, values) in try c.namedEntries() {
            let (target, path) = try parseKey(key, at: values)
            let list = try values.list().map { try $0.scalarText() }
            guard !list.isEmpty else { throw values.error("give at least one value") }
            points *= list.count
            guard points <= maxPoints else { throw values.error("the grid has more than \(maxPoints) points") }
            parameters.append(Parameter(key: key, target: target, path: path, values: list))
        }
        guard !parameters.isEmpty else { throw c.error("a sweep needs at least one parameter") }
        return Sweep(parameters: parameters)
    }

    /// An experiment's `set:` block: the same keys as a sweep, each with one value.
    static func parseSettings(_ c: YAMLCursor) throws -> [Assignment] {
        let settings = try c.namedEntries().map { key, value in
            let (target, path) = try parseKey(key, at: value)
            let v = try value.scalarText()
            return Assignment(parameter: Parameter(key: key, target: target, path: path, values: [v]), value: v)
        }
        guard !settings.isEmpty else { throw c.error("set: needs at least one field") }
        return settings
    }

    /// Every combination, the first parameter varying slowest.
    public var points: [[Assignment]] {
        var out: [[Assignment]] = [[]]
        for p in parameters {
            out = out.flatMap { prefix in p.values.map { prefix + [Assignment(parameter: p, value: $0)] } }
        }
        return out
    }

    /// `text` (a YAML document) with each assignment for `target` set, missing mappings created.
    static func apply(_ assignments: [Assignment], target: Target, to text: String, file: String) throws -> String {
        let mine = assignments.filter { $0.parameter.target == target }
        guard !mine.isEmpty else { return text }
        guard var root = try compose(yaml: text) else { throw SpecError(file: file, line: nil, field: "", message: "the file is empty; a sweep has nothing to set") }
        for a in mine {
            root = try set(root, path: a.parameter.path[...], value: a.value, key: a.parameter.key, file: file)
        }
        return try serialize(node: root)
    }

    static func set(_ node: Node, path: ArraySlice<String>, value: String, key: String, file: String) throws -> Node {
        guard let head = path.first else { return Node(value, Tag(.implicit)) }
        func fail(_ why: String) -> SpecError { SpecError(file: file, line: node.mark?.line, field: key, message: "sweep: \(why)") }
        switch node {
        case .mapping(var m):
            let child = m[head] ?? Node.mapping(Node.Mapping([]))
            m[head] = try set(child, path: path.dropFirst(), value: value, key: key, file: file)
            return .mapping(m)
        case .sequence(var s):
            guard let i = Int(head), i >= 0, i < s.count else { throw fail("\"\(head)\" is not an entry of the list (0 to \(s.count - 1))") }
            s[i] = try set(s[i], path: path.dropFirst(), value: value, key: key, file: file)
            return .sequence(s)
        case .scalar(let sc) where sc.string.isEmpty:
            return try set(.mapping(Node.Mapping([])), path: path, value: value, key: key, file: file)
        default:
            throw fail("\"\(head)\" is inside a plain value, not a mapping or a list")
        }
    }
}

/// One parameter's value at a sweep's point.
public struct SweepValue: Codable, Sendable, Equatable {
    public var key: String
    public var value: String
    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}
