import SimKernel

/// Why an admin API call failed.
public enum AdminError: Error, Equatable, Sendable {
    /// The injected API error rate (a 500 or a timeout).
    case serverError
    case unknownRepository
    case unknownMove
    /// No GitLab or Gitaly storage by that index (or not one of the repository's).
    case unknownStorage
    /// A move on a read-only container fails validation.
    case repositoryReadOnly
    /// No storage can take the repository (a cluster with no healthy replica to place it on).
    case noDestination
    case weightOutOfRange
    /// The chosen storage has no room for the repository.
    case storageFull
    /// set-replication-factor takes 1 up to the virtual storage's storage count.
    case replicationFactorOutOfRange
}

/// An admin API answer and how long the call took (the internal calls behind `World.admin`).
public struct AdminResponse<T: Sendable>: Sendable {
    public var result: Result<T, AdminError>
    public var latency: SimTime
}

/// The effects behind the admin door (`World.admin` in `AdminRequest.swift`, the one public
/// entry): what GitLab's API (`POST /projects/:id/repository_storage_moves`, `GET` of a move,
/// `PUT /application/settings`) and Praefect's subcommands (`accept-dataloss`,
/// `set-replication-factor`) do. Server errors are drawn at the door, not here.
extension World {
    mutating func adminCall<T>(_ body: (inout World) -> Result<T, AdminError>) -> AdminResponse<T> {
        AdminResponse(result: body(&self), latency: apiLatency)
    }

    /// Schedules a move of `repository` to `destination` (a GitLab storage index), or to a
    /// storage picked by the weights when nil (gitlab!45338). Returns the move id.
    static func scheduleMove(_ sim: inout Simulation<World>, repository r: Int, destination: Int?) -> AdminResponse<Int> {
        let response = sim.model.adminCall { w in w.scheduleMoveNow(repository: r, destination: destination) }
        if case .success(let id) = response.result { sim.model.moveScheduled(id, &sim.scheduler) }
        return response
    }

    /// The effect of a move request, without the API's latency and errors. Without a
    /// destination Rails picks one by the weights, the source included
    /// (`repository_storage_movable.rb`: the default is `Repository.pick_storage_shard`, and
    /// validation checks only that the storage exists and the container is writable); a pick of the source, or
    /// a destination equal to it, is a move that finishes without copying (`same_filesystem?`).
    mutating func scheduleMoveNow(repository r: Int, destination: Int?) -> Result<Int, AdminError> {
        guard r >= 0 && r < repositories.count else { return .failure(.unknownRepository) }
        let source = repositories[r].virtualStorage
        // The repository's n-th move draws its destination, placement, source replica,
        // interruption and corruption from substreams keyed by (its place, n), so the draws
        // do not depend on when other moves ran (common random numbers across polling cadences
        // and plans) nor on where its state lies (`place(of:)`).
        let last = Int(lastMoveOfRepository[r])
        let attempt = last < 0 ? 0 : moves[last].attempt + 1
        var pick = moveDestinationRandom.substream(UInt64(place(of: r)), UInt64(attempt))
        let d = destination ?? StorageWeights.pick(weights, random: &pick)
        // The model's validation: a move on a read-only container is refused.
        guard !readOnly[r] else { return .failure(.repositoryReadOnly) }
        let id = moves.count
        adminCalls.addMove()
        moves.append(MoveProcess(repositoryIndex: Int32(r), sourceIndex: Int32(source), destinationIndex: Int32(d),
                                 attempt: attempt, previous: Int32(last), worker: takeMoveWorker()))
        lastMoveOfRepository[r] = Int32(id)
        movesInState[MoveState.initial.rawValue] += 1
        return .success(id)
    }

    /// The move is in the database: `schedule` sets the repository read-only and enqueues the
    /// worker, which starts once a Sidekiq thread picks it up.
    mutating func moveScheduled(_ m: Int, _ s: inout EventScheduler<WorldEvent>) {
        activeMoves.insert(m)
        // Writes already under way when the repository turns read-only, when traffic is a load,
        // and the calls from now on when the repositories in flight are at RPC level.
        if hasLoad { loadMoveScheduled(m, &s) }
        advance(m, .schedule, s.now)
        if moves[m].holdsWorker {
            moves[m].holdsWorker = false
            workerAcquired(m, &s)
        }
    }

    /// `GET .../repository_storage_moves/:id`.
    mutating func moveState(_ id: Int) -> AdminResponse<MoveState> {
        adminCall { w in id >= 0 && id < w.moves.count ? .success(w.moves[id].state) : .failure(.unknownMove) }
    }

    /// `repository_storages_weighted`, by GitLab storage index.
    mutating func setWeight(storage: Int, weight: Int) -> AdminResponse<Void> {
        adminCall { w in
            guard (0...100).contains(weight) else { return .failure(.weightOutOfRange) }
            w.weights[storage] = weight
            return .success(())
        }
    }

    /// An operator's `do_fail!` on a stuck move (runbook `move-repositories.md`).
    static func failMove(_ sim: inout Simulation<World>, _ id: Int, reason: String) {
        sim.model.failMove(id, reason: reason, &sim.scheduler)
    }

    /// An operator clears a repository's read-only flag (after a move failed before `started`).
    mutating func clearReadOnly(_ r: Int, at now: SimTime) {
        setReadOnly(r, false, now)
        refreshAvailability(r, now)
    }

    @inline(__always)
    public func move(_ id: Int) -> RepositoryStorageMove {
        let m = moves[id]
        return RepositoryStorageMove(id: id, repository: m.repository, sourceStorage: m.sourceStorage, destinationStorage: m.destinationStorage,
                                     state: m.state, failureReason: moveFailureReasons[Int32(id)])
    }

    /// Bulk `POST /project_repository_storage_moves {source_storage_name, destination_storage_name?}`:
    /// schedules a move for every repository on `source`, skipping the ones that fail
    /// validation (already read-only), as `ScheduleBulkRepositoryShardMovesService` does.
    /// Returns the ids of the moves scheduled.
    static func scheduleBulkMove(_ sim: inout Simulation<World>, source: Int, destination: Int?) -> AdminResponse<[Int]> {
        let latency = sim.model.apiLatency
        var ids: [Int] = []
        // By repository id, as Rails walks the projects of the shard (here: by place).
        for r in sim.model.inPlaceOrder(sim.model.repositoriesByStorage[source]) where !sim.model.readOnly[r] {
            if case .success(let id) = sim.model.scheduleMoveNow(repository: r, destination: destination) {
                ids.append(id)
                sim.model.moveScheduled(id, &sim.scheduler)
            }
        }
        return AdminResponse(result: .success(ids), latency: latency)
    }

    /// A new repository (a project created in GitLab): its storage is drawn by the weights
    /// and, in a cluster, its primary and secondaries by Praefect's creation routing. Fails
    /// when no storage has a weight or the chosen storages lack room.
    mutating func createRepository(path: String, sizeBytes: Double, at now: SimTime) -> AdminResponse<Int> {
        adminCall { w -> Result<Int, AdminError> in
            let vs = StorageWeights.pick(w.weights, random: &w.gitlabRandom)
            let v = w.fleet.virtualStorages[vs]
            var healthy: MemberSet = 0
            for slot in v.members.indices where w.nodes[w.node(vs, slot)].up { healthy |= .single(slot) }
            guard let (assigned, primary) = Praefect.placeNewRepository(members: v.members.count, replicationFactor: v.replicationFactor, locallyHealthy: healthy, random: &w.routingRandom) else {
                return .failure(.noDestination)
            }
            // Unhealthy picks become replication targets: they get the repository later.
            let present = assigned & healthy
            for slot in present.slots where w.storageUsedBytes[v.members[slot]] + sizeBytes > w.fleet.storages[v.members[slot]].capacityBytes {
                return .failure(.storageFull)
            }
            let record = RepositoryRecord(virtualStorage: vs, members: v.members.count, assigned: assigned, primary: primary, sizeBytes: sizeBytes, present: present)
            w.addRepository(path: path.utf8, record: record, parts: RepositoryParts())
            let id = w.repositories.count - 1
            for slot in present.slots { w.enqueueVerification(id, slot, due: now + w.verificationInterval) }
            for target in (assigned & ~present).slots {
                w.praefect?.queue.enqueue(repository: id, virtualStorage: vs, source: primary, target: target, change: .update, at: now)
            }
            w.refreshAvailability(id, now)
            return .success(id)
        }
    }

    /// `praefect accept-dataloss`: the chosen replica becomes authoritative; the writes it
    /// lacks are discarded for good and the other replicas are overwritten from it.
    mutating func acceptDataloss(repository r: Int, authoritativeStorage storage: Int, at now: SimTime) {
        let vs = repositories[r].virtualStorage
        guard let slot = fleet.virtualStorages[vs].members.firstIndex(of: storage) else { preconditionFailure("storage \(storage) is not in the repository's virtual storage") }
        ledger.discard(repository: r, above: repositories[r].replicaGeneration(slot))
        repositories[r].setAuthoritative(slot)
        for target in (repositories[r].assigned & ~MemberSet.single(slot)).slots {
            praefect?.queue.enqueue(repository: r, virtualStorage: vs, source: slot, target: target, change: .update, at: now)
        }
        refreshAvailability(r, now)
    }

    /// `praefect set-replication-factor` for every repository of a virtual storage; the
    /// reconciler carries it out on its next runs.
    mutating func setReplicationFactor(virtualStorage vs: Int, factor: Int) -> Result<Void, AdminError> {
        guard fleet.virtualStorages[vs].viaPraefect, factor >= 1, factor <= fleet.virtualStorages[vs].members.count else { return .failure(.replicationFactorOutOfRange) }
        for r in inPlaceOrder(repositoriesByStorage[vs]) { Praefect.setReplicationFactor(&repositories[r], factor: factor, random: &replicationRandom) }
        return .success(())
    }
}

extension World {
    /// The latency of one admin API call (`gitlab.apiLatency`).
    public var apiLatency: SimTime { .seconds(fleet.gitlab.apiLatencySeconds) }
}
