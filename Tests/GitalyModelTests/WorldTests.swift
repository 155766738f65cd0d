import Testing
import SimKernel
import SpecFiles
@testable import GitalyModel

/// A plain three-storage fleet where the source disk's read bandwidth (100 MB/s) is the only
/// bottleneck: every other resource is 10× faster, the per-stream cap is out of the way and
/// Sidekiq picks a job up at once unless `gitlab` says otherwise; copies never wait for cores
/// (per-core copy rates of 100 GB/s).
func shardedFleet(sidekiq: Int = 5, gitlab: String = "moveStreamBandwidth: 100GB/s, sidekiqPickup: 0s", repositories: String? = nil, extra: String = "") throws -> Fleet {
    let yaml = """
    name: two
    nodes:
      - name: a
        disk: {readBandwidth: 100MB/s, writeBandwidth: 1000MB/s}
        network: {bandwidth: 1000MB/s}
        storages: [{name: sa, capacity: 100GB}]
      - name: b
        disk: {readBandwidth: 1000MB/s, writeBandwidth: 1000MB/s}
        network: {bandwidth: 1000MB/s}
        storages: [{name: sb, capacity: 100GB}]
      - name: c
        disk: {readBandwidth: 1000MB/s, writeBandwidth: 1000MB/s}
        network: {bandwidth: 1000MB/s}
        storages: [{name: sc, capacity: 100GB}]
    gitlab: {weights: {sa: 100}, sidekiqConcurrency: \(sidekiq), apiLatency: 0s, moveSourceRatePerCore: 100GB/s, moveDestinationRatePerCore: 100GB/s, \(gitlab)}
    repositories:
    \(repositories ?? "  - {path: r0.git, storage: sa, size: 1GB}\n  - {path: r1.git, storage: sa, size: 3GB}")
    \(extra)
    """
    return try Fleet.build(FleetSpec.parse(yaml, file: "two.yaml"))
}

func makeSim(_ fleet: Fleet, _ configure: (inout WorldConfig) -> Void = { _ in }) -> Simulation<World> {
    var config = WorldConfig(seed: 7)
    configure(&config)
    var sim = Simulation(model: World(fleet: fleet, config: config))
    World.start(&sim)
    return sim
}

/// Runs until the move reaches a terminal state; returns the time it did.
func runMove(_ sim: inout Simulation<World>, _ id: Int, limit: Double = 1000) -> SimTime {
    while !sim.model.move(id).state.isTerminal && sim.now < .seconds(limit) {
        sim.run(until: sim.now + .milliseconds(100))
    }
    return sim.now
}

/// Goal: a bulk copy of B bytes through a bottleneck of R lasts B/R. Method: move a 1 GB
/// repository off a 100 MB/s disk; `finish_replication` comes after the copy (10 s) and the two
/// checksums.
@Test func transferThroughBottleneckLastsBytesOverRate() throws {
    var sim = makeSim(try shardedFleet())
    let id = try World.scheduleMove(&sim, repository: 0, destination: 1).result.get()
    var finishedAt: SimTime?
    while finishedAt == nil {
        sim.run(until: sim.now + .milliseconds(1))
        if sim.model.move(id).state == .replicated && finishedAt == nil { finishedAt = sim.now }
        if sim.now > .seconds(60) { break }
    }
    let copySeconds = finishedAt!.seconds - MoveCosts.checksumSeconds(.project, RepositoryParts())
    #expect(abs(copySeconds - 10) < 0.002, "copy took \(copySeconds) s")
}

/// Goal: a link between sites bounds every copy across it, shared max-min, and no copy inside
/// a site (seeds/002's WireGuard tunnel between data centres). Method: sites ny (a1, a2) and
/// fra (b1, b2) joined by 50 MB/s, every disk and NIC at 1000 MB/s. Moving 1 GB a1→b1 and
/// 3 GB a2→b2 at once: both get 25 MB/s until the first ends at 2·1/0.05 = 40 s; the second
/// then has the link alone and ends at (1 + 3)/0.05 = 80 s. A 1 GB move a1→a2 inside ny takes
/// 1 s: 1/1.0, its disks, not the link.
@Test func siteLinkBoundsEveryCopyAcrossIt() throws {
    func node(_ name: String, _ site: String) -> String {
        "  - {name: \(name), site: \(site), disk: {readBandwidth: 1000MB/s, writeBandwidth: 1000MB/s}, network: {bandwidth: 1000MB/s}, storages: [{name: s\(name), capacity: 100GB}]}"
    }
    let yaml = """
    name: two-sites
    nodes:
    \([node("a1", "ny"), node("a2", "ny"), node("b1", "fra"), node("b2", "fra")].joined(separator: "\n"))
    links:
      - {between: [ny, fra], bandwidth: 50MB/s}
    gitlab: {weights: {sa1: 100}, apiLatency: 0s, sidekiqPickup: 0s, moveStreamBandwidth: 100GB/s, moveSourceRatePerCore: 100GB/s, moveDestinationRatePerCore: 100GB/s}
    repositories:
      - {path: r0.git, storage: sa1, size: 1GB}
      - {path: r1.git, storage: sa2, size: 3GB}
      - {path: r2.git, storage: sa1, size: 1GB}
    """
    let fleet = try Fleet.build(FleetSpec.parse(yaml, file: "two-sites.yaml"))
    #expect(fleet.summary.contains("link ny – fra: 50MB/s"), "\(fleet.summary)")
    func copyEnds(_ moves: [(repository: Int, to: String)]) throws -> [SimTime] {
        var sim = makeSim(fleet)
        let ids = try moves.map { try World.scheduleMove(&sim, repository: $0.repository, destination: fleet.virtualStorage(named: $0.to)!).result.get() }
        var replicatedAt: [Int: SimTime] = [:]
        while replicatedAt.count < ids.count && sim.now < .seconds(200) {
            sim.run(until: sim.now + .milliseconds(1))
            for id in ids where replicatedAt[id] == nil && sim.model.move(id).state == .replicated { replicatedAt[id] = sim.now }
        }
        return ids.map { replicatedAt[$0]! - .seconds(MoveCosts.checksumSeconds(.project, RepositoryParts())) }
    }
    let across = try copyEnds([(0, "sb1"), (1, "sb2")])
    #expect(abs(across[0].seconds - 40) < 0.003 && abs(across[1].seconds - 80) < 0.003, "\(across)")
    let inside = try copyEnds([(2, "sa2")])
    #expect(abs(inside[0].seconds - 1) < 0.003, "\(inside)")
    let noLink = #expect(throws: SpecError.self) {
        _ = try Fleet.build(FleetSpec.parse(yaml.replacingOccurrences(of: "[ny, fra]", with: "[ny, ams]"), file: "two-sites.yaml"))
    }
    #expect(noLink?.description == "two-sites.yaml:8: links[0].between: link ny–ams: no node is at site \"ams\"; sites are ny, fra", "\(String(describing: noLink))")
}

/// Goal: two flows on one disk share it max-min. Method: move 1 GB and 3 GB off the same
/// 100 MB/s disk to two destinations at once. Both get 50 MB/s until the first ends at
/// 2·1/0.1 = 20 s; the second then has the disk alone and ends at (1 + 3)/0.1 = 40 s.
@Test func twoFlowsOnOneDiskFinishAsMaxMinPredicts() throws {
    var sim = makeSim(try shardedFleet())
    let a = try World.scheduleMove(&sim, repository: 0, destination: 1).result.get()
    let b = try World.scheduleMove(&sim, repository: 1, destination: 2).result.get()
    var replicatedAt: [Int: SimTime] = [:]
    while replicatedAt.count < 2 && sim.now < .seconds(100) {
        sim.run(until: sim.now + .milliseconds(1))
        for id in [a, b] where replicatedAt[id] == nil && sim.model.move(id).state == .replicated { replicatedAt[id] = sim.now }
    }
    let checksum = MoveCosts.checksumSeconds(.project, RepositoryParts())
    #expect(abs(replicatedAt[a]!.seconds - checksum - 20) < 0.002)
    #expect(abs(replicatedAt[b]!.seconds - checksum - 40) < 0.002)
}

@Test func successfulMoveSwitchesStorageAndFreesTheSource() throws {
    var sim = makeSim(try shardedFleet())
    let fleet = sim.model.fleet
    let sa = fleet.storage(named: "sa")!, sb = fleet.storage(named: "sb")!
    let usedBefore = sim.model.storageUsedBytes[sa]
    let id = try World.scheduleMove(&sim, repository: 0, destination: 1).result.get()
    #expect(sim.model.move(id).state == .scheduled)
    #expect(sim.model.readOnly[0], "read-only from scheduled")
    sim.run(until: .seconds(5))
    #expect(sim.model.move(id).state == .started && sim.model.readOnly[0])
    _ = runMove(&sim, id)
    #expect(sim.model.move(id).state == .finished)
    #expect(!sim.model.readOnly[0])
    #expect(sim.model.repositories[0].virtualStorage == fleet.virtualStorage(named: "sb"))
    #expect(sim.model.storageUsedBytes[sa] == usedBefore - 1e9)
    #expect(sim.model.storageUsedBytes[sb] == 1e9)
}

@Test func moveWaitingForPushesTimesOutAndBecomesWritable() throws {
    var sim = makeSim(try shardedFleet())
    sim.model.inflightPushes[0] = 1  // a push that never ends (a stuck counter)
    let id = try World.scheduleMove(&sim, repository: 0, destination: 1).result.get()
    let end = runMove(&sim, id)
    #expect(sim.model.move(id).state == .failed)
    #expect(sim.model.move(id).failureReason == "Timeout waiting for project repository pushes")
    // Polls at 0, 10 and 20 s, a sleep after each: Rails gives up at 30 s.
    #expect(abs(end.seconds - 30) <= 0.1)
    #expect(!sim.model.readOnly[0], "a failure after started sets the repository writable")
}

@Test func moveFailedBeforeStartLeavesRepositoryReadOnly() throws {
    var sim = makeSim(try shardedFleet(sidekiq: 1))
    let first = try World.scheduleMove(&sim, repository: 1, destination: 1).result.get()
    let second = try World.scheduleMove(&sim, repository: 0, destination: 2).result.get()
    sim.run(until: .seconds(1))
    #expect(sim.model.move(second).state == .scheduled, "waits for the one Sidekiq thread")
    World.failMove(&sim, second, reason: "operator do_fail!")
    #expect(sim.model.move(second).state == .failed)
    #expect(sim.model.readOnly[0], "gitlab#385309: read-only stays after a failure before started")
    #expect(World.scheduleMove(&sim, repository: 0, destination: 2).result == .failure(.repositoryReadOnly), "a new move fails validation until an operator clears the flag")
    _ = runMove(&sim, first)
    #expect(sim.model.move(first).state == .finished, "the failed move gave its thread back")
    sim.model.clearReadOnly(0, at: sim.now)
    #expect(!sim.model.readOnly[0])
}

@Test func destinationCrashDuringCopyFailsTheMoveAndRemovesTheCopy() throws {
    var sim = makeSim(try shardedFleet(extra: "faults: {schedule: [{at: 3s, kind: nodeCrash, target: b, duration: 1m}]}"))
    let id = try World.scheduleMove(&sim, repository: 0, destination: 1).result.get()
    _ = runMove(&sim, id)
    #expect(sim.model.move(id).state == .failed)
    #expect(sim.model.move(id).failureReason == "ReplicateRepository failed")
    #expect(!sim.model.readOnly[0])
    #expect(sim.model.storageUsedBytes[sim.model.fleet.storage(named: "sb")!] == 0)
    #expect(sim.model.repositories[0].virtualStorage == 0, "still on its source")
}

@Test func checksumMismatchFailsTheMove() throws {
    var sim = makeSim(try shardedFleet()) { $0.moveChecksumMismatchProbability = 1 }
    let id = try World.scheduleMove(&sim, repository: 0, destination: 1).result.get()
    _ = runMove(&sim, id)
    #expect(sim.model.move(id).state == .failed)
    #expect(sim.model.storageUsedBytes[sim.model.fleet.storage(named: "sb")!] == 0)
}

@Test func sourceDownAtCleanupGivesCleanupFailed() throws {
    // The copy ends at 10 s, the switch after the checksums at 10.12 s, the cleanup at
    // 11.12 s; the source crashes at 10.5 s.
    var sim = makeSim(try shardedFleet(extra: "faults: {schedule: [{at: 10500ms, kind: nodeCrash, target: a, duration: 1m}]}"))
    let id = try World.scheduleMove(&sim, repository: 0, destination: 1).result.get()
    _ = runMove(&sim, id)
    #expect(sim.model.move(id).state == .cleanupFailed)
    #expect(sim.model.repositories[0].virtualStorage == 1, "the switch happened")
    #expect(!sim.model.readOnly[0])
}

@Test func moveOfReadOnlyRepositoryFailsValidation() throws {
    var sim = makeSim(try shardedFleet())
    _ = try World.scheduleMove(&sim, repository: 0, destination: 1).result.get()
    #expect(World.scheduleMove(&sim, repository: 0, destination: 2).result == .failure(.repositoryReadOnly))
}

/// Goal: a rolling update of three pods never has two down at once. Method: watch the
/// time-weighted count of down nodes; its maximum must be 1, and the update must take three
/// outages of stop + start + readiness (30 + 20 + 30 s) back to back.
@Test func rollingUpdateOfThreePodsNeverHasTwoDown() throws {
    let yaml = (1...3).map { "  - {name: p\($0), host: {kind: pod, stopTime: 30s, startTime: 20s, readinessDelay: 30s}, storages: [{name: s\($0), capacity: 1TB}]}" }.joined(separator: "\n")
    let fleet = try Fleet.build(FleetSpec.parse("name: pods\nnodes:\n\(yaml)\n", file: "pods.yaml"))
    var sim = makeSim(fleet) { $0.repositoryCount = 3 }
    World.startRollingUpdate(&sim, nodes: [0, 1, 2])
    var wentDown = Set<Int>()
    while sim.model.rollingUpdateInProgress && sim.now < .seconds(1000) {
        sim.run(until: sim.now + .seconds(1))
        for n in 0..<3 where !sim.model.nodes[n].up { wentDown.insert(n) }
    }
    #expect(sim.model.nodesDown.max == 1)
    #expect(wentDown == [0, 1, 2])
    #expect(abs(sim.now.seconds - 240) <= 1)
    #expect(sim.model.nodes.allSatisfy { $0.up })
}

/// Goal: a rolling update scheduled in the model's faults rolls every pod, one after the
/// other, and leaves the VM alone; a target that is not a pod is refused by name. Method: pods
/// p1–p3 and a VM; the update at 10 s takes each pod down at 10, 90 and 170 s (each outage
/// stop + start + readiness = 80 s), and the VM never goes down.
@Test func scheduledRollingUpdateRollsEveryPodInTurn() throws {
    let pods = (1...3).map { "  - {name: p\($0), host: {kind: pod, stopTime: 30s, startTime: 20s, readinessDelay: 30s}, storages: [{name: s\($0), capacity: 1TB}]}" }.joined(separator: "\n")
    let vm = "  - {name: vm, storages: [{name: sv, capacity: 1TB}]}"
    func fleet(_ schedule: String) throws -> Fleet {
        try Fleet.build(FleetSpec.parse("name: pods\nnodes:\n\(pods)\n\(vm)\nfaults: {schedule: [\(schedule)]}\n", file: "pods.yaml"))
    }
    var sim = makeSim(try fleet("{at: 10s, kind: rollingUpdate}")) { $0.repositoryCount = 4 }
    sim.run(until: .seconds(300))
    #expect(sim.model.nodes[0..<3].map(\.downSince) == [[.seconds(10)], [.seconds(90)], [.seconds(170)]])
    #expect(sim.model.nodes[3].downSince.isEmpty)
    #expect(sim.model.nodes.allSatisfy(\.up) && !sim.model.rollingUpdateInProgress)
    let error = #expect(throws: SpecError.self) { _ = try fleet("{at: 10s, kind: rollingUpdate, target: vm}") }
    #expect(error?.description == "pods.yaml:7: faults.schedule[0].target: rollingUpdate fault: \"vm\" is not a pod; pods are p1, p2, p3", "\(String(describing: error))")
}

/// Goal: in eventual mode, losing the primary loses exactly the writes not yet replicated.
/// Method: 5 writes at 1–5 s replicate freely; at 15 s both secondaries are cut off from every
/// Praefect, so the 5 writes at 20–24 s stay on the primary only; at 30 s the primary's disk
/// is lost. By hand: 10 acknowledged, 5 lost.
@Test func eventualPrimaryLossInWorldLosesTheUnreplicatedWrites() throws {
    var cuts = secondariesCutOff(at: "15s")
    cuts.append("    - {at: 30s, kind: diskLoss, target: n1}")
    var sim = makeSim(try clusterFleet(consistency: .eventual, faults: cuts.joined(separator: "\n")))
    for t in [1.0, 2, 3, 4, 5, 20, 21, 22, 23, 24] { World.submit(&sim, repository: 0, rpcClass: .write, at: .seconds(t)) }
    sim.run(until: .seconds(40))
    let report = sim.model.report(at: sim.now)
    #expect(report.acknowledgedWrites == 10)
    #expect(report.lostWrites == 5)
}

/// Goal: strong mode with one node down loses no acknowledged write when the primary is then
/// lost. Method: n3 crashes for good at 0.5 s; 10 writes; the primary's disk is lost at 30 s.
/// The surviving secondary voted on every write, so nothing is lost.
@Test func strongModeWithOneNodeDownLosesNothingInWorld() throws {
    let faults = "    - {at: 500ms, kind: nodeCrash, target: n3, duration: 1000h}\n    - {at: 30s, kind: diskLoss, target: n1}"
    var sim = makeSim(try clusterFleet(consistency: .strong, faults: faults))
    for t in [1.0, 2, 3, 4, 5, 20, 21, 22, 23, 24] { World.submit(&sim, repository: 0, rpcClass: .write, at: .seconds(t)) }
    sim.run(until: .seconds(60))
    let report = sim.model.report(at: sim.now)
    #expect(report.acknowledgedWrites >= 8, "writes before the health checks noticed n3 may fail")
    #expect(report.lostWrites == 0)
    // The election is lazy: n1 stays primary until a write needs one. A write at 70 s, after
    // consensus dropped n1, elects n2, the only up-to-date survivor, and succeeds.
    #expect(sim.model.repositories[0].primary == 0)
    World.submit(&sim, repository: 0, rpcClass: .write, at: .seconds(70))
    sim.run(until: .seconds(80))
    #expect(sim.model.repositories[0].primary == 1)
    #expect(sim.model.report(at: sim.now).acknowledgedWrites == report.acknowledgedWrites + 1)
}

/// Goal: a repository whose only up-to-date replica is down is unavailable until it returns.
/// Method: eventual mode, secondaries cut off so writes stay on n1; n1 crashes for 60 s.
/// `praefect dataloss` lists it during the outage and not after; write-unavailable seconds
/// cover the outage.
@Test func repositoryUnavailableUntilUpToDateReplicaReturnsInWorld() throws {
    var lines = secondariesCutOff(at: "5s", duration: "200s")
    lines.append("    - {at: 20s, kind: nodeCrash, target: n1, duration: 60s}")
    var sim = makeSim(try clusterFleet(consistency: .eventual, faults: lines.joined(separator: "\n")))
    World.submit(&sim, repository: 0, rpcClass: .write, at: .seconds(10))
    sim.run(until: .seconds(50))
    #expect(sim.model.dataloss().map(\.relativePath) == ["r.git"])
    #expect(sim.model.repositories[0].primary == 0, "no outdated replica is elected")
    sim.run(until: .seconds(250))
    #expect(sim.model.dataloss().isEmpty)
    let report = sim.model.report(at: sim.now)
    #expect(report.lostWrites == 0 && report.acknowledgedWrites == 1)
    // n1 is down from 20 s for 60 s plus its 120 s reboot; consensus notices within ~11 s and
    // the next health rounds after it serves again.
    #expect(report.writeUnavailableRepositorySeconds > 150 && report.writeUnavailableRepositorySeconds < 200)
}

@Test func sameSeedGivesTheSameTrace() throws {
    func digest() throws -> UInt64 {
        var sim = makeSim(try clusterFleet(consistency: .strong, faults: "    - {at: 3s, kind: nodeCrash, target: n2, duration: 5s}")) {
            $0.traffic = .readWrite(ratePerSecond: 200)
        }
        var d = TraceDigest<WorldEvent>()
        sim.run(until: .seconds(20), observer: &d)
        return d.value
    }
    #expect(try digest() == digest())
}

/// Goal: a run with random faults of every kind has a trace digest, and the same one for the
/// same seed (fault events without a fixed target once trapped the digest). Method: two
/// 10-minute runs of the 3-node cluster with frequent random faults, digests compared.
@Test func sameSeedGivesTheSameTraceUnderRandomFaults() throws {
    func digest() throws -> (UInt64, Int) {
        var model = try FleetSpec.parse(clusterYAML, file: "c3.yaml")
        model.faults.nodeCrash = FaultRate(mtbfSeconds: 120, mttrSeconds: 30)
        model.faults.diskSlowdown = FaultRate(mtbfSeconds: 120, mttrSeconds: 60)
        model.faults.partition = FaultRate(mtbfSeconds: 120, mttrSeconds: 60)
        model.faults.praefectLoss = FaultRate(mtbfSeconds: 120, mttrSeconds: 60)
        model.faults.zoneOutage = FaultRate(mtbfSeconds: 120, mttrSeconds: 60)
        var config = WorldConfig(seed: 5)
        config.repositoryCount = 10
        config.traffic = .readWrite(ratePerSecond: 20)
        var sim = Simulation(model: World(fleet: try Fleet.build(model), config: config))
        World.start(&sim)
        var d = TraceDigest<WorldEvent>()
        sim.run(until: .minutes(10), observer: &d)
        return (d.value, d.events)
    }
    let (a, events) = try digest()
    #expect(events > 10_000)
    #expect(try digest().0 == a)
}

/// Goal: a partition between one Praefect and one node affects only that Praefect's local
/// view: the node stays consensus-healthy (2 of 3 Praefects see it), nothing fails over and
/// no repository becomes unavailable; writes routed by the cut-off Praefect leave the node
/// outdated, and the other Praefects' workers bring it back in step.
/// Method: p1 is cut from n2 from 2 s on; 40 writes over 10–49 s; check at 80 s.
@Test func partitionFromOnePraefectOutdatesButNeverFailsOver() throws {
    var sim = makeSim(try clusterFleet(consistency: .strong, faults: "    - {at: 2s, kind: partition, target: n2, praefect: p1, duration: 1000s}"))
    for i in 0..<40 { World.submit(&sim, repository: 0, rpcClass: .write, at: .seconds(10 + Double(i))) }
    sim.run(until: .seconds(80))
    let report = sim.model.report(at: sim.now)
    #expect(report.acknowledgedWrites == 40)
    #expect(report.unavailableRepositories.isEmpty && report.writeUnavailableRepositorySeconds == 0)
    #expect(sim.model.repositories[0].primary == 0)
    #expect(report.replicationJobsRun > 0, "writes through p1 left n2 outdated and needed replication")
    #expect(sim.model.repositories[0].upToDate == 0b111, "n2 caught up through p2 and p3")
}

@Test func plannedRestartOfAVMTakesStopPlusStart() throws {
    var sim = makeSim(try shardedFleet())
    sim.run(until: .seconds(1))
    let back = World.restartHost(&sim, node: 0)
    #expect(back == .seconds(1 + 30 + 60), "VM defaults: 30 s stop, 60 s start")
    sim.run(until: .seconds(50))
    #expect(!sim.model.nodes[0].up && sim.model.writeUnavailableRepositories == 2)
    sim.run(until: .seconds(92))
    #expect(sim.model.nodes[0].up && sim.model.writeUnavailableRepositories == 0)
    #expect(abs(sim.model.report(at: sim.now).writeUnavailableRepositorySeconds - 2 * 90) < 1e-6)
}

/// Goal: random crashes follow MTBF and MTTR. Method: one VM with MTBF 100 s, MTTR 10 s and a
/// 120 s reboot is an alternating renewal process: down a fraction
/// (10 + 120) / (10 + 120 + 100) ≈ 0.565 of the time. Over 2·10⁵ s (about 870 cycles) the
/// estimate's standard error is about 0.01; the bound is 4 of them.
@Test func randomCrashesFollowMTBFAndMTTR() throws {
    let yaml = """
    name: one
    nodes: [{name: a, storages: [{name: s, capacity: 1TB}]}]
    faults: {nodeCrash: {mtbf: 100s, mttr: 10s}}
    """
    var sim = makeSim(try Fleet.build(FleetSpec.parse(yaml, file: "one.yaml"))) { $0.repositoryCount = 1 }
    let horizon = SimTime.seconds(200_000)
    sim.run(until: horizon)
    let downFraction = sim.model.nodesDown.average(at: horizon)
    #expect(abs(downFraction - 130.0 / 230) < 0.04, "down \(downFraction)")
}

/// Goal: errors and apdex are accounted per window. Method: a plain storage under steady reads
/// whose node reboots (VM default 120 s) from 65 s: the first minute has no error; the second
/// is mostly errors.
@Test func errorRatioPerWindowShowsTheOutage() throws {
    var sim = makeSim(try shardedFleet(extra: "faults: {schedule: [{at: 65s, kind: nodeCrash, target: a}]}")) {
        $0.traffic = TrafficSpec(ratePerSecond: 50, mix: [(.read, 1)])
    }
    sim.run(until: .seconds(180))
    let w = sim.model.report(at: sim.now).windows
    #expect(w[0].errors == 0 && w[0].requests > 2000)
    #expect((w[1].errorRatio ?? 0) > 0.8)
    #expect((w[0].apdex ?? 0) > 0.99)
}

/// Goal: lowering and raising the replication factor is carried out by the reconciler.
/// Method: 20 repositories at RF 3 on 3 storages; RF 2 leaves exactly 2 replicas each after
/// the next reconciler run (5 min), the primary among them; RF 3 brings the third back.
@Test func replicationFactorChangesAreReconciled() throws {
    var sim = makeSim(benchmarkFleet()) { $0.repositoryCount = 20; $0.repositorySizeBytes = 1e6 }
    let primaries = sim.model.repositories.map(\.primary)
    #expect(throws: Never.self) { try sim.model.setReplicationFactor(virtualStorage: 0, factor: 2).get() }
    sim.run(until: .seconds(330))
    #expect(sim.model.repositories.allSatisfy { $0.existing.nonzeroBitCount == 2 && $0.existing == $0.assigned })
    #expect(sim.model.repositories.map(\.primary) == primaries)
    let used: Double = sim.model.storageUsedBytes.reduce(0, +)
    #expect(abs(used - 40e6) < 1)
    #expect(throws: Never.self) { try sim.model.setReplicationFactor(virtualStorage: 0, factor: 3).get() }
    sim.run(until: .seconds(630))
    #expect(sim.model.repositories.allSatisfy { $0.upToDate == 0b111 })
    #expect(throws: AdminError.replicationFactorOutOfRange) { try sim.model.setReplicationFactor(virtualStorage: 0, factor: 4).get() }
}

/// Goal: on a plain storage, a lost disk loses every acknowledged write and the repository
/// stays unavailable even after the node is rebuilt. Method: 3 writes, disk loss at 10 s for
/// 30 s, one more write at 200 s, which must fail.
@Test func plainStorageDiskLossLosesEverythingForGood() throws {
    var sim = makeSim(try shardedFleet(extra: "faults: {schedule: [{at: 10s, kind: diskLoss, target: a, duration: 30s}]}"))
    for t in [1.0, 2, 3] { World.submit(&sim, repository: 0, rpcClass: .write, at: .seconds(t)) }
    World.submit(&sim, repository: 0, rpcClass: .write, at: .seconds(200))
    sim.run(until: .seconds(250))
    let report = sim.model.report(at: sim.now)
    #expect(report.acknowledgedWrites == 3)
    #expect(report.lostWrites == 3)
    #expect(sim.model.nodes[0].up)
    #expect(sim.model.writeUnavailableRepositories == 2)
    #expect(report.outcomes[.unavailable] == 1)
}

@Test func bulkMoveSchedulesEveryWritableRepositoryOfTheShard() throws {
    var sim = makeSim(try shardedFleet(sidekiq: 1))
    _ = try World.scheduleMove(&sim, repository: 1, destination: 2).result.get()
    // Repository 1 is read-only now: the bulk move skips it and schedules repository 0 only.
    let ids = try World.scheduleBulkMove(&sim, source: 0, destination: 1).result.get()
    #expect(ids.map { sim.model.move($0).repository } == [0])
    while !sim.model.move(ids[0]).state.isTerminal && sim.now < .seconds(500) { sim.run(until: sim.now + .seconds(1)) }
    #expect(sim.model.move(ids[0]).state == .finished)
    #expect(sim.model.repositoriesByStorage[0].isEmpty)
}

/// Goal: new repositories follow the weights and respect capacity. Method: weights sa 0,
/// sb 100: every new repository lands on sb; one larger than sb's room is refused.
@Test func newRepositoriesFollowWeightsAndCapacity() throws {
    var sim = makeSim(try shardedFleet())
    #expect(throws: Never.self) { try sim.model.setWeight(storage: 0, weight: 0).result.get() }
    #expect(throws: Never.self) { try sim.model.setWeight(storage: 1, weight: 100).result.get() }
    for i in 0..<5 {
        let id = try sim.model.createRepository(path: "new-\(i).git", sizeBytes: 1e9, at: sim.now).result.get()
        #expect(sim.model.repositories[id].virtualStorage == 1)
    }
    #expect(throws: AdminError.storageFull) { try sim.model.createRepository(path: "huge.git", sizeBytes: 99e9, at: sim.now).result.get() }
    #expect(throws: AdminError.weightOutOfRange) { try sim.model.setWeight(storage: 0, weight: 101).result.get() }
}

/// Goal: after a disk loss Praefect keeps believing in the lost replica until the metadata
/// verifier checks it; reads routed there get NotFound; once the row is gone the reconciler
/// recreates the replica. Method: n3's disk is lost at 5 s and the VM is back at 135 s; 30
/// reads at 140–169 s; `praefect verify` at 170 s; 30 reads at 180–209 s; check at 330 s,
/// after the reconciler's run at 300 s.
@Test func lostReplicaIsBelievedUntilTheVerifierChecksIt() throws {
    var sim = makeSim(try clusterFleet(consistency: .strong, faults: "    - {at: 5s, kind: diskLoss, target: n3, duration: 10s}"))
    for i in 0..<30 { World.submit(&sim, repository: 0, rpcClass: .read, at: .seconds(140 + Double(i))) }
    sim.run(until: .seconds(170))
    #expect(sim.model.repositories[0].existing == 0b111, "the metadata still lists n3")
    #expect(sim.model.dataPresent[0] == 0b011)
    let notFoundBefore = sim.model.outcomes[RPCOutcome.notFound.rawValue]
    #expect(notFoundBefore > 0 && notFoundBefore < 30)
    sim.model.markUnverified(repository: 0)
    for i in 0..<30 { World.submit(&sim, repository: 0, rpcClass: .read, at: .seconds(180 + Double(i))) }
    sim.run(until: .seconds(210))
    #expect(sim.model.repositories[0].existing == 0b011)
    #expect(sim.model.outcomes[RPCOutcome.notFound.rawValue] == notFoundBefore, "no read goes to n3 any more")
    sim.run(until: .seconds(330))
    #expect(sim.model.dataPresent[0] == 0b111 && sim.model.repositories[0].upToDate == 0b111)
}

/// Goal: each of the 3 Praefects runs a verifier leasing 25 replicas per 2 s. Method: 100
/// repositories lose their n3 replica; their n3 replicas are marked unverified at 130 s; by
/// hand, 75 rows go at 132 s and the last 25 at 134 s. Marking whole repositories instead
/// queues 3 replicas each, so only 25 of the first 75 are on n3.
@Test func everyPraefectsVerifierChecksTwentyFiveReplicasEveryTwoSeconds() throws {
    let fleet = benchmarkFleet()
    var config = WorldConfig(seed: 3)
    config.repositoryCount = 100
    config.repositorySizeBytes = 1e6
    var sim = Simulation(model: World(fleet: fleet, config: config))
    World.start(&sim)
    sim.run(until: .seconds(1))
    sim.model.diskLoss(2, for: .seconds(1), &sim.scheduler)
    sim.run(until: .seconds(130))
    func rowsOnN3() -> Int { sim.model.repositories.filter { $0.existing.contains(slot: 2) }.count }
    #expect(rowsOnN3() == 100)
    var whole = sim
    for r in 0..<100 { whole.model.markUnverified(repository: r) }
    whole.run(until: .seconds(133))
    #expect(whole.model.repositories.filter { $0.existing.contains(slot: 2) }.count == 75)
    let n3 = fleet.storage(named: "gitaly-3")!
    for r in 0..<100 { sim.model.markUnverified(repository: r, storage: n3) }
    sim.run(until: .seconds(133))
    #expect(rowsOnN3() == 25)
    sim.run(until: .seconds(135))
    #expect(rowsOnN3() == 0)
}

/// Goal: replication lag follows the workers' idle backoff. Method: with no work since 0 s,
/// every target re-enters at 1, 3, 7, 12, 17 s (backoff 1, 2, 4, 5, 5 s); an eventual-mode
/// write at 10 s enqueues jobs for the two secondaries, which start at 12 s: a delay of 2 s.
@Test func replicationDelayFollowsTheIdleBackoff() throws {
    // A fault long after the run keeps the schedule list non-empty.
    var sim = makeSim(try clusterFleet(consistency: .eventual, faults: "    - {at: 1000s, kind: nodeCrash, target: n3}"))
    World.submit(&sim, repository: 0, rpcClass: .write, at: .seconds(10))
    sim.run(until: .seconds(20))
    let delay = sim.model.report(at: sim.now).replicationDelaySeconds
    #expect(delay.count == 2)
    #expect(abs(delay.min - 2) < 0.05 && abs(delay.max - 2) < 0.05, "delays \(delay.min)…\(delay.max)")
    #expect(sim.model.repositories[0].upToDate == 0b111)
}
