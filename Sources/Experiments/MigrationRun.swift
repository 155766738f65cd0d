import GitalyModel
import Migration
import SimKernel
import SimulatedDriver
import Traffic

/// One phase of a run as it happened: when the engine announced its start and its end.
public struct PhaseTiming: Sendable, Equatable, Codable {
    public var name: String
    public var startSeconds: Double
    public var endSeconds: Double?

    enum CodingKeys: String, CodingKey {
        case name, startSeconds = "start_seconds", endSeconds = "end_seconds"
    }
}

/// What one simulated migration leaves behind: the prediction of one replication.
public struct MigrationOutcome: Sendable {
    /// Seconds from the engine's start to its `finished` notice; nil when the horizon came first.
    public var durationSeconds: Double?
    public var aborted: Bool
    public var movesFinished: Int
    public var movesFailed: Int
    public var movesTimedOut: Int
    public var repositoriesGivenUp: Int
    public var sourcesLeftBehind: Int
    public var bytesMoved: Int64
    /// The longest stretch any repository stayed read-only (a move from `schedule` to its
    /// switch or failure, and a flag left set after a failure until it was cleared), counting
    /// the ones still read-only at the end as ending then.
    public var maxReadOnlySeconds: Double
    /// The repositories left read-only at the end, with no move in flight to make them
    /// writable (`World.repositoriesLeftReadOnly`; the plan's ids, sorted).
    public var repositoriesLeftReadOnly: [Migration.RepositoryID]
    public var phases: [PhaseTiming]
    public var gateFailures: Int
    /// Why the engine last paused (a failed gate, an operator), when the run ended paused.
    public var pausedBecause: String?
    public var report: WorldReport
    /// Samples taken every `sampleInterval` for the gates and the reports.
    public var samples: [WorldSample]
    public var submittedRPCs: Int
    public var simulatedSeconds: Double
    /// Random faults that struck, and the run's likelihood ratio under the real fault rates
    /// (1 unless `WorldConfig.faultRateScale` sampled them faster).
    public var randomFaults: Int = 0
    public var faultLikelihoodRatio: Double = 1
    public var events: Int
    /// The world's seed: the run replays from it.
    public var seed: UInt64

    /// The figures `rehearse migrate --driver simulated --json` prints (less `wall_seconds`,
    /// which only the command knows).
    public var summary: MigrationSummary {
        MigrationSummary(
            durationSeconds: durationSeconds, movesFinished: movesFinished, movesFailed: movesFailed, bytesMoved: bytesMoved,
            writeUnavailableRepositorySeconds: report.writeUnavailableRepositorySeconds, maxReadOnlySeconds: maxReadOnlySeconds,
            acknowledgedWrites: report.acknowledgedWrites, lostWrites: report.lostWrites,
            repositoriesLeftReadOnly: repositoriesLeftReadOnly.count, phases: phases, seed: seed, events: events)
    }
}

/// One run's prediction as `--json` prints it: snake_case keys, stable, documented here.
/// `duration_seconds` is left out when the horizon came before the engine finished; `phases`
/// lists each phase's start and end in seconds from the run's start (`end_seconds` left out
/// for a phase that never ended).
public struct MigrationSummary: Sendable, Equatable, Codable {
    public var durationSeconds: Double?
    public var movesFinished: Int
    /// Moves that ended `failed` (each attempt counts).
    public var movesFailed: Int
    /// The plan's sizes of the repositories whose move finished.
    public var bytesMoved: Int64
    public var writeUnavailableRepositorySeconds: Double
    public var maxReadOnlySeconds: Double
    public var acknowledgedWrites: Int
    public var lostWrites: Int
    public var repositoriesLeftReadOnly: Int
    public var phases: [PhaseTiming]
    public var seed: UInt64
    /// Simulation events processed.
    public var events: Int

    enum CodingKeys: String, CodingKey {
        case durationSeconds = "duration_seconds", movesFinished = "moves_finished", movesFailed = "moves_failed"
        case bytesMoved = "bytes_moved", writeUnavailableRepositorySeconds = "write_unavailable_repository_seconds"
        case maxReadOnlySeconds = "max_read_only_seconds", acknowledgedWrites = "acknowledged_writes", lostWrites = "lost_writes"
        case repositoriesLeftReadOnly = "repositories_left_read_only", phases, seed, events
    }
}

/// The co-simulation loop: the simulated world, a traffic source, and a migration engine whose
/// actions the `SimulatedGitLab` driver carries out, merged in time order. The world runs up to
/// the next outside instant (a traffic arrival, an API answer, the engine's deadline, a
/// monitoring sample), that input is delivered, and the loop repeats, so the world's own events
/// stay as they are and the engine sees the world only through its driver, as it would see
/// GitLab.
///
/// Ties at one instant go: traffic arrival, API answers (in the order they were sent), the
/// sample, then the engine's deadline; the order is fixed, so a run is deterministic.
public struct MigrationRun {
    public var simulation: Simulation<World>
    /// Nil when the loop only feeds traffic (`TrafficRun`): then it ends when the traffic does.
    public private(set) var engine: MigrationEngine?
    private(set) var driver: SimulatedGitLab?
    var answers = AnswerQueue()
    var wake: SimTime?
    /// How often monitoring samples the world (and the gates see a sample).
    public private(set) var sampleInterval: SimTime
    var nextSample: SimTime
    var outcome: Accumulator

    struct Accumulator {
        var finishedAt: SimTime?
        var aborted = false
        var movesFinished = 0, movesFailed = 0, movesTimedOut = 0, givenUp = 0, leftBehind = 0, gateFailures = 0
        var phases: [PhaseTiming] = []
        var samples: [WorldSample] = []
        var submitted = 0
        var pausedBecause: String?
    }

    /// Builds the world (its own synthetic traffic switched off: traffic comes from the source
    /// given to `run`) and the engine. `repositoryIDs[i]` is the plan's id for the world's
    /// repository i.
    public init(fleet: Fleet, config: WorldConfig, plan: MigrationPlan, repositoryIDs: [Migration.RepositoryID],
                sampleInterval: SimTime = .seconds(60)) throws {
        // The world on one side, the engine and its driver on the other: they start from the
        // fleet and the plan alone. The driver's errors are told before the engine's, as when
        // they ran in turn.
        let (world, built) = SideBySide.run({ Self(fleet: fleet, config: config) }, beside: {
            let engine = Result { () throws(MigrationPlanError) in try MigrationEngine(plan: plan) }
            let driver = Result { () throws(SimulatedGitLab.SetupError) in
                try SimulatedGitLab(fleet: fleet, repositoryCount: World.repositoryCount(fleet: fleet, config: config), repositoryIDs: repositoryIDs)
            }
            return (engine, driver)
        })
        self = try world.get()
        let (engine, driver) = try built.get()
        // A move for each of the plan's and an eighth more for retries; past that the list
        // grows as usual.
        simulation.model.reserveMoves(plan.moveCount + plan.moveCount / 8)
        let d = try driver.get()
        precondition(simulation.model.repositories.count == d.repositoryIDs.count, "the driver was built for another count of repositories")
        // The storages the moves name, as the engine listed them (else listed here: the
        // driver's error is told first).
        try d.check(plan: plan, moveStorages: (try? engine.get())?.storages ?? MigrationEngine.storages(of: plan))
        self.driver = d
        self.engine = try engine.get()
        self.sampleInterval = sampleInterval
        nextSample = sampleInterval
    }

    /// The loop with no engine: traffic into the world, nothing else (`TrafficRun`).
    public init(fleet: Fleet, config: WorldConfig) {
        var c = config
        c.traffic = nil
        simulation = Simulation(model: World(fleet: fleet, config: c))
        World.start(&simulation)
        driver = nil
        engine = nil
        sampleInterval = .seconds(60)
        nextSample = .max
        outcome = Accumulator()
    }

    /// What the loop did with the traffic it was given.
    struct Feed {
        var intake = ArrivalIntake()
        /// The loop stopped at `horizon` with traffic left.
        var stoppedAtHorizon = false
        /// The time of the last arrival submitted.
        var lastSubmitted: SimTime
    }

    /// The names a trace is mapped onto: the fleet's storages and the world's repositories, by
    /// place (`World.place(of:)`), as traffic names them.
    public var target: ReplayTarget {
        let world = simulation.model
        return ReplayTarget(storages: world.fleet.storages.map(\.name),
                            repositories: (0..<world.repositoryPaths.count).map { world.repositoryPaths[world.repository(atPlace: $0)] })
    }

    static func instant(_ t: SimTime) -> EngineInstant { EngineInstant(milliseconds: t.nanoseconds / 1_000_000) }
    static func time(_ i: EngineInstant) -> SimTime { SimTime(nanoseconds: i.milliseconds * 1_000_000) }

    /// Runs the migration to its end (or `horizon`), with `traffic` (nil: none) feeding the
    /// world. `progress` is called with the simulated seconds about once per simulated hour.
    public mutating func run<S: ArrivalSource>(traffic: inout S?, horizon: SimTime = .max, progress: ((Double) -> Void)? = nil) throws -> MigrationOutcome {
        precondition(engine != nil, "a migration run needs a plan")
        _ = try coSimulate(traffic: &traffic, horizon: horizon, progress: progress)
        return finish()
    }

    /// The loop itself: runs the world to the next outside instant, delivers it, repeats. With an
    /// engine it ends when the engine finishes or pauses with nothing outstanding; without one,
    /// when the traffic runs out. Either way at `horizon`.
    mutating func coSimulate<S: ArrivalSource>(traffic: inout S?, horizon: SimTime, progress: ((Double) -> Void)?) throws -> Feed {
        var feed = Feed(lastSubmitted: simulation.now)
        var pending: Arrival? = try traffic?.next()
        // The source's method table, read again only when an arrival names a method past it (a
        // replay grows it as it reads): reading it through the optional source for every
        // arrival copied the whole source, a tenth of a GitLab.com-rate run.
        var methods: [MethodName] = traffic?.methods ?? []
        var nextProgress = SimTime.hours(1)
        if engine != nil { deliver(.start, at: simulation.now) }
        while true {
            // The engine read in place: `if let` copied it, its lists' references and all, at
            // every step of the loop.
            if engine != nil {
                // A rolling update still under way runs to its end: its outcome (a release
                // rolled back or left on the fleet) is part of the run's.
                if engine!.isFinished && !simulation.model.rollingUpdateInProgress { break }
                // Paused at a failed gate with nothing outstanding: only an operator could go
                // on, and the simulated fleet has none, so the run ends here, unfinished.
                if engine!.isPaused && answers.isEmpty && wake == nil && !simulation.model.rollingUpdateInProgress { break }
            } else if pending == nil {
                break
            }
            let arrivalAt = pending.map(\.time) ?? .max
            let next = min(arrivalAt, answers.nextArrival ?? .max, nextSample, wake ?? .max)
            if next > horizon { feed.stoppedAtHorizon = pending != nil; break }
            guard next < .max else { break }
            simulation.run(until: next)
            if let p = progress, next >= nextProgress { p(next.seconds); nextProgress = next + .hours(1) }
            if arrivalAt == next, let a = pending {
                if Int(a.method) >= methods.count { methods = traffic?.methods ?? methods }
                if feed.intake.take(a, methods: methods, into: &simulation) {
                    outcome.submitted += 1
                    feed.lastSubmitted = a.time
                }
                pending = try traffic?.next()
                continue
            }
            if answers.nextArrival == next, let (_, input) = answers.pop() {
                deliver(input, at: next)
                continue
            }
            if nextSample == next {
                let s = simulation.model.sample(at: next)
                outcome.samples.append(s)
                nextSample = next + sampleInterval
                let at = Self.instant(next)
                for m in SimulatedGitLab.metrics(s) { deliver(.metricSample(m.metric, value: m.value, measuredAt: at, count: m.count), at: next) }
                continue
            }
            wake = nil
            deliver(.tick, at: next)
        }
        return feed
    }

    /// The outcome of a migration run, read off the world and the engine's notices.
    func finish() -> MigrationOutcome {
        let end = simulation.now
        let world = simulation.model
        return MigrationOutcome(
            durationSeconds: outcome.finishedAt?.seconds, aborted: outcome.aborted,
            movesFinished: outcome.movesFinished, movesFailed: outcome.movesFailed, movesTimedOut: outcome.movesTimedOut,
            repositoriesGivenUp: outcome.givenUp, sourcesLeftBehind: outcome.leftBehind, bytesMoved: engine!.finishedBytes,
            maxReadOnlySeconds: world.readOnlyClock.readOnlySecondsMax(at: end),
            repositoriesLeftReadOnly: world.repositoriesLeftReadOnly.map { driver!.repositoryIDs[$0] }.sorted(),
            phases: outcome.phases, gateFailures: outcome.gateFailures, pausedBecause: engine!.isPaused ? outcome.pausedBecause : nil,
            report: world.report(at: end),
            samples: outcome.samples, submittedRPCs: outcome.submitted, simulatedSeconds: end.seconds,
            randomFaults: world.randomFaultsOccurred, faultLikelihoodRatio: world.faultLikelihoodRatio(at: end),
            events: simulation.eventsProcessed, seed: world.config.seed)
    }

    /// Hands `input` to the engine at `t` and carries out what it asks.
    mutating func deliver(_ input: EngineInput, at t: SimTime) {
        guard engine != nil else { return }
        let actions = engine!.receive(input, at: Self.instant(t))
        for action in actions {
            switch action {
            case .wait(let until):
                wake = max(Self.time(until), t)
            case .notice(let n):
                record(n, at: t)
            case .lookUpMoves, .scheduleMove, .pollMove, .setWeights, .failMove, .clearReadOnly:
                if let (answer, after) = driver!.perform(action, &simulation) { answers.push(answer, at: t + after) }
            }
        }
    }

    mutating func record(_ n: EngineNotice, at t: SimTime) {
        switch n {
        case .phaseStarted(let name): outcome.phases.append(PhaseTiming(name: name, startSeconds: t.seconds, endSeconds: nil))
        case .phaseEnded(let name):
            if let i = outcome.phases.lastIndex(where: { $0.name == name && $0.endSeconds == nil }) { outcome.phases[i].endSeconds = t.seconds }
        case .moveFinished:
            outcome.movesFinished += 1
        case .moveFailed: outcome.movesFailed += 1
        case .moveTimedOut: outcome.movesTimedOut += 1
        case .sourceLeftBehind: outcome.leftBehind += 1
        case .givenUp: outcome.givenUp += 1
        case .gateFailed, .waveGateFailed: outcome.gateFailures += 1
        case .finished(let aborted):
            outcome.finishedAt = t
            outcome.aborted = aborted
        case .paused(let why): outcome.pausedBecause = why
        case .stepApplied, .gatePassed, .waveGatePassed, .alreadyMoved, .leftReadOnly, .resumed, .aborting, .weightsNotRolledBack, .ignored:
            break
        }
    }
}
