import SimKernel
import SpecFiles

/// Builds an `Inventory` row by row and checks it whole: every reader and the generator go
/// through it, so the invariants hold whatever the source. Each row carries the line it came
/// from so a problem found late (a fork root that does not exist) still names its line.
public struct InventoryBuilder {
    public let file: String
    /// When given, a row naming another storage is an error (the fleet has no such storage).
    public let knownStorages: Set<String>?
    private var inventory = Inventory()
    /// The last row's storage, checked and interned: a scan lists one storage's repositories
    /// after another, so most of its rows need no hashing of their storage's name.
    private var lastStorage: (name: String, index: StorageIndex)?
    private var pendingRoots: [(row: Int32, root: RepositoryID, line: Int?)] = []
    /// The rows `reserve` was told of: the id table takes them at once if ids leave their order.
    private var reserved = 0

    /// The interned index of each of `knownStorages`, in their order (`add(generated:)`).
    private var knownIndices: [StorageIndex] = []

    public init(file: String, knownStorages: [String]? = nil) {
        self.file = file
        self.knownStorages = knownStorages.map(Set.init)
        if let known = knownStorages {
            // Intern the fleet's names first, in the fleet's order, so indices are stable.
            knownIndices = known.map { inventory.storageNames.intern($0) }
        }
    }

    /// Room for `n` rows, and `pathBytes` of paths (24 a row when not given; 0 when the paths
    /// come whole to `finish(paths:)`).
    public mutating func reserve(_ n: Int, pathBytes: Int? = nil) {
        inventory.ids.reserveCapacity(n)
        inventory.kinds.reserveCapacity(n)
        inventory.storages.reserveCapacity(n)
        inventory.sizeBytes.reserveCapacity(n)
        inventory.forkRootRows.reserveCapacity(n)
        inventory.readsPerDay.reserveCapacity(n)
        inventory.writesPerDay.reserveCapacity(n)
        if pathBytes != 0 { inventory.paths.reserveCapacity(n, bytes: pathBytes ?? n * 24) }
        reserved = n
    }

    func fail(_ line: Int?, _ field: String, _ message: String) -> SpecError {
        SpecError(file: file, line: line, field: field, message: message)
    }

    /// Adds one row; `line` is where it came from (nil for generated rows).
    public mutating func add(_ e: InventoryEntry, line: Int?) throws {
        try checkID(e.id, line: line)
        guard !e.path.isEmpty else { throw fail(line, "path", "the path is empty") }
        guard !e.path.utf8.contains(UInt8(ascii: "\n")) else { throw fail(line, "path", "a path has no line breaks") }
        try checkFigures(sizeBytes: e.sizeBytes, readsPerDay: e.readsPerDay, writesPerDay: e.writesPerDay, line: line)
        guard !e.storage.isEmpty else { throw fail(line, "storage", "the storage is empty") }
        let sameStorage = lastStorage?.name == e.storage
        if !sameStorage, let known = knownStorages, !known.contains(e.storage) {
            throw fail(line, "storage", "unknown storage \"\(e.storage)\"; the fleet has \(SpecError.someNames(Array(inventory.storageNames.names.prefix(known.count))))")
        }
        if !sameStorage { lastStorage = (e.storage, inventory.storageNames.intern(e.storage)) }
        try append(id: e.id, kind: e.kind, storage: lastStorage!.index, sizeBytes: e.sizeBytes, readsPerDay: e.readsPerDay,
                   writesPerDay: e.writesPerDay, forkRoot: e.forkRoot, line: line)
        inventory.paths.append(e.path)
    }

    /// Adds one generated row but its path: its storage as a position in `knownStorages`, so a
    /// generator of millions of rows hashes no storage name (half of generating ten million).
    /// The paths come whole to `finish(paths:)`, drawn up beside the rows. The same checks as
    /// `add`.
    public mutating func add(generated id: RepositoryID, kind: RepositoryKind, knownStorage: Int, sizeBytes: Int64,
                             forkRoot: RepositoryID?, readsPerDay: Double, writesPerDay: Double) throws {
        precondition(knownIndices.indices.contains(knownStorage), "storage \(knownStorage) of \(knownIndices.count) known")
        try checkID(id, line: nil)
        try checkFigures(sizeBytes: sizeBytes, readsPerDay: readsPerDay, writesPerDay: writesPerDay, line: nil)
        try append(id: id, kind: kind, storage: knownIndices[knownStorage], sizeBytes: sizeBytes, readsPerDay: readsPerDay,
                   writesPerDay: writesPerDay, forkRoot: forkRoot, line: nil)
    }

    /// `finish` for rows added with `add(generated:)`: `paths` are theirs, in their order,
    /// checked as `add` checks a row's.
    public mutating func finish(paths: PathList) throws -> Inventory {
        precondition(paths.count == inventory.ids.count, "\(paths.count) paths for \(inventory.ids.count) rows")
        if let row = paths.firstEmpty { throw fail(nil, "path", "the path of repository \(inventory.ids[row]) is empty") }
        if let row = paths.firstHolding(UInt8(ascii: "\n")) {
            throw fail(nil, "path", "a path has no line breaks; repository \(inventory.ids[row])'s has one")
        }
        inventory.paths = paths
        return try finish()
    }

    private func checkID(_ id: RepositoryID, line: Int?) throws {
        guard id.rawValue >= 1 else { throw fail(line, "id", "a repository id is a whole number of at least 1, got \(id)") }
    }

    private func checkFigures(sizeBytes: Int64, readsPerDay: Double, writesPerDay: Double, line: Int?) throws {
        guard sizeBytes >= 0 else { throw fail(line, "size_bytes", "a size is at least 0 bytes, got \(sizeBytes)") }
        guard readsPerDay.isFinite, readsPerDay >= 0 else { throw fail(line, "reads_per_day", "a rate is a number of at least 0, got \(readsPerDay)") }
        guard writesPerDay.isFinite, writesPerDay >= 0 else { throw fail(line, "writes_per_day", "a rate is a number of at least 0, got \(writesPerDay)") }
    }

    /// Every column but the path: the id checked for repeats, the fork root kept for `finish`.
    private mutating func append(id: RepositoryID, kind: RepositoryKind, storage: StorageIndex, sizeBytes: Int64, readsPerDay: Double,
                                 writesPerDay: Double, forkRoot: RepositoryID?, line: Int?) throws {
        let row = Int32(inventory.ids.count)
        // An id equal to its row plus one is new while every id before it was too.
        if inventory.idsCountRows && id.rawValue != Int64(row) + 1 {
            inventory.rowByID.reserveCapacity(max(reserved, inventory.ids.count + 1))
            for (r, id) in inventory.ids.enumerated() { inventory.rowByID[id] = Int32(r) }
            inventory.idsCountRows = false
        }
        if !inventory.idsCountRows {
            if let first = inventory.rowByID[id] {
                throw fail(line, "id", "duplicate repository id \(id) (first given in row \(first + 1))")
            }
            inventory.rowByID[id] = row
        }
        inventory.ids.append(id)
        inventory.kinds.append(kind)
        inventory.storages.append(storage)
        inventory.sizeBytes.append(sizeBytes)
        inventory.readsPerDay.append(readsPerDay)
        inventory.writesPerDay.append(writesPerDay)
        inventory.forkRootRows.append(-1)
        if let root = forkRoot, root != id { pendingRoots.append((row, root, line)) }
    }

    /// Resolves fork roots and returns the inventory. A root must exist and must not itself be
    /// a fork: GitLab's fork networks have one root project (`fork_networks.root_project_id`).
    public mutating func finish() throws -> Inventory {
        for p in pendingRoots {
            guard let r = inventory.row(of: p.root).map(Int32.init) else {
                throw fail(p.line, "fork_root", "fork root \(p.root) is not a repository of this inventory")
            }
            inventory.forkRootRows[Int(p.row)] = r
        }
        for p in pendingRoots {
            let r = inventory.forkRootRows[Int(p.row)]
            let rootOfRoot = inventory.forkRootRows[Int(r)]
            guard rootOfRoot < 0 else {
                throw fail(p.line, "fork_root", "fork root \(p.root) is itself a fork of \(inventory.ids[Int(rootOfRoot)]); name the network's root")
            }
        }
        pendingRoots = []
        let done = inventory
        inventory = Inventory()
        return done
    }
}
