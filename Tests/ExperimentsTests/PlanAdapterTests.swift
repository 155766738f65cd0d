import Inventory
import Migration
import Planner
import Testing
@testable import Experiments

/// Goal: the engine's input built from a plan's columns (what a simulated run plans) equals the
/// one built from the plan with its moves, field for field, including its identity. Method: a
/// generated inventory of every kind, with fork networks kept together, over three sources, in
/// two growing phases and waves cut by count and by bytes, planned both ways.
@Test func theEngineInputFromColumnsEqualsTheOneFromMoves() throws {
    let sources = (0..<3).map { InventoryGenerator.Storage(name: "vm-\($0)", shareWeight: Double($0 + 1)) }
    let inventory = try InventoryGenerator().generate(count: 2_000, storages: sources, seed: 3)
    let fleet = PlanFleet(storages: sources.map { PlanStorage(name: $0.name, capacityBytes: 1e13, usedBytes: 0, weight: 0, kind: "vm") }
        + (0..<2).map { PlanStorage(name: "pod-\($0)", capacityBytes: 1e13, usedBytes: 0, weight: 10, kind: "pod") })
    let policy = try Policy.parse("""
        drain: {from: ["kind:vm"], to: ["kind:pod"]}
        order: smallestFirst
        forkNetworks: together
        waves: {movesMax: 37, bytesMax: 20GB}
        phases:
          - {name: canary, moves: {share: 5%}}
          - {name: rest, moves: rest}
        """, file: "policy.yaml")
    let full = try Plan.make(inventory: inventory, fleet: fleet, policy: policy)
    let columns = try Plan.makeColumns(inventory: inventory, fleet: fleet, policy: policy)
    let fromMoves = MigrationPlan(full, id: "p"), fromColumns = MigrationPlan(columns, id: "p")
    #expect(fromColumns == fromMoves)
    #expect(fromColumns.identity == fromMoves.identity)
    // The comparison has something to compare: several waves a phase, every kind moved.
    #expect(fromMoves.phases.map(\.waves.count).allSatisfy { $0 > 1 } && fromMoves.moveCount == full.totals.moves)
    let kinds = Set(fromMoves.phases.flatMap(\.waves).flatMap(\.moves).map(\.kind))
    #expect(kinds == Set(Migration.RepositoryKind.allCases))
}
