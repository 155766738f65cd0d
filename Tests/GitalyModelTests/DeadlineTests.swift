import Testing
import SimKernel
@testable import GitalyModel

// Client deadlines (Rails' 55 s default Gitaly timeout): Gitaly cancels a call whose client gave
// up, so a call past its deadline frees its core then, and a call that reaches a core too late
// costs nothing.

/// A read of exactly `seconds` of CPU and no bytes, from its record.
func timedRead(_ sim: inout Simulation<World>, at t: Double, seconds: Double, repository: Int = 0) {
    World.submit(&sim, repository: repository, rpcClass: .read, at: .seconds(t), cost: RecordedCost(cpuSeconds: seconds, bytesRead: 0, bytesWritten: 0))
}

/// Goal: a call still in service at its deadline is cancelled and frees its core. Method: one
/// node with 1 core; reads of 50 s at 0 s, 10 s at 1 s, 0.5 s at 2 s and 1 s at 3 s, all with
/// the 55 s deadline. By hand: the first runs 0–50 s; the second starts at 50 s and is
/// cancelled at its deadline, 56 s (DeadlineExceeded, latency 55 s); the third runs 56–56.5 s
/// (before its 57 s deadline) and the fourth 56.5–57.5 s (before 58 s): three succeed.
/// Without the cancellation the second would hold the core until 60 s and the two after it
/// would miss their deadlines.
@Test func callInServiceAtItsDeadlineIsCancelledAndFreesItsCore() throws {
    let yaml = """
    name: one
    nodes: [{name: a, cpuCores: 1, storages: [{name: sa, capacity: 1TB}]}]
    repositories: [{path: r.git, storage: sa, size: 1MB}]
    """
    var sim = makeSim(try Fleet.build(FleetSpec.parse(yaml, file: "one.yaml"))) { $0.traffic = TrafficSpec(ratePerSecond: 0, mix: []) }
    for (t, cpu) in [(0.0, 50.0), (1, 10), (2, 0.5), (3, 1)] { timedRead(&sim, at: t, seconds: cpu) }
    sim.run(until: .seconds(55.9))
    #expect(sim.model.outcomes[RPCOutcome.deadlineExceeded.rawValue] == 0)
    sim.run(until: .seconds(56.1))
    #expect(sim.model.outcomes[RPCOutcome.deadlineExceeded.rawValue] == 1, "cancelled at 56 s")
    // The core's next occupants, by the hand schedule: 56–56.5 s and 56.5–57.5 s.
    for (t, ok) in [(56.4, 1), (56.6, 2), (57.4, 2), (57.6, 3)] {
        sim.run(until: .seconds(t))
        #expect(sim.model.outcomes[RPCOutcome.ok.rawValue] == ok, "at \(t) s")
    }
    sim.run(until: .seconds(100))
    #expect(sim.model.outcomes[RPCOutcome.deadlineExceeded.rawValue] == 1)
}

/// Goal: a write cancelled at its deadline after its vote changed the primary (Praefect's
/// finalizer counts a voted primary as changed and failed secondaries as outdated); one
/// cancelled before its vote changed nothing; neither is acknowledged. Method: on the
/// three-node cluster, a 60 s write from 10 s votes at 64 s, before its 65 s deadline; a
/// 100 s write from 200 s would vote at 290 s, after its 255 s deadline.
@Test func writeCancelledAfterItsVoteDirtiesOnlyThePrimary() throws {
    var sim = makeSim(try clusterFleet(consistency: .strong, faults: ""))
    timedWrite(&sim, at: 10, seconds: 60)
    sim.run(until: .seconds(66))
    let r = sim.model.repositories[0]
    #expect(r.generation == 1 && r.replicaGeneration(0) == 1 && r.upToDate == 0b001, "only the primary changed")
    #expect(sim.model.outcomes[RPCOutcome.deadlineExceeded.rawValue] == 1)
    #expect(sim.model.report(at: sim.now).acknowledgedWrites == 0)
    sim.run(until: .seconds(150))
    #expect(sim.model.repositories[0].upToDate == 0b111, "replication brought the secondaries up")
    timedWrite(&sim, at: 200, seconds: 100)
    sim.run(until: .seconds(260))
    #expect(sim.model.repositories[0].generation == 1, "cancelled before its vote: nothing changed")
    #expect(sim.model.outcomes[RPCOutcome.deadlineExceeded.rawValue] == 2)
    #expect(sim.model.report(at: sim.now).acknowledgedWrites == 0)
}
