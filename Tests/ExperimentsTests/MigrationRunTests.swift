import Testing
import GitalyModel
import Migration
import SimKernel
import Traffic
@testable import Experiments

/// Two plain storages on their own nodes; `a`'s disk read (100 MB/s) is the bottleneck of every
/// copy from it, everything else is 10× faster. `count` repositories of `sizeGB` on `a`.
func drainFleet(count: Int, sizeGB: Double, sidekiq: Int = 10) throws -> Fleet {
    var repos = ""
    for i in 0..<count { repos += "  - {path: r\(i).git, storage: a, size: \(sizeGB)GB}\n" }
    let yaml = """
    name: drain
    nodes:
      - name: na
        disk: {readBandwidth: 100MB/s, writeBandwidth: 1000MB/s}
        network: {bandwidth: 1000MB/s}
        storages: [{name: a, capacity: 10TB}]
      - name: nb
        disk: {readBandwidth: 1000MB/s, writeBandwidth: 1000MB/s}
        network: {bandwidth: 1000MB/s}
        storages: [{name: b, capacity: 10TB}]
    gitlab: {weights: {a: 100, b: 0}, sidekiqConcurrency: \(sidekiq), apiLatency: 0s}
    repositories:
    \(repos)
    """
    return try Fleet.build(FleetSpec.parse(yaml, file: "drain.yaml"))
}

func drainPlan(count: Int, sizeBytes: Int64, perSource: Int, poll: EngineDuration) -> MigrationPlan {
    let moves = (0..<count).map { MigrationPlan.Move(repository: RepositoryID(Int64($0 + 1)), source: "a", destination: "b", sizeBytes: sizeBytes) }
    return MigrationPlan(id: "drain-a", initialWeights: [StorageWeight("a", 100), StorageWeight("b", 0)],
                         phases: [.init(name: "drain", waves: [.init(moves: moves)])],
                         limits: ConcurrencyLimits(perSource: perSource), pollInterval: poll)
}

/// Goal: the co-simulation loop carries a plan through the simulated world to its end.
/// Method: a drain of 5 repositories with no traffic; every move finishes, every byte is counted
/// moved, nothing is lost, and every repository ends on the destination, writable.
@Test func drainRunsToTheEndThroughTheSimulatedGitLab() throws {
    let fleet = try drainFleet(count: 5, sizeGB: 1)
    let plan = drainPlan(count: 5, sizeBytes: 1_000_000_000, perSource: 2, poll: .seconds(1))
    var run = try MigrationRun(fleet: fleet, config: WorldConfig(seed: 3), plan: plan, repositoryIDs: (1...5).map { RepositoryID(Int64($0)) })
    var traffic: EmptyArrivals? = nil
    let outcome = try run.run(traffic: &traffic)
    #expect(outcome.movesFinished == 5)
    #expect(outcome.bytesMoved == 5_000_000_000)
    #expect(outcome.durationSeconds != nil)
    let b = fleet.virtualStorage(named: "b")!
    for r in 0..<5 {
        #expect(run.simulation.model.repositories[r].virtualStorage == b)
        #expect(!run.simulation.model.readOnly[r])
    }
}

/// A traffic source with no arrivals.
struct EmptyArrivals: ArrivalSource {
    var methods: [MethodName] = []
    mutating func next() throws -> Arrival? { nil }
}
