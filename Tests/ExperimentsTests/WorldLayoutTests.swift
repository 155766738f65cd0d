import Foundation
import Testing
@testable import Experiments
import GitalyModel

// A migration's world keeps its repositories in the order the plan moves them
// (`MigrationSetup.Layout.plan`), not the inventory's. Traffic, popularity and every draw keyed
// by a repository go by its place (its inventory row), so the layout must change no result:
// each run below is compared bit for bit with the same run laid out in the inventory's order.

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path

/// Both layouts of one experiment: the same metrics and series, replication by replication.
func expectLayoutChangesNothing(_ experiment: Experiment, hours: Double, replications: Int = 2, _ what: String) throws {
    var byPlan = try ExperimentRunner(experiment)
    var byInventory = try ExperimentRunner(experiment, layout: .inventory)
    byPlan.checkInvariants = true
    byInventory.checkInvariants = true
    // Else the comparison shows nothing: the plan must move repositories out of row order.
    #expect(byPlan.setup.repositoryIDs != byInventory.setup.repositoryIDs, "\(what): the layouts are the same")
    #expect(Set(byPlan.setup.repositoryIDs) == Set(byInventory.setup.repositoryIDs), "\(what)")
    let a = try byPlan.run(replications: replications, seed: 5, hours: hours, threads: 2)
    let b = try byInventory.run(replications: replications, seed: 5, hours: hours, threads: 2)
    #expect(a.metrics == b.metrics, "\(what)")
    #expect(a.replications.map(\.series) == b.replications.map(\.series), "\(what)")
    #expect(a.replications.map(\.phases) == b.replications.map(\.phases), "\(what)")
    #expect(a.metrics.contains { $0.movesFinished > 0 }, "\(what): nothing moved")
}

/// A drain between two plain storages under API errors (a fifth of the calls fail, their
/// draws keyed by repository).
@Test func theLayoutChangesNoResultOfAPlainDrain() throws {
    let dir = try experimentFolder(replications: 2)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try expectLayoutChangesNothing(try Experiment.load(path: dir + "/experiment.yaml"), hours: 48, "two storages")
}

/// A folder with a VM drained into a three-node Gitaly Cluster that loses a node's disk
/// mid-move, under calls drawn one by one by popularity over 60 repositories.
func clusterDrainFolder() throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rehearse-layout-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try """
    version: 1
    repositories: {model: zipf, count: 60, exponent: 1.1}
    methods:
      - {service: gitaly.SmartHTTPService, method: PostUploadPackWithSidechannel, operation: accessor, ratePerSecond: 4,
         serviceTimeMs: {family: logNormal, mu: 5.5, sigma: 1.0}, responseBytes: {family: constant, value: 2000000}}
      - {service: gitaly.SmartHTTPService, method: PostReceivePack, operation: mutator, ratePerSecond: 1,
         serviceTimeMs: {family: logNormal, mu: 6.4, sigma: 1.0}}
    """.write(toFile: dir + "/profile.yaml", atomically: true, encoding: .utf8)
    try """
    name: cluster-layout
    model: \(repositoryRoot)/models/vm-to-cluster.yaml
    inventory: {generate: 60, seed: 4}
    policy: \(repositoryRoot)/models/policies/vm-to-cluster.yaml
    traffic: {profile: profile.yaml}
    faults:
      schedule:
        - {at: 4m, kind: diskLoss, target: gitaly-1}
    run: {hours: 3, replications: 2, seed: 4}
    """.write(toFile: dir + "/experiment.yaml", atomically: true, encoding: .utf8)
    return dir
}

/// The cluster drain: placement draws per repository, the reconciler's walk, the verifier's
/// seeding, a disk lost mid-move, calls by popularity over the repositories' places.
@Test func theLayoutChangesNoResultOfAClusterDrain() throws {
    let dir = try clusterDrainFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try expectLayoutChangesNothing(try Experiment.load(path: dir + "/experiment.yaml"), hours: 3, "cluster")
}

/// A move's own draws (its worker interrupted, a checksum mismatch, the replica it reads, the
/// destination's placement) follow its repository's place: the cluster drain with a tenth of
/// the workers interrupted and a fifth of the checksums failing ends the same in both layouts,
/// with some of each fault struck.
@Test func aMovesDrawsFollowItsRepositorysPlace() throws {
    let dir = try clusterDrainFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let e = try Experiment.load(path: dir + "/experiment.yaml")
    var config = WorldConfig(seed: 4)
    config.moveWorkerInterruptionProbability = 0.1
    config.moveChecksumMismatchProbability = 0.2
    let outcomes = try [MigrationSetup.Layout.plan, .inventory].map { layout in
        let setup = try ExperimentRunner(e, layout: layout).setup
        var run = try MigrationRun(fleet: setup.fleet, config: config, plan: setup.engineInput, repositoryIDs: setup.repositoryIDs)
        var none: EmptyArrivals? = nil
        return try run.run(traffic: &none, horizon: .hours(3))
    }
    let (a, b) = (outcomes[0], outcomes[1])
    #expect(a.summary == b.summary)
    #expect(a.repositoriesLeftReadOnly == b.repositoriesLeftReadOnly)
    #expect(a.samples.count == b.samples.count && zip(a.samples, b.samples).allSatisfy { $0 == $1 }, "the samples differ")
    #expect(a.movesFailed > 0 && a.movesFinished > 0, "\(a.summary)")
}

/// The load's parts at RPC level: the repositories in flight (their calls drawn by the world,
/// keyed by place) and whole storages (their calls drawn by a source over their places).
@Test(arguments: ["{profile: profile.yaml, fidelity: load, rpcInFlight: true}",
                  "{profile: profile.yaml, fidelity: load, rpcStorages: [vm1, vm2]}"])
func theLayoutChangesNoLoadLevelResult(_ traffic: String) throws {
    let dir = try hybridFolder(traffic: traffic, replications: 2)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try expectLayoutChangesNothing(try Experiment.load(path: dir + "/experiment.yaml"), hours: 2, replications: 1, traffic)
}

/// The plan's order: moved rows phase by phase and wave by wave, then the unmoved ones in
/// row order; the world lays its repositories out so, and each repository keeps its place.
@Test func theWorldIsLaidOutInThePlansOrder() throws {
    let dir = try hybridFolder(traffic: nil, replications: 1)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let runner = try ExperimentRunner(try Experiment.load(path: dir + "/experiment.yaml"))
    let plan = runner.setup.engineInput
    let moved = plan.phases.flatMap { $0.waves.flatMap { $0.moves.map(\.repository) } }
    #expect(Array(runner.setup.repositoryIDs.prefix(moved.count)) == moved)
    let inventoryOrder = try ExperimentRunner(try Experiment.load(path: dir + "/experiment.yaml"), layout: .inventory).setup.repositoryIDs
    let rest = inventoryOrder.filter { !Set(moved).contains($0) }
    #expect(Array(runner.setup.repositoryIDs.dropFirst(moved.count)) == rest)
    // Each repository at world index i keeps its inventory row as its place, with its path.
    let world = World(fleet: runner.setup.fleet, config: WorldConfig(seed: 1))
    let plain = World(fleet: try ExperimentRunner(try Experiment.load(path: dir + "/experiment.yaml"), layout: .inventory).setup.fleet, config: WorldConfig(seed: 1))
    let rowOfID = Dictionary(uniqueKeysWithValues: inventoryOrder.enumerated().map { ($1, $0) })
    for (i, id) in runner.setup.repositoryIDs.enumerated() {
        #expect(world.place(of: i) == rowOfID[id])
        #expect(world.repository(atPlace: world.place(of: i)) == i)
        #expect(world.repositoryPaths[i] == plain.repositoryPaths[rowOfID[id]!])
        #expect(world.repositories[i].sizeBytes == plain.repositories[rowOfID[id]!].sizeBytes)
    }
}
