/// An in-memory GitLab for tests and demonstrations: repositories with a storage and a read-only
/// flag, storage weights, and repository storage moves that walk GitLab's state machine on a
/// clock the caller moves (PRAEFECT.md §8):
///
/// | event | from → to | effect |
/// |---|---|---|
/// | schedule (on create) | initial → scheduled | read-only |
/// | start | scheduled → started | |
/// | finish_replication | started → replicated | writable, storage = destination |
/// | finish_cleanup | replicated → finished | |
/// | do_fail | initial, scheduled, started → failed | only from started: writable |
/// | do_fail | replicated → cleanup_failed | |
///
/// Each move follows a `MoveScript` (how long each state lasts and how the move ends) and every
/// request may meet an injected fault. It also watches what a real GitLab would suffer from and
/// records it in `violations`: two live moves of one repository, a repository moved again after
/// it finished, a read-only flag cleared under a running move.
public struct FakeGitLab: Sendable {
    public struct Repository: Sendable, Equatable {
        public var storage: StorageName
        public var readOnly: Bool
        public init(storage: StorageName, readOnly: Bool = false) {
            self.storage = storage
            self.readOnly = readOnly
        }
    }

    public struct Move: Sendable, Equatable {
        public var id: MoveID
        public var repository: RepositoryID
        public var source: StorageName
        public var destination: StorageName
        public var state: MoveState
        public var script: MoveScript
        /// When the move leaves its state by itself (nil: stuck or terminal).
        var nextTransitionAt: EngineInstant?
    }

    public var repositories: [RepositoryID: Repository]
    public private(set) var moves: [Move] = []
    public var weights: [StorageWeight]
    /// The scripts of a repository's successive moves; a repository with none left, or none at
    /// all, gets `defaultScript`.
    public var scripts: [RepositoryID: [MoveScript]] = [:]
    public var defaultScript: MoveScript
    /// Faults met by the next requests of each kind, first first.
    public var faults: [EngineRequest: [InjectedFault]] = [:]
    public private(set) var violations: [String] = []
    /// Indices into `moves` per repository, in creation order.
    var movesOf: [RepositoryID: [Int]] = [:]
    /// Moves ever created per repository.
    public var movesCreated: [RepositoryID: Int] { movesOf.mapValues(\.count) }
    /// Indices into `moves` of the moves not yet terminal, in creation order.
    var live: [Int] = []
    var now = EngineInstant(milliseconds: 0)

    public init(repositories: [RepositoryID: Repository], weights: [StorageWeight], defaultScript: MoveScript = MoveScript()) {
        self.repositories = repositories
        self.weights = weights
        self.defaultScript = defaultScript
    }

    /// A move's current state by id.
    public func move(_ id: MoveID) -> Move? {
        let i = Int(id.value) - 1
        return moves.indices.contains(i) ? moves[i] : nil
    }

    /// Moves the clock to `t`, letting moves progress in time order (ties by creation order).
    public mutating func advance(to t: EngineInstant) {
        precondition(t >= now, "the fake GitLab's clock does not go back")
        while true {
            var earliest: (EngineInstant, Int)?
            for i in live {
                if let at = moves[i].nextTransitionAt, at <= t, earliest.map({ at < $0.0 }) ?? true { earliest = (at, i) }
            }
            guard let (at, i) = earliest else { break }
            now = at
            progress(i)
        }
        now = t
    }

    /// One step of move `i` along its script.
    mutating func progress(_ i: Int) {
        let script = moves[i].script
        let state = moves[i].state
        if script.failsIn == state {
            doFail(i)
            return
        }
        let next: MoveState
        switch state {
        case .initial: next = .scheduled
        case .scheduled: next = .started
        case .started: next = .replicated
        case .replicated: next = .finished
        case .finished, .failed, .cleanupFailed: preconditionFailure("a terminal move does not progress")
        }
        enter(i, next)
    }

    mutating func enter(_ i: Int, _ state: MoveState) {
        let r = moves[i].repository
        moves[i].state = state
        switch state {
        case .scheduled: repositories[r]!.readOnly = true
        case .replicated:
            repositories[r]!.readOnly = false
            repositories[r]!.storage = moves[i].destination
        case .initial, .started, .finished, .failed, .cleanupFailed: break
        }
        if state.isTerminal {
            moves[i].nextTransitionAt = nil
            live.removeAll { $0 == i }
        } else if moves[i].script.stuckIn == state {
            moves[i].nextTransitionAt = nil
        } else {
            moves[i].nextTransitionAt = now + moves[i].script.duration(of: state)
        }
    }

    /// GitLab's `do_fail!`: only a failure from `started` sets the repository writable again
    /// (gitlab#385309); from `replicated` it is `cleanup_failed`.
    mutating func doFail(_ i: Int) {
        let r = moves[i].repository
        switch moves[i].state {
        case .initial, .scheduled:
            enter(i, .failed)
        case .started:
            repositories[r]!.readOnly = false
            enter(i, .failed)
        case .replicated:
            enter(i, .cleanupFailed)
        case .finished, .failed, .cleanupFailed:
            preconditionFailure("do_fail on a terminal move")
        }
    }

    /// The next injected fault for `request`, if any.
    mutating func fault(_ request: EngineRequest) -> InjectedFault? {
        guard var queue = faults[request], !queue.isEmpty else { return nil }
        let f = queue.removeFirst()
        faults[request] = queue
        return f
    }

    /// Creates a move as `POST /projects/:id/repository_storage_moves` does, or says why not.
    mutating func createMove(_ r: RepositoryID, destination: StorageName?) -> Result<MoveID, ScheduleRefusal> {
        guard let repository = repositories[r] else { return .failure(.rejected("404 \(r) not found")) }
        if repository.readOnly { return .failure(.repositoryReadOnly) }
        guard let target = destination ?? pickByWeight(excluding: repository.storage) else {
            return .failure(.rejected("400 no storage with a weight to move \(r) to"))
        }
        if target == repository.storage { return .failure(.rejected("400 \(r) is on \(target) already")) }
        let earlier = movesOf[r, default: []].map { moves[$0] }
        if earlier.contains(where: { !$0.state.isTerminal }) {
            violations.append("\(r): a second move created while one is live")
        }
        if earlier.contains(where: { $0.state == .finished }) {
            violations.append("\(r): moved again after a move finished")
        }
        var script = defaultScript
        if var queue = scripts[r], !queue.isEmpty {
            script = queue.removeFirst()
            scripts[r] = queue
        }
        let id = MoveID(Int64(moves.count + 1))
        moves.append(Move(id: id, repository: r, source: repository.storage, destination: target, state: .initial, script: script))
        live.append(moves.count - 1)
        movesOf[r, default: []].append(moves.count - 1)
        let i = moves.count - 1
        if script.failsIn == .initial {
            doFail(i)
        } else if script.stuckIn != .initial {
            enter(i, .scheduled)
        }
        return .success(id)
    }

    /// GitLab picks `max_by { rand ** (1 / weight) }` (PRAEFECT.md §8); this fake is
    /// deterministic: the highest weight, ties by name.
    func pickByWeight(excluding storage: StorageName) -> StorageName? {
        weights.filter { $0.weight > 0 && $0.storage != storage }
            .max { ($0.weight, $1.storage) < ($1.weight, $0.storage) }?.storage
    }

    /// Performs one of the engine's requests now and returns GitLab's answer.
    public mutating func perform(_ action: EngineAction) -> EngineInput? {
        switch action {
        case .lookUpMoves(let r):
            if let f = fault(.lookUpMoves(r)) { return f.input(.lookUpMoves(r)) }
            guard let repository = repositories[r] else { return .apiError(.lookUpMoves(r), .permanent("404 \(r) not found")) }
            let found = movesOf[r, default: []].map { ExistingMove(id: moves[$0].id, state: moves[$0].state) }
            return .existingMoves(r, RepositoryLookup(storage: repository.storage, readOnly: repository.readOnly, moves: found))
        case .scheduleMove(let r, _, let destination):
            let f = fault(.scheduleMove(r))
            if let f, !f.afterEffect { return f.input(.scheduleMove(r)) }
            let result = createMove(r, destination: destination)
            if let f { return f.input(.scheduleMove(r)) }
            switch result {
            case .success(let id): return .moveScheduled(r, id)
            case .failure(let refusal): return .scheduleRefused(r, refusal)
            }
        case .pollMove(let id):
            if let f = fault(.pollMove(id)) { return f.input(.pollMove(id)) }
            guard let m = move(id) else { return .apiError(.pollMove(id), .permanent("404 \(id) not found")) }
            return .moveStatus(id, m.state)
        case .failMove(let id):
            let f = fault(.failMove(id))
            if let f, !f.afterEffect { return f.input(.failMove(id)) }
            guard let m = move(id) else { return .apiError(.failMove(id), .permanent("404 \(id) not found")) }
            if m.state.isTerminal { return .apiError(.failMove(id), .permanent("422 \(id) is \(m.state) already")) }
            doFail(Int(id.value) - 1)
            if let f { return f.input(.failMove(id)) }
            return .moveStatus(id, moves[Int(id.value) - 1].state)
        case .clearReadOnly(let r):
            let f = fault(.clearReadOnly(r))
            if let f, !f.afterEffect { return f.input(.clearReadOnly(r)) }
            guard repositories[r] != nil else { return .apiError(.clearReadOnly(r), .permanent("404 \(r) not found")) }
            if movesOf[r, default: []].contains(where: { moves[$0].state == .scheduled || moves[$0].state == .started }) {
                violations.append("\(r): read-only cleared while a move copies it")
            }
            repositories[r]!.readOnly = false
            if let f { return f.input(.clearReadOnly(r)) }
            return .readOnlyCleared(r)
        case .setWeights(let w):
            let f = fault(.setWeights)
            if let f, !f.afterEffect { return f.input(.setWeights) }
            weights = w
            if let f { return f.input(.setWeights) }
            return .weightsApplied
        case .wait, .notice:
            return nil
        }
    }
}

/// How a fake move goes: how long it stays in each state, and whether it fails or hangs.
public struct MoveScript: Sendable, Equatable {
    /// ASSUMED: seconds for the queue and checks, a minute to copy: test-sized, not real figures.
    public var scheduledFor: EngineDuration = .seconds(5)
    public var startedFor: EngineDuration = .seconds(60)
    public var replicatedFor: EngineDuration = .seconds(5)
    /// `do_fail` when the move would leave this state (`replicated` gives `cleanup_failed`).
    public var failsIn: MoveState?
    /// The move never leaves this state by itself.
    public var stuckIn: MoveState?

    public init(scheduledFor: EngineDuration = .seconds(5), startedFor: EngineDuration = .seconds(60),
                replicatedFor: EngineDuration = .seconds(5), failsIn: MoveState? = nil, stuckIn: MoveState? = nil) {
        self.scheduledFor = scheduledFor
        self.startedFor = startedFor
        self.replicatedFor = replicatedFor
        self.failsIn = failsIn
        self.stuckIn = stuckIn
    }

    func duration(of state: MoveState) -> EngineDuration {
        switch state {
        case .scheduled: scheduledFor
        case .started: startedFor
        case .replicated: replicatedFor
        case .initial, .finished, .failed, .cleanupFailed: .zero
        }
    }
}

/// A fault a request meets.
public struct InjectedFault: Sendable, Equatable {
    public var kind: APIErrorKind
    /// The request took effect before the error came back (a 5xx or a timeout after the commit).
    public var afterEffect: Bool

    public init(_ kind: APIErrorKind, afterEffect: Bool = false) {
        self.kind = kind
        self.afterEffect = afterEffect
    }

    func input(_ request: EngineRequest) -> EngineInput {
        switch (request, kind) {
        case (.scheduleMove(let r), .permanent(let reason)): .scheduleRefused(r, .rejected(reason))
        case (.scheduleMove, .transient), (.lookUpMoves, _), (.pollMove, _), (.failMove, _), (.clearReadOnly, _), (.setWeights, _):
            .apiError(request, kind)
        }
    }
}
