/// A request sent and not answered (`awaiting`), or due again at an instant after a transient
/// error or, for a poll, at the next poll.
enum Outstanding: Equatable, Sendable {
    case awaiting
    case retryAt(EngineInstant)
}

/// Where one repository is in the engine.
enum Stage: Equatable, Sendable {
    case pending
    /// `lookUpMoves` sent; holds a slot.
    case lookingUp(Outstanding)
    /// `scheduleMove` sent and unanswered; holds a slot. After a restart, or a transient error,
    /// it becomes a look-up: the move may exist.
    case scheduling
    /// A move in flight; holds a slot.
    case moving(MoveProgress)
    /// `failMove` sent after the move's deadline (`progress.poll` is the `failMove` request);
    /// holds a slot.
    case failing(MoveProgress)
    /// `clearReadOnly` sent; no slot (no move runs).
    case clearingReadOnly(Outstanding)
    /// Waiting for a slot, a window or a backoff to end before `next`; no slot.
    case waiting(until: EngineInstant, next: NextRequest)
    case done(MoveOutcome)
    case givenUp(String)

    var status: RepositoryStatus {
        switch self {
        case .pending: .pending
        case .lookingUp, .scheduling, .moving, .failing, .clearingReadOnly, .waiting: .inFlight
        case .done(let outcome): .done(outcome)
        case .givenUp(let reason): .givenUp(reason)
        }
    }

    /// Whether the repository counts against the concurrency limits: from the look-up that
    /// precedes a schedule to the move's terminal state.
    var holdsSlot: Bool {
        switch self {
        case .lookingUp, .scheduling, .moving, .failing: true
        case .pending, .clearingReadOnly, .waiting, .done, .givenUp: false
        }
    }

    /// Whether a request is outstanding, so that an abort waits for it.
    var isBusy: Bool {
        switch self {
        case .lookingUp, .scheduling, .moving, .failing, .clearingReadOnly: true
        case .pending, .waiting, .done, .givenUp: false
        }
    }

    /// The move this stage waits on.
    var moveID: MoveID? {
        switch self {
        case .moving(let progress): progress.id
        case .failing(let progress): progress.id
        case .pending, .lookingUp, .scheduling, .clearingReadOnly, .waiting, .done, .givenUp: nil
        }
    }
}

enum NextRequest: Equatable, Sendable {
    /// The repository's moves are unknown (a schedule may have happened): look up first.
    case lookUp
    /// No move of the repository is in flight: schedule.
    case schedule
}

struct MoveProgress: Equatable, Sendable {
    var id: MoveID
    /// When a move not yet `finished` is failed: scheduling time + min(timeout, read-only max).
    var deadline: EngineInstant
    var poll: Outstanding
    /// Last, after the 9 bytes of `poll`: between `id` and `deadline` it took 8 bytes of
    /// padding in each of ten million records.
    var state: MoveState

    init(id: MoveID, state: MoveState, deadline: EngineInstant, poll: Outstanding) {
        self.id = id
        self.deadline = deadline
        self.poll = poll
        self.state = state
    }
}

/// One repository of the plan in the engine. The engine keeps one for each (ten million in a
/// GitLab.com drain), so the plan's move is not copied in (the plan holds it), its storages are
/// interned, and the counters are as narrow as their ranges.
struct RepositoryRecord: Sendable {
    let repository: RepositoryID
    var stage: Stage = .pending
    private let phaseIndex: Int32
    private let waveIndex: Int32
    /// Interned source and planned destination storages (−1: none planned).
    private let sourceIndex: Int32
    private let destinationIndex: Int32
    private var failureCount: Int32 = 0
    private var apiErrorCount: Int32 = 0

    init(repository: RepositoryID, phase: Int, wave: Int, source: Int, destination: Int?) {
        self.repository = repository
        phaseIndex = Int32(phase)
        waveIndex = Int32(wave)
        sourceIndex = Int32(source)
        destinationIndex = Int32(destination ?? -1)
    }

    var phase: Int { Int(phaseIndex) }
    var wave: Int { Int(waveIndex) }
    var source: Int { Int(sourceIndex) }
    var destination: Int? { destinationIndex < 0 ? nil : Int(destinationIndex) }
    /// Moves of this repository that failed or were refused, as the engine saw them.
    var failures: Int {
        get { Int(failureCount) }
        set { failureCount = Int32(newValue) }
    }
    /// Consecutive transient API errors on this repository's requests.
    var apiErrors: Int {
        get { Int(apiErrorCount) }
        set { apiErrorCount = Int32(clamping: newValue) }
    }
}

/// Slots held per source, per planned destination and in all.
struct SlotCounts: Equatable, Sendable {
    var perSource: [Int]
    var perDestination: [Int]
    var global = 0

    init(storages: Int) {
        perSource = Array(repeating: 0, count: storages)
        perDestination = Array(repeating: 0, count: storages)
    }

    mutating func take(_ r: RepositoryRecord, _ sign: Int) {
        perSource[r.source] += sign
        if let d = r.destination { perDestination[d] += sign }
        global += sign
    }

    func hasRoom(for r: RepositoryRecord, _ limits: ConcurrencyLimits) -> Bool {
        hasRoom(source: r.source, destination: r.destination, limits)
    }

    /// The same, from the storages alone: no copy of the record (its plan move holds strings).
    func hasRoom(source: Int, destination: Int?, _ limits: ConcurrencyLimits) -> Bool {
        if isFull(limits) { return false }
        if let l = limits.perSource, perSource[source] >= l { return false }
        if let l = limits.perDestination, let d = destination, perDestination[d] >= l { return false }
        return true
    }

    /// No move may start anywhere: the global limit is reached.
    func isFull(_ limits: ConcurrencyLimits) -> Bool {
        if let l = limits.global, global >= l { return true }
        return false
    }
}
