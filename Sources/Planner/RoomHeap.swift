/// A max-heap of destinations by room below their fill limit, for worst-fit packing in
/// O(log destinations) a unit. Lazy: a changed destination is pushed again and stale entries
/// (room no longer current) are dropped when they reach the top. Ties go to the lower index,
/// so the order never depends on anything but the inputs.
struct RoomHeap {
    private var entries: [(room: Int64, storage: Int32)] = []

    init(_ rooms: [Int64], storages: [Int]) {
        for s in storages { push(room: rooms[s], storage: s) }
    }

    private static func above(_ a: (room: Int64, storage: Int32), _ b: (room: Int64, storage: Int32)) -> Bool {
        a.room != b.room ? a.room > b.room : a.storage < b.storage
    }

    mutating func push(room: Int64, storage: Int) {
        entries.append((room, Int32(storage)))
        var i = entries.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard Self.above(entries[i], entries[parent]) else { break }
            entries.swapAt(i, parent)
            i = parent
        }
    }

    /// The roomiest destination whose entry is current, or nil when the heap is empty.
    mutating func top(current rooms: [Int64]) -> (room: Int64, storage: Int)? {
        while let first = entries.first {
            if rooms[Int(first.storage)] == first.room { return (first.room, Int(first.storage)) }
            popTop()
        }
        return nil
    }

    mutating func popTop() {
        let last = entries.removeLast()
        guard !entries.isEmpty else { return }
        entries[0] = last
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var best = i
            if l < entries.count, Self.above(entries[l], entries[best]) { best = l }
            if r < entries.count, Self.above(entries[r], entries[best]) { best = r }
            if best == i { return }
            entries.swapAt(i, best)
            i = best
        }
    }
}
