import Foundation
import Testing
@testable import GitalyModel
import Migration
import SimulatedDriver
import SimKernel
import Traffic
@testable import Experiments

/// Plain storages, each on its own node with a 1,000 MB/s network and disk write; `a`'s disk
/// reads at `sourceReadMBps` (the bottleneck of every copy from it unless the stream cap is
/// lower). `count` repositories of `sizeGB` on `a`; `gitlab` adds settings to the gitlab line.
func drainFleet(count: Int, sizeGB: Double, sidekiq: Int = 10, storages: [String] = ["a", "b"], sourceReadMBps: Int = 100,
                weights: String = "{a: 100, b: 0}", gitlab: String = "apiLatency: 0s") throws -> Fleet {
    var repos = ""
    for i in 0..<count { repos += "  - {path: r\(i).git, storage: a, size: \(sizeGB)GB}\n" }
    var nodes = ""
    for name in storages {
        nodes += """
          - name: n\(name)
            disk: {readBandwidth: \(name == "a" ? sourceReadMBps : 1000)MB/s, writeBandwidth: 1000MB/s}
            network: {bandwidth: 1000MB/s}
            storages: [{name: \(name), capacity: 10TB}]

        """
    }
    let yaml = """
    name: drain
    nodes:
    \(nodes)gitlab: {weights: \(weights), sidekiqConcurrency: \(sidekiq), \(gitlab)}
    repositories:
    \(repos)
    """
    return try Fleet.build(FleetSpec.parse(yaml, file: "drain.yaml"))
}

func drainPlan(count: Int, sizeBytes: Int64, perSource: Int, poll: EngineDuration) -> MigrationPlan {
    let moves = (0..<count).map { MigrationPlan.Move(repository: RepositoryID(Int64($0 + 1)), source: "a", destination: "b", sizeBytes: sizeBytes) }
    return MigrationPlan(id: "drain-a", initialWeights: [StorageWeight("a", 100), StorageWeight("b", 0)],
                         phases: [.init(name: "drain", waves: [.init(moves: moves)])],
                         limits: ConcurrencyLimits(perSource: perSource), pollInterval: poll)
}

/// Goal: the co-simulation loop carries a plan through the simulated world to its end.
/// Method: a drain of 5 repositories with no traffic; every move finishes, every byte is counted
/// moved, nothing is lost, and every repository ends on the destination, writable.
@Test func drainRunsToTheEndThroughTheSimulatedGitLab() throws {
    let fleet = try drainFleet(count: 5, sizeGB: 1)
    let plan = drainPlan(count: 5, sizeBytes: 1_000_000_000, perSource: 2, poll: .seconds(1))
    var run = try MigrationRun(fleet: fleet, config: WorldConfig(seed: 3), plan: plan, repositoryIDs: (1...5).map { RepositoryID(Int64($0)) })
    var traffic: EmptyArrivals? = nil
    let outcome = try run.run(traffic: &traffic)
    #expect(outcome.movesFinished == 5)
    #expect(outcome.bytesMoved == 5_000_000_000)
    #expect(outcome.durationSeconds != nil)
    let b = fleet.virtualStorage(named: "b")!
    for r in 0..<5 {
        #expect(run.simulation.model.repositories[r].virtualStorage == b)
        #expect(!run.simulation.model.readOnly[r])
    }
}

/// A traffic source with no arrivals.
struct EmptyArrivals: ArrivalSource {
    var methods: [MethodName] = []
    mutating func next() throws -> Arrival? { nil }
}

func ids(_ n: Int) -> [RepositoryID] { (1...n).map { RepositoryID(Int64($0)) } }

/// Runs `plan` on `fleet` without traffic, to the end.
func runDrain(_ fleet: Fleet, _ plan: MigrationPlan, config: WorldConfig = WorldConfig(seed: 3)) throws -> (MigrationRun, MigrationOutcome) {
    var run = try MigrationRun(fleet: fleet, config: config, plan: plan, repositoryIDs: ids(fleet.repositories.count))
    var traffic: EmptyArrivals? = nil
    let outcome = try run.run(traffic: &traffic)
    return (run, outcome)
}

/// The engine's view of one move, in the model's terms: one repository at a time takes its
/// concurrency slot for a look-up (one API round trip 2L), then its schedule (which takes effect
/// at once; the answer comes L later), then polls: each poll is sent `poll` after the previous
/// answer and sees the state at sending, so the k-th poll is sent L + k·poll + (k−1)·L after the
/// schedule took effect. The first to see the move ended, `worldSeconds` after it took effect,
/// is k = ⌈worldSeconds / (poll + L)⌉; its answer L later frees the slot. So the slot is held
///   2L + ⌈worldSeconds / (poll + L)⌉ · (poll + L).
func engineCycleSeconds(worldSeconds: Double, latency: Double, poll: Double) -> Double {
    2 * latency + (worldSeconds / (poll + latency)).rounded(.up) * (poll + latency)
}

/// A move's time in the world, besides its copy: the Sidekiq pickup, the push wait's first read
/// (0 s: no push in flight), the two checksums and the source's removal (`MoveCosts`).
func moveOverheadSeconds(_ fleet: Fleet) -> Double {
    fleet.gitlab.sidekiqPickupSeconds + MoveCosts.checksumSeconds(.project, RepositoryParts()) + MoveCosts.cleanupSeconds
}

/// Goal: with one move at a time and a fixed per-move time, a drain of N takes N times that
/// time. Method: 6 repositories of 1 GB, the copy capped at 50 MB/s per stream (below the
/// 100 MB/s disk), API latency 0.5 s, polls every 1 s. By hand: the world holds each move for
/// 1 s pickup + 20 s copy + 2 × 0.06 s checksums + 1 s cleanup = 22.12 s; the engine's cycle is
/// 2 × 0.5 + ⌈22.12 / 1.5⌉ × 1.5 = 23.5 s; 6 moves: 141 s. Each copy took 20 s in the world.
@Test func oneMoveAtATimeTakesNTimesTheMoveTime() throws {
    let n = 6
    let fleet = try drainFleet(count: n, sizeGB: 1, gitlab: "apiLatency: 500ms, moveStreamBandwidth: 50MB/s")
    let copySeconds = 1e9 / fleet.gitlab.moveStreamBytesPerSecondMax
    let cycle = engineCycleSeconds(worldSeconds: moveOverheadSeconds(fleet) + copySeconds, latency: fleet.gitlab.apiLatencySeconds, poll: 1)
    #expect(abs(cycle - 23.5) < 1e-9, "the hand figure")
    let (run, outcome) = try runDrain(fleet, drainPlan(count: n, sizeBytes: 1_000_000_000, perSource: 1, poll: .seconds(1)))
    #expect(outcome.movesFinished == n)
    let duration = try #require(outcome.durationSeconds)
    #expect(abs(duration - Double(n) * cycle) <= 0.01 * Double(n) * cycle, "took \(duration) s, expected \(Double(n) * cycle) s")
    let world = run.simulation.model
    #expect(world.moveCount == n)
    for m in 0..<n { #expect(abs(world.moveCopySeconds(MoveIndex(m)) - copySeconds) < 1e-3, "move \(m) copied for \(world.moveCopySeconds(MoveIndex(m))) s") }
}

/// Goal: a bandwidth-bound drain takes N·S / B plus the model's per-move overheads. Method: 8
/// repositories of 5 GB, 4 moves at a time from `a`, whose 100 MB/s disk read is the bottleneck
/// (4 streams at the 27.21 MiB/s cap would want 114 MB/s): the 4 copies share it and end
/// together after 4 × 5 GB / 100 MB/s = 200 s, so the moves go in two lockstep waves, each held
/// 1 s pickup + 200 s + 0.12 s checksums + 1 s cleanup = 202.12 s in the world, and
/// 2 × 0.5 + ⌈202.12 / 1.5⌉ × 1.5 = 203.5 s by the engine: 407 s, of which N·S / B = 400 s.
@Test func bandwidthBoundDrainTakesBytesOverBottleneckPlusOverheads() throws {
    let (n, perSource, sizeBytes, bottleneck) = (8, 4, 5e9, 100e6)
    let fleet = try drainFleet(count: n, sizeGB: 5, gitlab: "apiLatency: 500ms")
    #expect(Double(perSource) * fleet.gitlab.moveStreamBytesPerSecondMax > bottleneck, "the disk, not the stream cap, binds")
    let wave = engineCycleSeconds(worldSeconds: moveOverheadSeconds(fleet) + Double(perSource) * sizeBytes / bottleneck,
                                  latency: fleet.gitlab.apiLatencySeconds, poll: 1)
    let expected = Double(n / perSource) * wave
    #expect(abs(expected - 407) < 1e-9, "the hand figure")
    #expect(expected - Double(n) * sizeBytes / bottleneck > 0.01 * expected, "the overheads matter at 1%")
    let (_, outcome) = try runDrain(fleet, drainPlan(count: n, sizeBytes: Int64(sizeBytes), perSource: perSource, poll: .seconds(1)))
    #expect(outcome.movesFinished == n)
    #expect(outcome.bytesMoved == Int64(Double(n) * sizeBytes))
    let duration = try #require(outcome.durationSeconds)
    #expect(abs(duration - expected) <= 0.01 * expected, "took \(duration) s, expected \(expected) s")
    // Each repository is read-only from its schedule to its switch: the pickup, the shared
    // copy and the checksums (the cleanup comes after the switch).
    let readOnlySeconds = fleet.gitlab.sidekiqPickupSeconds + Double(perSource) * sizeBytes / bottleneck + MoveCosts.checksumSeconds(.project, RepositoryParts())
    #expect(abs(outcome.maxReadOnlySeconds - readOnlySeconds) < 1e-6, "max read-only \(outcome.maxReadOnlySeconds) s, expected \(readOnlySeconds) s")
    #expect(outcome.repositoriesLeftReadOnly.isEmpty)
}

/// What the world recorded of a repository's moves, oldest first.
struct RecordedMove: Equatable, CustomStringConvertible {
    var destination: Int
    var state: GitalyModel.MoveState
    var failureReason: String?
    var copySeconds: Double
    var description: String { "→\(destination) \(state) \(failureReason ?? "") \(copySeconds)s" }
}

func recordedMoves(_ world: World) -> [[RecordedMove]] {
    world.repositories.indices.map { r in
        world.moves(of: RepositoryIndex(r)).map { m in
            let move = world.move(m.index)
            // Rounded to the microsecond: the copy's end is the same event, its time in whole ns.
            return RecordedMove(destination: move.destinationStorage, state: move.state, failureReason: move.failureReason,
                                copySeconds: (world.moveCopySeconds(m) * 1e6).rounded() / 1e6)
        }
    }
}

/// Goal: how often the engine polls changes no outcome in the world (issue 8 item 4: common
/// random numbers between plans depend on it). Method: the same drain polled every 1 s and
/// every 10 s, with destinations left to the weights (b and c at 50 each), a 20% API error rate
/// and a 30% checksum-mismatch probability; copies are bound by the per-stream cap (20 MB/s,
/// far below the disks), so a copy's time does not depend on which others overlap it. The
/// world's record of each repository's moves (destination, end state, failure reason, copy
/// time) must match move for move; the run must have had failures, API errors and both
/// destinations, or the comparison would prove little.
@Test(arguments: [UInt64(5), 11])
func pollingEverySecondOrTenSecondsGivesTheSameMoves(seed: UInt64) throws {
    let n = 12
    let fleet = try drainFleet(count: n, sizeGB: 0.2, storages: ["a", "b", "c"], sourceReadMBps: 1000, weights: "{a: 0, b: 50, c: 50}",
                               gitlab: "apiLatency: 100ms, apiErrorRate: 0.2, moveStreamBandwidth: 20MB/s")
    var config = WorldConfig(seed: seed)
    config.moveChecksumMismatchProbability = 0.3
    var records: [[[RecordedMove]]] = []
    var outcomes: [MigrationOutcome] = []
    for poll in [EngineDuration.seconds(1), .seconds(10)] {
        let moves = (0..<n).map { MigrationPlan.Move(repository: RepositoryID(Int64($0 + 1)), source: "a", destination: nil, sizeBytes: 200_000_000) }
        let plan = MigrationPlan(id: "drain-a", initialWeights: [StorageWeight("a", 0), StorageWeight("b", 50), StorageWeight("c", 50)],
                                 phases: [.init(name: "drain", waves: [.init(moves: moves)])], limits: ConcurrencyLimits(perSource: 2),
                                 pollInterval: poll, retry: RetryPolicy(attempts: 5))
        let (run, outcome) = try runDrain(fleet, plan, config: config)
        records.append(recordedMoves(run.simulation.model))
        outcomes.append(outcome)
    }
    for r in 0..<n { #expect(records[0][r] == records[1][r], "seed \(seed), repository \(r): \(records[0][r]) vs \(records[1][r])") }
    let all = records[0].flatMap { $0 }
    #expect(all.contains { $0.state == .failed }, "seed \(seed): no move failed")
    #expect(Set(all.map(\.destination)).count == 2, "seed \(seed): one destination only")
    #expect(outcomes[0].movesFinished == outcomes[1].movesFinished)
    #expect(outcomes[0].movesFailed == outcomes[1].movesFailed)
    #expect(outcomes[0].durationSeconds != outcomes[1].durationSeconds, "the engine's cadence does show in its own duration")
}

/// Writes (`UserCommitFiles`, a mutator) to every repository of `count` in turn, one every
/// `everySeconds`, up to `untilSeconds`.
func writeTraffic(repositories count: Int, everySeconds: Double, untilSeconds: Double) -> ListSource {
    let method = MethodName(service: "gitaly.OperationService", method: "UserCommitFiles", operation: .mutator)
    let arrivals = (0..<Int(untilSeconds / everySeconds)).map { i in
        Arrival(time: .seconds(Double(i) * everySeconds), method: 0, operation: .mutator, storage: 0,
                repository: Int32(i % count), cost: RPCCost(durationNs: 1_000_000))
    }
    return ListSource(methods: [method], arrivals: arrivals)
}

/// Runs `run` under a write every 0.1 s (`writeTraffic`) and checks what both write tests
/// claim: every move finished, writes were acknowledged and some refused as read-only during
/// a move, and none was lost or discarded.
func runUnderWrites(_ run: inout MigrationRun, repositories n: Int, untilSeconds: Double) throws -> MigrationOutcome {
    var traffic: ListSource? = writeTraffic(repositories: n, everySeconds: 0.1, untilSeconds: untilSeconds)
    let outcome = try run.run(traffic: &traffic)
    let report = outcome.report
    #expect(outcome.movesFinished == n)
    #expect(report.acknowledgedWrites > 0)
    #expect(report.outcomes[.readOnly, default: 0] > 0, "no write arrived during a move")
    #expect(report.lostWrites == 0)
    #expect(report.discardedWrites == 0)
    return outcome
}

/// Goal: writes during a drain are never lost on plain storages, where the model names no
/// reason to lose one (a write lands on the source while the repository is writable; from
/// `schedule` to the switch it is refused as read-only, so the copy always holds every
/// acknowledged write). Method: 4 repositories of 1 GB drained 2 at a time under a write to one
/// of them every 0.1 s; every write is either acknowledged or refused read-only, some of each,
/// none lost or discarded, and every move finishes.
@Test func writesDuringAPlainDrainAreRefusedOrKeptNeverLost() throws {
    let n = 4
    let fleet = try drainFleet(count: n, sizeGB: 1, gitlab: "apiLatency: 100ms")
    var run = try MigrationRun(fleet: fleet, config: WorldConfig(seed: 9), plan: drainPlan(count: n, sizeBytes: 1_000_000_000, perSource: 2, poll: .seconds(5)),
                               repositoryIDs: ids(n))
    let outcome = try runUnderWrites(&run, repositories: n, untilSeconds: 200)
    let report = outcome.report
    #expect(report.acknowledgedWrites + report.outcomes[.readOnly, default: 0] == report.rpcsCompleted)
    #expect(outcome.summary.acknowledgedWrites == report.acknowledgedWrites)
    #expect(outcome.repositoriesLeftReadOnly.isEmpty)
}

/// Two strong-consistency clusters of 3 nodes behind one Praefect setup, `count` repositories
/// on `source`.
func twoClusterFleet(count: Int) throws -> Fleet {
    var nodes = ""
    for i in 1...6 {
        nodes += """
          - name: g\(i)
            zone: z\((i - 1) % 3)
            disk: {readBandwidth: 400MB/s, writeBandwidth: 200MB/s}
            network: {bandwidth: 1000MB/s}
            storages: [{name: g\(i), capacity: 2TB}]

        """
    }
    var repos = ""
    for i in 0..<count { repos += "  - {path: r\(i).git, storage: source, size: 500MB}\n" }
    let yaml = """
    name: two-clusters
    nodes:
    \(nodes)praefect:
      queue: postgres
      instances: [{name: p1, zone: z0}, {name: p2, zone: z1}, {name: p3, zone: z2}]
      virtualStorages:
        - {name: source, storages: [g1, g2, g3], replicationFactor: 3, consistency: strong}
        - {name: destination, storages: [g4, g5, g6], replicationFactor: 3, consistency: strong}
    gitlab: {weights: {source: 0, destination: 100}, sidekiqConcurrency: 5, apiLatency: 50ms}
    repositories:
    \(repos)
    """
    return try Fleet.build(FleetSpec.parse(yaml, file: "two-clusters.yaml"))
}

/// Goal: a strong-consistency cluster loses no write during a migration. Method: 4
/// repositories of 500 MB moved from one strong cluster to another, 2 at a time, under a write
/// every 0.1 s; every write is acknowledged or refused, and none is lost or discarded.
@Test func strongClusterDrainLosesNoWrite() throws {
    let n = 4
    let fleet = try twoClusterFleet(count: n)
    let moves = (0..<n).map { MigrationPlan.Move(repository: RepositoryID(Int64($0 + 1)), source: "source", destination: "destination", sizeBytes: 500_000_000) }
    let plan = MigrationPlan(id: "drain-source", initialWeights: [StorageWeight("source", 0), StorageWeight("destination", 100)],
                             phases: [.init(name: "drain", waves: [.init(moves: moves)])], limits: ConcurrencyLimits(perSource: 2), pollInterval: .seconds(5))
    var run = try MigrationRun(fleet: fleet, config: WorldConfig(seed: 4), plan: plan, repositoryIDs: ids(n))
    _ = try runUnderWrites(&run, repositories: n, untilSeconds: 120)
    let destination = fleet.virtualStorage(named: "destination")!
    for r in 0..<n { #expect(run.simulation.model.repositories[r].virtualStorage == destination) }
}

/// Goal: the summary holds every field `rehearse migrate --driver simulated --json` prints
/// (issue 8 item 5; `wall_seconds` is the command's own), under its snake_case name. Method: a
/// drain of 3 repositories of 1 GB; the JSON's keys are the issue's list, and its values the
/// outcome's: the one phase spans the run, the seed is the world's.
@Test func summaryCarriesEveryFieldOfTheMigrateJSON() throws {
    let fleet = try drainFleet(count: 3, sizeGB: 1)
    let (_, outcome) = try runDrain(fleet, drainPlan(count: 3, sizeBytes: 1_000_000_000, perSource: 2, poll: .seconds(2)), config: WorldConfig(seed: 17))
    let data = try JSONEncoder().encode(outcome.summary)
    let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    let expected: Set<String> = ["duration_seconds", "moves_finished", "moves_failed", "bytes_moved", "write_unavailable_repository_seconds",
                                 "max_read_only_seconds", "acknowledged_writes", "lost_writes", "repositories_left_read_only", "phases", "seed", "events"]
    #expect(Set(json.keys) == expected)
    let duration = try #require(outcome.durationSeconds)
    #expect(json["duration_seconds"] as? Double == duration)
    #expect(json["moves_finished"] as? Int == 3)
    #expect(json["bytes_moved"] as? Int == 3_000_000_000)
    #expect(json["seed"] as? Int == 17)
    #expect(json["events"] as? Int == outcome.events)
    #expect(json["repositories_left_read_only"] as? Int == 0)
    let phases = try #require(json["phases"] as? [[String: Any]])
    #expect(phases.count == 1)
    #expect(phases.first?["name"] as? String == "drain")
    #expect(phases.first?["start_seconds"] as? Double == 0)
    #expect(phases.first?["end_seconds"] as? Double == duration)
    // Read-only from schedule to switch: at least the 10 s copy of a repository alone on the disk.
    #expect(outcome.maxReadOnlySeconds >= 10)
    #expect(outcome.summary.writeUnavailableRepositorySeconds >= 3 * 10)
}

/// Goal: a move failed before it starts leaves its repository read-only until someone clears
/// it (gitlab#385309); the rehearsal's operator does when the engine asks, and with
/// `gitlab.operatorClearsReadOnly: false` nobody does. Method: 3 repositories of 5 GB, all three
/// moves asked at once of one Sidekiq thread, a 100 s move timeout (a copy takes 175 s at the
/// stream cap), one attempt. By hand: the first move starts and times out while copying (failed
/// from `started`: writable again); the other two time out queued, `scheduled` (failed before
/// `started`: read-only). With an operator none is left read-only; without one, those two are.
@Test func aMoveFailedBeforeItStartsStaysReadOnlyWithNobodyToClearIt() throws {
    var left: [Bool: [RepositoryID]] = [:]
    for operatorAtHand in [true, false] {
        let fleet = try drainFleet(count: 3, sizeGB: 5, sidekiq: 1, gitlab: "apiLatency: 0s, sidekiqPickup: 0s, operatorClearsReadOnly: \(operatorAtHand)")
        #expect(fleet.gitlab.operatorClearsReadOnly == operatorAtHand)
        var plan = drainPlan(count: 3, sizeBytes: 5_000_000_000, perSource: 3, poll: .seconds(5))
        plan.moveTimeout = .seconds(100)
        plan.retry = RetryPolicy(attempts: 1)
        let (_, outcome) = try runDrain(fleet, plan)
        #expect(outcome.movesFinished == 0 && outcome.movesTimedOut == 3, "\(outcome.movesFinished) finished, \(outcome.movesTimedOut) timed out")
        left[operatorAtHand] = outcome.repositoriesLeftReadOnly
    }
    #expect(left[true] == [])
    #expect(left[false] == [RepositoryID(2), RepositoryID(3)])
}

/// Goal: a plan naming a storage the fleet lacks is refused before anything runs, whether a
/// move or a weight names it, and the driver's refusal comes before the engine's.
/// Method: a drain of 3 onto "c" (the fleet has a and b); a drain onto b whose initial weights
/// name "c"; a drain onto "c" that also moves a repository twice (the engine's error).
@Test func aPlanNamingAStorageTheFleetLacksIsRefused() throws {
    let fleet = try drainFleet(count: 3, sizeGB: 1)
    let good = drainPlan(count: 3, sizeBytes: 1_000_000_000, perSource: 1, poll: .seconds(1))
    var ontoC = good
    ontoC.phases[0].waves[0].moves = good.phases[0].waves[0].moves.map { var m = $0; m.destination = "c"; return m }
    #expect(throws: SimulatedGitLab.SetupError.unknownStorage("c")) {
        _ = try MigrationRun(fleet: fleet, config: WorldConfig(seed: 3), plan: ontoC, repositoryIDs: ids(3))
    }
    var weighted = good
    weighted.initialWeights.append(StorageWeight("c", 0))
    #expect(throws: SimulatedGitLab.SetupError.unknownStorage("c")) {
        _ = try MigrationRun(fleet: fleet, config: WorldConfig(seed: 3), plan: weighted, repositoryIDs: ids(3))
    }
    var twice = ontoC
    twice.phases[0].waves[0].moves.append(twice.phases[0].waves[0].moves[0])
    #expect(throws: SimulatedGitLab.SetupError.unknownStorage("c")) {
        _ = try MigrationRun(fleet: fleet, config: WorldConfig(seed: 3), plan: twice, repositoryIDs: ids(3))
    }
    // The same plan onto b is the engine's to refuse.
    var twiceOntoB = good
    twiceOntoB.phases[0].waves[0].moves.append(good.phases[0].waves[0].moves[0])
    #expect(throws: MigrationPlanError.duplicateRepository(RepositoryID(1))) {
        _ = try MigrationRun(fleet: fleet, config: WorldConfig(seed: 3), plan: twiceOntoB, repositoryIDs: ids(3))
    }
    _ = try MigrationRun(fleet: fleet, config: WorldConfig(seed: 3), plan: good, repositoryIDs: ids(3))
}
