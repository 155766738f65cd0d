import Inventory

/// The repositories a drain moves, grouped into units that go to one destination together: a
/// fork network's members on drained storages (when the policy keeps networks together), else
/// one repository each. Built in linear time by a counting sort on the network's root row.
struct MoveUnits {
    /// Inventory rows of all units, unit after unit; unit u is `rows[starts[u]..<starts[u + 1]]`.
    var rows: [Int32] = []
    var starts: [Int32] = [0]
    var bytes: [Int64] = []
    /// Reads plus writes per day, for `coldestFirst`.
    var heat: [Double] = []
    /// The id of the unit's key repository (the network's root, or the repository), for ties.
    var keyIDs: [Int64] = []
    /// The network's root row when the unit is (part of) a network.
    var networkRoots: [Int32] = []
    /// A destination the unit must join (its network's members that stay there), or -1.
    var anchors: [Int32] = []

    var count: Int { bytes.count }

    func members(_ u: Int) -> Range<Int> { Int(starts[u])..<Int(starts[u + 1]) }

    /// `storageOfRow` maps rows to fleet storages (-1: not in the fleet).
    init(inventory inv: Inventory, storageOfRow: [Int32], policy: ResolvedPolicy, together: Bool) {
        let n = inv.count
        var key = [Int32](repeating: -1, count: n)
        var counts = [Int32](repeating: 0, count: n + 1)
        // A root with forks is in a network too: mark roots that some row names.
        var isRoot = [Bool](repeating: false, count: n)
        for row in 0..<n { if let r = inv.forkRootRow(row) { isRoot[r] = true } }
        for row in 0..<n {
            let s = storageOfRow[row]
            guard s >= 0, policy.isSource[Int(s)] else { continue }
            let k = together ? Int32(inv.forkRootRow(row) ?? row) : Int32(row)
            key[row] = k
            counts[Int(k) + 1] += 1
        }
        for i in 0..<n { counts[i + 1] += counts[i] }
        var next = counts
        rows = [Int32](repeating: 0, count: Int(counts[n]))
        for row in 0..<n where key[row] >= 0 {
            let k = Int(key[row])
            rows[Int(next[k])] = Int32(row)
            next[k] += 1
        }
        // Where the members that do not move stay: one storage, or -2 when they are spread.
        var stay = [Int32](repeating: -1, count: together ? n : 0)
        if together {
            for row in 0..<n where key[row] < 0 && (isRoot[row] || inv.forkRootRow(row) != nil) {
                let k = inv.forkRootRow(row) ?? row
                let s = storageOfRow[row]
                stay[k] = stay[k] == -1 ? s : (stay[k] == s ? s : -2)
            }
        }
        for k in 0..<n where counts[k + 1] > counts[k] {
            var b: Int64 = 0, h = 0.0
            for i in Int(counts[k])..<Int(counts[k + 1]) {
                let row = Int(rows[i])
                b += inv.sizeBytes[row]
                h += inv.readsPerDay[row] + inv.writesPerDay[row]
            }
            bytes.append(b)
            heat.append(h)
            keyIDs.append(inv.ids[k].rawValue)
            starts.append(counts[k + 1])
            let inNetwork = together && (isRoot[k] || inv.forkRootRow(k) != nil)
            networkRoots.append(inNetwork ? Int32(k) : -1)
            anchors.append(together && stay[k] >= 0 ? stay[k] : -1)
        }
    }

    /// Unit indices in the policy's order; ties broken by the key repository's id.
    func ordered(_ order: MoveOrder) -> [Int32] {
        let all = (0..<Int32(count)).map { $0 }
        switch order {
        case .smallestFirst: return bySize(all, largestFirst: false)
        case .largestFirst: return bySize(all, largestFirst: true)
        case .coldestFirst:
            return all.sorted { (heat[Int($0)], bytes[Int($0)], keyIDs[Int($0)]) < (heat[Int($1)], bytes[Int($1)], keyIDs[Int($1)]) }
        }
    }

    /// `units` largest first (then by key repository id, then as given), as `bySize` orders
    /// them, from units already in `order`: the policy's order of a phase's units is most often
    /// by size, and sorting ten million again took two seconds of a GitLab.com-size set-up.
    /// Smallest first, each run of equal sizes is already by id: the runs are taken from the
    /// last, each in its own order. Linear; any other order is sorted.
    func largestFirst(_ units: [Int32], from order: MoveOrder) -> [Int32] {
        switch order {
        case .largestFirst: return units
        case .coldestFirst: return bySize(units, largestFirst: true)
        case .smallestFirst:
            var out = [Int32]()
            out.reserveCapacity(units.count)
            var end = units.count
            while end > 0 {
                let size = bytes[Int(units[end - 1])]
                var start = end - 1
                while start > 0 && bytes[Int(units[start - 1])] == size { start -= 1 }
                out.append(contentsOf: units[start..<end])
                end = start
            }
            return out
        }
    }

    /// `units` by size, then by key repository id, then as given: what a stable sort of
    /// `units` by (size, id) gives (`KeySort`), from keys laid side by side.
    func bySize(_ units: [Int32], largestFirst: Bool) -> [Int32] {
        // ~x = −x − 1 reverses the order of sizes and keeps them apart.
        KeySort.positions(count: units.count, primary: { largestFirst ? ~bytes[Int(units[$0])] : bytes[Int(units[$0])] },
                          secondary: { keyIDs[Int(units[$0])] }).map { units[Int($0)] }
    }
}
