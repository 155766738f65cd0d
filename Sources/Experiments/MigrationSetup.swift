import Foundation
import GitalyModel
import Inventory
import Migration
import Planner
import SimKernel
import SpecFiles

/// Everything one simulated migration starts from, built once and shared by every replication:
/// the world's fleet holding the inventory's repositories, the planner's plan, and that plan as
/// the engine's input.
public struct MigrationSetup: Sendable {
    /// The order the world keeps its repositories' state in. Traffic names repositories by
    /// their inventory rows either way (`World.place(of:)`), so the layout changes no outcome,
    /// only how fast the run goes.
    public enum Layout: Sendable {
        /// The repositories the plan moves in the order it moves them, then the others in the
        /// inventory's: the drain walks each per-repository table from one end to the other.
        /// At ten million repositories in size order, looking each up at its inventory row
        /// missed the cache at every step.
        case plan
        /// The inventory's order.
        case inventory
    }

    public let fleet: Fleet
    /// The plan's totals (moves, bytes, the planner's estimate). The plan itself is dropped
    /// once it is the engine's input: a GitLab.com-size plan holds millions of moves.
    public let planTotals: PlanTotals
    public let engineInput: MigrationPlan
    /// The plan's id of each of the world's repositories, in the world's order (`Layout`).
    public let repositoryIDs: [Migration.RepositoryID]

    /// Plans `inventory` onto `planFleet` (the planner's view of `spec`'s fleet, which the
    /// caller already built to read the inventory against) with `policy`. A fleet model error
    /// found only once the inventory's repositories are placed names the inventory.
    /// `inventoryFillsUsed`: the storages' `used` bytes already hold the inventory's
    /// repositories (an inventory generated to fill them), so the world counts those bytes once.
    public init(spec: FleetSpec, planFleet: PlanFleet, inventory: Inventory, inventoryPath: String, policy: Policy, inventoryFillsUsed: Bool = false, planID: String,
                layout: Layout = .plan) throws {
        var worldSpec = spec
        if inventoryFillsUsed {
            var held = [Double](repeating: 0, count: inventory.storageNames.count)
            for row in 0..<inventory.count { held[Int(inventory.storages[row].rawValue)] += Double(inventory.sizeBytes[row]) }
            for n in worldSpec.nodes.indices {
                for s in worldSpec.nodes[n].storages.indices {
                    guard let i = inventory.storageNames.lookup(worldSpec.nodes[n].storages[s].name) else { continue }
                    worldSpec.nodes[n].storages[s].usedBytes = max(0, worldSpec.nodes[n].storages[s].usedBytes - held[Int(i.rawValue)])
                }
            }
        }
        // In columns, not as a `RepositorySpec` each: the fleet keeps them for every replication.
        worldSpec.repositories = []
        worldSpec.population = RepositoryPopulation(
            paths: inventory.paths, storageNames: inventory.storageNames.names,
            storages: inventory.storages.map { Int32($0.rawValue) }, sizeBytes: inventory.sizeBytes.map(Double.init))
        // The plan and the world's fleet read the inventory only: built side by side, the
        // plan's error told first as when they ran in turn. The engine's input names
        // repositories by id: the plan's moves need no paths, reasons or names (`PlanColumns`).
        let fleetSpec = worldSpec
        let (planned, built) = SideBySide.run({
            let planned = try Plan.makeColumns(inventory: inventory, fleet: planFleet, policy: policy)
            // The fleet is built long before the plan is made: the engine's input and the
            // layout, both read off the plan, are made side by side.
            let (input, laid) = SideBySide.run({ MigrationPlan(planned, id: planID) },
                                               beside: { layout == .plan ? Self.planLayout(planned, inventory: inventory) : nil })
            return (try input.get(), planned.plan.totals, try laid.get())
        }, beside: { try Fleet.build(fleetSpec) })
        let laid: PlanLayout?
        (engineInput, planTotals, laid) = try planned.get()
        do {
            fleet = try laid.map { try built.get().layingOutPopulation(in: $0.rows, positions: $0.positions, storages: $0.storages, sizeBytes: $0.sizeBytes) } ?? built.get()
        } catch let e as SpecError {
            throw SpecError(file: inventoryPath, line: nil, field: "", message: e.message)
        }
        repositoryIDs = laid?.ids ?? inventory.ids.map { Migration.RepositoryID($0.rawValue) }
    }

    /// The inventory's rows in the order the plan moves them (phase by phase, wave by wave),
    /// then the rows it moves not, in the inventory's order, with each one's id, storage (an
    /// index into the inventory's storage names) and size in that order.
    struct PlanLayout {
        var rows: [Int32] = []
        /// Each row's position in `rows`.
        var positions: [Int32] = []
        var ids: [Migration.RepositoryID] = []
        var storages: [Int32] = []
        var sizeBytes: [Double] = []
    }

    /// Read in order, from the plan's columns (which have each move's id, source and size at
    /// hand) and then the inventory's: looking each row up in the inventory in the plan's order
    /// missed the cache at each of ten million.
    static func planLayout(_ planned: PlanColumns, inventory: Inventory) -> PlanLayout {
        let n = inventory.count
        var laid = PlanLayout()
        laid.rows.reserveCapacity(n); laid.ids.reserveCapacity(n); laid.storages.reserveCapacity(n); laid.sizeBytes.reserveCapacity(n)
        // The plan's storages by the inventory's numbers (a move's source is its row's storage).
        let inventoryStorage = planned.storageNames.map { inventory.storageNames.lookup($0).map { Int32($0.rawValue) } ?? -1 }
        laid.positions = [Int32](repeating: -1, count: n)
        for phase in planned.waves {
            for wave in phase {
                for i in 0..<wave.count where laid.positions[Int(wave.rows[i])] < 0 {
                    laid.positions[Int(wave.rows[i])] = Int32(laid.rows.count)
                    laid.rows.append(wave.rows[i])
                    laid.ids.append(Migration.RepositoryID(wave.repositories[i]))
                    laid.storages.append(inventoryStorage[Int(wave.sources[i])])
                    laid.sizeBytes.append(Double(wave.bytes[i]))
                }
            }
        }
        for row in 0..<n where laid.positions[row] < 0 {
            laid.positions[row] = Int32(laid.rows.count)
            laid.rows.append(Int32(row))
            laid.ids.append(Migration.RepositoryID(inventory.ids[row].rawValue))
            laid.storages.append(Int32(inventory.storages[row].rawValue))
            laid.sizeBytes.append(Double(inventory.sizeBytes[row]))
        }
        return laid
    }
}
