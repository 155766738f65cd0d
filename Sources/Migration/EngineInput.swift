/// A move's state with GitLab's numeric values (gitlab
/// `app/models/concerns/repository_storage_movable.rb`; PRAEFECT.md §8).
public enum MoveState: Int, Codable, Sendable, CaseIterable {
    case initial = 1
    case scheduled = 2
    case started = 3
    case finished = 4
    case failed = 5
    case replicated = 6
    case cleanupFailed = 7

    /// `finished`, `failed` and `cleanup_failed` end a move.
    public var isTerminal: Bool {
        switch self {
        case .finished, .failed, .cleanupFailed: true
        case .initial, .scheduled, .started, .replicated: false
        }
    }

    /// The move got past `finish_replication`, which switched the repository's storage to the
    /// move's destination: `replicated`, `finished` and `cleanup_failed` (PRAEFECT.md §8).
    public var hasReplicated: Bool {
        switch self {
        case .replicated, .finished, .cleanupFailed: true
        case .initial, .scheduled, .started, .failed: false
        }
    }
}

/// A move as a look-up reports it.
public struct ExistingMove: Codable, Sendable, Equatable {
    public var id: MoveID
    public var state: MoveState
    public init(id: MoveID, state: MoveState) {
        self.id = id
        self.state = state
    }
}

/// What a look-up of a repository found: where it lives, whether it is read-only, and its moves.
public struct RepositoryLookup: Codable, Sendable, Equatable {
    public var storage: StorageName
    public var readOnly: Bool
    public var moves: [ExistingMove]
    public init(storage: StorageName, readOnly: Bool, moves: [ExistingMove]) {
        self.storage = storage
        self.readOnly = readOnly
        self.moves = moves
    }
}

/// Why GitLab refused to schedule a move.
public enum ScheduleRefusal: Error, Codable, Sendable, Equatable {
    /// "A move on an already read-only container fails validation" (PRAEFECT.md §8): clear
    /// the flag, then retry.
    case repositoryReadOnly
    /// Any other 4xx (project gone, invalid storage, ...): retrying will not help.
    case rejected(String)
}

/// A request the engine asked for, named in an API error's answer.
public enum EngineRequest: Codable, Sendable, Hashable {
    case lookUpMoves(RepositoryID)
    case scheduleMove(RepositoryID)
    case pollMove(MoveID)
    case setWeights
    case failMove(MoveID)
    case clearReadOnly(RepositoryID)
}

public enum APIErrorKind: Codable, Sendable, Equatable {
    /// 429, 5xx or a timeout: try again, after `retryAfter` when the server said so. For a
    /// `scheduleMove`, the move may have been created anyway, so the engine looks it up first.
    case transient(retryAfter: EngineDuration?)
    /// Any other 4xx.
    case permanent(String)
}

/// An operator's command.
public enum OperatorCommand: String, Codable, Sendable {
    case pause, resume, abort
}

/// Everything that can happen to the engine. Each arrives with the driver's time
/// (`MigrationEngine.receive(_:at:)`), so `tick` needs no payload: it only says "time has
/// passed", to fire deadlines.
public enum EngineInput: Codable, Sendable, Equatable {
    /// Time has moved on to the instant given with it.
    case tick
    /// The first input of a run, and the first after every restart from the journal: requests
    /// that were outstanding are asked again, and a `scheduleMove` that got no answer becomes a
    /// look-up (the move may exist).
    case start
    case moveScheduled(RepositoryID, MoveID)
    case scheduleRefused(RepositoryID, ScheduleRefusal)
    /// The answer to `pollMove` or `failMove`.
    case moveStatus(MoveID, MoveState)
    /// The answer to `lookUpMoves`.
    case existingMoves(RepositoryID, RepositoryLookup)
    case readOnlyCleared(RepositoryID)
    case weightsApplied
    case apiError(EngineRequest, APIErrorKind)
    /// A measurement; `count` is the number of requests behind a ratio (nil: unknown, each
    /// such sample then weighs one in a gate's window).
    case metricSample(MetricKind, value: Double, measuredAt: EngineInstant, count: Double? = nil)
    case operatorCommand(OperatorCommand)
}

/// What the engine asks the driver to do.
public enum EngineAction: Codable, Sendable, Equatable {
    /// Find the repository's moves and state before scheduling it (a move may exist already).
    case lookUpMoves(RepositoryID)
    /// `destination` nil: let the weights decide.
    case scheduleMove(RepositoryID, source: StorageName, destination: StorageName?)
    case pollMove(MoveID)
    case setWeights([StorageWeight])
    /// The operator's `do_fail!` on a move stuck past its timeout (PRAEFECT.md §9).
    case failMove(MoveID)
    /// A failure before `started` leaves the repository read-only (gitlab#385309).
    case clearReadOnly(RepositoryID)
    /// Deliver `tick` at this instant (the next deadline), unless another input comes first.
    case wait(until: EngineInstant)
    /// Something for the driver to log; no outside effect.
    case notice(EngineNotice)

    /// Whether the driver must journal this action before it performs it.
    public var hasOutsideEffect: Bool {
        switch self {
        case .lookUpMoves, .scheduleMove, .pollMove, .setWeights, .failMove, .clearReadOnly: true
        case .wait, .notice: false
        }
    }
}

public enum EngineNotice: Codable, Sendable, Equatable {
    case phaseStarted(String)
    case phaseEnded(String)
    case stepApplied(phase: String, step: Int)
    case gatePassed(phase: String, step: Int)
    case gateFailed(phase: String, step: Int, metric: MetricKind, value: Double?)
    /// The gate after wave `wave` (from 0) of the phase.
    case waveGatePassed(phase: String, wave: Int)
    case waveGateFailed(phase: String, wave: Int, metric: MetricKind, value: Double?)
    case moveFinished(RepositoryID, MoveID)
    case moveFailed(RepositoryID, MoveID, attempt: Int)
    case moveTimedOut(RepositoryID, MoveID)
    /// `cleanup_failed`: the repository is on its destination but its source copy remains.
    case sourceLeftBehind(RepositoryID, MoveID)
    case alreadyMoved(RepositoryID)
    case givenUp(RepositoryID, String)
    /// A permanent error on clearing the read-only flag: an operator must clear it by hand.
    case leftReadOnly(RepositoryID)
    case paused(String)
    case resumed
    case aborting
    /// The weights could not be set back (a permanent error): an operator must set them.
    case weightsNotRolledBack(String)
    /// An input that answered nothing the engine waits for (late, duplicated): ignored.
    case ignored(String)
    case finished(aborted: Bool)
}
