import SimKernel

/// The repositories a migration considers: id, path, kind, storage, size, fork network and
/// traffic, one row each.
///
/// Kept as parallel arrays (struct of arrays) with interned storage names and one byte buffer
/// for all paths, so a million rows cost about 60 bytes each rather than a heap object per
/// string. Rows keep the order they were read or generated in.
///
/// Invariants (checked by `InventoryBuilder.finish`): ids are unique; every size is at least 0;
/// rates are finite and at least 0; a fork root names a row of this inventory that is not itself
/// a fork, so every network is one root and its direct members.
public struct Inventory: Sendable {
    public internal(set) var ids: [RepositoryID] = []
    public internal(set) var kinds: [RepositoryKind] = []
    public internal(set) var storages: [StorageIndex] = []
    public internal(set) var sizeBytes: [Int64] = []
    /// The row of the fork network's root, or -1 when the repository belongs to no network (or
    /// is a root itself).
    public internal(set) var forkRootRows: [Int32] = []
    public internal(set) var readsPerDay: [Double] = []
    public internal(set) var writesPerDay: [Double] = []
    public internal(set) var storageNames = StorageNames()
    public internal(set) var paths = PathList()
    /// While the ids are 1, 2, 3 … in row order (a generated inventory's), a row is its id less
    /// one and `rowByID` stays empty: at ten million rows the hashed table cost 8 s and a few
    /// hundred MB to build. The first id out of step fills it (`InventoryBuilder.add`).
    var idsCountRows = true
    var rowByID: [RepositoryID: Int32] = [:]

    public init() {}

    public var count: Int { ids.count }

    public func path(_ row: Int) -> String { paths[row] }

    public func row(of id: RepositoryID) -> Int? {
        if idsCountRows { return id.rawValue >= 1 && id.rawValue <= Int64(count) ? Int(id.rawValue - 1) : nil }
        return rowByID[id].map(Int.init)
    }

    /// The row of `row`'s fork-network root, or nil when it belongs to no network or is a root.
    public func forkRootRow(_ row: Int) -> Int? {
        let r = forkRootRows[row]
        return r < 0 ? nil : Int(r)
    }

    public func storageName(_ row: Int) -> String { storageNames[storages[row]] }

    /// One row as a value, for printing and tests.
    public func entry(_ row: Int) -> InventoryEntry {
        InventoryEntry(
            id: ids[row], path: path(row), kind: kinds[row], storage: storageName(row),
            sizeBytes: sizeBytes[row], forkRoot: forkRootRow(row).map { ids[$0] },
            readsPerDay: readsPerDay[row], writesPerDay: writesPerDay[row])
    }

    public var entries: [InventoryEntry] { (0..<count).map(entry) }
}

/// One repository of an inventory, as written in a file.
public struct InventoryEntry: Equatable, Sendable {
    public var id: RepositoryID
    public var path: String
    public var kind: RepositoryKind
    public var storage: String
    public var sizeBytes: Int64
    /// The id of the fork network's root; nil for a root or a repository outside any network.
    public var forkRoot: RepositoryID?
    public var readsPerDay: Double
    public var writesPerDay: Double

    public init(id: RepositoryID, path: String, kind: RepositoryKind, storage: String, sizeBytes: Int64,
                forkRoot: RepositoryID? = nil, readsPerDay: Double = 0, writesPerDay: Double = 0) {
        self.id = id
        self.path = path
        self.kind = kind
        self.storage = storage
        self.sizeBytes = sizeBytes
        self.forkRoot = forkRoot
        self.readsPerDay = readsPerDay
        self.writesPerDay = writesPerDay
    }
}
