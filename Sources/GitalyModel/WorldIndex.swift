/// A typed index into one of the world's tables, so that a GitLab storage, a Gitaly storage, a
/// node, a repository and a move cannot be mixed up at the admin door (today a bare `Int` means
/// both a GitLab storage and a Gitaly storage inside the world). The value is the world's
/// integer index; `description` names the object (`move 12`) for error messages.
public struct WorldIndex<Kind: WorldIndexKind>: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var index: Int
    public init(_ index: Int) { self.index = index }
    public static func < (a: Self, b: Self) -> Bool { a.index < b.index }
    public var description: String { "\(Kind.noun) \(index)" }
}

public protocol WorldIndexKind: Sendable { static var noun: String { get } }

public enum RepositoryKindTag: WorldIndexKind { public static let noun = "repository" }
public enum GitLabStorageKindTag: WorldIndexKind { public static let noun = "GitLab storage" }
public enum GitalyStorageKindTag: WorldIndexKind { public static let noun = "Gitaly storage" }
public enum NodeKindTag: WorldIndexKind { public static let noun = "node" }
public enum MoveKindTag: WorldIndexKind { public static let noun = "move" }

/// A repository, by its index in `World.repositories`.
public typealias RepositoryIndex = WorldIndex<RepositoryKindTag>
/// A storage as GitLab sees it (`repository_storage`): a plain Gitaly storage or a Praefect
/// virtual storage, by its index in `Fleet.virtualStorages`.
public typealias GitLabStorageIndex = WorldIndex<GitLabStorageKindTag>
/// One Gitaly storage on one node, by its index in `Fleet.storages`.
public typealias GitalyStorageIndex = WorldIndex<GitalyStorageKindTag>
/// A Gitaly node, by its index in `Fleet.nodes`.
public typealias NodeIndex = WorldIndex<NodeKindTag>
/// A repository storage move, by the id the world gave it (its index in the world's moves).
public typealias MoveIndex = WorldIndex<MoveKindTag>
