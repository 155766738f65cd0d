/// The migration engine: a pure state machine in the style of SwiftNIO's
/// `NIOAsyncWriter.StateMachine` and of GitalyModel's `MoveStateMachine`. Every entry point takes
/// an input with the driver's time and returns actions; the driver performs them (journalling
/// those with an outside effect first, see `MigrationJournal`). It never sleeps, reads a clock,
/// draws a random number or does I/O, so a simulated world, real git and a real GitLab run the
/// same code, and replaying a journal rebuilds the same state.
///
/// A run: `start`; for each phase, each weight step is applied (`setWeights`) and held for its
/// gate's soak; then the phase's waves run in order, each repository looked up, scheduled,
/// polled to a terminal state, retried or given up; the next wave starts when every repository of
/// the current one is done or given up.
///
/// A repository's status only moves forward: pending → in flight → done | given up.
public struct MigrationEngine: Sendable {
    public let plan: MigrationPlan
    /// Checks the invariants after every input (`precondition`); on in debug builds and tests.
    public var checksInvariants: Bool = _isDebugAssertConfiguration()

    /// Repositories in plan order (phase, wave, move): the order in which they start.
    var repositories: [RepositoryRecord] = []
    var indexByRepository: IdentifierIndex<RepositoryTag>
    /// The repositories last asked about (`ask`), looked at before `indexByRepository`.
    var recentlyAsked = RecentPositions()
    /// The move each in-flight repository waits on (look-up only; never iterated).
    var indexByMove: [MoveID: Int] = [:]
    /// Per phase, per wave: the repositories' index range.
    var waveRanges: [[Range<Int>]] = []
    /// Repositories in flight, sorted by index (so iteration follows the plan's order).
    var active: [Int] = []
    /// Retries, deadlines and polls of the repositories in flight (`TimerHeap`), and the ends
    /// of their waits; `setStage` pushes what a new stage carries.
    var requestTimers = TimerHeap()
    var waitTimers = TimerHeap()
    /// Waiting repositories whose wait has ended, sorted: they start when a slot frees.
    var readyToStart: [Int] = []
    /// Request timers found due after the answer's pass (`nextDeadline`): fired with the next.
    var overdue: [Int] = []
    var waitingCount = 0
    var slots: SlotCounts
    var storageNames: [StorageName]
    /// The current wave's pending repositories, one queue per source storage.
    var pending: PendingQueues
    var unsettledInWave = 0

    var run: RunStage = .notStarted
    var weightErrors = 0
    var pauseReason: String?
    var aborting = false
    /// Samples of the gate being soaked, in arrival order.
    var samples: [MetricSample] = []
    public private(set) var now = EngineInstant(milliseconds: 0)
    var emitted: [EngineAction] = []

    public init(plan: MigrationPlan) throws(MigrationPlanError) {
        self.plan = plan
        storageNames = Self.storages(of: plan)
        let storageIndex = StorageTable(storageNames)
        slots = SlotCounts(storages: storageNames.count)
        pending = PendingQueues(storages: storageNames.count)
        do {
            indexByRepository = try IdentifierIndex(plan.phases.lazy.flatMap(\.waves).flatMap(\.moves).map(\.repository))
        } catch {
            throw .duplicateRepository(error.id)
        }
        repositories.reserveCapacity(indexByRepository.count)
        for (p, phase) in plan.phases.enumerated() {
            var ranges: [Range<Int>] = []
            for (w, wave) in phase.waves.enumerated() {
                let first = repositories.count
                for m in wave.moves {
                    if m.destination == m.source { throw .destinationIsSource(m.repository, m.source) }
                    repositories.append(RepositoryRecord(
                        repository: m.repository, phase: p, wave: w, source: storageIndex.index(of: m.source)!,
                        destination: m.destination.map { storageIndex.index(of: $0)! }))
                }
                ranges.append(first..<repositories.count)
            }
            waveRanges.append(ranges)
        }
    }

    /// Hands the engine one input at the driver's time `now` and returns what to do, in order.
    /// Time never goes back: an earlier `now` (a real clock stepped back) counts as the latest.
    public mutating func receive(_ input: EngineInput, at now: EngineInstant) -> [EngineAction] {
        self.now = max(self.now, now)
        // Kept, not replaced: a caller done with the last input's actions leaves the buffer
        // unshared, so an input allocates nothing here (one allocation a delivery, fifty
        // million in a ten-million drain).
        emitted.removeAll(keepingCapacity: true)
        switch input {
        case .tick: break
        case .start: start()
        case .moveScheduled(let repository, let move): moveScheduled(repository, move)
        case .scheduleRefused(let repository, let refusal): scheduleRefused(repository, refusal)
        case .moveStatus(let move, let state): moveStatus(move, state)
        case .existingMoves(let repository, let lookup): existingMoves(repository, lookup)
        case .readOnlyCleared(let repository): readOnlyCleared(repository)
        case .weightsApplied: weightsApplied()
        case .apiError(.setWeights, let kind): weightsError(kind)
        case .apiError(let request, let kind): repositoryAPIError(request, kind)
        case .metricSample(let metric, let value, let measuredAt, let count):
            recordSample(MetricSample(metric: metric, value: value, measuredAt: measuredAt, count: count))
        case .operatorCommand(let command): operatorCommand(command)
        }
        fireDueRequests()
        fireDueWeights()
        advance()
        if let deadline = nextDeadline() { emitted.append(.wait(until: deadline)) }
        if checksInvariants { checkInvariants() }
        return emitted
    }

    // MARK: Reading the state

    /// Whether the run has ended (completed or aborted).
    public var isFinished: Bool {
        switch run {
        case .finished: true
        case .notStarted, .step, .waves, .waveSoaking, .abortRollingBack: false
        }
    }

    public var isPaused: Bool { pauseReason != nil }

    /// The storages the plan's moves name (sources and destinations), sorted.
    public var storages: [StorageName] { storageNames }

    /// The storages `plan`'s moves name (sources and destinations), sorted.
    public static func storages(of plan: MigrationPlan) -> [StorageName] {
        var names = StorageTable()
        for phase in plan.phases {
            for wave in phase.waves { for m in wave.moves { names.add(m.source); if let d = m.destination { names.add(d) } } }
        }
        return names.names.sorted()
    }

    /// The plan's sizes of the repositories whose move finished. A pass over the plan, for the
    /// end of a run: the plan's move of each repository as its move finished was a cache miss
    /// each, ten million of them in a GitLab.com-size drain.
    public var finishedBytes: Int64 {
        var bytes: Int64 = 0
        for (p, phase) in plan.phases.enumerated() {
            for (w, wave) in phase.waves.enumerated() {
                let first = waveRanges[p][w].lowerBound
                for k in wave.moves.indices {
                    if case .done(.finished) = repositories[first + k].stage { bytes += wave.moves[k].sizeBytes }
                }
            }
        }
        return bytes
    }

    /// The index of `repository`, or nil when the plan does not name it: the ones last asked
    /// about first (`recentlyAsked`).
    func index(of repository: RepositoryID) -> Int? {
        recentlyAsked.position(of: repository) ?? indexByRepository[repository]
    }

    /// A repository's coarse status, or nil when the plan does not name it.
    public func status(of repository: RepositoryID) -> RepositoryStatus? {
        indexByRepository[repository].map { repositories[$0].stage.status }
    }

    /// Every repository's status, in plan order.
    public var statuses: [(RepositoryID, RepositoryStatus)] {
        repositories.map { ($0.repository, $0.stage.status) }
    }

    /// How many repositories are in each status.
    public var tally: StatusTally {
        var t = StatusTally()
        for r in repositories {
            switch r.stage.status {
            case .pending: t.pending += 1
            case .inFlight: t.inFlight += 1
            case .done: t.done += 1
            case .givenUp: t.givenUp += 1
            }
        }
        return t
    }

    /// Moves in flight now (holding a concurrency slot).
    public var movesInFlight: Int { slots.global }

    /// Failed attempts so far for a repository.
    public func failures(of repository: RepositoryID) -> Int? {
        indexByRepository[repository].map { repositories[$0].failures }
    }

    // MARK: Emitting

    mutating func emit(_ action: EngineAction) { emitted.append(action) }
    /// Emits a request about repository `i` (`lookUpMoves`, `scheduleMove`, `clearReadOnly`),
    /// noting its index for the answer.
    mutating func ask(_ action: EngineAction, about i: Int) {
        recentlyAsked.note(repositories[i].repository, at: i)
        emitted.append(action)
    }
    mutating func notice(_ notice: EngineNotice) { emitted.append(.notice(notice)) }

    @inline(__always)
    func backoff(afterFailures n: Int) -> EngineDuration { plan.retry.backoff(afterFailures: max(n, 1)) }
}

/// Why a plan cannot be run.
public enum MigrationPlanError: Error, Equatable, CustomStringConvertible {
    case duplicateRepository(RepositoryID)
    case destinationIsSource(RepositoryID, StorageName)

    public var description: String {
        switch self {
        case .duplicateRepository(let r): "plan: \(r) is moved twice; a plan moves each repository once"
        case .destinationIsSource(let r, let s): "plan: \(r) has destination \(s), its own source storage"
        }
    }
}

/// A repository's coarse status; it only moves forward.
public enum RepositoryStatus: Equatable, Sendable {
    case pending
    case inFlight
    case done(MoveOutcome)
    case givenUp(String)

    /// pending 0, in flight 1, settled 2: never decreases.
    var rank: Int {
        switch self {
        case .pending: 0
        case .inFlight: 1
        case .done, .givenUp: 2
        }
    }
}

public struct StatusTally: Equatable, Sendable {
    public var pending = 0, inFlight = 0, done = 0, givenUp = 0
    public init(pending: Int = 0, inFlight: Int = 0, done: Int = 0, givenUp: Int = 0) {
        self.pending = pending
        self.inFlight = inFlight
        self.done = done
        self.givenUp = givenUp
    }
}

public enum MoveOutcome: Equatable, Sendable {
    case finished(MoveID)
    /// `cleanup_failed`: on the destination, with the source copy left behind.
    case sourceLeftBehind(MoveID)
    /// A look-up found the repository off its source already.
    case alreadyMoved
}

struct MetricSample: Sendable {
    var metric: MetricKind
    var value: Double
    var measuredAt: EngineInstant
    var count: Double?
}
