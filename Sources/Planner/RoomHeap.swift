/// A max-heap of destinations by room below their fill limit, for worst-fit packing in
/// O(log destinations) a unit. Each destination is in it once, where it sits kept beside it,
/// so a destination whose room shrinks sinks from where it is (a lazy heap pushed it again and
/// dropped stale entries at the top: twice the work a unit). Ties go to the lower index, so the
/// order never depends on anything but the inputs.
struct RoomHeap {
    private var entries: [(room: Int64, storage: Int32)] = []
    /// Each storage's entry, or -1 when it is no destination here.
    private var positions: [Int32]

    init(_ rooms: [Int64], storages: [Int]) {
        positions = [Int32](repeating: -1, count: rooms.count)
        for s in storages where positions[s] < 0 {
            entries.append((rooms[s], Int32(s)))
            positions[s] = Int32(entries.count - 1)
            rise(entries.count - 1)
        }
    }

    private static func above(_ a: (room: Int64, storage: Int32), _ b: (room: Int64, storage: Int32)) -> Bool {
        a.room != b.room ? a.room > b.room : a.storage < b.storage
    }

    /// The roomiest destination, or nil when there is none.
    var top: (room: Int64, storage: Int)? { entries.first.map { ($0.room, Int($0.storage)) } }

    /// `storage`'s room is now `room`, no more than it was.
    mutating func shrink(_ storage: Int, to room: Int64) {
        let i = Int(positions[storage])
        precondition(i >= 0 && room <= entries[i].room, "storage \(storage) is a destination whose room shrinks")
        entries[i].room = room
        sink(i)
    }

    private mutating func place(_ i: Int) { positions[Int(entries[i].storage)] = Int32(i) }

    private mutating func rise(_ start: Int) {
        var i = start
        while i > 0 {
            let parent = (i - 1) / 2
            guard Self.above(entries[i], entries[parent]) else { break }
            entries.swapAt(i, parent)
            place(i); place(parent)
            i = parent
        }
    }

    private mutating func sink(_ start: Int) {
        var i = start
        while true {
            let l = 2 * i + 1, r = l + 1
            var best = i
            if l < entries.count, Self.above(entries[l], entries[best]) { best = l }
            if r < entries.count, Self.above(entries[r], entries[best]) { best = r }
            if best == i { return }
            entries.swapAt(i, best)
            place(i); place(best)
            i = best
        }
    }
}
