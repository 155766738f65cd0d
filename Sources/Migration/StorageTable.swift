/// Storage names and their positions in a list, for the look-ups of a plan's moves: two a move,
/// twenty million at GitLab.com's scale. Swift's `Dictionary` hashes each name with a freshly
/// seeded SipHash, and a set and a dictionary of names were two seconds of an engine's set-up. A
/// plan names a few hundred storages, so an FNV-1a hash of a name's bytes, probed linearly in a
/// table kept at most a quarter full, finds it in one or two comparisons.
struct StorageTable: Sendable {
    /// In the order they were added.
    private(set) var names: [StorageName] = []
    /// Positions in `names` by slot; -1: empty.
    private var slots = [Int32](repeating: -1, count: 16)

    init() {}

    /// The table of `names`, the i-th at position i (a name given twice keeps its first).
    init(_ names: [StorageName]) {
        for name in names { add(name) }
    }

    /// The slot `name` is in, or the empty slot where it would go.
    private func slot(of name: StorageName) -> Int {
        let mask = slots.count - 1
        var s = Int(truncatingIfNeeded: fnv1a(name.name.utf8)) & mask
        while slots[s] >= 0 && names[Int(slots[s])] != name { s = (s + 1) & mask }
        return s
    }

    /// The position of `name`, added last when it is not in the table yet.
    @discardableResult
    mutating func add(_ name: StorageName) -> Int {
        let s = slot(of: name)
        if slots[s] >= 0 { return Int(slots[s]) }
        names.append(name)
        slots[s] = Int32(names.count - 1)
        if names.count * 4 > slots.count { rehash(slots.count * 2) }
        return names.count - 1
    }

    func index(of name: StorageName) -> Int? {
        let s = slot(of: name)
        return slots[s] >= 0 ? Int(slots[s]) : nil
    }

    private mutating func rehash(_ count: Int) {
        slots = [Int32](repeating: -1, count: count)
        for (i, name) in names.enumerated() { slots[slot(of: name)] = Int32(i) }
    }
}

/// The 64-bit FNV-1a hash of `bytes` (http://www.isthe.com/chongo/tech/comp/fnv/): a plan's
/// identity and the storage table's slots. SimKernel has the same function; this module
/// imports no simulator module, so it keeps its own.
func fnv1a(_ bytes: String.UTF8View) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
    return h
}
