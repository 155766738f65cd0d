import Testing
import SimKernel
@testable import GitalyModel

/// The quorum table of PRAEFECT.md §1 (gitaly `registerTransaction`): thresholds written out
/// by hand, not from the formula under test.
@Test(arguments: [(0, 1, 0), (1, 2, 0), (2, 4, 1), (3, 6, 2), (4, 7, 2)])
func quorumThresholdMatchesPraefectTable(secondaries: Int, threshold: Int, secondariesNeeded: Int) {
    #expect(Transactions.threshold(secondaries: secondaries) == threshold)
    for k in 0...secondaries {
        #expect(Transactions.quorumReached(secondaries: secondaries, agreeing: k) == (k >= secondariesNeeded), "S=\(secondaries) k=\(k)")
    }
}

@Test func quorumIsNeverPossibleWithoutThePrimary() {
    // Without the primary's S+1 votes, at most S votes are cast, below every threshold.
    for s in 0...10 { #expect(s < Transactions.threshold(secondaries: s)) }
}

/// A record on 3 storages, all assigned, primary 0, after `writes` acknowledged writes that
/// reached the slots in `updated`.
func record(writes: Int = 0, updated: MemberSet = 0b111) -> RepositoryRecord {
    var r = RepositoryRecord(virtualStorage: 0, members: 3, assigned: 0b111, primary: 0, sizeBytes: 1e6)
    for _ in 0..<writes { r.incrementGeneration(on: updated) }
    return r
}

@Test(arguments: [1 as UInt64, 2, 3, 4, 5])
func electionNeverPicksAnOutdatedReplica(seed: UInt64) {
    var random = RandomStreams(seed: seed).stream("election")
    for _ in 0..<500 {
        // Random history: each write reaches a random non-empty subset containing the primary.
        var r = record()
        for _ in 0..<random.below(5) { r.incrementGeneration(on: MemberSet.single(r.primary) | MemberSet(random.below(8))) }
        let consensus = MemberSet(random.below(8))
        let before = r
        let changed = Praefect.electPrimary(&r, consensusHealthy: consensus, random: &random)
        if before.upToDate & consensus != 0 {
            #expect(r.upToDate.contains(slot: r.primary), "seed \(seed): elected an outdated primary")
            #expect(consensus.contains(slot: r.primary), "seed \(seed): elected an unhealthy primary")
        } else {
            // No up-to-date replica is healthy: the primary stays and nothing is elected.
            #expect(!changed && r == before, "seed \(seed): elected without a valid candidate")
        }
    }
}

@Test func validPrimaryIsKeptWithoutFailback() {
    var r = record(writes: 2)
    r.setPrimary(2)
    var random = RandomStreams(seed: 9).stream("x")
    #expect(!Praefect.electPrimary(&r, consensusHealthy: 0b111, random: &random))
    #expect(r.primary == 2)
}

@Test func repositoryIsUnavailableUntilAnUpToDateReplicaReturns() {
    // Writes 1–3 reached only slot 0; slots 1 and 2 stopped at generation 0.
    var r = record(writes: 3, updated: 0b001)
    var random = RandomStreams(seed: 3).stream("x")
    // Slot 0 is down: only outdated replicas are healthy.
    #expect(Praefect.isUnavailable(r, consensusHealthy: 0b110))
    Praefect.electPrimary(&r, consensusHealthy: 0b110, random: &random)
    #expect(r.primary == 0, "no outdated replica may take over")
    #expect(Praefect.routeMutator(r, locallyHealthy: 0b110, mode: .strong) == .failure(.primaryNotHealthy))
    #expect(Praefect.routeAccessor(r, locallyHealthy: 0b110, random: &random) == .failure(.noSuitableNode))
    // Slot 0 returns: the repository is available again and reads go to it.
    #expect(!Praefect.isUnavailable(r, consensusHealthy: 0b111))
    #expect(Praefect.routeAccessor(r, locallyHealthy: 0b111, random: &random) == .success(0))
}

@Test func healthyOutdatedPrimaryMakesRepositoryReadOnly() {
    var r = record(writes: 1, updated: 0b010)
    #expect(r.primary == 0)
    #expect(Praefect.routeMutator(r, locallyHealthy: 0b111, mode: .strong) == .failure(.repositoryReadOnly))
    var random = RandomStreams(seed: 1).stream("x")
    Praefect.electPrimary(&r, consensusHealthy: 0b111, random: &random)
    #expect(r.primary == 1, "the only up-to-date replica is elected once consensus allows")
}

@Test func strongRouteSplitsSecondariesAndReplicationTargets() {
    let r = record(writes: 1, updated: 0b011)  // slot 2 outdated
    let route = try! Praefect.routeMutator(r, locallyHealthy: 0b111, mode: .strong).get()
    #expect(route == MutatorRoute(primary: 0, secondaries: 0b010, replicationTargets: 0b100))
    let eventual = try! Praefect.routeMutator(r, locallyHealthy: 0b111, mode: .eventual).get()
    #expect(eventual == MutatorRoute(primary: 0, secondaries: 0, replicationTargets: 0b110))
}

/// Goal: the accounting of lost writes is exact. Method: a hand-built history at the value level.
/// Eventual mode: 5 writes acknowledged on the primary, replication of the first 2 reached both
/// secondaries, then the primary's disk is lost: exactly writes 3–5 are lost.
@Test func eventualPrimaryLossLosesExactlyTheUnreplicatedWrites() {
    var r = record()
    var ledger = WriteLedger(repositories: 1)
    for i in 1...5 {
        let route = try! Praefect.routeMutator(r, locallyHealthy: 0b111, mode: .eventual).get()
        let f = Praefect.finalize(&r, route: route, mode: .eventual, outcome: MutatorOutcome(primaryCommitted: true, secondariesCommitted: 0))
        #expect(f.acknowledged && f.outdated == 0b110)
        ledger.acknowledge(repository: 0, generation: f.generation!)
        if i == 2 { for t in [1, 2] { r.replicated(to: t, sourceGeneration: r.replicaGeneration(0)) } }
    }
    r.replicaLost(0)
    #expect(ledger.lost(repository: 0, record: r) == 3)
    // accept-dataloss onto slot 1 discards the same three for good.
    #expect(ledger.discard(repository: 0, above: r.replicaGeneration(1)) == 3)
    r.setAuthoritative(1)
    #expect(ledger.lost(repository: 0, record: r) == 0)
}

/// Strong mode with one node down: every acknowledged write is on the primary and the healthy
/// secondary (quorum with S = 1 is the primary alone, but the secondary still commits), so
/// losing the primary afterwards loses nothing.
@Test func strongModeWithOneNodeDownLosesNoWrite() {
    var r = record()
    var ledger = WriteLedger(repositories: 1)
    for _ in 1...5 {
        let route = try! Praefect.routeMutator(r, locallyHealthy: 0b011, mode: .strong).get()
        #expect(route.secondaries == 0b010 && route.replicationTargets == 0b100)
        let f = Praefect.finalize(&r, route: route, mode: .strong, outcome: MutatorOutcome(primaryCommitted: true, secondariesCommitted: route.secondaries))
        ledger.acknowledge(repository: 0, generation: f.generation!)
    }
    r.replicaLost(0)
    #expect(ledger.acknowledged(repository: 0) == 5)
    #expect(ledger.lost(repository: 0, record: r) == 0)
}

@Test func transactionWithoutQuorumDirtiesPrimaryAndFailsTheWrite() {
    var r = record()
    let route = try! Praefect.routeMutator(r, locallyHealthy: 0b111, mode: .strong).get()
    #expect(route.secondaries.nonzeroBitCount == 2)
    let f = Praefect.finalize(&r, route: route, mode: .strong, outcome: MutatorOutcome(primaryCommitted: true, secondariesCommitted: 0))
    #expect(!f.acknowledged)
    #expect(r.generation == 1 && r.replicaGeneration(0) == 1 && r.replicaGeneration(1) == 0)
    #expect(f.outdated == 0b110)
}

@Test func generationsNeverDecreaseUnderReplication() {
    var r = record(writes: 4)
    r.replicated(to: 1, sourceGeneration: 2)
    #expect(r.replicaGeneration(1) == 4, "the downgrade guard keeps a newer target")
}

/// Goal: reads spread uniformly over up-to-date healthy replicas. Method: Pearson's chi-square
/// over 3 candidates with 30,000 reads; the 0.999 quantile of χ²(2) is 13.82.
@Test func readsSpreadUniformlyOverUpToDateReplicas() {
    var r = RepositoryRecord(virtualStorage: 0, members: 4, assigned: 0b1111, primary: 0, sizeBytes: 1)
    r.incrementGeneration(on: 0b1011)  // slot 2 outdated
    var random = RandomStreams(seed: 42).stream("reads")
    var counts = [0, 0, 0, 0]
    let n = 30_000
    for _ in 0..<n { counts[try! Praefect.routeAccessor(r, locallyHealthy: 0b1111, random: &random).get()] += 1 }
    #expect(counts[2] == 0)
    let expected = Double(n) / 3
    let chi2 = [0, 1, 3].map { (Double(counts[$0]) - expected) * (Double(counts[$0]) - expected) / expected }.reduce(0, +)
    #expect(chi2 < 13.82, "counts \(counts), χ² = \(chi2)")
}

@Test func newRepositoryPlacementHonoursReplicationFactor() {
    var random = RandomStreams(seed: 5).stream("placement")
    for _ in 0..<200 {
        let (assigned, primary) = Praefect.placeNewRepository(members: 5, replicationFactor: 3, locallyHealthy: 0b10110, random: &random)!
        #expect(assigned.nonzeroBitCount == 3)
        #expect(0b10110 & MemberSet.single(primary) != 0, "the primary is a healthy storage")
        #expect(assigned.contains(slot: primary))
    }
}

/// Goal: the ledger counts exactly, across gaps. Method: a second implementation, a plain set
/// of acknowledged generations, fed the same random history.
@Test(arguments: [1 as UInt64, 2, 3])
func writeLedgerAgreesWithAPlainSet(seed: UInt64) {
    var random = RandomStreams(seed: seed).stream("ledger")
    var ledger = WriteLedger(repositories: 1)
    var set: [Int64] = []
    var g: Int64 = 0
    for _ in 0..<300 {
        g += 1
        if random.bernoulli(0.8) { ledger.acknowledge(repository: 0, generation: g); set.append(g) }
        if random.bernoulli(0.02) {
            let cut = Int64(random.below(Int(g) + 1))
            let expected = set.filter { $0 > cut }.count
            #expect(ledger.discard(repository: 0, above: cut) == expected, "seed \(seed)")
            set.removeAll { $0 > cut }
        }
        let probe = Int64(random.below(Int(g) + 2)) - 1
        #expect(ledger.acknowledged(repository: 0, above: probe) == set.filter { $0 > probe }.count, "seed \(seed)")
    }
}
