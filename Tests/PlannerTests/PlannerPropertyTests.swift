import Foundation
import Inventory
import PropertyBased
import Testing
@testable import Planner

/// Goal: the planner's invariants hold on any inventory and fleet. Method: seeded random
/// scenarios (`RandomScenario`); each property is checked against figures computed here from
/// the inputs, not from the planner's own bookkeeping.
@Suite struct PlannerPropertyTests {
    @Test func everyDrainedRepositoryIsAssignedOnceWithinFillLimitsAndNetworksTogether() async {
        await propertyCheck(count: 60, input: Gen.int(in: 0...1_000_000)) { seedInt in
            let seed = UInt64(seedInt)
            let s = RandomScenario(seed: seed)
            let inv = s.inventory
            guard let plan = try? Plan.make(inventory: inv, fleet: s.fleet, policy: s.policy) else { return }
            let moves = plan.allMoves
            // Exactly once: the moved ids are the drained ids, with no repeats.
            let drained = Set((0..<inv.count).filter { inv.storageName($0).hasPrefix("src") }.map { inv.ids[$0].rawValue })
            #expect(moves.count == drained.count, "seed \(seed)")
            #expect(Set(moves.map(\.repository)) == drained, "seed \(seed)")
            // No destination past its limit: start from the larger of the fleet's and the
            // inventory's figure and add what moves in.
            for st in s.fleet.storages where st.name.hasPrefix("dst") {
                let onIt = (0..<inv.count).filter { inv.storageName($0) == st.name }.reduce(0.0) { $0 + Double(inv.sizeBytes[$1]) }
                let incoming = moves.filter { $0.to == st.name }.reduce(0.0) { $0 + Double($1.bytes) }
                // A destination that starts past its limit (repositories already on it) takes nothing.
                #expect(incoming == 0 || max(st.usedBytes, onIt) + incoming <= 0.75 * st.capacityBytes, "seed \(seed), \(st.name)")
            }
            // A network whose members all drain lands on one storage; one with members staying
            // on a destination joins them there.
            var whereTo: [Int64: String] = [:]
            for m in moves { whereTo[m.repository] = m.to }
            var finalStorage: [Int64: Set<String>] = [:]
            for row in 0..<inv.count {
                let key = inv.forkRootRow(row).map { inv.ids[$0].rawValue } ?? inv.ids[row].rawValue
                finalStorage[key, default: []].insert(whereTo[inv.ids[row].rawValue] ?? inv.storageName(row))
            }
            for (root, storages) in finalStorage {
                #expect(storages.count == 1, "seed \(seed): network \(root) split over \(storages.sorted())")
            }
        }
    }

    @Test func theSameInputGivesTheSamePlanByteForByte() async {
        await propertyCheck(count: 20, input: Gen.int(in: 0...1_000_000)) { seedInt in
            let a = RandomScenario(seed: UInt64(seedInt)), b = RandomScenario(seed: UInt64(seedInt))
            let pa = try? Plan.make(inventory: a.inventory, fleet: a.fleet, policy: a.policy).jsonData()
            let pb = try? Plan.make(inventory: b.inventory, fleet: b.fleet, policy: b.policy).jsonData()
            #expect(pa == pb, "seed \(seedInt)")
            if let pa { #expect((try? Plan.decode(pa, file: "p.json").jsonData()) == pa) }
        }
    }

    /// Goal: a plan made with its moves in columns (a simulated run's, which needs neither
    /// paths nor reasons) is the same plan otherwise. Method: random scenarios planned both
    /// ways: each wave's columns list the full plan's moves of that wave (id, kind, source,
    /// destination, bytes, in order), and the plans are equal once the full one's moves are
    /// taken out of its waves. A scenario the planner refuses is refused both ways.
    @Test func aPlanInColumnsIsTheSamePlanOtherwise() async {
        await propertyCheck(count: 20, input: Gen.int(in: 0...1_000_000)) { seedInt in
            let s = RandomScenario(seed: UInt64(seedInt))
            let full = try? Plan.make(inventory: s.inventory, fleet: s.fleet, policy: s.policy)
            let columns = try? Plan.makeColumns(inventory: s.inventory, fleet: s.fleet, policy: s.policy)
            #expect((full == nil) == (columns == nil), "seed \(seedInt)")
            guard var full, let columns else { return }
            #expect(!full.allMoves.isEmpty, "seed \(seedInt)")
            #expect(columns.waves.map(\.count) == full.phases.map(\.waves.count), "seed \(seedInt)")
            for p in full.phases.indices {
                for w in full.phases[p].waves.indices {
                    let moves = full.phases[p].waves[w].moves, c = columns.waves[p][w]
                    let listed = (0..<c.count).map { i in
                        "\(c.repositories[i]) \(c.kinds[i].name) \(columns.storageNames[Int(c.sources[i])]) \(columns.storageNames[Int(c.destinations[i])]) \(c.bytes[i])"
                    }
                    #expect(listed == moves.map { "\($0.repository) \($0.kind) \($0.from) \($0.to) \($0.bytes)" }, "seed \(seedInt)")
                    // Each move's row is the inventory's row of its repository.
                    #expect(c.rows.map { s.inventory.ids[Int($0)].rawValue } == c.repositories, "seed \(seedInt)")
                    full.phases[p].waves[w].moves = []
                }
            }
            #expect(full == columns.plan, "seed \(seedInt)")
        }
    }

    /// Infeasible inputs are rejected with the right figures: when the drain needs more than the
    /// destinations' room below 75%, the error carries exactly both totals.
    @Test func capacityShortfallReportsTheFigures() async {
        await propertyCheck(count: 60, input: Gen.int(in: 0...1_000_000)) { seedInt in
            let s = RandomScenario(seed: UInt64(seedInt))
            let inv = s.inventory
            let need = (0..<inv.count).filter { inv.storageName($0).hasPrefix("src") }.reduce(Int64(0)) { $0 + inv.sizeBytes[$1] }
            let have = s.fleet.storages.filter { $0.name.hasPrefix("dst") }.reduce(Int64(0)) { sum, st in
                let onIt = (0..<inv.count).filter { inv.storageName($0) == st.name }.reduce(0.0) { $0 + Double(inv.sizeBytes[$1]) }
                return sum + max(0, Int64((0.75 * st.capacityBytes).rounded(.down) - max(st.usedBytes, onIt).rounded(.up)))
            }
            do {
                _ = try Plan.make(inventory: inv, fleet: s.fleet, policy: s.policy)
                #expect(need <= have, "seed \(seedInt): planned \(need) bytes into \(have)")
            } catch PlanError.infeasible(let i) {
                if need > have {
                    #expect(i.kind == .capacity && i.neededBytes == Double(need) && i.availableBytes == Double(have), "seed \(seedInt)")
                } else {
                    // Enough room in all, but one unit fits nowhere: check that claim.
                    #expect((i.kind == .unitTooLarge || i.kind == .anchorFull) && i.neededBytes > i.availableBytes, "seed \(seedInt)")
                }
            } catch {
                Issue.record("seed \(seedInt): \(error)")
            }
        }
    }
}
