import Foundation
import Testing
import SimKernel
@testable import GitalyModel

/// An exponential law of mean `mean` seconds, from its closed-form quantile.
func exponentialLaw(mean: Double) -> CostLaw {
    CostLaw(mean: mean, quantile: { -mean * log1p(-$0) })
}

/// A load of one stream, flat over the week.
func flatLoad(_ c: RPCClass, rate: Double, cpu: CostLaw?, duration: CostLaw, popularity: BackgroundLoad.Popularity = .uniform) -> BackgroundLoad {
    BackgroundLoad(streams: [BackgroundLoad.Stream(rpcClass: c, hourOfWeekRates: Array(repeating: rate, count: 168), cpu: cpu, duration: duration)],
                   popularity: popularity)
}

/// Goal: the tabulated law is the law it was built from. Method: an exponential of mean 0.4 s
/// against 1 − e^(−x/0.4) at eight points (the table is linear between 512 points, so within
/// 1e-4); its mean is the family's; the time left to a call in progress is again exponential
/// of mean 0.4 (memoryless), and a constant's is uniform on (0, v), mean v/2: 20,000 draws
/// each, within four standard errors.
@Test func costLawMatchesItsFamily() {
    let law = exponentialLaw(mean: 0.4)
    for x in [0.001, 0.01, 0.1, 0.3, 0.5, 1, 2, 5] {
        #expect(abs(law.cdf(x) - (1 - exp(-x / 0.4))) < 1e-4, "x = \(x)")
    }
    #expect(law.cdf(-1) == 0 && law.cdf(100) == 1)
    #expect(law.mean == 0.4)
    var random = RandomStream(seed: 3)
    let n = 20_000
    var left = 0.0, drawn = 0.0
    for _ in 0..<n { left += law.sampleRemaining(&random); drawn += law.sample(&random) }
    let se = 0.4 / Double(n).squareRoot()
    #expect(abs(left / Double(n) - 0.4) < 4 * se, "remaining mean \(left / Double(n))")
    #expect(abs(drawn / Double(n) - 0.4) < 4 * se, "draw mean \(drawn / Double(n))")
    let constant = CostLaw.constant(3)
    #expect(constant.cdf(2.999) == 0 && constant.cdf(3) == 1 && constant.mean == 3)
    var u = 0.0
    for _ in 0..<n { u += constant.sampleRemaining(&random) }
    // Uniform on (0, 3): standard deviation 3/√12.
    #expect(abs(u / Double(n) - 1.5) < 4 * (3 / 12.0.squareRoot()) / Double(n).squareRoot())
    #expect(constant.sample(&random) == 3)
}

/// Goal: a load keeps λ·E[S] cores busy (Little's law), split as Praefect routes calls.
/// Method: one plain node with 4 cores, reads at 200/s of 5 ms CPU plus the read class's 64 kB
/// at 400 MB/s: 200 × 5.16 ms = 1.032 cores, and as many disk readers. On the three-node
/// cluster (replication factor 3), reads at 300/s of 10 ms go to one of three replicas (100/s
/// each, 1.016 s of work a second with 64 kB at 400 MB/s … node n3 reads at 400 MB/s too);
/// with n1 down, to one of two (150/s).
@Test func loadKeepsLambdaTimesServiceBusy() throws {
    var single = makeSim(try singleNodeFleet()) { $0.backgroundLoad = flatLoad(.read, rate: 200, cpu: .constant(0.005), duration: .constant(0.25)) }
    let busy = single.model.load.busyCores[0]
    #expect(abs(busy - 200 * (0.005 + 64e3 / 400e6)) < 1e-9, "busy \(busy)")
    #expect(abs(single.model.load.diskReaders[0] - busy) < 1e-12)
    #expect(single.model.load.diskWriters[0] == 0)
    single.run(until: .seconds(61))
    #expect(abs(single.model.load.busyCores[0] - busy) < 1e-9)

    var cluster = makeSim(try clusterFleet(consistency: .strong, faults: "    - {at: 30s, kind: nodeCrash, target: n1, duration: 600s}")) {
        $0.backgroundLoad = flatLoad(.read, rate: 300, cpu: .constant(0.01), duration: .constant(0.25))
    }
    let perNode = 100 * (0.01 + 64e3 / 400e6)
    for n in 0..<3 { #expect(abs(cluster.model.load.busyCores[n] - perNode) < 1e-9, "node \(n)") }
    cluster.run(until: .seconds(61))
    #expect(cluster.model.load.busyCores[0] == 0)
    for n in 1..<3 { #expect(abs(cluster.model.load.busyCores[n] - 1.5 * perNode) < 1e-9, "node \(n) with n1 down") }
}

/// Goal: what a copy gets beside a load is averaged over the Poisson number of the load's
/// calls in service. Method: E[1/(1 + J)] = (1 − e^(−L))/L for J ~ Poisson(L) (the share of
/// one flow beside J readers), at L = 0.5, 3, 50 and 1,000 (past 400 the mean stands for J);
/// E[J] = L. Then 4 cores and one sending copy beside a load keeping 3.5 cores busy on
/// average: the copy's core share and a call's stretch against sums over j written out here
/// with Poisson weights e^(−L)·L^j/j! from `lgamma`.
@Test func loadSharesAreAveragedOverPoissonCalls() throws {
    for L in [0.5, 3, 50] {
        let share = LoadState.expectation(mean: L) { 1 / Double(1 + $0) }
        #expect(abs(share - (1 - exp(-L)) / L) < 1e-10, "L = \(L)")
        #expect(abs(LoadState.expectation(mean: L) { Double($0) } - L) < 1e-9 * max(1, L))
    }
    #expect(abs(LoadState.expectation(mean: 1000) { 1 / Double(1 + $0) } - 1 / 1001.0) < 1e-15)
    func poisson(_ L: Double, _ f: (Double) -> Double) -> Double {
        (0..<200).reduce(0.0) { acc, j in acc + exp(-L + Double(j) * log(L) - lgamma(Double(j) + 1)) * f(Double(j)) }
    }
    // Writes of 5 ms at 700/s keep 3.5 cores busy.
    var sim = makeSim(try singleNodeFleet()) { $0.backgroundLoad = flatLoad(.write, rate: 700, cpu: nil, duration: .constant(0.005)) }
    #expect(abs(sim.model.load.busyCores[0] - 3.5) < 1e-12)
    sim.model.nodes[0].copies.sending = 1
    let share = poisson(3.5) { min(1, 4 / ($0 + 1)) }, stretch = poisson(3.5) { max(1, ($0 + 1) / 4) }
    #expect(abs(sim.model.copyCores(node: 0).sending - share) < 1e-10, "\(sim.model.copyCores(node: 0).sending) against \(share)")
    #expect(abs(sim.model.cpuStretch(node: 0) - stretch) < 1e-10)
    // Not the value at the mean, 4 / 4.5 = 0.889: capped at one core, the share is concave
    // in j here, so the average is below it.
    #expect(share < 4 / 4.5 - 0.02)
    sim.model.nodes[0].copies.sending = 0
    #expect(sim.model.cpuStretch(node: 0) == 1)
}

/// Goal: a window's apdex and error ratio under a load are the service law's chances, with
/// the noise a window of calls has. Method: one node of 64 cores (so calls one by one never
/// wait for a core: the load keeps no queue), reads at 10/s whose CPU is exponential of mean
/// 0.4 s plus 64 kB at 400 MB/s (0.16 ms). By hand: satisfied P(S ≤ 0.5) =
/// 1 − e^(−(0.5 − 0.00016)/0.4), tolerated P(0.5 < S ≤ 1); apdex = satisfied + tolerated / 2;
/// errors: the tail beyond the 55 s deadline, e^(−137.5), nothing. A window's counts are
/// Poisson around 600 requests: each within four standard deviations, and the apdex pooled
/// over 20 windows within four standard errors of the hand value; the windows differ (drawn,
/// not the expectation each time). Then the same calls one by one (Poisson at 10/s,
/// exponential CPU, 12,000 calls): their pooled apdex agrees within four standard errors.
@Test func loadWindowsShowTheServiceLawsChances() throws {
    let law = exponentialLaw(mean: 0.4)
    var sim = makeSim(try singleNodeFleet(cores: 64)) { $0.backgroundLoad = flatLoad(.read, rate: 10, cpu: law, duration: .constant(0.4)) }
    sim.run(until: .seconds(1200.5))
    let io = 64e3 / 400e6
    let satisfied = 1 - exp(-(0.5 - io) / 0.4), tolerated = exp(-(0.5 - io) / 0.4) - exp(-(1 - io) / 0.4)
    let expected = satisfied + tolerated / 2
    let windows = sim.model.windows
    #expect(windows.count == 20)
    var loadCounted = 0.0, loadScore = 0.0
    for w in windows {
        #expect(abs(w.loadRequests - 600) < 4 * 600.0.squareRoot() && w.requests == 0 && w.loadRequests == w.loadRequests.rounded())
        #expect(w.loadErrors == 0)
        loadCounted += w.loadCounted
        loadScore += w.loadSatisfied + w.loadTolerated / 2
    }
    #expect(Set(windows.map(\.loadSatisfied)).count > 1, "every window drew the same count")
    let loadSE = (expected * (1 - expected) / loadCounted).squareRoot()
    #expect(abs(loadScore / loadCounted - expected) < 4 * loadSE, "load apdex \(loadScore / loadCounted) against \(expected)")
    // The same traffic as calls.
    var calls = makeSim(try singleNodeFleet(cores: 64)) { $0.checkInvariants = false }
    var random = RandomStream(seed: 11)
    var t = 0.0
    while true {
        t += random.exponential(rate: 10)
        guard t < 1200 else { break }
        World.submit(&calls, repository: random.below(2), rpcClass: .read, at: .seconds(t), cost: RecordedCost(cpuSeconds: law.sample(&random)))
    }
    calls.run(until: .seconds(1260.5))
    var counted = 0, score = 0.0
    for w in calls.model.windows.prefix(20) {
        counted += w.apdexCounted
        score += Double(w.apdexSatisfied) + Double(w.apdexTolerated) / 2
    }
    let se = (expected * (1 - expected) / Double(counted)).squareRoot()
    #expect(abs(score / Double(counted) - expected) < 4 * se, "calls' apdex \(score / Double(counted)) against \(expected)")
}

/// Goal: a node down fails its storage's load, from the instant it goes down. Method: one
/// VM; writes at 5/s; a crash at 90 s for 60 s, then the VM's reboot (120 s, the `HostSpec`
/// default): down from 90 s to 270 s. Windows of 60 s: none of the first window's calls fail,
/// half of the second's (Poisson counts of mean 150 each: within four standard deviations of
/// a binomial half, 0.115), all of the third's and fourth's, half of the fifth's, none of the
/// sixth's.
@Test func loadOnADownNodeFails() throws {
    var yaml = """
    name: one
    nodes:
      - {name: a, cpuCores: 4, storages: [{name: sa, capacity: 1TB}]}
    repositories:
      - {path: r0.git, storage: sa, size: 1GB}
    faults:
      schedule:
        - {at: 90s, kind: nodeCrash, target: a, duration: 60s}
    """
    yaml += "\n"
    var sim = makeSim(try Fleet.build(FleetSpec.parse(yaml, file: "one.yaml"))) { $0.backgroundLoad = flatLoad(.write, rate: 5, cpu: nil, duration: .constant(0.05)) }
    sim.run(until: .seconds(360.5))
    let ratios = sim.model.windows.map { $0.errorRatio! }
    let expected = [0, 0.5, 1, 1, 0.5, 0]
    #expect(ratios.count == expected.count)
    for (r, e) in zip(ratios, expected) { #expect(abs(r - e) < (e == 0.5 ? 0.115 : 1e-12), "\(ratios)") }
}

/// Two nodes of one storage each, sa and sb; r0 on sa, r1 on `r1On`.
func twoStorages(r1On storage: String) throws -> Fleet {
    try Fleet.build(FleetSpec.parse("""
    name: two
    nodes:
      - {name: a, storages: [{name: sa, capacity: 1TB}]}
      - {name: b, storages: [{name: sb, capacity: 1TB}]}
    repositories:
      - {path: r0.git, storage: sa, size: 10MB}
      - {path: r1.git, storage: \(storage), size: 10MB}
    """, file: "two.yaml"))
}

/// Goal: a repository's share of the calls follows the profile's ranks and moves with it.
/// Method: Zipf of exponent 1 over 3 ranks on 2 repositories: rank 1 and 3 → r0, rank 2 → r1;
/// shares (1 + 1/3) / (11/6) = 8/11 and (1/2) / (11/6) = 3/11. Both repositories on storage
/// sa; r1 moved to sb: sb carries 3/11, sa 8/11.
@Test func popularityFollowsRanksAndMoves() throws {
    let fleet = try twoStorages(r1On: "sa")
    var sim = makeSim(fleet) { $0.backgroundLoad = flatLoad(.read, rate: 1, cpu: nil, duration: .constant(0.01), popularity: .zipf(count: 3, exponent: 1)) }
    #expect(abs(sim.model.loadShare(of: 0) - 8.0 / 11) < 1e-12)
    #expect(abs(sim.model.loadShare(of: 1) - 3.0 / 11) < 1e-12)
    #expect(abs(sim.model.load.mass[0] - 1) < 1e-12 && sim.model.load.mass[1] == 0)
    let m = World.scheduleMove(&sim, repository: 1, destination: 1)
    guard case .success(let id) = m.result else { Issue.record("move refused: \(m.result)"); return }
    _ = runMove(&sim, id)
    #expect(sim.model.moves[id].state == .finished)
    #expect(abs(sim.model.load.mass[0] - 8.0 / 11) < 1e-12 && abs(sim.model.load.mass[1] - 3.0 / 11) < 1e-12)
}

/// Goal: the repositories that start on an RPC-level storage carry no load wherever they go,
/// and the others keep theirs. Method: the ranks of `popularityFollowsRanksAndMoves` with r0
/// on sa and r1 on sb, sa listed as RPC level: r0's share 0 and r1's 3/11, so sa carries 0
/// and sb 3/11; r0 moved to sb changes nothing, r1 moved to sa takes its 3/11 along; no write
/// in progress is drawn on r0 (its calls are simulated one by one), 2·3 on average on r1.
/// Control: without the list r0 carries 8/11.
@Test func repositoriesOfAnRPCLevelStorageCarryNoLoad() throws {
    let fleet = try twoStorages(r1On: "sb")
    var load = flatLoad(.receivePack, rate: 2, cpu: nil, duration: .constant(3), popularity: .zipf(count: 3, exponent: 1))
    let control = makeSim(fleet) { $0.backgroundLoad = load }
    #expect(abs(control.model.loadShare(of: 0) - 8.0 / 11) < 1e-12)
    load.rpcPart = .storages([0])
    var sim = makeSim(fleet) { $0.backgroundLoad = load; $0.checkInvariants = false }
    #expect(sim.model.loadShare(of: 0) == 0)
    #expect(abs(sim.model.loadShare(of: 1) - 3.0 / 11) < 1e-12)
    #expect(sim.model.load.mass[0] == 0 && abs(sim.model.load.mass[1] - 3.0 / 11) < 1e-12)
    for attempt in 0..<50 { sim.model.loadWritesInProgress(0, attempt: attempt, &sim.scheduler) }
    sim.run(until: .milliseconds(1))
    #expect(sim.model.inflightPushes[0] == 0)
    for attempt in 0..<50 { sim.model.loadWritesInProgress(1, attempt: attempt, &sim.scheduler) }
    sim.run(until: .milliseconds(2))
    #expect(sim.model.inflightPushes[1] > 0)
    sim.run(until: .seconds(4))
    for (r, to) in [(0, 1), (1, 0)] {
        let m = World.scheduleMove(&sim, repository: r, destination: to)
        guard case .success(let id) = m.result else { Issue.record("move refused: \(m.result)"); return }
        _ = runMove(&sim, id)
        #expect(sim.model.moves[id].state == .finished)
    }
    #expect(abs(sim.model.load.mass[0] - 3.0 / 11) < 1e-12 && abs(sim.model.load.mass[1]) < 1e-12)
}

/// Goal: with the repositories in flight at RPC level, a repository's calls are drawn one by
/// one from its move's scheduling to its end, at its share of the hour's rate, and the load
/// carries them before and after. Method: r0 (share 8/11 of reads at 5/s in even hours of
/// the week, none in odd ones) moved off a 10 MB/s disk, 80 GB, so the move spans hours 0 to
/// 2. While it is in flight sa carries r1's 3/11 only; the calls counted hour by hour: none
/// in hour 1, and 5 · 8/11 a second in hour 0 within five Poisson deviations (the
/// hour's turn draws the gap again at the new rate). After the move sb carries r0's 8/11
/// and no call is drawn in the next even hour.
@Test func repositoriesInFlightHaveTheirCallsDrawnOneByOne() throws {
    let fleet = try Fleet.build(FleetSpec.parse("""
    name: two
    nodes:
      - {name: a, disk: {readBandwidth: 10MB/s, writeBandwidth: 10MB/s}, storages: [{name: sa, capacity: 1TB}]}
      - {name: b, disk: {readBandwidth: 10MB/s, writeBandwidth: 10MB/s}, storages: [{name: sb, capacity: 1TB}]}
    repositories:
      - {path: r0.git, storage: sa, size: 80GB}
      - {path: r1.git, storage: sa, size: 10MB}
    """, file: "two.yaml"))
    var load = BackgroundLoad(streams: [BackgroundLoad.Stream(rpcClass: .read, hourOfWeekRates: (0..<168).map { $0 % 2 == 0 ? 5 : 0 },
                                                               cpu: nil, duration: .constant(0.01))],
                              popularity: .zipf(count: 3, exponent: 1))
    load.rpcPart = .inFlight
    var sim = makeSim(fleet) { $0.backgroundLoad = load; $0.checkInvariants = false }
    let id = try World.scheduleMove(&sim, repository: 0, destination: 1).result.get()
    sim.run(until: .milliseconds(1))
    #expect(sim.model.load.rpcOwner[0] == Int32(id))
    #expect(abs(sim.model.load.mass[0] - 3.0 / 11) < 1e-12 && sim.model.load.mass[1] == 0)
    var perHour: [Int] = []
    var last = 0
    while sim.model.activeMoves.contains(id) {
        sim.run(until: .seconds(Double(perHour.count + 1) * 3600))
        perHour.append(sim.model.rpcsCompleted - last)
        last = sim.model.rpcsCompleted
        if perHour.count > 4 { break }
    }
    #expect(sim.model.move(id).state == .finished)
    #expect(perHour.count == 3, "the move ended in hour \(perHour.count - 1)")
    #expect(perHour[1] == 0)
    #expect(abs(Double(perHour[0]) - 5 * 3600 * 8 / 11) < 5 * (5 * 3600 * 8 / 11.0).squareRoot(), "\(perHour[0]) calls in hour 0")
    #expect(abs(sim.model.load.mass[1] - 8.0 / 11) < 1e-12 && abs(sim.model.load.mass[0] - 3.0 / 11) < 1e-12)
    #expect(sim.model.load.rpcOwner[0] == LoadState.nobody)
    sim.run(until: .seconds(5 * 3600))
    #expect(sim.model.rpcsCompleted == last, "no call after the move's end")
}

/// Goal: the writes found in progress when a move starts are Poisson with mean λ·E[S], each
/// with the time it has left. Method: one repository with every call; pushes at 2/s of a
/// constant 3 s: 6 in progress on average. 200 draws (attempts 0 … 199) at once: the pushes
/// counted by GitLab's counter total 1,200 ± 4·√1,200; the time left is uniform on (0, 3 s),
/// so all are done by 3 s and about half by 1.5 s (binomial, four standard deviations).
@Test func writesInProgressArePoissonWithTheirTimeLeft() throws {
    var sim = makeSim(try singleNodeFleet(cores: 4096, repositories: 1)) {
        $0.backgroundLoad = flatLoad(.receivePack, rate: 2, cpu: nil, duration: .constant(3))
        $0.checkInvariants = false
    }
    for attempt in 0..<200 { sim.model.loadWritesInProgress(0, attempt: attempt, &sim.scheduler) }
    sim.run(until: .milliseconds(1))
    let drawn = Int(sim.model.inflightPushes[0])
    #expect(abs(Double(drawn) - 1200) < 4 * 1200.0.squareRoot(), "pushes in progress \(drawn)")
    sim.run(until: .milliseconds(1500))
    let left = Double(sim.model.inflightPushes[0])
    let n = Double(drawn)
    #expect(abs(left - n / 2) < 4 * (n / 4).squareRoot(), "\(left) of \(drawn) left at 1.5 s")
    sim.run(until: .milliseconds(3001))
    #expect(sim.model.inflightPushes[0] == 0)
    // The draws are keyed by (repository, attempt): the same attempt draws the same writes.
    var again = makeSim(try singleNodeFleet(cores: 4096, repositories: 1)) {
        $0.backgroundLoad = flatLoad(.receivePack, rate: 2, cpu: nil, duration: .constant(3))
        $0.checkInvariants = false
    }
    for attempt in (0..<200).reversed() { again.model.loadWritesInProgress(0, attempt: attempt, &again.scheduler) }
    again.run(until: .milliseconds(1))
    #expect(Int(again.model.inflightPushes[0]) == drawn)
}

/// Goal: what a node's row keeps is, to the bit, the sum a look-up past the row works out,
/// whether it is read for the first time, again, or after the node's figures changed, so
/// neither the row's width nor the order of reads changes a result. Method: the four
/// expectations the world reads, on a node of 8 cores beside another node, means from none to
/// past the summed range (400), s from 0 to beyond the row, each read twice; then the means
/// changed and every entry read again. Independent truth: `LoadState.expectation`, the series
/// summed directly.
@Test func aTabulatedExpectationIsTheSumItStandsFor() {
    let c = 8.0
    let truth: [LoadState.Expected: (Int) -> Double] = [
        .readerInverse: { $0 == 0 ? 0 : 1 / Double($0) }, .writerInverse: { $0 == 0 ? 0 : 1 / Double($0) },
        .coreShare: { $0 == 0 ? 1 : min(1, c / Double($0)) }, .coreStretch: { max(1, Double($0) / c) },
    ]
    var load = LoadState.empty
    load.busyCores = [0, 0]; load.diskReaders = [0, 0]; load.diskWriters = [0, 0]
    let none = LoadState.PoissonTerms(mean: 0)
    load.readerTerms = [none, none]; load.writerTerms = [none, none]; load.busyTerms = [none, none]
    load.expectations = LoadState.expectationTable(nodes: 2)
    let means = [0.0, 0.3, 2.5, 17.0, 150.0, 500.0]
    for (i, mean) in means.enumerated() {
        // Readers, writers and cores at three different means, so a read of the wrong terms shows.
        let other = means[(i + 1) % means.count], third = means[(i + 2) % means.count]
        load.diskReaders[1] = mean; load.diskWriters[1] = other; load.busyCores[1] = third
        load.figuresChanged(node: 1)
        for round in 0..<2 {
            for e in LoadState.Expected.allCases {
                let m = e == .readerInverse ? mean : e == .writerInverse ? other : third
                for s in 0..<(LoadState.tabulated + 8) where (e != .readerInverse && e != .writerInverse) || s > 0 {
                    let direct = LoadState.expectation(mean: m) { truth[e]!(s + $0) }
                    #expect(load.expected(e, node: 1, s, cores: 8) == direct, "\(e), mean \(m), s \(s), read \(round + 1)")
                }
            }
        }
    }
    // The other node's row was never read: nothing was worked out there.
    for column in 0..<load.expectations.columns { #expect(load.expectations[0, column].isNaN) }
}
