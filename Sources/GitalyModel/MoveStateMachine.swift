/// The state of a repository storage move, with GitLab's numeric values
/// (gitlab `app/models/concerns/repository_storage_movable.rb`; PRAEFECT.md §8).
public enum MoveState: Int, CaseIterable, Sendable {
    case initial = 1
    case scheduled = 2
    case started = 3
    case finished = 4
    case failed = 5
    case replicated = 6
    case cleanupFailed = 7

    public var isTerminal: Bool {
        switch self {
        case .finished, .failed, .cleanupFailed: return true
        case .initial, .scheduled, .started, .replicated: return false
        }
    }
}

/// The state machine's events, named after GitLab's (`schedule`, `start`, `finish_replication`,
/// `finish_cleanup`, `do_fail`).
public enum MoveEvent: Sendable, Equatable {
    case schedule
    case start
    case finishReplication
    case finishCleanup
    case fail
}

/// What a transition asks the world to do; the caller performs it.
public enum MoveSideEffect: Sendable, Equatable {
    /// The container becomes read-only: pushes are refused from `scheduled` on.
    case setReadOnly
    /// `Projects::UpdateRepositoryStorageWorker` is enqueued (after commit).
    case enqueueWorker
    /// The container is writable again.
    case setWritable
    /// `repository_storage` now names the destination.
    case switchToDestination
}

public enum MoveTransitionError: Error, Equatable, Sendable {
    /// The event is not allowed in this state.
    case invalid(from: MoveState, event: MoveEvent)
    /// A move on an already read-only container fails validation.
    case containerReadOnly
}

/// A repository storage move as GitLab records it. Pure: transitions return the side effects.
///
/// | event | from → to | side effect |
/// |---|---|---|
/// | schedule | initial → scheduled | set read-only, enqueue the worker |
/// | start | scheduled → started | |
/// | finish_replication | started → replicated | set writable, switch the storage |
/// | finish_cleanup | replicated → finished | |
/// | do_fail | initial, scheduled, started → failed | only from started: set writable |
/// | do_fail | replicated → cleanup_failed | |
///
/// A failure before `started` leaves the repository read-only (gitlab#385309, runbook
/// `move-repositories.md`): an operator must clear it.
public struct RepositoryStorageMove: Sendable, Equatable {
    public var id: Int
    public var repository: Int
    public var sourceStorage: Int
    public var destinationStorage: Int
    public private(set) var state: MoveState = .initial
    /// Why the move failed, when it did.
    public var failureReason: String?

    public init(id: Int, repository: Int, sourceStorage: Int, destinationStorage: Int) {
        self.id = id
        self.repository = repository
        self.sourceStorage = sourceStorage
        self.destinationStorage = destinationStorage
    }

    init(id: Int, repository: Int, sourceStorage: Int, destinationStorage: Int, state: MoveState, failureReason: String?) {
        self.init(id: id, repository: repository, sourceStorage: sourceStorage, destinationStorage: destinationStorage)
        self.state = state
        self.failureReason = failureReason
    }

    /// Applies `event`. `containerReadOnly` is the repository's flag before a `schedule`.
    public mutating func apply(_ event: MoveEvent, containerReadOnly: Bool = false) throws(MoveTransitionError) -> [MoveSideEffect] {
        try state.apply(event, containerReadOnly: containerReadOnly)
    }
}

extension MoveState {
    /// The transition table of `RepositoryStorageMove` (above it): applies `event` and returns
    /// the side effects. `containerReadOnly` is the repository's flag before a `schedule`.
    public mutating func apply(_ event: MoveEvent, containerReadOnly: Bool = false) throws(MoveTransitionError) -> [MoveSideEffect] {
        switch (event, self) {
        case (.schedule, .initial):
            if containerReadOnly { throw .containerReadOnly }
            self = .scheduled
            return [.setReadOnly, .enqueueWorker]
        case (.start, .scheduled):
            self = .started
            return []
        case (.finishReplication, .started):
            self = .replicated
            return [.setWritable, .switchToDestination]
        case (.finishCleanup, .replicated):
            self = .finished
            return []
        case (.fail, .initial), (.fail, .scheduled):
            self = .failed
            return []
        case (.fail, .started):
            self = .failed
            return [.setWritable]
        case (.fail, .replicated):
            self = .cleanupFailed
            return []
        case (.schedule, _), (.start, _), (.finishReplication, _), (.finishCleanup, _), (.fail, _):
            throw .invalid(from: self, event: event)
        }
    }
}
