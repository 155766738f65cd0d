/// Identifiers to their positions in a list, built once. Ids that lie close together (a span
/// at most `directSpan` times their count: an inventory's or a plan's ids, whatever their
/// order) index a plain table of positions by id minus the smallest, 4 bytes a slot and no
/// probing. Others go in an open-addressing table of the 64-bit ids and 32-bit positions,
/// probed linearly from a multiplicative hash. A fleet's repositories are looked up by id on
/// every answer the engine and its drivers handle; Swift's `Dictionary` hashes each key with a
/// freshly seeded SipHash (a tenth of a GitLab.com-size run's time went there), and the hashed
/// table costs 12 bytes a slot at a load of at most a half.
public struct IdentifierIndex<Tag: IdentifierTag>: Sendable {
    /// Hashed: the ids by slot; direct: empty.
    @usableFromInline var keys: [Int64]
    @usableFromInline var positions: [Int32]
    @usableFromInline let shift: Int
    /// Direct: the smallest id, which `positions[0]` is for.
    @usableFromInline let base: Int64
    public var count: Int { filled }
    @usableFromInline var filled = 0
    /// Positions fit in 32 bits (inventories are capped far below).
    public static var capacity: Int { Int(Int32.max) }
    @usableFromInline static var empty: Int32 { -1 }
    /// The widest span of ids, as a multiple of their count, indexed directly: at 3 its table
    /// costs at most what the hashed one costs at best.
    @usableFromInline static var directSpan: Int64 { 3 }

    @inlinable var isDirect: Bool { keys.isEmpty && !positions.isEmpty }

    /// The index of `ids`, the i-th id at position i; nil and the first repeated id when one
    /// appears twice.
    ///
    /// Inlinable, so a caller in another module gets it specialized for its collection: the
    /// generic loop, witness calls per id, was a twentieth of a ten-million set-up.
    @inlinable
    public init(_ ids: some Collection<Identifier<Tag>>) throws(Repeated) {
        precondition(ids.count < Self.capacity, "at most \(Self.capacity) identifiers")
        var low = Int64.max, high = Int64.min
        for id in ids { low = min(low, id.rawValue); high = max(high, id.rawValue) }
        // Ids at both ends of Int64 overflow the span: those are hashed.
        let (gap, overflow) = high.subtractingReportingOverflow(low)
        if !ids.isEmpty, !overflow, gap < Self.directSpan * Int64(ids.count) {
            keys = []
            positions = [Int32](repeating: Self.empty, count: Int(gap) + 1)
            shift = 0
            base = low
        } else {
            var bits = 4
            while (1 << bits) < 2 * max(1, ids.count) { bits += 1 }
            keys = [Int64](repeating: 0, count: 1 << bits)
            positions = [Int32](repeating: Self.empty, count: 1 << bits)
            shift = 64 - bits
            base = 0
        }
        for (i, id) in ids.enumerated() {
            guard insert(id, at: Int32(i)) else { throw Repeated(id: id) }
        }
    }

    public struct Repeated: Error, Sendable {
        public let id: Identifier<Tag>
        @usableFromInline init(id: Identifier<Tag>) { self.id = id }
    }

    @inlinable @inline(__always) func slot(of key: Int64) -> Int {
        Int(truncatingIfNeeded: (UInt64(bitPattern: key) &* 0x9E37_79B9_7F4A_7C15) >> UInt64(shift))
    }

    /// Adds `id` at `position`; false when it is already there.
    @inlinable mutating func insert(_ id: Identifier<Tag>, at position: Int32) -> Bool {
        if isDirect {
            let s = Int(id.rawValue - base)
            guard positions[s] == Self.empty else { return false }
            positions[s] = position
            filled += 1
            return true
        }
        let mask = keys.count - 1
        var s = slot(of: id.rawValue)
        while positions[s] != Self.empty {
            if keys[s] == id.rawValue { return false }
            s = (s + 1) & mask
        }
        keys[s] = id.rawValue
        positions[s] = position
        filled += 1
        return true
    }

    @inlinable public subscript(_ id: Identifier<Tag>) -> Int? {
        if isDirect {
            // An id whose distance from the base overflows is far outside the table.
            let (offset, overflow) = id.rawValue.subtractingReportingOverflow(base)
            guard !overflow, offset >= 0, offset < Int64(positions.count) else { return nil }
            let p = positions[Int(offset)]
            return p == Self.empty ? nil : Int(p)
        }
        let mask = keys.count - 1
        var s = slot(of: id.rawValue)
        while positions[s] != Self.empty {
            if keys[s] == id.rawValue { return Int(positions[s]) }
            s = (s + 1) & mask
        }
        return nil
    }
}

/// The positions of the identifiers last asked about, in a small table direct-mapped by id. An
/// answer names the repository the engine asked about a moment before; found here, its position
/// costs no cache miss in `IdentifierIndex`'s table, which is laid out by id and so read at
/// random (the engine's misses there were 3% of a GitLab.com-size drain). A hit is exact: a
/// position, once noted, never changes.
struct RecentPositions: Sendable {
    /// Above the requests a drain has out at once (GitLab.com's runs 220 moves at a time), and
    /// 12 KiB: it stays in the processor's cache.
    static var slots: Int { 1024 }
    var ids = [Int64](repeating: 0, count: slots)
    var positions = [Int32](repeating: -1, count: slots)

    @inline(__always) func slot(_ id: Int64) -> Int { Int(truncatingIfNeeded: UInt64(bitPattern: id) & UInt64(Self.slots - 1)) }

    mutating func note<Tag>(_ id: Identifier<Tag>, at position: Int) {
        let s = slot(id.rawValue)
        ids[s] = id.rawValue
        positions[s] = Int32(position)
    }

    func position<Tag>(of id: Identifier<Tag>) -> Int? {
        let s = slot(id.rawValue)
        return positions[s] >= 0 && ids[s] == id.rawValue ? Int(positions[s]) : nil
    }
}
