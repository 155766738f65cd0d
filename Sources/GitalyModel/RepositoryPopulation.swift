import SimKernel
import SpecFiles

/// Repositories placed from an inventory (`Experiments.MigrationSetup`), one row each, in
/// columns: the paths' bytes in one buffer, each row's storage as an index into a list of
/// names, and its size. Ten million `RepositorySpec`s with a heap string each cost about 190
/// bytes a repository, held by every fleet for the whole run; these cost about 40. A row has
/// the default parts (`RepositoryParts()`) and its replicas are chosen at creation, as for a
/// `RepositorySpec` that names none.
public struct RepositoryPopulation: Sendable, Equatable {
    public private(set) var paths = PathList()
    /// The storage names the rows refer to (a virtual storage name, or a storage name of a
    /// plain fleet).
    public private(set) var storageNames: [String] = []
    /// Each row's storage, an index into `storageNames`.
    public private(set) var storages: [Int32] = []
    public private(set) var sizeBytes: [Double] = []
    /// Names the population's file in build errors.
    public var source = SourceLine(path: "repositories")

    public init(storageNames: [String]) { self.storageNames = storageNames }

    public var count: Int { storages.count }

    public mutating func reserveCapacity(_ rows: Int, pathBytes: Int) {
        paths.reserveCapacity(rows, bytes: pathBytes)
        storages.reserveCapacity(rows)
        sizeBytes.reserveCapacity(rows)
    }

    /// Adds a row on `storageNames[storage]`.
    public mutating func append<Path: Collection<UInt8>>(pathBytes: Path, storage: Int, sizeBytes size: Double) {
        precondition(storageNames.indices.contains(storage), "storage \(storage) of \(storageNames.count)")
        paths.append(bytes: pathBytes)
        storages.append(Int32(storage))
        sizeBytes.append(size)
    }

    /// The first row whose path an earlier row has, with that row: nil when every path is
    /// distinct. A hash of each path's bytes stands for it, so no string is made for the
    /// ten million that differ; paths whose hashes collide are compared as strings. `hash`
    /// is for tests, which make every path collide.
    public func firstRepeatedPath(hash: (ArraySlice<UInt8>) -> Int = Self.hash) -> (row: Int, earlier: Int)? {
        var firstByHash: [Int: Int32] = [:]
        firstByHash.reserveCapacity(count)
        var collided: [String: Int] = [:]
        for row in 0..<count {
            let bytes = paths.bytes(row)
            let h = hash(bytes)
            guard let first = firstByHash[h].map(Int.init) else { firstByHash[h] = Int32(row); continue }
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
