import Testing
import SimKernel
@testable import GitalyModel

/// A strong 3-node cluster (`default`, replication factor 3) beside a plain storage `sp`, with
/// one 100 MB repository on each: r.git in the cluster (primary s1), p.git on sp.
func clusterAndPlainFleet(repositories: String? = nil) throws -> Fleet {
    let yaml = """
    name: cluster-and-plain
    nodes:
      - {name: n1, storages: [{name: s1, capacity: 1TB}]}
      - {name: n2, storages: [{name: s2, capacity: 1TB}]}
      - {name: n3, storages: [{name: s3, capacity: 1TB}]}
      - {name: pl, storages: [{name: sp, capacity: 1TB}]}
    praefect:
      instances: [{name: p1}, {name: p2}, {name: p3}]
      virtualStorages: [{name: default, storages: [s1, s2, s3], replicationFactor: 3, consistency: strong}]
    gitlab: {weights: {default: 100}, apiLatency: 0s, sidekiqPickup: 0s}
    repositories:
    \(repositories ?? "  - {path: r.git, storage: default, size: 100MB, replicas: [s1, s2, s3], primary: s1}\n  - {path: p.git, storage: sp, size: 100MB}")
    """
    return try Fleet.build(FleetSpec.parse(yaml, file: "cluster-and-plain.yaml"))
}

/// Schedules a move of p.git into the cluster and runs until its copies are under way;
/// returns the move id and the destination's member slots by role.
func moveIntoClusterUntilCopying(_ sim: inout Simulation<World>) throws -> (id: Int, primary: Int, secondaries: [Int]) {
    let dv = sim.model.fleet.virtualStorage(named: "default")!
    let id = try World.scheduleMove(&sim, repository: 1, destination: dv).result.get()
    _ = runUntil(&sim) { $0.moves[id].step == .copying }
    let p = sim.model[worker: id].destinationPrimary
    return (id, p, [0, 1, 2].filter { $0 != p })
}

/// Goal: a move into a cluster is a voted create; a secondary that fails its copy is outdated
/// and replicated later, it does not fail the move. Method: one secondary's node crashes
/// mid-copy for 30 s; 1 agreeing secondary meets the strong quorum (threshold 4 of 3 + 1 + 1
/// votes), the move finishes with two replicas, and replication brings the third back.
@Test func moveIntoClusterSurvivesOneFailedSecondary() throws {
    var sim = makeSim(try clusterAndPlainFleet())
    let (id, _, secondaries) = try moveIntoClusterUntilCopying(&sim)
    sim.model.nodeDown(secondaries[0], for: .seconds(30), &sim.scheduler)
    _ = runMove(&sim, id)
    #expect(sim.model.move(id).state == .finished)
    let record = sim.model.repositories[1]
    #expect(record.assigned.nonzeroBitCount == 3)
    #expect(!sim.model.dataPresent[1].contains(slot: secondaries[0]), "the failed secondary's copy was removed")
    sim.run(until: sim.now + .seconds(120))
    #expect(sim.model.dataPresent[1].nonzeroBitCount == 3, "replication created the third replica")
}

/// Goal: without a quorum the create fails the move. Method: both secondaries crash mid-copy;
/// the primary's 3 votes are below the threshold of 4: "ReplicateRepository failed", every
/// copy removed, the repository writable on its source.
@Test func moveIntoClusterWithoutQuorumFails() throws {
    var sim = makeSim(try clusterAndPlainFleet())
    let used = sim.model.storageUsedBytes
    let (id, _, secondaries) = try moveIntoClusterUntilCopying(&sim)
    for n in secondaries { sim.model.nodeDown(n, for: .seconds(30), &sim.scheduler) }
    _ = runMove(&sim, id)
    #expect(sim.model.move(id).failureReason == "ReplicateRepository failed")
    #expect(sim.model.storageUsedBytes == used && !sim.model.readOnly[1])
    #expect(sim.model.repositories[1].virtualStorage == sim.model.fleet.virtualStorage(named: "sp"))
}

/// Goal: the destination's primary must take the copy. Method: the primary crashes mid-copy.
@Test func moveIntoClusterFailsWhenThePrimaryFails() throws {
    var sim = makeSim(try clusterAndPlainFleet())
    let (id, primary, _) = try moveIntoClusterUntilCopying(&sim)
    sim.model.nodeDown(primary, for: .seconds(30), &sim.scheduler)
    _ = runMove(&sim, id)
    #expect(sim.model.move(id).failureReason == "ReplicateRepository failed")
}

/// Goal: a disk lost under a move whose copies are done takes the copy on it away, and no
/// storage's use goes below zero (it did: the lost disk was zeroed, then the move released its
/// reservation there). Method: the move into the cluster reaches its checksum; losing a
/// secondary's disk leaves the primary and one secondary, a strong quorum (threshold 4 of 3 + 1
/// + 1 votes), so the move finishes with two replicas and the lost storage holds 0 bytes;
/// losing the primary's disk instead fails the move with every other copy released, the
/// storages back to their use before the move (the lost one at 0).
@Test(arguments: [false, true])
func diskLostUnderAMoveTakesItsCopy(primaryLost: Bool) throws {
    var sim = makeSim(try clusterAndPlainFleet())
    let used = sim.model.storageUsedBytes
    let (id, primary, secondaries) = try moveIntoClusterUntilCopying(&sim)
    _ = runUntil(&sim) { $0.moves[id].step == .checksum }
    let lost = primaryLost ? primary : secondaries[0]
    sim.model.diskLoss(lost, for: nil, &sim.scheduler)
    _ = runMove(&sim, id)
    let lostStorage = sim.model.fleet.nodes[lost].storages[0]
    #expect(sim.model.storageUsedBytes[lostStorage] == 0)
    #expect(sim.model.storageUsedBytes.allSatisfy { $0 >= 0 })
    if primaryLost {
        #expect(sim.model.move(id).failureReason == "destination replica lost")
        for i in used.indices where i != lostStorage { #expect(sim.model.storageUsedBytes[i] == used[i]) }
    } else {
        #expect(sim.model.move(id).state == .finished)
        #expect(sim.model.dataPresent[1] == MemberSet.single(primary) | .single(secondaries[1]))
    }
    sim.model.checkAllInvariants()
}

/// Goal: a move out of a cluster finishes although a replica is down at cleanup: Praefect's
/// RemoveRepository deletes the records and ignores the node's error, leaving its bytes as an
/// orphan. Method: n3 goes down before the cleanup; s1 and s2 free 100 MB, s3 keeps it.
@Test func moveOutOfClusterFinishesAndOrphansADownReplica() throws {
    var sim = makeSim(try clusterAndPlainFleet())
    let s3 = sim.model.fleet.storage(named: "s3")!, s1 = sim.model.fleet.storage(named: "s1")!
    let sp = sim.model.fleet.virtualStorage(named: "sp")!
    let id = try World.scheduleMove(&sim, repository: 0, destination: sp).result.get()
    _ = runUntil(&sim) { $0.move(id).state == .replicated }
    sim.model.nodeDown(2, for: .seconds(600), &sim.scheduler)
    _ = runMove(&sim, id)
    #expect(sim.model.move(id).state == .finished)
    #expect(sim.model.orphanedBytes[s3] == 100e6 && sim.model.storageUsedBytes[s3] == 100e6)
    #expect(sim.model.storageUsedBytes[s1] == 0)
}

/// Goal: with no Praefect to answer RemoveRepository the cleanup fails. Method: all three
/// Praefects go down after the switch: the move ends `cleanup_failed`, the repository already
/// writable on its destination.
@Test func moveOutOfClusterWithoutPraefectEndsCleanupFailed() throws {
    var sim = makeSim(try clusterAndPlainFleet())
    let sp = sim.model.fleet.virtualStorage(named: "sp")!
    let id = try World.scheduleMove(&sim, repository: 0, destination: sp).result.get()
    _ = runUntil(&sim) { $0.move(id).state == .replicated }
    for p in 0..<3 { sim.model.setPraefect(p, up: false, &sim.scheduler) }
    _ = runMove(&sim, id)
    #expect(sim.model.move(id).state == .cleanupFailed)
    #expect(sim.model.move(id).failureReason == "Praefect unavailable during cleanup")
    #expect(sim.model.repositories[0].virtualStorage == sp && !sim.model.readOnly[0])
}

/// Goal: no up-to-date replica to read from fails the move. Method: every cluster node is down
/// when the copy would begin.
@Test func moveOutOfClusterWithNoReplicaUpFails() throws {
    var sim = makeSim(try clusterAndPlainFleet())
    for n in 0..<3 { sim.model.nodeDown(n, for: .seconds(60), &sim.scheduler) }
    let id = try World.scheduleMove(&sim, repository: 0, destination: sim.model.fleet.virtualStorage(named: "sp")!).result.get()
    _ = runMove(&sim, id)
    #expect(sim.model.move(id).failureReason == "source repository unavailable")
}

/// Goal: the copy reads a random up-to-date replica, as Praefect routes an accessor. Method: 90
/// moves out of the cluster, all replicas up to date: each replica is the source about 30 times;
/// a binomial(90, 1/3) count lies in [15, 45] with probability above 1 − 10⁻⁴.
@Test func moveOutOfClusterReadsARandomUpToDateReplica() throws {
    let repos = (0..<90).map { "  - {path: r\($0).git, storage: default, size: 1MB, replicas: [s1, s2, s3], primary: s1}" }.joined(separator: "\n")
    var sim = makeSim(try clusterAndPlainFleet(repositories: repos))
    let ids = try World.scheduleBulkMove(&sim, source: 0, destination: sim.model.fleet.virtualStorage(named: "sp")!).result.get()
    sim.run(until: .seconds(300))
    var counts = [0, 0, 0]
    for id in ids {
        #expect(sim.model.move(id).state == .finished)
        counts[sim.model.moves[id].sourceSlot] += 1
    }
    #expect(counts.allSatisfy { (15...45).contains($0) }, "source replicas \(counts)")
}

/// Goal: the switch and the invariant checks do not grow with the repository count (issue 8
/// item 6). Method: 100,000 repositories on two plain storages, invariants checked after every
/// event, RPC traffic and 200 moves; at the end every invariant holds over the whole world and
/// the moved repositories are listed on their destination.
@Test func hundredThousandRepositoryWorldRunsWithInvariantsOn() throws {
    let yaml = """
    name: wide
    nodes:
      - {name: a, storages: [{name: sa, capacity: 100TB}]}
      - {name: b, storages: [{name: sb, capacity: 100TB}]}
    gitlab: {weights: {sa: 100}, apiLatency: 0s, sidekiqConcurrency: 20}
    """
    var sim = makeSim(try Fleet.build(FleetSpec.parse(yaml, file: "wide.yaml"))) { config in
        config.repositoryCount = 100_000
        config.repositorySizeBytes = 1e6
        config.traffic = .readWrite(ratePerSecond: 100)
    }
    #expect(sim.model.config.checkInvariants)
    #expect(sim.model.repositoriesByStorage[0].count == 100_000)
    var ids: [Int] = []
    for r in stride(from: 0, to: 100_000, by: 500) { ids.append(try World.scheduleMove(&sim, repository: r, destination: 1).result.get()) }
    sim.run(until: .seconds(60))
    for id in ids { #expect(sim.model.move(id).state == .finished) }
    sim.model.checkAllInvariants()
    #expect(sim.model.repositoriesByStorage[1].count == 200)
    #expect(sim.model.repositoriesByStorage[0].count == 99_800)
    #expect(sim.model.rpcsCompleted > 4_000)
}
