/// A point in the driver's time: whole milliseconds since an epoch the driver chooses (Unix time
/// for a real GitLab, the start of the run for the simulator). Integer, so that replaying a
/// journal gives the same comparisons bit for bit (no Double time).
public struct EngineInstant: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public var milliseconds: Int64

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
public struct EngineDuration: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public var milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }
    public static func seconds(_ s: Int64) -> EngineDuration { EngineDuration(milliseconds: s * 1000) }
    public static func minutes(_ m: Int64) -> EngineDuration { .seconds(m * 60) }
    public static func hours(_ h: Int64) -> EngineDuration { .minutes(h * 60) }
    public static let zero = EngineDuration(milliseconds: 0)

    public static func < (a: EngineDuration, b: EngineDuration) -> Bool { a.milliseconds < b.milliseconds }
    public var description: String { "\(milliseconds)ms" }
}

/// A repository (GitLab container: project, wiki, snippet or design repository) by its id.
public struct RepositoryID: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public var value: Int64
    public init(_ value: Int64) { self.value = value }
    public static func < (a: RepositoryID, b: RepositoryID) -> Bool { a.value < b.value }
    public var description: String { "repository \(value)" }
}

/// A repository storage move, by the id GitLab gave it.
public struct MoveID: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public var value: Int64
    public init(_ value: Int64) { self.value = value }
    public static func < (a: MoveID, b: MoveID) -> Bool { a.value < b.value }
    public var description: String { "move \(value)" }
}

/// A GitLab storage name (`repository_storage`, e.g. `nfs-file01`, `default`).
public struct StorageName: Hashable, Comparable, Codable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    public var name: String
    public init(_ name: String) { self.name = name }
    public init(stringLiteral name: String) { self.name = name }
    public static func < (a: StorageName, b: StorageName) -> Bool { a.name < b.name }
    public var description: String { name }
}
