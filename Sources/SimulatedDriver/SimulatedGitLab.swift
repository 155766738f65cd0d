import GitalyModel
import Migration
import SimKernel

/// The migration engine's driver inside the simulator: it carries out the engine's actions on
/// the simulated world through the world's admin door (`World+Admin`), and answers each one
/// after the latency the world reports, as GitLab's API would. It owns the translation between
/// the engine's names (repository ids from the inventory, storage names, GitLab move ids) and the
/// world's integer ids; nothing else crosses.
///
/// It draws no random number of its own: API errors, destination picks and copy times come from
/// the world's own streams, so how often the engine polls changes no outcome.
public struct SimulatedGitLab: Sendable {
    /// World repository index → the engine's repository id.
    public let repositoryIDs: [Migration.RepositoryID]
    /// The engine's repository id → world repository index.
    /// The world's repository (its position in `repositoryIDs`) of each engine id.
    let repositoryIndex: IdentifierIndex<RepositoryTag>

    func worldRepository(_ id: Migration.RepositoryID) -> RepositoryIndex? { repositoryIndex[id].map { RepositoryIndex($0) } }
    /// GitLab storage name → world GitLab storage index (a plain storage or a virtual storage).
    let storageIndex: [String: GitLabStorageIndex]
    let storageNames: [String]

    public enum SetupError: Error, Equatable, CustomStringConvertible {
        case repositoryCountMismatch(world: Int, ids: Int)
        case duplicateRepositoryID(Migration.RepositoryID)
        case unknownStorage(String)

        public var description: String {
            switch self {
            case .repositoryCountMismatch(let w, let i): "the world holds \(w) repositories but \(i) ids were given"
            case .duplicateRepositoryID(let id): "\(id) is given twice"
            case .unknownStorage(let s): "the plan names storage \(s), which the fleet does not have"
            }
        }
    }

    /// The driver of a world of `repositoryCount` repositories built from `fleet`
    /// (`World.repositoryCount`); `repositoryIDs[i]` is the engine's id of the world's repository
    /// i. It needs only the fleet, so it is built beside the world: its index takes a second at
    /// ten million repositories.
    public init(fleet: Fleet, repositoryCount: Int, repositoryIDs: [Migration.RepositoryID]) throws(SetupError) {
        guard repositoryIDs.count == repositoryCount else {
            throw .repositoryCountMismatch(world: repositoryCount, ids: repositoryIDs.count)
        }
        do {
            repositoryIndex = try IdentifierIndex(repositoryIDs)
        } catch {
            throw .duplicateRepositoryID(error.id)
        }
        self.repositoryIDs = repositoryIDs
        storageNames = fleet.virtualStorages.map(\.name)
        var storages: [String: GitLabStorageIndex] = [:]
        for (i, name) in storageNames.enumerated() { storages[name] = GitLabStorageIndex(i) }
        storageIndex = storages
    }

    /// Checks that every storage a plan names exists in the fleet, before anything runs: its
    /// weights' and `moveStorages`, the storages its moves name (`MigrationEngine.storages`,
    /// which the engine lists once: looking up two names a move was a second of a
    /// ten-million-move set-up).
    public func check(plan: MigrationPlan, moveStorages: [StorageName]) throws(SetupError) {
        func known(_ storage: StorageName) throws(SetupError) {
            if storageIndex[storage.name] == nil { throw .unknownStorage(storage.name) }
        }
        for w in plan.initialWeights { try known(w.storage) }
        for phase in plan.phases {
            for step in phase.steps { for w in step.weights { try known(w.storage) } }
        }
        for storage in moveStorages { try known(storage) }
    }

    /// Carries out `action` on the world now, through the world's one admin door
    /// (`World.admin`). Returns the engine's answer and the delay after which it arrives, or nil
    /// for actions with no outside effect (`wait`, `notice`).
    public func perform(_ action: EngineAction, _ sim: inout Simulation<World>) -> (input: EngineInput, after: SimTime)? {
        switch action {
        case .wait, .notice:
            return nil
        case .lookUpMoves(let id):
            guard let r = worldRepository(id) else { return (.apiError(.lookUpMoves(id), .permanent("404 \(id) not found")), sim.model.apiLatency) }
            let answer = World.admin(.lookUpRepository(r), &sim)
            switch answer.result {
            case .success(.repository(let status)):
                let moves = status.moves.map { ExistingMove(id: Self.moveID($0.id), state: Self.state($0.state)) }
                return (.existingMoves(id, RepositoryLookup(storage: StorageName(storageNames[status.storage.index]), readOnly: status.readOnly, moves: moves)), answer.latency)
            case .success(let other): preconditionFailure("a look-up answered \(other)")
            case .failure(let f): return (Self.apiError(f, request: .lookUpMoves(id)), answer.latency)
            }
        case .scheduleMove(let id, _, let destination):
            guard let r = worldRepository(id) else { return (.apiError(.scheduleMove(id), .permanent("404 \(id) not found")), sim.model.apiLatency) }
            let answer = World.admin(.scheduleMove(r, destination: destination.flatMap { storageIndex[$0.name] }), &sim)
            switch answer.result {
            case .success(.moveScheduled(let m)): return (.moveScheduled(id, Self.moveID(m)), answer.latency)
            case .success(let other): preconditionFailure("a move request answered \(other)")
            case .failure(let f): return (Self.refusal(f, request: .scheduleMove(id), repository: id), answer.latency)
            }
        case .pollMove(let move):
            return moveAnswer(World.admin(.getMove(Self.moveIndex(move)), &sim), move: move, request: .pollMove(move))
        case .failMove(let move):
            let answer = World.admin(.failMove(Self.moveIndex(move), reason: "timed out: the migration engine failed it"), &sim)
            return moveAnswer(answer, move: move, request: .failMove(move))
        case .setWeights(let weights):
            var latency = SimTime.zero
            for w in weights {
                guard let s = storageIndex[w.storage.name] else { return (.apiError(.setWeights, .permanent("400 unknown storage \(w.storage.name)")), latency) }
                let answer = World.admin(.setWeight(s, weight: w.weight), &sim)
                latency = max(latency, answer.latency)
                if case .failure(let f) = answer.result { return (Self.apiError(f, request: .setWeights), latency) }
            }
            return (.weightsApplied, latency)
        case .clearReadOnly(let id):
            guard let r = worldRepository(id) else { return (.apiError(.clearReadOnly(id), .permanent("404 \(id) not found")), sim.model.apiLatency) }
            // With nobody at the Rails console the flag stays, and the engine hears what the
            // gitlab driver tells it: done (it cannot know; the next schedule is refused).
            guard sim.model.fleet.gitlab.operatorClearsReadOnly else { return (.readOnlyCleared(id), sim.model.apiLatency) }
            let answer = World.admin(.clearReadOnly(r), &sim)
            switch answer.result {
            case .success: return (.readOnlyCleared(id), answer.latency)
            case .failure(let f): return (Self.apiError(f, request: .clearReadOnly(id)), answer.latency)
            }
        }
    }

    /// The answer to a `GET` or a `do_fail!` of a move: its state.
    func moveAnswer(_ answer: AdminAnswer, move: MoveID, request: EngineRequest) -> (input: EngineInput, after: SimTime) {
        switch answer.result {
        case .success(.move(let m)): return (.moveStatus(move, Self.state(m.state)), answer.latency)
        case .success(let other): preconditionFailure("\(request) answered \(other)")
        case .failure(let f): return (Self.apiError(f, request: request), answer.latency)
        }
    }

    /// GitLab's move ids start at 1; the world's at 0.
    static func moveID(_ m: MoveIndex) -> MoveID { MoveID(Int64(m.index) + 1) }
    static func moveIndex(_ m: MoveID) -> MoveIndex { MoveIndex(Int(m.value - 1)) }

    /// The world's samples as the engine's gates read them.
    public static func metrics(_ sample: WorldSample) -> [(metric: MetricKind, value: Double, count: Double?)] {
        var out: [(metric: MetricKind, value: Double, count: Double?)] = [
            (.diskFillMax, sample.storageFillMax, nil), (.replicationLagSecondsMax, sample.replicationLagSeconds, nil)]
        if let a = sample.apdex { out.append((.apdexMin, a, sample.apdexCounted)) }
        if let e = sample.errorRatio { out.append((.errorRatioMax, e, sample.requests)) }
        return out
    }

    static func state(_ s: GitalyModel.MoveState) -> Migration.MoveState {
        switch s {
        case .initial: .initial
        case .scheduled: .scheduled
        case .started: .started
        case .finished: .finished
        case .failed: .failed
        case .replicated: .replicated
        case .cleanupFailed: .cleanupFailed
        }
    }

    /// A refused move request as GitLab's API answers it: a read-only container fails
    /// validation (PRAEFECT.md §8); a server error is transient; the rest are 4xx.
    static func refusal(_ f: AdminFailure, request: EngineRequest, repository: Migration.RepositoryID) -> EngineInput {
        switch f.error {
        case .repositoryReadOnly: .scheduleRefused(repository, .repositoryReadOnly)
        case .serverError: .apiError(request, .transient(retryAfter: nil))
        case .unknownRepository, .unknownMove, .unknownStorage, .noDestination, .weightOutOfRange, .storageFull, .replicationFactorOutOfRange:
            .scheduleRefused(repository, .rejected(f.description))
        }
    }

    static func apiError(_ f: AdminFailure, request: EngineRequest) -> EngineInput {
        switch f.error {
        case .serverError: .apiError(request, .transient(retryAfter: nil))
        case .repositoryReadOnly, .unknownRepository, .unknownMove, .unknownStorage, .noDestination, .weightOutOfRange, .storageFull, .replicationFactorOutOfRange:
            .apiError(request, .permanent(f.description))
        }
    }
}
