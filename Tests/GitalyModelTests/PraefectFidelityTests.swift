import Testing
import SimKernel
@testable import GitalyModel
import SpecFiles

/// A write of exactly `seconds` of CPU and no bytes on every node it runs on, from its record.
func timedWrite(_ sim: inout Simulation<World>, at t: Double, seconds: Double, repository: Int = 0) {
    World.submit(&sim, repository: repository, rpcClass: .write, at: .seconds(t), cost: RecordedCost(cpuSeconds: seconds, bytesRead: 0, bytesWritten: 0))
}

/// Goal: a primary that crashes after it voted counts as changed (gitaly
/// `getUpdatedAndOutdatedSecondaries`): only its generation goes up, the secondaries are
/// outdated, and the repository is unavailable (in `dataloss`) until the primary returns.
/// Method: a 10 s write from 10 s votes at 10 + 0.9 × 10 = 19 s; n1 crashes at 19.5 s for
/// 30 s plus its 120 s reboot, so it serves again at 169.5 s.
/// By hand, write-unavailable seconds: every Praefect fails writes from the crash until it
/// sees n1 again. p3 probes at 169.667 s (rounds at k + 2/3 s), p1 at 170 s, p2 at
/// 170.333 s; consensus needs no change because no other replica is valid. So
/// 150.167 s at full weight, 1/3 s at 2/3 and 1/3 s at 1/3: 150.5 s.
@Test func primaryCrashAfterItsVoteLeavesOnlyThePrimaryUpToDate() throws {
    var sim = makeSim(try clusterFleet(consistency: .strong, faults: "    - {at: 19500ms, kind: nodeCrash, target: n1, duration: 30s}"))
    timedWrite(&sim, at: 10, seconds: 10)
    sim.run(until: .seconds(25))
    let r = sim.model.repositories[0]
    #expect(r.generation == 1 && r.replicaGeneration(0) == 1 && r.replicaGeneration(1) == 0 && r.replicaGeneration(2) == 0)
    #expect(r.upToDate == 0b001)
    #expect(sim.model.report(at: sim.now).acknowledgedWrites == 0, "the client got an error")
    sim.run(until: .seconds(60))
    #expect(sim.model.dataloss().map(\.relativePath) == ["r.git"])
    // A write now finds no valid primary: the old one stays and the write fails.
    World.submit(&sim, repository: 0, rpcClass: .write, at: .seconds(61))
    sim.run(until: .seconds(62))
    #expect(sim.model.repositories[0].primary == 0)
    #expect(sim.model.outcomes[RPCOutcome.unavailable.rawValue] == 2)
    sim.run(until: .seconds(200))
    #expect(sim.model.dataloss().isEmpty)
    let report = sim.model.report(at: sim.now)
    #expect(abs(report.writeUnavailableRepositorySeconds - 150.5) < 1e-6, "\(report.writeUnavailableRepositorySeconds)")
    #expect(report.lostWrites == 0)
}

/// Goal: a primary that crashes before its vote changes nothing; failover follows.
/// Method: the same write, n1 crashing at 14 s (before the vote at 19 s). Every replica
/// stays at generation 0; once consensus drops n1 a write elects n2 or n3 and succeeds.
@Test func primaryCrashBeforeItsVoteChangesNothing() throws {
    var sim = makeSim(try clusterFleet(consistency: .strong, faults: "    - {at: 14s, kind: nodeCrash, target: n1, duration: 1000s}"))
    timedWrite(&sim, at: 10, seconds: 10)
    sim.run(until: .seconds(40))
    #expect(sim.model.repositories[0].generation == 0 && sim.model.repositories[0].upToDate == 0b111)
    #expect(sim.model.dataloss().isEmpty)
    World.submit(&sim, repository: 0, rpcClass: .write, at: .seconds(41))
    sim.run(until: .seconds(45))
    #expect(sim.model.repositories[0].primary != 0)
    #expect(sim.model.report(at: sim.now).acknowledgedWrites == 1)
}

/// Goal: a pod stopped by a rolling update (SIGTERM ends its RPCs at once) takes the same path
/// as a crash after the vote. Method: n1 is a pod; a 10 s write from 10 s votes at 19 s; the
/// rolling update stops n1 at 19.5 s. By hand: only n1 is at generation 1 afterwards.
@Test func sigtermAfterTheVoteDirtiesThePrimary() throws {
    let yaml = clusterYAML.replacingOccurrences(of: "  - name: n1\n", with: "  - name: n1\n    host: {kind: pod}\n")
        + "\nrepositories:\n  - {path: r.git, storage: default, size: 10MB, replicas: [s1, s2, s3], primary: s1}"
    var sim = makeSim(try Fleet.build(FleetSpec.parse(yaml, file: "pods.yaml")))
    timedWrite(&sim, at: 10, seconds: 10)
    sim.run(until: .seconds(19.5))
    World.startRollingUpdate(&sim, nodes: [0])
    sim.run(until: .seconds(25))
    #expect(sim.model.repositories[0].upToDate == 0b001)
    #expect(sim.model.report(at: sim.now).acknowledgedWrites == 0)
}

/// Goal: write unavailability is what clients see. Method: n1 (primary) crashes at 20.1 s with
/// nothing in flight. Writes fail at once (the node is down) and keep failing while each
/// Praefect's local view refuses the primary; they work again when consensus drops n1 and the
/// next write elects another primary. Consensus: the last rounds that saw n1 were p1's at
/// 20 s, p2's at 19.333 s and p3's at 19.667 s; 2 of 3 must have seen it within 10 s, so it
/// drops at the first refresh after 29.667 s: p1's round result at 30 s. By hand: 9.9 s.
/// The consensus view alone (the old measure) counted 0 s: another valid primary existed.
@Test func writeUnavailabilityCoversTheWindowBeforeFailover() throws {
    var sim = makeSim(try clusterFleet(consistency: .strong, faults: "    - {at: 20100ms, kind: nodeCrash, target: n1, duration: 1000s}"))
    sim.run(until: .seconds(25))
    #expect(sim.model.writeUnavailableRepositories == 1)
    sim.run(until: .seconds(60))
    #expect(sim.model.writeUnavailableRepositories == 0)
    #expect(abs(sim.model.report(at: sim.now).writeUnavailableRepositorySeconds - 9.9) < 1e-6)
}

/// Goal: losing two of three Praefects loses the consensus quorum but not writes: the survivor
/// still routes to a healthy primary. Method: p2 and p3 stop at 10 s for good; by hand no
/// write-unavailable second, while `dataloss` (consensus) lists the repository once their
/// last contact is older than the consensus window.
@Test func lossOfPraefectQuorumIsNotCountedAsWriteUnavailability() throws {
    let faults = "    - {at: 10s, kind: praefectLoss, target: p2}\n    - {at: 10s, kind: praefectLoss, target: p3}"
    var sim = makeSim(try clusterFleet(consistency: .strong, faults: faults))
    for t in stride(from: 30.0, to: 40, by: 1) { World.submit(&sim, repository: 0, rpcClass: .write, at: .seconds(t)) }
    sim.run(until: .seconds(50))
    let report = sim.model.report(at: sim.now)
    #expect(report.acknowledgedWrites == 10)
    #expect(report.writeUnavailableRepositorySeconds == 0)
    #expect(report.unavailableRepositories.count == 1, "consensus lost its quorum")
}

/// A one-Praefect cluster whose replication jobs cost exactly `latency` seconds plus their
/// bytes (no CPU), with `repositories` generated repositories of 1 MB.
func catchUpSim(latency: Double, repositories: Int, faults: String, consistency: ConsistencyMode = .strong) throws -> Simulation<World> {
    let yaml = clusterYAML.replacingOccurrences(of: "consistency: strong", with: "consistency: \(consistency.rawValue)")
        .replacingOccurrences(of: "  instances: [{name: p1, zone: zone-a}, {name: p2, zone: zone-b}, {name: p3, zone: zone-c}]",
                              with: "  instances: [{name: p1, zone: zone-a}]\n  replication: {jobLatencyMinimum: \(latency)s, jobLatencyExtraMean: 0s, jobTargetCPU: 0s, jobSourceCPU: 0s}")
        + (faults.isEmpty ? "" : "\nfaults:\n  schedule:\n" + faults)
    return makeSim(try Fleet.build(FleetSpec.parse(yaml, file: "c3.yaml"))) { $0.repositoryCount = repositories; $0.repositorySizeBytes = 1e6 }
}

/// Goal: catch-up after an outage takes K × (fixed latency + bytes / bandwidth), jobs one at a
/// time, each batch acknowledged as a whole. Method: n3 is down from 5 s to 225 s (100 s +
/// 120 s reboot); one write to each of 20 repositories at 20–39 s (after consensus dropped
/// n3, so a repository whose primary was n3 elects another first) leaves 20 jobs for n3, each
/// of one write's 16 kB. The bottleneck is n3's disk writes (200 MB/s): 80 µs. By hand, job
/// i ends 2.00008 s after job i−1; the queue keeps all 20 until the first batch of 10 ends.
@Test func catchUpTakesTheJobsFixedLatencyOneAfterTheOther() throws {
    var sim = try catchUpSim(latency: 2, repositories: 20, faults: "    - {at: 5s, kind: nodeCrash, target: n3, duration: 100s}")
    for i in 0..<20 { World.submit(&sim, repository: i, rpcClass: .write, at: .seconds(20 + Double(i))) }
    sim.run(until: .seconds(225))
    #expect(sim.model.praefect!.queue.count == 20)
    var doneAt: [SimTime] = []
    var queueWhenNine = -1
    while doneAt.count < 20 && sim.now < .seconds(400) {
        sim.run(until: sim.now + .milliseconds(10))
        let done = sim.model.repositories.filter { $0.upToDate == 0b111 }.count
        while doneAt.count < done { doneAt.append(sim.now) }
        if done == 9 { queueWhenNine = sim.model.praefect!.queue.count }
    }
    #expect(doneAt.count == 20)
    let span = (doneAt[19] - doneAt[0]).seconds
    #expect(abs(span - 19 * 2.00008) < 0.011, "span \(span)")
    #expect(queueWhenNine == 20, "a batch is acknowledged as a whole")
    let latency = sim.model.replicationLatencySeconds
    #expect(latency.count == 20 && abs(latency.mean - 2.00008) < 1e-6)
}

/// Goal: workers serve targets in turn (processBacklog's queue of storages). Method: batch size
/// 1, jobs for targets 0 and 2 and none for 1. By hand: 0, 2, 0, 2 (target 1 backs off);
/// serving the first eligible target would give 0, 0, 2, 2.
@Test func workersServeTargetsRoundRobin() {
    var spec = PraefectSpec(instances: [PraefectInstanceSpec(name: "p")], virtualStorages: [])
    spec.replication.batchSize = 1
    var p = Praefect(spec: spec, memberNodes: [[0, 1, 2]], nodes: 3)
    p.health.markAllHealthy(at: .zero)
    _ = p.refreshMasks(at: .zero)
    for (r, target) in [(0, 0), (1, 0), (2, 2), (3, 2)] {
        p.queue.enqueue(repository: r, virtualStorage: 0, source: 1, target: target, change: .update, at: .zero)
    }
    var order: [Int] = []
    for _ in 0..<4 {
        guard let (target, jobs) = p.workerStep(praefect: 0, virtualStorage: 0, at: .zero) else { break }
        order.append(target)
        for j in jobs { p.queue.acknowledge(j, success: true) }
        p.targetDone(praefect: 0, virtualStorage: 0, target: target)
    }
    #expect(order == [0, 2, 0, 2])
}

/// Goal: in-progress jobs of a stopped Praefect go stale after a minute (`ProcessStale`, every
/// 30 s). Method: a job is orphaned at 17 s; checks at 30 s and 60 s find it 13 s and 43 s
/// old; the one at 90 s finds it 73 s old and fails it, releasing its lock.
@Test func orphanedJobGoesStaleAfterAMinute() {
    var q = ReplicationQueue()
    q.enqueue(repository: 0, virtualStorage: 0, source: 0, target: 1, change: .update, at: .zero)
    let taken = q.dequeue(virtualStorage: 0, target: 1, limit: 10, at: .seconds(1))
    q.orphan(taken, at: .seconds(17))
    #expect(q.failStale(at: .seconds(30), staleAfter: World.staleJobAge) == 0)
    #expect(q.failStale(at: .seconds(60), staleAfter: World.staleJobAge) == 0)
    #expect(q.dequeue(virtualStorage: 0, target: 1, limit: 10, at: .seconds(61)).isEmpty, "still locked")
    #expect(q.failStale(at: .seconds(90), staleAfter: World.staleJobAge) == 1)
    #expect(q.job(taken[0])?.state == .failed)
    #expect(q.dequeue(virtualStorage: 0, target: 1, limit: 10, at: .seconds(91)) == taken, "retried")
}

/// Goal: the world runs `ProcessStale`. Method: eventual mode, jobs of 100 s; a write at 6 s
/// gives jobs for n2 and n3, and the one worker starts n2's. At 50 s it drops its batch as a
/// stopped Praefect's worker does (the check itself needs a running Praefect, and this cluster
/// has one). The checks run every 30 s: the job is 10 s, 40 s and then 70 s without a
/// heartbeat, so by hand it fails at 120 s.
@Test func stoppedPraefectsJobsFailAtTheFirstCheckPastAMinute() throws {
    var sim = try catchUpSim(latency: 100, repositories: 1, faults: "", consistency: .eventual)
    World.submit(&sim, repository: 0, rpcClass: .write, at: .seconds(6))
    sim.run(until: .seconds(50))
    #expect(sim.model.workers.contains { $0.busy })
    sim.model.abandonReplication(praefect: 0, &sim.scheduler)
    let jobs = sim.model.praefect!.queue.slots.compactMap { $0 }.filter { $0.state == .inProgress }
    #expect(jobs.count == 1)
    sim.run(until: .seconds(119))
    #expect(sim.model.praefect!.queue.staleJobs == 0)
    sim.run(until: .seconds(121))
    #expect(sim.model.praefect!.queue.staleJobs == 1)
}

/// Goal: a job whose source replica is gone drops the source's record at once
/// (`DeleteInvalidRepository`), long before the verifier (7 days). Method: eventual mode,
/// n2 and n3 cut off from every Praefect so a write at 10 s stays on n1 with jobs pending;
/// n1's disk is lost at 12 s for 1 s (back empty after the reboot at 133 s); the cuts end at
/// 20 s, so the write's jobs run while n1 is down and die after 3 attempts. The reconciler at
/// 300 s finds n1 healthy and up to date and enqueues jobs from it; the first finds no source
/// and deletes n1's row. The verifier (7-day interval) would not have.
@Test func jobWithoutSourceDeletesTheSourcesRecord() throws {
    var lines = secondariesCutOff(at: "5s", duration: "15s")
    lines.append("    - {at: 12s, kind: diskLoss, target: n1, duration: 1s}")
    var sim = makeSim(try clusterFleet(consistency: .eventual, faults: lines.joined(separator: "\n")))
    World.submit(&sim, repository: 0, rpcClass: .write, at: .seconds(10))
    sim.run(until: .seconds(11))
    #expect(sim.model.repositories[0].upToDate == 0b001)
    sim.run(until: .seconds(299))
    #expect(sim.model.repositories[0].existing.contains(slot: 0), "Praefect still believes n1 holds it")
    sim.run(until: .seconds(320))
    #expect(!sim.model.repositories[0].existing.contains(slot: 0), "n1's row is gone")
    #expect(sim.model.report(at: sim.now).lostWrites == 1)
}

/// Goal: an outage of Praefect's PostgreSQL fails every call through Praefect for exactly its
/// length (routing reads the database for every call; the storages cache is off while the
/// database is gone). Method: the database is down from 10 s to 40 s; writes at 5, 15 and
/// 45 s, a read at 20 s. By hand: the writes at 5 and 45 s succeed, the write at 15 s and the
/// read fail; every Praefect refuses writes for 30 s, so 30 repository-seconds. The consensus
/// ages meanwhile (no `node_status` row is written) and is whole again within one round (1 s)
/// after the database returns.
@Test func databaseOutageFailsEveryCallThroughPraefectForItsLength() throws {
    var sim = makeSim(try clusterFleet(consistency: .strong, faults: "    - {at: 10s, kind: databaseOutage, duration: 30s}"))
    for t in [5.0, 15, 45] { World.submit(&sim, repository: 0, rpcClass: .write, at: .seconds(t)) }
    World.submit(&sim, repository: 0, rpcClass: .read, at: .seconds(20))
    sim.run(until: .seconds(35))
    #expect(sim.model.writeUnavailableRepositories == 1)
    #expect(sim.model.report(at: sim.now).unavailableRepositories.count == 1, "the consensus aged past its 10 s window")
    sim.run(until: .seconds(41.5))
    #expect(sim.model.report(at: sim.now).unavailableRepositories.isEmpty, "one round after the outage the consensus is back")
    sim.run(until: .seconds(50))
    let report = sim.model.report(at: sim.now)
    #expect(report.acknowledgedWrites == 2)
    #expect(sim.model.outcomes[RPCOutcome.unavailable.rawValue] == 2)
    #expect(abs(report.writeUnavailableRepositorySeconds - 30) < 1e-6, "\(report.writeUnavailableRepositorySeconds)")
}

/// Goal: a write that finishes while the database is down is not acknowledged and changes no
/// generation (the finalizer cannot record it). Method: a 4 s write from 8 s ends at 12 s,
/// inside an outage from 10 s.
@Test func writeFinishingDuringADatabaseOutageIsNotRecorded() throws {
    var sim = makeSim(try clusterFleet(consistency: .strong, faults: "    - {at: 10s, kind: databaseOutage, duration: 30s}"))
    timedWrite(&sim, at: 8, seconds: 4)
    sim.run(until: .seconds(15))
    #expect(sim.model.repositories[0].generation == 0)
    #expect(sim.model.report(at: sim.now).acknowledgedWrites == 0)
    #expect(sim.model.outcomes[RPCOutcome.unavailable.rawValue] == 1)
}

/// Goal: replication waits for the database. Method: n2 and n3 are cut off from 1 s to 6 s; a
/// write at 3 s reaches n1 alone and queues jobs for n2 and n3; the database is down from
/// 5 s to 65 s, so no worker dequeues them until 65 s; then each takes its fixed latency
/// (0.3 s plus an exponential of mean 0.7 s) and both replicas are up to date well before 80 s.
@Test func replicationWaitsForTheDatabase() throws {
    let faults = (secondariesCutOff(at: "1s", duration: "5s") + ["    - {at: 5s, kind: databaseOutage, duration: 60s}"]).joined(separator: "\n")
    var sim = makeSim(try clusterFleet(consistency: .strong, faults: faults))
    World.submit(&sim, repository: 0, rpcClass: .write, at: .seconds(3))
    sim.run(until: .seconds(64.9))
    #expect(sim.model.repositories[0].generation == 1)
    #expect(sim.model.repositories[0].upToDate == 0b001, "no job ran while the database was down")
    sim.run(until: .seconds(80))
    #expect(sim.model.repositories[0].upToDate == 0b111)
}

/// Goal: a database outage is refused where there is no database. Method: the fault on a
/// Praefect with `queue: memory`, with a target, and as a random fault on a plain fleet.
@Test func databaseOutageNeedsADatabase() throws {
    let memory = #expect(throws: SpecError.self) {
        _ = try clusterFleet(consistency: .strong, faults: "    - {at: 10s, kind: databaseOutage}", praefect: "  queue: memory")
    }
    #expect(memory?.description.contains("needs Praefect with queue: postgres") == true, "\(String(describing: memory))")
    let targeted = #expect(throws: SpecError.self) {
        _ = try clusterFleet(consistency: .strong, faults: "    - {at: 10s, kind: databaseOutage, target: p1}")
    }
    #expect(targeted?.description.contains("takes no target") == true, "\(String(describing: targeted))")
    let plain = #expect(throws: SpecError.self) {
        _ = try shardedFleet(extra: "faults: {databaseOutage: {mtbf: 100h, mttr: 5m}}")
    }
    #expect(plain?.description.contains("databaseOutage") == true, "\(String(describing: plain))")
}
