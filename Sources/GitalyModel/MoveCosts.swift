import SimKernel

/// The repositories a project move copies besides the project's own, and the size of its refs
/// (gitlab `app/services/projects/update_repository_storage_service.rb`: `mirror_repositories`
/// copies the project, wiki and design repositories that exist, then `mirror_object_pool`
/// copies the fork network's object pool when the destination has none).
public struct RepositoryParts: Hashable, Sendable {
    /// 0 when the project has no wiki repository.
    public var wikiBytes: Double
    /// 0 when the project has no design repository.
    public var designBytes: Double
    /// The object pool the project borrows from; 0 when it is in no fork network. The pool is
    /// shared by the network's forks, so it is not counted on the source's storage and is never
    /// removed from it; a move copies it as if the destination had no copy yet (the first fork
    /// of its network to move there).
    public var poolBytes: Double
    /// Refs of the project repository (and of its pool): `CalculateChecksum` walks them all.
    public var refs: Int

    public init(wikiBytes: Double = 0, designBytes: Double = 0, poolBytes: Double = 0, refs: Int = 1_000) {
        self.wikiBytes = wikiBytes
        self.designBytes = designBytes
        self.poolBytes = poolBytes
        self.refs = refs
    }
}

/// One repository a move copies, in the order Rails copies them.
enum MovePart: Int, Sendable {
    case project, wiki, design, pool

    /// The type name in Rails' failure messages (`Gitlab::GlRepository` type names).
    var name: String {
        switch self {
        case .project: return "project"
        case .wiki: return "wiki"
        case .design: return "design"
        case .pool: return "object_pool"
        }
    }
}

/// What a move costs besides its bytes: the time to compute checksums and to remove the source.
enum MoveCosts {
    /// `CalculateChecksum` on one side, for a repository with no refs. ASSUMED (no published
    /// figure; fit to `grpc_server_handling_seconds{grpc_method="CalculateChecksum"}`).
    public static let checksumBaseSeconds = 0.05
    /// Per ref: Gitaly's `CalculateChecksum` lists every ref and hashes each line
    /// (gitaly `internal/git/checksum.go`), so its time grows linearly with the refs.
    /// ASSUMED 10 µs per ref (fit as above).
    public static let checksumSecondsPerRef = 10e-6
    /// `RemoveRepository` of the source repositories. ASSUMED.
    public static let cleanupSeconds = 1.0

    /// `ReplicateService` compares the destination's checksum, then the source's: two
    /// `CalculateChecksum` calls one after the other. Wikis and design repositories have few
    /// refs (ASSUMED: none counted).
    static func checksumSeconds(_ part: MovePart, _ parts: RepositoryParts) -> Double {
        switch part {
        case .project, .pool: return 2 * (checksumBaseSeconds + Double(parts.refs) * checksumSecondsPerRef)
        case .wiki, .design: return 2 * checksumBaseSeconds
        }
    }
}

extension GitLabSpec {
    /// `MoveCosts.checksumSeconds` with this model's checksum costs.
    func checksumSeconds(_ part: MovePart, _ parts: RepositoryParts) -> Double {
        switch part {
        case .project, .pool: return 2 * (checksumBaseSeconds + Double(parts.refs) * checksumSecondsPerRef)
        case .wiki, .design: return 2 * checksumBaseSeconds
        }
    }
}
