/// How an RPC touches its repository, from the `op_type` option on each Gitaly proto method.
///
/// It decides how Praefect routes the call (GITALY_LOGS.md §3, from `internal/praefect/coordinator.go`):
/// an accessor goes to one up-to-date replica, a mutator to the primary and its secondaries
/// through a transaction, a maintenance call to every replica.
public enum OperationType: UInt8, Sendable, Codable, CaseIterable, Comparable {
    /// No op type known: Praefect-intercepted services (ServerService, PraefectInfoService,
    /// RefTransaction) carry none, and a method missing from the table is left unknown.
    case unknown = 0
    case accessor = 1
    case mutator = 2
    case maintenance = 3

    public var name: String {
        switch self {
        case .unknown: "unknown"
        case .accessor: "accessor"
        case .mutator: "mutator"
        case .maintenance: "maintenance"
        }
    }

    public init?(name: String) {
        switch name.lowercased() {
        case "accessor": self = .accessor
        case "mutator": self = .mutator
        case "maintenance": self = .maintenance
        case "unknown", "": self = .unknown
        default: return nil
        }
    }

    public static func < (a: OperationType, b: OperationType) -> Bool { a.rawValue < b.rawValue }

    /// Written by name (`accessor`), as the logs and profiles spell it.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(name)
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let op = OperationType(name: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\"\(text)\" is not accessor, mutator or maintenance"))
        }
        self = op
    }

    /// The op type of a method by its bare name (`FindCommit`), or `.unknown`.
    ///
    /// Method names are unique across Gitaly's services, so the bare name suffices.
    public static func of(method: String) -> OperationType {
        table[method] ?? .unknown
    }

    /// The proto table: `option (op_type)` of every method in Gitaly's `proto/*.proto`
    /// (snapshot of January 2024, v16.8, summarised in GITALY_LOGS.md §3), plus the methods of
    /// versions up to about 15.x that have since been removed (GarbageCollect, RepackFull,
    /// RepackIncremental, Cleanup, WriteCommitGraph and MidxRepack were MAINTENANCE;
    /// PostUploadPack was an ACCESSOR), so that older logs classify too.
    static let table: [String: OperationType] = {
        var t: [String: OperationType] = [:]
        let accessors = [
            // BlobService
            "GetBlob", "GetBlobs", "ListBlobs", "ListAllBlobs", "GetLFSPointers", "ListLFSPointers",
            "ListAllLFSPointers", "GetNewLFSPointers", "GetAllLFSPointers",
            // CommitService
            "ListCommits", "ListAllCommits", "CommitIsAncestor", "TreeEntry", "CountCommits",
            "CountDivergingCommits", "GetTreeEntries", "ListFiles", "FindCommit", "CommitStats",
            "FindAllCommits", "FindCommits", "CommitLanguages", "RawBlame", "LastCommitForPath",
            "ListLastCommitsForTree", "CommitsByMessage", "ListCommitsByOid", "ListCommitsByRefName",
            "FilterShasWithSignatures", "GetCommitSignatures", "GetCommitMessages", "CheckObjectsExist",
            "FindCommitsByRef",
            // ConflictsService
            "ListConflictFiles",
            // DiffService
            "CommitDiff", "CommitDelta", "RawDiff", "RawPatch", "DiffStats", "FindChangedPaths",
            "GetPatchID", "RawRangeDiff", "RangeDiff", "DiffBlobs",
            // HookService: hooks run during a push or fetch but only read the repository.
            "PreReceiveHook", "PostReceiveHook", "UpdateHook", "ReferenceTransactionHook",
            "PackObjectsHookWithSidechannel", "PackObjectsHook", "ProcReceiveHook",
            // InternalGitaly
            "WalkRepos",
            // ObjectPoolService
            "GetObjectPool",
            // RefService
            "FindDefaultBranchName", "FindLocalBranches", "FindAllBranches", "FindAllTags", "FindTag",
            "FindAllRemoteBranches", "RefExists", "FindBranch", "ListBranchNamesContainingCommit",
            "ListTagNamesContainingCommit", "GetTagSignatures", "GetTagMessages", "ListRefs",
            "FindRefsByOID", "FindAllBranchNames", "FindAllTagNames", "FindRefName",
            // RemoteService
            "UpdateRemoteMirror", "FindRemoteRepository", "FindRemoteRootRef",
            // RepositoryService
            "RepositoryExists", "RepositorySize", "RepositoryInfo", "ObjectsSize", "ObjectFormat",
            "GetArchive", "HasLocalBranches", "Fsck", "FindMergeBase", "CreateBundle",
            "CreateBundleFromRefList", "GetConfig", "FindLicense", "GetInfoAttributes",
            "CalculateChecksum", "GetSnapshot", "GetRawChanges", "SearchFilesByContent",
            "SearchFilesByName", "BackupCustomHooks", "GetCustomHooks", "GetObjectDirectorySize",
            "FullPath", "BackupRepository", "GetFileAttributes", "IsRebaseInProgress",
            "IsSquashInProgress",
            // SmartHTTPService
            "InfoRefsUploadPack", "InfoRefsReceivePack", "PostUploadPackWithSidechannel", "PostUploadPack",
            // SSHService
            "SSHUploadPack", "SSHUploadPackWithSidechannel", "SSHUploadArchive",
        ]
        let mutators = [
            // CleanupService
            "ApplyBfgObjectMapStream", "RewriteHistory",
            // ConflictsService
            "ResolveConflicts",
            // ObjectPoolService
            "CreateObjectPool", "DeleteObjectPool", "LinkRepositoryToObjectPool",
            "DisconnectGitAlternates", "FetchIntoObjectPool", "ReduplicateRepository",
            // OperationService
            "UserCreateBranch", "UserUpdateBranch", "UserDeleteBranch", "UserCreateTag", "UserDeleteTag",
            "UserMergeToRef", "UserRebaseToRef", "UserMergeBranch", "UserFFBranch", "UserCherryPick",
            "UserCommitFiles", "UserRebaseConfirmable", "UserRevert", "UserSquash", "UserApplyPatch",
            "UserUpdateSubmodule",
            // RefService
            "UpdateReferences", "DeleteRefs", "PackRefs",
            // RepositoryService
            "FetchRemote", "CreateRepository", "FetchSourceBranch", "WriteRef", "CreateFork",
            "CreateRepositoryFromURL", "FetchBundle", "CreateRepositoryFromBundle",
            "CreateRepositoryFromSnapshot", "RestoreCustomHooks", "SetCustomHooks", "RemoveRepository",
            "ReplicateRepository", "SetFullPath", "RemoveAll", "RestoreRepository", "RenameRepository",
            // SmartHTTPService, SSHService: pushes.
            "PostReceivePack", "SSHReceivePack",
        ]
        let maintenance = [
            "OptimizeRepository", "PruneUnreachableObjects",
            // Removed after 15.x; MAINTENANCE while they existed.
            "GarbageCollect", "RepackFull", "RepackIncremental", "Cleanup", "WriteCommitGraph", "MidxRepack",
        ]
        for m in accessors { t[m] = .accessor }
        for m in mutators { t[m] = .mutator }
        for m in maintenance { t[m] = .maintenance }
        return t
    }()
}
