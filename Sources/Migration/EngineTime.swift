/// A point in the driver's time: whole milliseconds since an epoch the driver chooses (Unix time
/// for a real GitLab, the start of the run for the simulator). Integer, so that replaying a
/// journal gives the same comparisons bit for bit (no Double time).
public struct EngineInstant: Hashable, Comparable, SingleValueCodable, Sendable, CustomStringConvertible {
    public var milliseconds: Int64
    var rawValue: Int64 { milliseconds }
    init(rawValue: Int64) { milliseconds = rawValue }

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }

    public static func < (a: EngineInstant, b: EngineInstant) -> Bool { a.milliseconds < b.milliseconds }
    public static func + (a: EngineInstant, d: EngineDuration) -> EngineInstant {
        EngineInstant(milliseconds: a.milliseconds + d.milliseconds)
    }
    public static func - (a: EngineInstant, b: EngineInstant) -> EngineDuration {
        EngineDuration(milliseconds: a.milliseconds - b.milliseconds)
    }
    public var description: String { "t=\(milliseconds)ms" }
}

/// A length of time in whole milliseconds.
public struct EngineDuration: Hashable, Comparable, SingleValueCodable, Sendable, CustomStringConvertible {
    public var milliseconds: Int64
    var rawValue: Int64 { milliseconds }
    init(rawValue: Int64) { milliseconds = rawValue }

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }
    public static func seconds(_ s: Int64) -> EngineDuration { EngineDuration(milliseconds: s * 1000) }
    public static func minutes(_ m: Int64) -> EngineDuration { .seconds(m * 60) }
    public static func hours(_ h: Int64) -> EngineDuration { .minutes(h * 60) }
    public static let zero = EngineDuration(milliseconds: 0)

    public static func < (a: EngineDuration, b: EngineDuration) -> Bool { a.milliseconds < b.milliseconds }
    public var description: String { "\(milliseconds)ms" }
}

/// A typed integer id: a repository's and a move's ids cannot be mixed up.
public struct Identifier<Tag: IdentifierTag>: Hashable, Comparable, SingleValueCodable, Sendable, CustomStringConvertible {
    public var value: Int64
    @usableFromInline var rawValue: Int64 { value }
    init(rawValue: Int64) { value = rawValue }
    public init(_ value: Int64) { self.value = value }
    public static func < (a: Self, b: Self) -> Bool { a.value < b.value }
    public var description: String { "\(Tag.noun) \(value)" }
}

public protocol IdentifierTag: Sendable { static var noun: String { get } }

public enum RepositoryTag: IdentifierTag { public static let noun = "repository" }
public enum MoveTag: IdentifierTag { public static let noun = "move" }

/// A repository (GitLab container: project, wiki, snippet or design repository) by its id.
public typealias RepositoryID = Identifier<RepositoryTag>
/// A repository storage move, by the id GitLab gave it.
public typealias MoveID = Identifier<MoveTag>

/// A GitLab storage name (`repository_storage`, e.g. `nfs-file01`, `default`).
public struct StorageName: Hashable, Comparable, SingleValueCodable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    public var name: String
    var rawValue: String { name }
    init(rawValue: String) { name = rawValue }
    public init(_ name: String) { self.name = name }
    public init(stringLiteral name: String) { self.name = name }
    public static func < (a: StorageName, b: StorageName) -> Bool { a.name < b.name }
    public var description: String { name }
}

/// Typed ids and times are written as their bare value (`42`, `"nfs-01"`), not as objects: the
/// journal's and the plan's JSON stay small and readable.
protocol SingleValueCodable: Codable {
    associatedtype RawValue: Codable
    var rawValue: RawValue { get }
    init(rawValue: RawValue)
}

extension SingleValueCodable {
    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(RawValue.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
