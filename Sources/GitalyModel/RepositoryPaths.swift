import SimKernel

/// The world's repository paths, by repository index. A fleet's population keeps its rows'
/// paths in one list, which every replication's world shares as it is (a copy would be
/// hundreds of megabytes a replication at GitLab.com's scale); the repositories placed before
/// it and those created later go in a list of the world's own.
public struct RepositoryPaths: RandomAccessCollection, Sendable {
    private var own = PathList()
    private var shared = PathList()
    /// The repository index of the shared list's first row.
    private var sharedStart = 0
    /// The shared row of each repository from `sharedStart` on (empty: in the list's order).
    private var layout: [Int32] = []

    public init() {}

    public var startIndex: Int { 0 }
    public var endIndex: Int { own.count + shared.count }

    public subscript(i: Int) -> String { String(decoding: bytes(i), as: UTF8.self) }

    /// The UTF-8 bytes of repository `i`'s path.
    public func bytes(_ i: Int) -> ArraySlice<UInt8> {
        if i < sharedStart { return own.bytes(i) }
        if i < sharedStart + shared.count { return shared.bytes(layout.isEmpty ? i - sharedStart : Int(layout[i - sharedStart])) }
        return own.bytes(i - shared.count)
    }

    mutating func append<Bytes: Collection<UInt8>>(bytes: Bytes) { own.append(bytes: bytes) }

    /// The next `list.count` repositories' paths are `list`'s, shared: the i-th of them has
    /// row `layout[i]`'s (row i's when `layout` is empty).
    mutating func share(_ list: PathList, layout: [Int32] = []) {
        precondition(shared.isEmpty, "one shared list of paths")
        precondition(layout.isEmpty || layout.count == list.count, "a layout of \(layout.count) rows for \(list.count) paths")
        sharedStart = own.count
        shared = list
        self.layout = layout
    }

    mutating func reserveCapacity(_ count: Int, bytes: Int) { own.reserveCapacity(count, bytes: bytes) }
}
