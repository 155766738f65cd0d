import Foundation
import Inventory
import SimKernel
@testable import Planner

/// Seeded random inventories and fleets for the planner's properties, and small helpers.
struct RandomScenario {
    var inventory: Inventory
    var fleet: PlanFleet
    var policy: Policy
    var sources: [String]
    var destinations: [String]

    /// 2–6 sources, 1–6 destinations, 50–800 repositories with fork networks; destinations sized
    /// from 0.5 to 3 times what the drain needs, so some seeds are infeasible on purpose.
    init(seed: UInt64) {
        var rng = RandomStream(seed: seed)
        let sourceCount = 2 + rng.below(5), destCount = 1 + rng.below(6)
        sources = (0..<sourceCount).map { "src-\($0)" }
        destinations = (0..<destCount).map { "dst-\($0)" }
        let n = 50 + rng.below(751)
        var b = InventoryBuilder(file: "random-\(seed)")
        var roots: [(id: Int64, storage: String)] = []
        var drained: Int64 = 0
        for i in 1...n {
            // Log-uniform sizes from 1 kB to 100 GB.
            let size = Int64(pow(10, 3 + 8 * rng.nextDouble()))
            var storage = rng.below(4) == 0 ? "dst-\(rng.below(destCount))" : "src-\(rng.below(sourceCount))"
            var root: RepositoryID?
            if !roots.isEmpty, rng.below(5) == 0 {
                let r = roots[rng.below(roots.count)]
                root = RepositoryID(r.id)
                storage = r.storage
            } else {
                roots.append((Int64(i), storage))
            }
            if storage.hasPrefix("src") { drained += size }
            try! b.add(InventoryEntry(id: RepositoryID(Int64(i)), path: "g/p\(i)", kind: .project, storage: storage, sizeBytes: size,
                                      forkRoot: root, readsPerDay: rng.nextDouble() * 100, writesPerDay: rng.nextDouble()), line: i + 1)
        }
        inventory = try! b.finish()
        let factor = 0.5 + 2.5 * rng.nextDouble()
        let perDest = Double(drained) * factor / Double(destCount) / 0.75 + 1e9
        fleet = PlanFleet(storages:
            sources.map { PlanStorage(name: $0, capacityBytes: 1e15, usedBytes: 0, weight: 0, kind: "vm") }
            + destinations.map { PlanStorage(name: $0, capacityBytes: perDest, usedBytes: perDest * 0.1 * rng.nextDouble(), weight: 10, kind: "pod") })
        policy = Policy(drainFrom: sources.map { Named($0) }, drainTo: [Named("kind:pod")])
        policy.order = MoveOrder.allCases[rng.below(3)]
        policy.concurrency.perSource = 1 + rng.below(8)
        policy.waves.movesMax = 1 + rng.below(100)
    }
}

func entry(_ id: Int64, _ storage: String, _ size: Int64, root: Int64? = nil) -> InventoryEntry {
    InventoryEntry(id: RepositoryID(id), path: "g/p\(id)", kind: .project, storage: storage, sizeBytes: size, forkRoot: root.map(RepositoryID.init))
}

func inventory(_ entries: [InventoryEntry]) throws -> Inventory {
    var b = InventoryBuilder(file: "test")
    for (i, e) in entries.enumerated() { try b.add(e, line: i + 2) }
    return try b.finish()
}

extension Plan {
    var allMoves: [Move] { phases.flatMap { $0.waves.flatMap(\.moves) } }
}
