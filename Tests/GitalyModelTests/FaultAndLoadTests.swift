import Testing
import SimKernel
@testable import GitalyModel

/// One plain storage on one node with `cores` cores, hosted as `host` (YAML flow mapping).
func singleNodeFleet(cores: Int = 4, host: String = "{kind: vm}", repositories: Int = 2) throws -> Fleet {
    var yaml = """
    name: one
    nodes:
      - {name: a, cpuCores: \(cores), host: \(host), storages: [{name: sa, capacity: 1TB}]}
    repositories:
    """
    for i in 0..<repositories { yaml += "\n  - {path: r\(i).git, storage: sa, size: 1GB}" }
    return try Fleet.build(FleetSpec.parse(yaml, file: "one.yaml"))
}

/// Goal: a node under Poisson load is busy λ·E[S]/c of the time. Method: 4 cores, reads at
/// 200/s, E[S] = 5 ms of CPU + 64 kB at 400 MB/s = 5.16 ms: ρ = 0.258. The busy cores are
/// sampled every 10 ms over 1,000 s (10⁵ samples; the estimate's standard error is about
/// 0.002), bound 0.01.
@Test func singleNodeUtilisationMatchesLambdaTimesServiceOverCores() throws {
    var sim = makeSim(try singleNodeFleet()) { $0.traffic = TrafficSpec(ratePerSecond: 200, mix: [(.read, 1)]); $0.checkInvariants = false }
    var busy = 0.0
    var samples = 0
    while sim.now < .seconds(1000) {
        sim.run(until: sim.now + .milliseconds(10))
        busy += Double(sim.model.nodes[0].cpu.busy)
        samples += 1
    }
    let rho = busy / Double(samples) / 4
    #expect(abs(rho - 200 * 0.00516 / 4) < 0.01, "utilisation \(rho)")
}

/// Goal: a pod eviction keeps its node down for stop + volume attach + start + readiness.
/// Method: pod defaults 30 + 60 + 60 + 30 s = 180 s; two repositories on it: 360
/// write-unavailable repository-seconds, all of it after the eviction at 10 s.
@Test func podEvictionLastsStopAttachStartAndReadiness() throws {
    var sim = makeSim(try singleNodeFleet(host: "{kind: pod}"))
    sim.model.apply(.podEviction, target: "a", praefectName: nil, duration: nil, factor: 1, &sim.scheduler)
    sim.run(until: .seconds(179))
    #expect(!sim.model.nodes[0].up)
    sim.run(until: .seconds(181))
    #expect(sim.model.nodes[0].up)
    #expect(abs(sim.model.report(at: sim.now).writeUnavailableRepositorySeconds - 360) < 1e-6)
}

/// Goal: a disk slowdown stretches an RPC's I/O by its factor. Method: a read of 400 MB with no
/// CPU takes 1 s at 400 MB/s; with the disk at a tenth of its speed it takes 10 s.
@Test func diskSlowdownStretchesIOByItsFactor() throws {
    var sim = makeSim(try singleNodeFleet())
    let big = RecordedCost(cpuSeconds: 0, bytesRead: 400e6, bytesWritten: 0)
    World.submit(&sim, repository: 0, rpcClass: .read, at: .seconds(1), cost: big)
    sim.run(until: .seconds(5))
    sim.model.setDiskSlowdown(0, factor: 0.1, &sim.scheduler)
    World.submit(&sim, repository: 0, rpcClass: .read, at: .seconds(10), cost: big)
    sim.run(until: .seconds(60))
    let w = sim.model.report(at: sim.now).windows[0]
    // Apdex for reads: satisfied to 0.5 s, tolerated to 1 s. The 1 s read is tolerated; the
    // 10 s one is neither.
    #expect(w.requests == 2 && w.apdexTolerated == 1 && w.apdexSatisfied == 0)
    #expect(sim.model.rpcsCompleted == 2)
}

/// Goal: a zone outage takes its node and its Praefect. Method: zone-a (n1, the primary, and
/// p1) fails at 10.1 s. Writes fail until consensus drops n1 and another primary can be
/// elected. The last rounds that saw n1: p1 at 10 s, p2 at 9.333 s, p3 at 9.667 s; 2 of the
/// 3 Praefects still active must have seen it within 10 s, true at p3's result at 19.667 s,
/// false at p2's at 20.333 s. By hand: 20.333 − 10.1 = 10.233 s.
@Test func zoneOutageCostsTheWindowUntilConsensusDropsTheNode() throws {
    var sim = makeSim(try clusterFleet(consistency: .strong, faults: "    - {at: 10100ms, kind: zoneOutage, target: zone-a, duration: 50s}"))
    sim.run(until: .seconds(15))
    #expect(!sim.model.nodes[0].up && !sim.model.praefect!.up[0])
    sim.run(until: .seconds(100))
    let seconds = sim.model.report(at: sim.now).writeUnavailableRepositorySeconds
    #expect(abs(seconds - (20 + 1.0 / 3 - 10.1)) < 1e-6, "\(seconds)")
}

/// Goal: `praefect.queue: memory` runs no reconciler. Method: RF 2 → 3 on 20 repositories; with
/// the database queue the reconciler at 300 s creates the missing replicas, with memory none.
@Test(arguments: [("postgres", true), ("memory", false)])
func memoryQueueRunsNoReconciler(queue: String, reconciles: Bool) throws {
    let yaml = clusterYAML.replacingOccurrences(of: "replicationFactor: 3", with: "replicationFactor: 2") + "\n  queue: \(queue)"
    var sim = makeSim(try Fleet.build(FleetSpec.parse(yaml, file: "c3.yaml"))) { $0.repositoryCount = 20; $0.repositorySizeBytes = 1e6 }
    var random = RandomStreams(seed: 1).stream("rf")
    for r in 0..<20 { Praefect.setReplicationFactor(&sim.model.repositories[r], factor: 3, random: &random) }
    sim.run(until: .seconds(400))
    let complete = sim.model.repositories.filter { $0.existing.nonzeroBitCount == 3 }.count
    #expect(complete == (reconciles ? 20 : 0))
}

/// Goal: maintenance goes to every healthy assigned replica and changes no generation. Method:
/// one OptimizeRepository-like call on a 3-replica repository: 3 node answers (one RPC slot
/// each), one client answer, generation still 0.
@Test func maintenanceRunsOnEveryReplica() throws {
    var sim = makeSim(try clusterFleet(consistency: .strong, faults: ""))
    World.submit(&sim, repository: 0, rpcClass: .maintenance, at: .seconds(1), cost: RecordedCost(cpuSeconds: 5, bytesRead: 0, bytesWritten: 0))
    sim.run(until: .seconds(3))
    #expect(sim.model.nodes.map(\.cpu.busy) == [1, 1, 1])
    sim.run(until: .seconds(10))
    #expect(sim.model.rpcsCompleted == 1 && sim.model.outcomes[RPCOutcome.ok.rawValue] == 1)
    #expect(sim.model.repositories[0].generation == 0)
}

/// Goal: a partition between two Gitaly nodes stops replication between them and nothing else.
/// Method: eventual mode, n1 (primary) and n3 cut off from each other from 5 s to 105 s; a
/// write at 10 s is acknowledged (Praefect reaches n1) and replicates to n2 but not to n3,
/// whose job fails its 3 attempts and dies. After the partition the reconciler (300 s)
/// queues n3 again and it catches up.
@Test func gitalyPartitionStopsReplicationBetweenTheTwoNodes() throws {
    var sim = makeSim(try clusterFleet(consistency: .eventual, faults: "    - {at: 5s, kind: gitalyPartition, target: n1, peer: n3, duration: 100s}"))
    World.submit(&sim, repository: 0, rpcClass: .write, at: .seconds(10))
    sim.run(until: .seconds(60))
    #expect(sim.model.report(at: sim.now).acknowledgedWrites == 1)
    #expect(sim.model.repositories[0].upToDate == 0b011)
    #expect(sim.model.praefect!.queue.deadJobs == 1)
    sim.run(until: .seconds(320))
    #expect(sim.model.repositories[0].upToDate == 0b111)
}
