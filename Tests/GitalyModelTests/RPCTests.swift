import Testing
import SimKernel
@testable import GitalyModel

func limitedFleet(maxQueueSize: Int, maxQueueWait: String?) throws -> Fleet {
    let wait = maxQueueWait.map { ", maxQueueWait: \($0)" } ?? ""
    let yaml = """
    name: lim
    nodes:
      - name: a
        cpuCores: 64
        storages: [{name: default, capacity: 1TB}]
        limits: [{rpc: uploadPack, maxPerRepo: 1, maxQueueSize: \(maxQueueSize)\(wait)}]
    repositories:
      - {path: r.git, storage: default}
    """
    return try Fleet.build(FleetSpec.parse(yaml, file: "lim.yaml"))
}

/// Goal: Gitaly's limiter answers ResourceExhausted when its queue is full. Method: with
/// max_per_repo 1 and max_queue_size 1, three clones of one repository at once: one runs,
/// one waits, one is refused.
@Test func limiterRejectsWhenQueueIsFull() throws {
    var sim = makeSim(try limitedFleet(maxQueueSize: 1, maxQueueWait: nil))
    for _ in 0..<3 { World.submit(&sim, repository: 0, rpcClass: .uploadPack, at: .seconds(1)) }
    sim.run(until: .seconds(30))
    #expect(sim.model.outcomes[RPCOutcome.resourceExhausted.rawValue] == 1)
    #expect(sim.model.outcomes[RPCOutcome.ok.rawValue] == 2)
}

/// Goal: a request that waits `max_queue_wait` is refused. Method: a clone lasts at least its
/// 20 MB read at 400 MB/s (50 ms) plus CPU; with a 1 ms wait bound the queued one times out.
@Test func limiterRejectsAfterMaxQueueWait() throws {
    var sim = makeSim(try limitedFleet(maxQueueSize: 10, maxQueueWait: "1ms"))
    for _ in 0..<2 { World.submit(&sim, repository: 0, rpcClass: .uploadPack, at: .seconds(1)) }
    sim.run(until: .seconds(30))
    #expect(sim.model.outcomes[RPCOutcome.resourceExhausted.rawValue] == 1)
    #expect(sim.model.outcomes[RPCOutcome.ok.rawValue] == 1)
    #expect(sim.model.nodes[0].limiters.isEmpty, "idle limiters are dropped")
}

/// Goal: a limiter timeout belongs to the request that queued, not to a ticket number.
/// Method: a 2 MB/s disk makes each clone last 10 s plus its CPU time (mean 0.2 s) and
/// `max_queue_wait` is 30 s. Clones X and A at t=0: A queues (ticket 0) and runs from about 10 s
/// to 20 s, after which the idle limiter is dropped. Clones B and C at t=25 s: a fresh limiter
/// queues C, again with ticket 0, behind B until about 35 s. A's timeout, due at 30 s, must
/// not refuse C, whose own deadline is 55 s, so all four clones succeed.
@Test func staleLimiterTimeoutDoesNotRefuseALaterRequest() throws {
    let yaml = """
    name: lim-stale
    nodes:
      - name: a
        cpuCores: 64
        disk: {readBandwidth: 2MB/s, writeBandwidth: 2MB/s}
        storages: [{name: default, capacity: 1TB}]
        limits: [{rpc: uploadPack, maxPerRepo: 1, maxQueueSize: 10, maxQueueWait: 30s}]
    repositories:
      - {path: r.git, storage: default}
    """
    var sim = makeSim(try Fleet.build(FleetSpec.parse(yaml, file: "lim-stale.yaml")))
    for t in [0.0, 0.0, 25.0, 25.0] { World.submit(&sim, repository: 0, rpcClass: .uploadPack, at: .seconds(t)) }
    sim.run(until: .seconds(120))
    #expect(sim.model.outcomes[RPCOutcome.resourceExhausted.rawValue] == 0)
    #expect(sim.model.outcomes[RPCOutcome.ok.rawValue] == 4)
}

/// Goal: the event loop's seconds-to-nanoseconds conversion is the kernel's, bit for bit.
/// Method: `SimTime.nearest(seconds:)` against `SimTime(seconds:)` on halves and their
/// neighbouring doubles, the 2^52 and saturation boundaries, and random values spread over
/// twenty orders of magnitude.
@Test func fastSecondConversionMatchesTheKernels() {
    var cases: [Double] = [0, 1e-9, 0.5e-9, 1.5e-9, 2.5e-9, 1, 0.25, 1e3, 4503599.627370496, 4503599.627370497,
                           9.2e9, 9.3e9, 1e12, Double.leastNonzeroMagnitude, 0.0049999999999999999]
    for k in [0.0, 1, 2, 7, 123_456, 4_503_599_627_370_495] {
        let half = (k + 0.5) * 1e-9
        cases += [half, half.nextUp, half.nextDown]
    }
    var random = RandomStreams(seed: 3, replication: 0).stream("conversion-test")
    for _ in 0..<100_000 {
        cases.append(random.nextDouble() * Double(sign: .plus, exponent: random.below(66) - 40, significand: 1))
    }
    for s in cases {
        #expect(SimTime.nearest(seconds: s) == SimTime(seconds: s), "\(s) s")
    }
}

/// Goal: with no faults, a cluster under moderate load answers everything, keeps replicas in
/// step and meets its apdex. Method: 300 RPC/s of 70/30 reads and writes for 60 s.
@Test func healthyClusterServesEverythingAndStaysInSync() throws {
    var sim = makeSim(benchmarkFleet()) {
        $0.traffic = .readWrite(ratePerSecond: 300)
        $0.repositoryCount = 50
    }
    sim.run(until: .seconds(60))
    let report = sim.model.report(at: sim.now)
    #expect(report.rpcsCompleted > 15_000)
    #expect(report.outcomes[.ok] == report.rpcsCompleted)
    #expect(report.lostWrites == 0 && report.unavailableRepositories.isEmpty)
    #expect(sim.model.repositories.allSatisfy { $0.upToDate == 0b111 }, "strong mode with every node healthy updates all three replicas")
    let w = report.windows[0]
    #expect(w.errorRatio == 0)
    #expect((w.apdex ?? 0) > 0.99)
}

/// Goal: accept-dataloss discards exactly what the chosen replica lacks and makes the
/// repository available again. Method: eventual mode, 3 writes reach only n1; n1's disk is
/// lost; accept-dataloss onto n2 discards the 3 writes; a write then succeeds.
@Test func acceptDatalossRestoresAvailability() throws {
    var lines = secondariesCutOff(at: "1s", duration: "20s")
    lines.append("    - {at: 10s, kind: diskLoss, target: n1}")
    var sim = makeSim(try clusterFleet(consistency: .eventual, faults: lines.joined(separator: "\n")))
    for t in [3.0, 4, 5] { World.submit(&sim, repository: 0, rpcClass: .write, at: .seconds(t)) }
    sim.run(until: .seconds(40))
    #expect(sim.model.report(at: sim.now).lostWrites == 3)
    #expect(sim.model.dataloss().count == 1)
    sim.model.acceptDataloss(repository: 0, authoritativeStorage: sim.model.fleet.storage(named: "s2")!, at: sim.now)
    #expect(sim.model.dataloss().isEmpty)
    World.submit(&sim, repository: 0, rpcClass: .write, at: .seconds(41))
    sim.run(until: .seconds(60))
    let report = sim.model.report(at: sim.now)
    #expect(report.discardedWrites == 3)
    #expect(report.lostWrites == 0)
    #expect(report.acknowledgedWrites == 4)
    #expect(sim.model.repositories[0].primary == 1)
}

/// The benchmark's load is Poisson at 800 RPC/s: over T simulated seconds the completed count
/// is about 800 T with a standard deviation of √(800 T); 5 of them bound it.
@Test func benchmarkRunsTheRequestedRPCs() {
    let r = runRPCBenchmark(rpcs: 5_000, clock: ContinuousClock())
    let expected = 800 * r.simulatedSeconds
    #expect(abs(Double(r.rpcs) - expected) < 5 * expected.squareRoot(), "\(r.rpcs) RPCs in \(r.simulatedSeconds) s")
    #expect(r.events > r.rpcs, "each RPC takes at least an arrival and a completion")
}
