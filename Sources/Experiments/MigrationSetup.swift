import Foundation
import GitalyModel
import Inventory
import Migration
import Planner
import SpecFiles

/// Everything one simulated migration starts from, built once and shared by every replication:
/// the world's fleet holding the inventory's repositories (in the inventory's order), the
/// planner's plan, and that plan as the engine's input.
public struct MigrationSetup: Sendable {
    public let fleet: Fleet
    /// The plan's totals (moves, bytes, the planner's estimate). The plan itself is dropped
    /// once it is the engine's input: a GitLab.com-size plan holds millions of moves.
    public let planTotals: PlanTotals
    public let engineInput: MigrationPlan
    public let repositoryIDs: [Migration.RepositoryID]

    /// Plans `inventory` onto `planFleet` (the planner's view of `spec`'s fleet, which the
    /// caller already built to read the inventory against) with `policy`. A fleet model error
    /// found only once the inventory's repositories are placed names the inventory.
    /// `inventoryFillsUsed`: the storages' `used` bytes already hold the inventory's
    /// repositories (an inventory generated to fill them), so the world counts those bytes once.
    public init(spec: FleetSpec, planFleet: PlanFleet, inventory: Inventory, inventoryPath: String, policy: Policy, inventoryFillsUsed: Bool = false, planID: String) throws {
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
            return (MigrationPlan(planned, id: planID), planned.plan.totals)
        }, beside: { try Fleet.build(fleetSpec) })
        (engineInput, planTotals) = try planned.get()
        do {
            fleet = try built.get()
        } catch let e as SpecError {
            throw SpecError(file: inventoryPath, line: nil, field: "", message: e.message)
        }
        repositoryIDs = inventory.ids.map { Migration.RepositoryID($0.rawValue) }
    }
}
