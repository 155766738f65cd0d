import Inventory
import PropertyBased
import SimKernel
import Testing
@testable import Planner

/// Goal: the planner's radix sort orders as a stable sort by (primary, secondary) does.
/// Method: random keys crowded into a few values (most keys tie on one key or both) with the
/// extremes of Int64 among them, ordered here by a comparison of (primary, secondary, position).
@Suite struct KeySortTests {
    static let values: [Int64] = [.min, .min + 1, -1 << 40, -2, -1, 0, 1, 2, 3, 1 << 11, 1 << 22, 1 << 40, .max - 1, .max]

    static func keys(seed: UInt64, count: Int) -> (primary: [Int64], secondary: [Int64]) {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        func next() -> UInt64 { state ^= state << 13; state ^= state >> 7; state ^= state << 17; return state }
        func key() -> Int64 { next() % 3 == 0 ? Int64(bitPattern: next()) : values[Int(next() % UInt64(values.count))] }
        return ((0..<count).map { _ in key() }, (0..<count).map { _ in key() })
    }

    static func expected(_ p: [Int64], _ s: [Int64]) -> [Int32] {
        p.indices.sorted { (p[$0], s[$0], $0) < (p[$1], s[$1], $1) }.map(Int32.init)
    }

    @Test func theRadixSortIsAStableSortByBothKeys() async {
        await propertyCheck(count: 12, input: Gen.int(in: 0...1_000_000)) { seed in
            let n = KeySort.radixFrom + seed % (2 * KeySort.radixFrom)
            let (p, s) = Self.keys(seed: UInt64(seed), count: n)
            let sorted = KeySort.positions(count: n, primary: { p[$0] }, secondary: { s[$0] })
            #expect(sorted == Self.expected(p, s), "seed \(seed), \(n) keys")
        }
    }

    @Test func fewKeysAreOrderedAlike() {
        for n in [0, 1, 2, 7, 100] {
            let (p, s) = Self.keys(seed: UInt64(n) + 1, count: n)
            #expect(KeySort.positions(count: n, primary: { p[$0] }, secondary: { s[$0] }) == Self.expected(p, s))
            #expect(KeySort.radix(count: n, primary: { p[$0] }, secondary: { s[$0] }) == Self.expected(p, s), "the radix sort at \(n)")
        }
    }
}

/// Goal: the packing's largest-first order, taken from units already in the policy's order
/// without sorting again, is the order a sort by (size descending, id, position) gives.
/// Method: inventories whose sizes crowd onto three values (most units tie on size), with and
/// without fork networks kept together; a share of the units in each policy order is ordered
/// both ways. A plain reversal of smallest-first fails it (ties would run by descending id).
@Suite struct LargestFirstTests {
    @Test func largestFirstFromThePolicysOrderIsTheSortedOrder() throws {
        for seed in UInt64(1)...4 {
            var scenario = RandomScenario(seed: seed)
            var b = InventoryBuilder(file: "ties-\(seed)")
            var rng = RandomStream(seed: seed &+ 100)
            for i in 1...6_000 {
                let root: RepositoryID? = i > 10 && rng.below(6) == 0 ? RepositoryID(Int64(1 + rng.below(10))) : nil
                let storage = root.map { "src-\(($0.rawValue) % 2)" } ?? "src-\(i % 2)"
                try b.add(InventoryEntry(id: RepositoryID(Int64(7_000 - i)), path: "g/p\(i)", kind: .project, storage: storage,
                                         sizeBytes: Int64(1 + rng.below(3)) << 30, forkRoot: root.map { RepositoryID(7_000 - $0.rawValue) }), line: i + 1)
            }
            scenario.inventory = try b.finish()
            scenario.policy.drainFrom = [Named("src-0"), Named("src-1")]
            let resolved = try ResolvedPolicy(scenario.policy, fleet: scenario.fleet)
            let storageOfRow = try Plan.fleetStorages(of: scenario.inventory, fleet: scenario.fleet, policy: scenario.policy)
            for together in [false, true] {
                let units = MoveUnits(inventory: scenario.inventory, storageOfRow: storageOfRow, policy: resolved, together: together)
                for order in MoveOrder.allCases {
                    let share = units.ordered(order).filter { $0 % 3 != 1 }
                    #expect(units.largestFirst(share, from: order) == units.bySize(share, largestFirst: true),
                            "seed \(seed), \(order), networks together: \(together)")
                }
            }
        }
    }
}
