import Testing
import SimKernel
@testable import GitalyModel

// Repository storage moves as Rails runs them (issue 7 items 4–8 and 10). Expectations are
// derived by hand from the move's steps in `update_repository_storage_methods.rb`.

/// Steps the simulation in `step` increments until `done` holds; returns the first time it did.
func runUntil(_ sim: inout Simulation<World>, step: SimTime = .milliseconds(1), limit: Double = 200, _ done: (World) -> Bool) -> SimTime? {
    while sim.now < .seconds(limit) {
        if done(sim.model) { return sim.now }
        sim.run(until: sim.now + step)
    }
    return nil
}

/// A write acknowledged on a plain storage the way `nodeAnswered` acknowledges one: it stands
/// for a write that reached the repository while it was read-only (a Rails-internal write, a
/// race with the read-only flag), which the model's RPCs never do.
func landWrite(_ sim: inout Simulation<World>, repository r: Int) {
    let g = sim.model.repositories[r].incrementGeneration(on: 1)
    sim.model.ledger.acknowledge(repository: r, generation: g)
}

/// Goal: a move's duration counts every repository it copies. Method: a 1 GB project with a
/// 100 MB wiki, a 50 MB design repository, a 500 MB pool and 20,000 refs, streams capped at
/// 50 MB/s (below the 100 MB/s disk), Sidekiq picking up after 2 s. By hand: 2 s pickup;
/// project 1e9 / 5e7 = 20 s, then two checksums of 0.05 + 20,000 × 10 µs = 0.25 s each; wiki
/// 2 s + 2 × 0.05; design 1 s + 2 × 0.05; pool 10 s + 2 × 0.25: replicated at 36.2 s, then
/// 1 s of cleanup. The destination holds all four; the source frees all but the shared pool.
@Test func moveCopiesWikiDesignAndPoolAtTheStreamCap() throws {
    let repos = "  - {path: r0.git, storage: sa, size: 1GB, wikiSize: 100MB, designSize: 50MB, poolSize: 500MB, refs: 20000}"
    let fleet = try shardedFleet(gitlab: "moveStreamBandwidth: 50MB/s, sidekiqPickup: 2s", repositories: repos)
    var sim = makeSim(fleet)
    let sa = fleet.storage(named: "sa")!, sb = fleet.storage(named: "sb")!
    #expect(sim.model.storageUsedBytes[sa] == 1.15e9, "project, wiki and design are on the source")
    let id = try World.scheduleMove(&sim, repository: 0, destination: 1).result.get()
    let replicated = runUntil(&sim) { $0.move(id).state == .replicated }
    let perRef = 2 * (MoveCosts.checksumBaseSeconds + 20_000 * MoveCosts.checksumSecondsPerRef)
    let small = 2 * MoveCosts.checksumBaseSeconds
    let expected = 2 + (20 + perRef) + (2 + small) + (1 + small) + (10 + perRef)
    #expect(abs(expected - 36.2) < 1e-9, "the hand sum with the ASSUMED checksum costs")
    #expect(abs(replicated!.seconds - expected) <= 0.002, "replicated at \(replicated!.seconds) s")
    let finished = runUntil(&sim) { $0.move(id).state == .finished }
    #expect(abs(finished!.seconds - expected - MoveCosts.cleanupSeconds) <= 0.002)
    #expect(sim.model.storageUsedBytes[sb] == 1.65e9)
    #expect(sim.model.storageUsedBytes[sa] == 0)
}

/// Goal: a copy and RPC disk I/O share a disk as processor sharing. Method: a 1 GB copy reads
/// a 100 MB/s disk alone from 0 s; at 1 s a read RPC needing 100 MB of that disk arrives (CPU
/// ≈ 0). Processor sharing with two jobs: each gets 50 MB/s, so the RPC (the smaller, 100 MB)
/// ends 2 × 100 / 100 = 2 s after it arrived, and the work-conserving copy ends at
/// (1,000 + 100) / 100 = 11 s instead of 10 s.
@Test func copyAndRPCShareTheDiskAsProcessorSharing() throws {
    var sim = makeSim(try shardedFleet()) { config in
        var traffic = TrafficSpec(ratePerSecond: 0, mix: [])
        traffic.profiles[RPCClass.read.index] = RPCProfile(cpuSecondsMean: 1e-9, bytesRead: 100e6, bytesWritten: 0)
        config.traffic = traffic
    }
    let id = try World.scheduleMove(&sim, repository: 0, destination: 1).result.get()
    World.submit(&sim, repository: 1, rpcClass: .read, at: .seconds(1))
    let rpcDone = runUntil(&sim) { $0.rpcsCompleted == 1 }
    #expect(abs(rpcDone!.seconds - 3) <= 0.002, "the RPC ended at \(rpcDone!.seconds) s")
    let replicated = runUntil(&sim) { $0.move(id).state == .replicated }
    let copyEnd = replicated!.seconds - MoveCosts.checksumSeconds(.project, RepositoryParts())
    #expect(abs(copyEnd - 11) <= 0.002, "the copy ended at \(copyEnd) s")
}

/// Goal: a copy and an RPC share the destination's cores as processor sharing, and only when
/// the cores are short. Method: a 1 GB copy whose destination resolves deltas at 50 MB/s per
/// core (disks, network and stream far faster) alone takes 20 s; at 2 s an RPC needing 4 s of
/// CPU starts on the destination. With 1 core the two are 2 jobs on 1 core: the RPC ends
/// 2 × 4 = 8 s later, at 10 s, and the work-conserving copy at 20 + 4 = 24 s. With 2 cores each
/// has a core: the RPC ends at 6 s and the copy at 20 s.
@Test(arguments: [(cores: 1, rpcEnd: 10.0, copyEnd: 24.0), (cores: 2, rpcEnd: 6.0, copyEnd: 20.0)])
func copyAndRPCShareTheCoresAsProcessorSharing(_ c: (cores: Int, rpcEnd: Double, copyEnd: Double)) throws {
    let yaml = """
    name: cores
    nodes:
      - {name: a, cpuCores: 4, disk: {readBandwidth: 10GB/s, writeBandwidth: 10GB/s}, network: {bandwidth: 10GB/s}, storages: [{name: sa, capacity: 100GB}]}
      - {name: b, cpuCores: \(c.cores), disk: {readBandwidth: 10GB/s, writeBandwidth: 10GB/s}, network: {bandwidth: 10GB/s}, storages: [{name: sb, capacity: 100GB}]}
    gitlab: {weights: {sa: 100}, apiLatency: 0s, sidekiqPickup: 0s, moveStreamBandwidth: 100GB/s,
             moveSourceRatePerCore: 10GB/s, moveDestinationRatePerCore: 50MB/s}
    repositories:
      - {path: r0.git, storage: sa, size: 1GB}
      - {path: r1.git, storage: sb, size: 1MB}
    """
    var sim = makeSim(try Fleet.build(FleetSpec.parse(yaml, file: "cores.yaml"))) { config in
        config.traffic = TrafficSpec(ratePerSecond: 0, mix: [])
    }
    let id = try World.scheduleMove(&sim, repository: 0, destination: 1).result.get()
    World.submit(&sim, repository: 1, rpcClass: .read, at: .seconds(2), cost: RecordedCost(cpuSeconds: 4, bytesRead: 0, bytesWritten: 0))
    let rpcDone = runUntil(&sim) { $0.rpcsCompleted == 1 }
    #expect(abs(rpcDone!.seconds - c.rpcEnd) <= 0.002, "the RPC ended at \(rpcDone!.seconds) s")
    let replicated = runUntil(&sim) { $0.move(id).state == .replicated }
    let copyEnd = replicated!.seconds - MoveCosts.checksumSeconds(.project, RepositoryParts())
    #expect(abs(copyEnd - c.copyEnd) <= 0.002, "the copy ended at \(copyEnd) s")
}

/// The sharded fleet with one push to r0 in flight from 0 s for `seconds` (its bytes written at
/// the 1,000 MB/s disk, CPU ≈ 0).
func simWithPushInFlight(seconds: Double) throws -> Simulation<World> {
    var sim = makeSim(try shardedFleet()) { config in
        var traffic = TrafficSpec(ratePerSecond: 0, mix: [])
        traffic.profiles[RPCClass.receivePack.index] = RPCProfile(cpuSecondsMean: 1e-9, bytesRead: 0, bytesWritten: seconds * 1e9)
        config.traffic = traffic
    }
    World.submit(&sim, repository: 0, rpcClass: .receivePack, at: .zero)
    sim.run(until: .milliseconds(1))
    return sim
}

/// Goal: Rails waits for pushes on a plain storage too, reading the counter at 0, 10 and 20 s.
/// Method: a 15 s push (15 GB written at 1,000 MB/s) is in flight when the move starts; the
/// counter is 1 at 0 and 10 s and 0 at 20 s, so the 10 s copy runs 20–30 s. The push is
/// acknowledged on the source before the copy: nothing is discarded or lost.
@Test func pushWaitOnPlainStoragePollsUntilThePushEnds() throws {
    var sim = try simWithPushInFlight(seconds: 15)
    #expect(sim.model.inflightPushes[0] == 1, "a plain storage's push raises the counter")
    let id = try World.scheduleMove(&sim, repository: 0, destination: 1).result.get()
    let replicated = runUntil(&sim) { $0.move(id).state == .replicated }
    let copyStart = replicated!.seconds - MoveCosts.checksumSeconds(.project, RepositoryParts()) - 10
    #expect(abs(copyStart - 20) <= 0.01, "the copy began at \(copyStart) s")
    _ = runMove(&sim, id)
    let report = sim.model.report(at: sim.now)
    #expect(report.acknowledgedWrites == 1 && report.discardedWrites == 0 && report.lostWrites == 0)
}

/// Goal: a push still in flight after the third poll fails the move at 30 s, and the push is
/// not counted as discarded. Method: a 35 s push; the move fails at 30 s, the push is
/// acknowledged at 35 s on the source, which is still the repository's storage.
@Test func pushWaitOnPlainStorageFailsAtThirtySeconds() throws {
    var sim = try simWithPushInFlight(seconds: 35)
    let id = try World.scheduleMove(&sim, repository: 0, destination: 1).result.get()
    let failed = runUntil(&sim, step: .milliseconds(10)) { $0.move(id).state == .failed }
    #expect(abs(failed!.seconds - 30) <= 0.02)
    #expect(sim.model.move(id).failureReason == "Timeout waiting for project repository pushes")
    sim.run(until: .seconds(40))
    let report = sim.model.report(at: sim.now)
    #expect(report.acknowledgedWrites == 1 && report.discardedWrites == 0 && report.lostWrites == 0)
    #expect(sim.model.repositories[0].virtualStorage == 0)
}

/// Goal: a write that lands during the copy fails the move at the checksum, and the move can be
/// retried. Method: a write at 5 s into a 10 s copy; the source's checksum then differs, the
/// copy is removed and the repository writable; a second move finishes and keeps the write.
@Test func writeDuringTheCopyFailsTheMoveWhichCanBeRetried() throws {
    var sim = makeSim(try shardedFleet())
    let sb = sim.model.fleet.storage(named: "sb")!
    let first = try World.scheduleMove(&sim, repository: 0, destination: 1).result.get()
    sim.run(until: .seconds(5))
    #expect(sim.model.moves[first].step == .copying)
    landWrite(&sim, repository: 0)
    let failed = runUntil(&sim) { $0.move(first).isTerminal }
    #expect(sim.model.move(first).state == .failed)
    #expect(sim.model.move(first).failureReason == "Failed to verify project repository checksum")
    #expect(abs(failed!.seconds - 10 - MoveCosts.checksumSeconds(.project, RepositoryParts())) <= 0.002)
    #expect(!sim.model.readOnly[0] && sim.model.storageUsedBytes[sb] == 0)
    let retry = try World.scheduleMove(&sim, repository: 0, destination: 1).result.get()
    _ = runMove(&sim, retry)
    #expect(sim.model.move(retry).state == .finished)
    let report = sim.model.report(at: sim.now)
    #expect(report.acknowledgedWrites == 1 && report.discardedWrites == 0 && report.lostWrites == 0)
    #expect(sim.model.repositories[0].generation == 1, "the copy carries the write")
}

/// Goal: only a write between the source's checksum and `finish_replication` is lost. Method: a
/// 1 GB project with a 1 GB pool; the project's checksums end at 10.12 s and the pool copies
/// until 20.12 s; a write at 15 s is in no copy: the move finishes and the write is discarded.
@Test func writeAfterTheChecksumIsLostAtTheSwitch() throws {
    let repos = "  - {path: r0.git, storage: sa, size: 1GB, poolSize: 1GB}"
    var sim = makeSim(try shardedFleet(repositories: repos))
    let id = try World.scheduleMove(&sim, repository: 0, destination: 1).result.get()
    sim.run(until: .seconds(15))
    #expect(sim.model[worker: id].part == .pool)
    landWrite(&sim, repository: 0)
    _ = runMove(&sim, id)
    #expect(sim.model.move(id).state == .finished)
    let report = sim.model.report(at: sim.now)
    #expect(report.acknowledgedWrites == 1 && report.discardedWrites == 1)
}

/// Goal: the corruption fault is separate from writes. Method: with probability 1 a move with
/// no write fails its first checksum, at 10.12 s, and removes the copy.
@Test func corruptedCopyFailsTheChecksumWithoutAnyWrite() throws {
    var sim = makeSim(try shardedFleet()) { $0.moveChecksumMismatchProbability = 1 }
    let id = try World.scheduleMove(&sim, repository: 0, destination: 1).result.get()
    let end = runUntil(&sim) { $0.move(id).isTerminal }
    #expect(sim.model.move(id).failureReason == "Failed to verify project repository checksum")
    #expect(abs(end!.seconds - 10 - MoveCosts.checksumSeconds(.project, RepositoryParts())) <= 0.002)
    #expect(sim.model.ledger.acknowledgedTotal == 0)
}

/// Goal: without a destination Rails picks by the weights, the source included. Method: all
/// weights 0 → the first storage, which is the source: the move finishes at once as a no-op
/// (`same_filesystem?`), copying nothing. Weight on sc alone → the move goes to sc.
@Test func moveWithoutDestinationPicksByWeightsIncludingTheSource() throws {
    var sim = makeSim(try shardedFleet())
    for s in 0..<3 { _ = sim.model.setWeight(storage: s, weight: 0) }
    let used = sim.model.storageUsedBytes
    let noop = try World.scheduleMove(&sim, repository: 0, destination: nil).result.get()
    #expect(sim.model.move(noop).destinationStorage == 0, "all weights 0: the first storage")
    sim.run(until: .milliseconds(1))
    #expect(sim.model.move(noop).state == .finished)
    #expect(sim.model.storageUsedBytes == used && sim.model.repositories[0].virtualStorage == 0 && !sim.model.readOnly[0])
    _ = sim.model.setWeight(storage: 2, weight: 100)
    let moved = try World.scheduleMove(&sim, repository: 0, destination: nil).result.get()
    #expect(sim.model.move(moved).destinationStorage == 2)
    _ = runMove(&sim, moved)
    #expect(sim.model.repositories[0].virtualStorage == 2)
}

/// Goal: the Sidekiq-interruption fault leaves the move `started` and the repository read-only
/// until an operator acts (gitlab#429049). Method: the worker dies at 5 s mid-copy; 100 s later
/// the move is still started, writes are refused and the copy is gone; the freed thread runs
/// another move; `do_fail!` makes the repository writable and a retry finishes.
@Test func sidekiqInterruptionLeavesTheRepositoryReadOnlyUntilAnOperatorActs() throws {
    var sim = makeSim(try shardedFleet(sidekiq: 1))
    let sb = sim.model.fleet.storage(named: "sb")!
    let stuck = try World.scheduleMove(&sim, repository: 0, destination: 1).result.get()
    let other = try World.scheduleMove(&sim, repository: 1, destination: 2).result.get()
    sim.run(until: .seconds(5))
    World.interruptMoveWorker(&sim, stuck)
    #expect(sim.model.storageUsedBytes[sb] == 0, "the partial copy is removed")
    World.submit(&sim, repository: 0, rpcClass: .write, at: .seconds(50))
    _ = runMove(&sim, other)
    #expect(sim.model.move(other).state == .finished, "the thread was given back")
    sim.run(until: .seconds(105))
    #expect(sim.model.move(stuck).state == .started && sim.model.readOnly[0])
    #expect(sim.model.outcomes[RPCOutcome.readOnly.rawValue] == 1)
    World.failMove(&sim, stuck, reason: "operator do_fail!")
    #expect(sim.model.move(stuck).state == .failed && !sim.model.readOnly[0])
    let retry = try World.scheduleMove(&sim, repository: 0, destination: 1).result.get()
    _ = runMove(&sim, retry)
    #expect(sim.model.move(retry).state == .finished)
}

/// Goal: the interruption fault drawn per move leaves every move started. Method: probability 1.
@Test func interruptionProbabilityOneStrandsEveryMove() throws {
    var sim = makeSim(try shardedFleet()) { $0.moveWorkerInterruptionProbability = 1 }
    let ids = [try World.scheduleMove(&sim, repository: 0, destination: 1).result.get(),
               try World.scheduleMove(&sim, repository: 1, destination: 2).result.get()]
    sim.run(until: .seconds(200))
    for id in ids { #expect(sim.model.move(id).state == .started) }
    #expect(sim.model.readOnly[0] && sim.model.readOnly[1])
}

extension RepositoryStorageMove {
    var isTerminal: Bool { state.isTerminal }
}

/// Goal: a move's worker state is held only while the move runs, so a drain keeps as many as it
/// has moves in progress at once, not one per move ever made (ten million at GitLab.com's
/// scale). Method: three repositories moved together, back and forth between two storages,
/// four rounds: three states in use during a round, all three free after it, and the later
/// rounds reuse them (the slab never grows past three); every move finishes.
@Test func endedMovesGiveTheirWorkerStateBack() throws {
    let repos = (0..<3).map { "  - {path: r\($0).git, storage: sa, size: 1MB}" }.joined(separator: "\n")
    var sim = makeSim(try shardedFleet(repositories: repos))
    for round in 0..<4 {
        let ids = try (0..<3).map { try World.scheduleMove(&sim, repository: $0, destination: 1 - round % 2).result.get() }
        #expect(sim.model.moveWorkers.count - sim.model.freeMoveWorkers.count == 3)
        for id in ids { _ = runMove(&sim, id, limit: sim.now.seconds + 1000) }
        #expect(ids.allSatisfy { sim.model.move($0).state == .finished })
        #expect(ids.allSatisfy { sim.model.moves[$0].worker == -1 })
        #expect(sim.model.moveWorkers.count == 3 && sim.model.freeMoveWorkers.count == 3)
    }
    #expect(sim.model.moveCount == 12)
}
