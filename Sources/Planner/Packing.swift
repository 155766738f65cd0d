import Inventory
import SpecFiles

/// Step 4 and 5 of planning: where each unit goes, and the waves its moves run in.
struct Packing {
    let units: MoveUnits
    let inventory: Inventory
    let fleet: PlanFleet
    let limits: [Double]
    /// Per unit: its destination, and the room the destination had just before (the reason).
    var destination: [Int32]
    var roomBefore: [Int64]
    var anchored: [Bool]

    init(units: MoveUnits, inventory: Inventory, fleet: PlanFleet, limits: [Double]) {
        self.units = units
        self.inventory = inventory
        self.fleet = fleet
        self.limits = limits
        destination = [Int32](repeating: -1, count: units.count)
        roomBefore = [Int64](repeating: 0, count: units.count)
        anchored = [Bool](repeating: false, count: units.count)
    }

    func describeUnit(_ u: Int) -> String {
        let first = Int(units.rows[units.members(u).lowerBound])
        if units.networkRoots[u] >= 0 {
            return "the fork network of repository \(units.keyIDs[u]) (\(units.members(u).count) repositories to move, \(ByteText.decimal(units.bytes[u])))"
        }
        return "repository \(inventory.ids[first]) (\(inventory.path(first)), \(ByteText.decimal(units.bytes[u])))"
    }

    func limitText(_ storages: [Int]) -> String {
        let distinct = Set(storages.map { limits[$0] })
        return distinct.count == 1 ? "a \(ByteText.percent(limits[storages[0]])) fill limit" : "their fill limits"
    }

    /// Packs the units of phase `p` (`phaseUnits`, in the policy's `order`; `phaseOfUnit` marks
    /// them), taking their bytes off their sources' `used` and adding them to their destinations'.
    mutating func pack(_ phaseUnits: [Int32], in order: MoveOrder, phase p: Int, _ phase: ResolvedPolicy.Phase, phaseOfUnit: [Int16], rooms: inout [Int64],
                       used: inout [Double], storageOfRow: [Int32]) throws {
        guard !phaseUnits.isEmpty else { return }
        let dests = phase.destinations
        let need = phaseUnits.reduce(Int64(0)) { $0 + units.bytes[Int($1)] }
        let have = dests.reduce(Int64(0)) { $0 + max(0, rooms[$1]) }
        if need > have {
            let names = SpecError.someNames(dests.map { fleet.storages[$0].name }, most: 4)
            throw PlanError.infeasible(Infeasibility(
                kind: .capacity, phase: phase.name, neededBytes: Double(need), availableBytes: Double(have),
                fillLimit: limits[dests[0]],
                message: "phase \(phase.name): destinations lack \(ByteText.decimal(need - have)) at \(limitText(dests)) (its moves need \(ByteText.decimal(need)); \(names) have \(ByteText.decimal(have)) below the limit)"))
        }
        var isDest = [Bool](repeating: false, count: fleet.storages.count)
        for d in dests { isDest[d] = true }
        var heap = RoomHeap(rooms, storages: dests)
        // Largest first: worst-fit decreasing leaves the big units the most choice. Each unit's
        // figures are read in that order, and its results written back, in loops of their own
        // (a cache miss a unit each, overlapped when nothing else waits on them).
        let bySize = units.largestFirst(phaseUnits, from: order)
        let sizes = bySize.map { units.bytes[Int($0)] }, anchors = bySize.map { units.anchors[Int($0)] }
        var placed = [Int32](repeating: -1, count: bySize.count), roomsBefore = [Int64](repeating: 0, count: bySize.count)
        for k in bySize.indices {
            let b = sizes[k], anchor = Int(anchors[k])
            let d: Int
            if anchor >= 0, isDest[anchor] {
                guard rooms[anchor] >= b else {
                    throw PlanError.infeasible(Infeasibility(
                        kind: .anchorFull, phase: phase.name, neededBytes: Double(b), availableBytes: Double(max(0, rooms[anchor])),
                        fillLimit: limits[anchor],
                        message: "phase \(phase.name): \(describeUnit(Int(bySize[k]))) must join its network on \(fleet.storages[anchor].name), which has \(ByteText.decimal(max(0, rooms[anchor]))) below its \(ByteText.percent(limits[anchor])) fill limit"))
                }
                d = anchor
            } else {
                guard let top = heap.top, top.room >= b else {
                    let top = heap.top
                    let room = max(0, top?.room ?? 0), name = top.map { fleet.storages[$0.storage].name } ?? "none"
                    throw PlanError.infeasible(Infeasibility(
                        kind: .unitTooLarge, phase: phase.name, neededBytes: Double(b), availableBytes: Double(room),
                        fillLimit: top.map { limits[$0.storage] } ?? 0,
                        message: "phase \(phase.name): \(describeUnit(Int(bySize[k]))) fits on no destination: the roomiest, \(name), has \(ByteText.decimal(room)) below \(limitText(dests))"))
                }
                d = top.storage
            }
            placed[k] = Int32(d)
            roomsBefore[k] = rooms[d]
            rooms[d] -= b
            used[d] += Double(b)
            heap.shrink(d, to: rooms[d])
        }
        for (k, u) in bySize.enumerated() {
            destination[Int(u)] = placed[k]
            roomBefore[Int(u)] = roomsBefore[k]
            anchored[Int(u)] = anchors[k] >= 0 && isDest[Int(anchors[k])]
        }
        // The sources, in unit order, which is row order: in the size order above each member
        // was a cache miss or three at ten million units. Sizes are whole bytes far below 2^53,
        // so each subtraction is exact and the order gives the same sums.
        for u in 0..<units.count where phaseOfUnit[u] == Int16(p) {
            for i in units.members(u) {
                let row = Int(units.rows[i])
                used[Int(storageOfRow[row])] -= Double(inventory.sizeBytes[row])
            }
        }
    }

    /// The phase's moves in the policy's order, each column read off the inventory in a loop of
    /// its own: in the policy's order each move's row is a cache miss, and a loop doing nothing
    /// else overlaps them (read in the loop below, they cost about a quarter of planning ten
    /// million repositories). `unitOfMove`: each move's unit.
    func phaseMoves(_ phaseUnits: [Int32], storageOfRow: [Int32]) -> (moves: WaveColumns, unitOfMove: [Int32]) {
        let ranges = phaseUnits.map { units.members(Int($0)) }
        let total = ranges.reduce(0) { $0 + $1.count }
        var rows: [Int32] = [], unitOfMove: [Int32] = []
        rows.reserveCapacity(total); unitOfMove.reserveCapacity(total)
        for (k, range) in ranges.enumerated() {
            for i in range { rows.append(units.rows[i]); unitOfMove.append(phaseUnits[k]) }
        }
        let moves = WaveColumns(
            repositories: rows.map { inventory.ids[Int($0)].rawValue }, rows: rows, kinds: rows.map { inventory.kinds[Int($0)] },
            sources: rows.map { storageOfRow[Int($0)] }, destinations: unitOfMove.map { destination[Int($0)] },
            bytes: rows.map { inventory.sizeBytes[Int($0)] })
        return (moves, unitOfMove)
    }

    /// The phase's moves in the policy's order, cut into waves of at most `movesMax` moves and
    /// `bytesMax` bytes (a single larger move gets a wave of its own). With `columns` each
    /// wave's moves go into its `WaveColumns` and its `moves` stay empty.
    func waves(_ phaseUnits: [Int32], phase: ResolvedPolicy.Phase, policy: Policy, storageOfRow: [Int32],
               columns: Bool = false) throws -> (waves: [Wave], columns: [WaveColumns]) {
        let rate = min(policy.copyBytesPerSecond, policy.bandwidthBytesPerSecond ?? .infinity)
        var estimate = WaveEstimate(storageCount: fleet.storages.count, policy: policy)
        let (all, unitOfMove) = phaseMoves(phaseUnits, storageOfRow: storageOfRow)
        var waves: [Wave] = []
        var waveColumns: [WaveColumns] = []
        // Each wave's list of moves sized once (grown by doubling, ten million moves were copied
        // twice), and cut to size when the wave's bytes closed it early.
        var moves: [Move] = []
        var first = 0
        var bytes: Int64 = 0
        func close(at end: Int) {
            guard end > first else { return }
            if columns {
                waveColumns.append(all.slice(first..<end))
            } else if moves.capacity > moves.count + moves.count / 4 {
                let full = moves
                moves = [Move](unsafeUninitializedCapacity: full.count) { buffer, n in n = buffer.initialize(fromContentsOf: full) }
            }
            waves.append(Wave(index: waves.count + 1, bytes: bytes, estimatedSeconds: estimate.seconds(), moves: moves))
            moves = []
            if !columns { moves.reserveCapacity(min(policy.waves.movesMax, all.count - end)) }
            first = end
            bytes = 0
            estimate.reset()
        }
        if !columns { moves.reserveCapacity(min(policy.waves.movesMax, all.count)) }
        // The engine fails a move at the tighter of the two bounds (`moveDeadlineAfterSchedule`).
        let (bound, boundName, boundKind): (Double, String, Infeasibility.Kind) = policy.readOnlySecondsMax.map {
            $0 < policy.moveTimeoutSeconds ? ($0, "readOnlyMax", .readOnlyTooLong) : (policy.moveTimeoutSeconds, "moveTimeout", .moveTimesOut)
        } ?? (policy.moveTimeoutSeconds, "moveTimeout", .moveTimesOut)
        var reason: MoveReason?
        for j in 0..<all.count {
            let size = all.bytes[j], d = Int(all.destinations[j])
            let seconds = policy.moveOverheadSeconds + Double(size) / rate
            if seconds > bound {
                let row = Int(all.rows[j])
                throw PlanError.infeasible(Infeasibility(
                    kind: boundKind, phase: phase.name, neededBytes: Double(size),
                    availableBytes: max(0, (bound - policy.moveOverheadSeconds) * rate), fillLimit: limits[d],
                    message: "phase \(phase.name): repository \(inventory.ids[row]) (\(inventory.path(row)), \(ByteText.decimal(size))) would stay read-only about \(ByteText.duration(seconds)) at \(ByteText.decimal(rate))/s, over \(boundName) \(ByteText.duration(bound))"))
            }
            if j - first == policy.waves.movesMax || (policy.waves.bytesMax.map { Double(bytes + size) > $0 } ?? false) { close(at: j) }
            if !columns {
                let u = Int(unitOfMove[j])
                if j == 0 || unitOfMove[j - 1] != unitOfMove[j] {
                    let root = units.networkRoots[u]
                    reason = MoveReason(
                        rule: anchored[u] ? .forkAnchor : .roomiest, headroomBytes: Double(roomBefore[u]), fillLimit: limits[d],
                        unitBytes: units.bytes[u], networkRoot: root >= 0 ? inventory.ids[Int(root)].rawValue : nil,
                        networkMembers: root >= 0 ? units.members(u).count : nil)
                }
                let row = Int(all.rows[j])
                moves.append(Move(repository: all.repositories[j], path: inventory.path(row), kind: all.kinds[j].name,
                                  from: fleet.storages[Int(all.sources[j])].name, to: fleet.storages[d].name, bytes: size, reason: reason!))
            }
            bytes += size
            estimate.add(seconds: seconds, bytes: size, source: Int(all.sources[j]), destination: d)
        }
        close(at: all.count)
        return (waves, waveColumns)
    }
}

/// A wave's duration: the largest of the lower bounds that each limit puts on its makespan.
/// With per-source concurrency c, a source whose moves take T seconds in all needs at least T/c;
/// likewise per destination and globally; the bandwidth budget needs bytes/budget; and no wave
/// is shorter than its longest move.
struct WaveEstimate {
    let policy: Policy
    var bySource: [Double]
    var byDestination: [Double]
    var touched: [Int] = []
    var totalSeconds = 0.0
    var longestSeconds = 0.0
    var bytes = 0.0

    init(storageCount: Int, policy: Policy) {
        self.policy = policy
        bySource = [Double](repeating: 0, count: storageCount)
        byDestination = [Double](repeating: 0, count: storageCount)
    }

    mutating func add(seconds: Double, bytes b: Int64, source: Int, destination: Int) {
        if bySource[source] == 0 { touched.append(source) }
        if byDestination[destination] == 0 { touched.append(destination) }
        bySource[source] += seconds
        byDestination[destination] += seconds
        totalSeconds += seconds
        longestSeconds = max(longestSeconds, seconds)
        bytes += Double(b)
    }

    func seconds() -> Double {
        var bound = longestSeconds
        for s in touched {
            bound = max(bound, bySource[s] / Double(policy.concurrency.perSource))
            if let c = policy.concurrency.perDestination { bound = max(bound, byDestination[s] / Double(c)) }
        }
        if let g = policy.concurrency.global { bound = max(bound, totalSeconds / Double(g)) }
        if let bw = policy.bandwidthBytesPerSecond { bound = max(bound, bytes / bw) }
        return bound
    }

    mutating func reset() {
        for s in touched { bySource[s] = 0; byDestination[s] = 0 }
        touched = []
        totalSeconds = 0
        longestSeconds = 0
        bytes = 0
    }
}
