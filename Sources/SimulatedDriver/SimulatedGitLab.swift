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
    let repositoryIndex: [Migration.RepositoryID: Int]
    /// GitLab storage name → world GitLab storage index (a plain storage or a virtual storage).
    let storageIndex: [String: Int]
    let storageNames: [String]
    /// Moves the engine scheduled, by repository, so that a look-up finds them.
    var movesByRepository: [Int: [Int]] = [:]

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

    /// `repositoryIDs[i]` is the engine's id of the world's repository i (the inventory's order).
    public init(world: World, repositoryIDs: [Migration.RepositoryID]) throws(SetupError) {
        guard repositoryIDs.count == world.repositories.count else {
            throw .repositoryCountMismatch(world: world.repositories.count, ids: repositoryIDs.count)
        }
        var index: [Migration.RepositoryID: Int] = [:]
        index.reserveCapacity(repositoryIDs.count)
        for (i, id) in repositoryIDs.enumerated() {
            guard index.updateValue(i, forKey: id) == nil else { throw .duplicateRepositoryID(id) }
        }
        self.repositoryIDs = repositoryIDs
        repositoryIndex = index
        storageNames = world.fleet.virtualStorages.map(\.name)
        var storages: [String: Int] = [:]
        for (i, name) in storageNames.enumerated() { storages[name] = i }
        storageIndex = storages
    }

    /// Checks that every storage a plan names exists in the fleet, before anything runs.
    public func check(plan: MigrationPlan) throws(SetupError) {
        var names: [String] = plan.initialWeights.map(\.storage.name)
        for phase in plan.phases {
            for step in phase.steps { names += step.weights.map(\.storage.name) }
            for wave in phase.waves {
                for m in wave.moves {
                    names.append(m.source.name)
                    if let d = m.destination { names.append(d.name) }
                }
            }
        }
        for name in names where storageIndex[name] == nil { throw .unknownStorage(name) }
    }

    /// Carries out `action` on the world now. Returns the engine's answer and the delay after
    /// which it arrives, or nil for actions with no outside effect (`wait`, `notice`).
    public mutating func perform(_ action: EngineAction, _ sim: inout Simulation<World>) -> (input: EngineInput, after: SimTime)? {
        switch action {
        case .wait, .notice:
            return nil
        case .lookUpMoves(let id):
            let latency = sim.model.apiLatency
            guard let r = repositoryIndex[id] else { return (.apiError(.lookUpMoves(id), .permanent("404 \(id) not found")), latency) }
            let moves = (movesByRepository[r] ?? []).map { m in ExistingMove(id: MoveID(Int64(m) + 1), state: Self.state(sim.model.move(m).state)) }
            let storage = StorageName(storageNames[sim.model.repositories[r].virtualStorage])
            return (.existingMoves(id, RepositoryLookup(storage: storage, readOnly: sim.model.readOnly[r], moves: moves)), latency)
        case .scheduleMove(let id, _, let destination):
            guard let r = repositoryIndex[id] else { return (.apiError(.scheduleMove(id), .permanent("404 \(id) not found")), sim.model.apiLatency) }
            let d = destination.flatMap { storageIndex[$0.name] }
            let response = World.scheduleMove(&sim, repository: r, destination: d)
            switch response.result {
            case .success(let m):
                movesByRepository[r, default: []].append(m)
                return (.moveScheduled(id, MoveID(Int64(m) + 1)), response.latency)
            case .failure(let e):
                return (Self.refusal(e, request: .scheduleMove(id), repository: id), response.latency)
            }
        case .pollMove(let move):
            let response = sim.model.moveState(Int(move.value - 1))
            switch response.result {
            case .success(let state): return (.moveStatus(move, Self.state(state)), response.latency)
            case .failure(let e): return (Self.apiError(e, request: .pollMove(move)), response.latency)
            }
        case .setWeights(let weights):
            var latency = SimTime.zero
            for w in weights {
                guard let s = storageIndex[w.storage.name] else { return (.apiError(.setWeights, .permanent("400 unknown storage \(w.storage.name)")), latency) }
                let response = sim.model.setWeight(storage: s, weight: w.weight)
                latency = max(latency, response.latency)
                if case .failure(let e) = response.result { return (Self.apiError(e, request: .setWeights), latency) }
            }
            return (.weightsApplied, latency)
        case .failMove(let move):
            let m = Int(move.value - 1)
            World.failMove(&sim, m, reason: "timed out: the migration engine failed it")
            return (.moveStatus(move, Self.state(sim.model.move(m).state)), sim.model.apiLatency)
        case .clearReadOnly(let id):
            guard let r = repositoryIndex[id] else { return (.apiError(.clearReadOnly(id), .permanent("404 \(id) not found")), sim.model.apiLatency) }
            let now = sim.now
            sim.model.clearReadOnly(r, at: now)
            return (.readOnlyCleared(id), sim.model.apiLatency)
        }
    }

    /// The world's samples as the engine's gates read them.
    public static func metrics(_ sample: WorldSample) -> [(MetricKind, Double)] {
        var out: [(MetricKind, Double)] = [(.diskFillMax, sample.storageFillMax), (.replicationLagSecondsMax, sample.replicationLagSeconds)]
        if let a = sample.apdex { out.append((.apdexMin, a)) }
        if let e = sample.errorRatio { out.append((.errorRatioMax, e)) }
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
    static func refusal(_ e: AdminError, request: EngineRequest, repository: Migration.RepositoryID) -> EngineInput {
        switch e {
        case .repositoryReadOnly: .scheduleRefused(repository, .repositoryReadOnly)
        case .serverError: .apiError(request, .transient(retryAfter: nil))
        case .unknownRepository, .unknownMove, .noDestination, .weightOutOfRange, .storageFull, .replicationFactorOutOfRange:
            .scheduleRefused(repository, .rejected("\(e)"))
        }
    }

    static func apiError(_ e: AdminError, request: EngineRequest) -> EngineInput {
        switch e {
        case .serverError: .apiError(request, .transient(retryAfter: nil))
        case .repositoryReadOnly, .unknownRepository, .unknownMove, .noDestination, .weightOutOfRange, .storageFull, .replicationFactorOutOfRange:
            .apiError(request, .permanent("\(e)"))
        }
    }
}

extension World {
    /// The latency of one admin API call (`gitlab.apiLatency`).
    public var apiLatency: SimTime { .seconds(fleet.gitlab.apiLatencySeconds) }
}
