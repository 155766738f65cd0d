/// A repository's id as GitLab numbers it (a project, wiki, snippet or design repository's
/// container id). Typed so that it cannot be confused with a row number or a storage index.
public struct RepositoryID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: Int64
    public init(_ rawValue: Int64) { self.rawValue = rawValue }
    public static func < (a: RepositoryID, b: RepositoryID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { String(rawValue) }
}

/// The kinds of repository GitLab moves between storages: a project's repository, its wiki,
/// a snippet, and a project's design repository (PRAEFECT.md §8: a project move carries its
/// wiki and design repositories; gitalyctl drains group wikis, snippets and projects in turn).
public enum RepositoryKind: UInt8, CaseIterable, Sendable {
    case project
    case wiki
    case snippet
    case design

    public var name: String {
        switch self {
        case .project: return "project"
        case .wiki: return "wiki"
        case .snippet: return "snippet"
        case .design: return "design"
        }
    }

    public init?(name: String) {
        guard let k = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = k
    }
}

/// An interned storage name: an index into an inventory's `StorageNames`.
public struct StorageIndex: Hashable, Comparable, Sendable {
    public var rawValue: UInt16
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }
    public static func < (a: StorageIndex, b: StorageIndex) -> Bool { a.rawValue < b.rawValue }
}

/// Storage names interned once, so a million rows carry two bytes each instead of a string.
public struct StorageNames: Sendable {
    public private(set) var names: [String] = []
    private var index: [String: StorageIndex] = [:]

    public init() {}
    public init(_ names: [String]) { for n in names { _ = intern(n) } }

    public var count: Int { names.count }

    public subscript(_ i: StorageIndex) -> String { names[Int(i.rawValue)] }

    public func lookup(_ name: String) -> StorageIndex? { index[name] }

    /// The index of `name`, adding it when new. At most 65,536 storages: GitLab.com runs about a
    /// hundred (PRAEFECT.md §10, shards up to `nfs-file110`).
    public mutating func intern(_ name: String) -> StorageIndex {
        if let i = index[name] { return i }
        precondition(names.count < Int(UInt16.max), "more than 65,535 storage names")
        let i = StorageIndex(UInt16(names.count))
        names.append(name)
        index[name] = i
        return i
    }
}
