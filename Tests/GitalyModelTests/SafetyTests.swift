import Testing
import SimKernel
@testable import GitalyModel

/// Goal: faults that destroy no data never lose an acknowledged write, in either consistency
/// mode, and every invariant holds after every event (a VOPR-style safety sweep). Method: the
/// 3-node cluster of `models/gitaly-cluster-3.yaml` under 20 RPC/s with frequent node crashes, Praefect↔node
/// partitions, Praefect losses and zone outages for 20 simulated minutes, over seeds; with no
/// disk loss and no accept-dataloss, some replica always keeps every acknowledged write.
/// Then a liveness phase: faults and traffic stop at 20 min; within 15 min every outage has
/// ended (repairs average 30–60 s, reboots take 120 s), the reconciler (every 5 min) has
/// re-queued what died, the replication queue is empty and no repository is unavailable.
@Test(arguments: [(UInt64(1), ConsistencyMode.strong), (2, .strong), (3, .eventual), (4, .eventual)])
func faultsWithoutDataDestructionLoseNoWrite(seed: UInt64, mode: ConsistencyMode) throws {
    var model = try FleetSpec.parse(clusterYAML, file: "c3.yaml")
    model.praefect!.virtualStorages[0].consistency = mode
    model.faults.nodeCrash = FaultRate(mtbfSeconds: 300, mttrSeconds: 30)
    model.faults.partition = FaultRate(mtbfSeconds: 120, mttrSeconds: 60)
    model.faults.praefectLoss = FaultRate(mtbfSeconds: 600, mttrSeconds: 60)
    model.faults.zoneOutage = FaultRate(mtbfSeconds: 900, mttrSeconds: 60)
    model.faults.replicationJobFailureProbability = 0.05
    var config = WorldConfig(seed: seed)
    config.repositoryCount = 20
    config.repositorySizeBytes = 1e6
    config.traffic = .readWrite(ratePerSecond: 20)
    config.quietAfterSeconds = 20 * 60
    var sim = Simulation(model: World(fleet: try Fleet.build(model), config: config))
    World.start(&sim)
    sim.run(until: .minutes(20))
    let report = sim.model.report(at: sim.now)
    #expect(report.acknowledgedWrites > 1000, "seed \(seed)")
    #expect(report.lostWrites == 0, "seed \(seed) mode \(mode)")
    #expect(report.outcomes[.ok]! < report.rpcsCompleted, "seed \(seed): the faults did bite")
    sim.run(until: .minutes(35))
    #expect(sim.model.praefect!.queue.count == 0, "seed \(seed): the queue drained")
    #expect(sim.model.dataloss().isEmpty, "seed \(seed): \(sim.model.dataloss())")
    #expect(sim.model.report(at: sim.now).lostWrites == 0)
}

