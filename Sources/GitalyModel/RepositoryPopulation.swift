import SimKernel
import SpecFiles

/// Repositories placed from an inventory (`Experiments.MigrationSetup`), one row each, in
/// columns: the paths' bytes in one buffer (the inventory's own, shared, not copied), each
/// row's storage as an index into a list of names, and its size. Ten million `RepositorySpec`s
/// with a heap string each cost about 190 bytes a repository, held by every fleet for the
/// whole run; these cost about 40. A row has the default parts (`RepositoryParts()`) and its
/// replicas are chosen at creation, as for a `RepositorySpec` that names none.
public struct RepositoryPopulation: Sendable, Equatable {
    public let paths: PathList
    /// The storage names the rows refer to (a virtual storage name, or a storage name of a
    /// plain fleet).
    public let storageNames: [String]
    /// Each row's storage, an index into `storageNames`, in the layout's order.
    public private(set) var storages: [Int32]
    /// Each row's size, in the layout's order.
    public private(set) var sizeBytes: [Double]
    /// The order the world lays the rows out in: its repository `start + i` (`start`, the
    /// repositories placed by hand before them) is row `layout[i]`, with `storages[i]` and
    /// `sizeBytes[i]`; empty: row i. The rows' own order stays their places
    /// (`World.place(of:)`), by which traffic names them and their draws are keyed, so a
    /// layout changes where each repository's state lies in memory, not what happens to it.
    public private(set) var layout: [Int32] = []
    /// Each row's position in `layout` (empty with it).
    public private(set) var positionInLayout: [Int32] = []
    /// Names the population's file in build errors.
    public var source = SourceLine(path: "repositories")

    /// Row i: `paths[i]` on `storageNames[storages[i]]`, of `sizeBytes[i]`.
    public init(paths: PathList, storageNames: [String], storages: [Int32], sizeBytes: [Double]) {
        precondition(storages.count == paths.count && sizeBytes.count == paths.count, "\(paths.count) paths, \(storages.count) storages, \(sizeBytes.count) sizes")
        precondition(storages.allSatisfy { $0 >= 0 && Int($0) < storageNames.count }, "a storage index outside the \(storageNames.count) names")
        self.paths = paths
        self.storageNames = storageNames
        self.storages = storages
        self.sizeBytes = sizeBytes
    }

    public var count: Int { storages.count }

    /// These rows laid out in `order` (a permutation of the rows), given each row's position
    /// in it and the rows' storages and sizes in its order: the caller has them at hand in
    /// order, where working them out here would read each row out of order. A migration's
    /// world lays its repositories out in the order the plan moves them, so the drain walks
    /// each table of per-repository state from one end to the other instead of missing the
    /// cache at every step.
    public func laidOut(in order: [Int32], positions: [Int32], storages laidStorages: [Int32], sizeBytes laidSizes: [Double]) -> RepositoryPopulation {
        precondition(layout.isEmpty, "a population is laid out once")
        precondition(order.count == count && positions.count == count && laidStorages.count == count && laidSizes.count == count,
                     "a layout of \(order.count) rows, \(positions.count) positions, \(laidStorages.count) storages and \(laidSizes.count) sizes for \(count)")
        // Debug builds (the tests) check all of it against the rows it stands for.
        assert(order.indices.allSatisfy { i in
            let row = Int(order[i])
            return row >= 0 && row < count && positions[row] == Int32(i) && storages[row] == laidStorages[i] && sizeBytes[row] == laidSizes[i]
        }, "the layout is not a permutation of the rows, or its positions, storages or sizes are not theirs")
        var copy = self
        copy.layout = order
        copy.positionInLayout = positions
        copy.storages = laidStorages
        copy.sizeBytes = laidSizes
        return copy
    }

    /// Row `row`'s storage (its position's, under a layout).
    @inline(__always) public func storage(ofRow row: Int) -> Int32 {
        positionInLayout.isEmpty ? storages[row] : storages[Int(positionInLayout[row])]
    }

    /// The first row whose path an earlier row has, with that row: nil when every path is
    /// distinct. A hash of each path's bytes stands for it, so no string is made for the
    /// ten million that differ; paths whose hashes collide are compared as strings. `hash`
    /// is for tests, which make every path collide.
    public func firstRepeatedPath(hash: (ArraySlice<UInt8>) -> Int = Self.hash) -> (row: Int, earlier: Int)? {
        // The first row of each hash, in an open-addressing table probed linearly from the
        // hash's top bits (a Dictionary would hash the hash again: a tenth of the set-up of a
        // ten-million-repository run). A slot holds its row + 1; 0 is empty.
        var bits = 4
        while (1 << bits) < 2 * max(1, count) { bits += 1 }
        let mask = (1 << bits) - 1
        var firstRows = [Int32](repeating: 0, count: 1 << bits)
        var hashes = [Int](repeating: 0, count: 1 << bits)
        var collided: [String: Int] = [:]
        for row in 0..<count {
            let bytes = paths.bytes(row)
            let h = hash(bytes)
            var i = Int(truncatingIfNeeded: (UInt64(bitPattern: Int64(h)) &* 0x9E37_79B9_7F4A_7C15) >> UInt64(64 - bits))
            while firstRows[i] != 0 && hashes[i] != h { i = (i + 1) & mask }
            guard firstRows[i] != 0 else {
                firstRows[i] = Int32(row + 1)
                hashes[i] = h
                continue
            }
            let first = Int(firstRows[i]) - 1
            if paths.bytes(first).elementsEqual(bytes) { return (row, first) }
            // Two paths with one hash: from here on, paths of that hash are told apart by name.
            if collided[paths[first]] == nil { collided[paths[first]] = first }
            if let seen = collided[paths[row]] { return (row, seen) }
            collided[paths[row]] = row
        }
        return nil
    }

    public static func hash(_ bytes: ArraySlice<UInt8>) -> Int {
        var hasher = Hasher()
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
        return hasher.finalize()
    }
}
