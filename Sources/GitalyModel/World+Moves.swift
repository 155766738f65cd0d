import SimKernel

/// Where a move's worker is.
enum MovePhase: Equatable {
    case queued
    case waitingPushes
    case copying
    case checksum
    case cleanup
    case done
}

/// A move with the worker state GitLab keeps in Sidekiq.
struct MoveProcess {
    var move: RepositoryStorageMove
    var phase: MovePhase = .queued
    var polls = 0
    var pendingFlows = 0
    var copyFailed = false
    var holdsWorker = false
    var destinationAssigned: MemberSet = 0
    var destinationPrimary = 0
    var copied: MemberSet = 0
    var copyGeneration: Int64 = 0
    var sourceRecord: RepositoryRecord?
    /// The source replicas that held data at the switch, to clean up.
    var sourceData: MemberSet = 0
}

/// Why an admin API call failed.
public enum AdminError: Error, Equatable, Sendable {
    /// The injected API error rate (a 500 or a timeout).
    case serverError
    case unknownRepository
    case unknownMove
    /// A move on a read-only container fails validation.
    case repositoryReadOnly
    /// No destination: every weight is 0 apart from the source.
    case noDestination
    case sameStorage
    case weightOutOfRange
    /// The chosen storage has no room for the repository.
    case storageFull
    /// set-replication-factor takes 1 up to the virtual storage's storage count.
    case replicationFactorOutOfRange
}

/// An admin API answer and how long the call took.
public struct AdminResponse<T: Sendable>: Sendable {
    public var result: Result<T, AdminError>
    public var latency: SimTime
}

/// GitLab Rails: the repository storage move worker and the admin API surface that the
/// migration engine's simulated driver calls (`POST /projects/:id/repository_storage_moves`,
/// `GET .../repository_storage_moves/:id`, `PUT /application/settings`).
extension World {
    /// CalculateChecksum reads refs, not objects: modelled as a fixed second on each side.
    static let checksumTime = SimTime.seconds(1)
    /// RemoveRepository on the source.
    static let cleanupTime = SimTime.seconds(1)

    mutating func adminCall<T>(_ body: (inout World) -> Result<T, AdminError>) -> AdminResponse<T> {
        let latency = SimTime.seconds(fleet.gitlab.apiLatencySeconds)
        if gitlabRandom.bernoulli(fleet.gitlab.apiErrorRate) { return AdminResponse(result: .failure(.serverError), latency: latency) }
        return AdminResponse(result: body(&self), latency: latency)
    }

    /// Schedules a move of `repository` to `destination` (a GitLab storage index), or to a
    /// storage picked by the weights when nil (gitlab!45338). Returns the move id.
    public static func scheduleMove(_ sim: inout Simulation<World>, repository r: Int, destination: Int?) -> AdminResponse<Int> {
        let now = sim.now
        let response = sim.model.adminCall { w in w.scheduleMoveNow(repository: r, destination: destination, now) }
        if case .success(let id) = response.result, sim.model.moves[id].holdsWorker { sim.schedule(at: now, .moveStep(move: Int32(id))) }
        return response
    }

    /// The effect of a move request, without the API's latency and errors.
    mutating func scheduleMoveNow(repository r: Int, destination: Int?, _ now: SimTime) -> Result<Int, AdminError> {
        guard r >= 0 && r < repositories.count else { return .failure(.unknownRepository) }
        let source = repositories[r].virtualStorage
        guard let d = destination ?? StorageWeights.pick(weights, excluding: source, random: &gitlabRandom) else { return .failure(.noDestination) }
        guard d != source else { return .failure(.sameStorage) }
        var m = RepositoryStorageMove(id: moves.count, repository: r, sourceStorage: source, destinationStorage: d)
        let effects: [MoveSideEffect]
        do { effects = try m.apply(.schedule, containerReadOnly: readOnly[r]) } catch { return .failure(.repositoryReadOnly) }
        moves.append(MoveProcess(move: m))
        perform(effects, move: m.id, now)
        return .success(m.id)
    }

    /// `GET .../repository_storage_moves/:id`.
    public mutating func moveState(_ id: Int) -> AdminResponse<MoveState> {
        adminCall { w in id >= 0 && id < w.moves.count ? .success(w.moves[id].move.state) : .failure(.unknownMove) }
    }

    /// `repository_storages_weighted`, by GitLab storage index.
    public mutating func setWeight(storage: Int, weight: Int) -> AdminResponse<Void> {
        adminCall { w in
            guard (0...100).contains(weight) else { return .failure(.weightOutOfRange) }
            w.weights[storage] = weight
            return .success(())
        }
    }

    /// An operator's `do_fail!` on a stuck move (runbook `move-repositories.md`).
    public static func failMove(_ sim: inout Simulation<World>, _ id: Int, reason: String) {
        sim.model.failMove(id, reason: reason, &sim.scheduler)
    }

    /// An operator clears a repository's read-only flag (after a move failed before `started`).
    public mutating func clearReadOnly(_ r: Int, at now: SimTime) {
        readOnly[r] = false
        refreshAvailability(r, now)
    }

    public func move(_ id: Int) -> RepositoryStorageMove { moves[id].move }

    mutating func perform(_ effects: [MoveSideEffect], move m: Int, _ now: SimTime) {
        let r = moves[m].move.repository
        for e in effects {
            switch e {
            case .setReadOnly: readOnly[r] = true
            case .setWritable: readOnly[r] = false
            case .enqueueWorker:
                // Projects::UpdateRepositoryStorageWorker on a Sidekiq shard with limited
                // concurrency: the move waits for a free thread.
                if case .started = sidekiq.arrive(m, at: now) { moves[m].holdsWorker = true }
            case .switchToDestination: switchToDestination(m, now)
            }
        }
        refreshAvailability(r, now)
    }

    mutating func moveStep(_ m: Int, _ s: inout EventScheduler<WorldEvent>) {
        let r = moves[m].move.repository
        switch moves[m].phase {
        case .queued:
            guard moves[m].move.state == .scheduled else { return }
            perform(try! moves[m].move.apply(.start), move: m, s.now)
            moves[m].phase = .waitingPushes
            moveStep(m, &s)
        case .waitingPushes:
            // Wait for the push counter to reach 0: a few polls, 10 s apart, then give up
            // (gitlab `update_repository_storage_methods.rb`).
            if inflightPushes[r] == 0 { return beginCopy(m, &s) }
            moves[m].polls += 1
            if moves[m].polls >= fleet.gitlab.pushWaitPolls { return failMove(m, reason: "Timeout waiting for project repository pushes", &s) }
            s.schedule(after: .seconds(fleet.gitlab.pushWaitIntervalSeconds), .moveStep(move: Int32(m)))
        case .copying:
            break
        case .checksum:
            if gitlabRandom.bernoulli(config.moveChecksumMismatchProbability) { return failMove(m, reason: "Failed to verify repository checksum", &s) }
            perform(try! moves[m].move.apply(.finishReplication), move: m, s.now)
            moves[m].phase = .cleanup
            s.schedule(after: Self.cleanupTime, .moveStep(move: Int32(m)))
        case .cleanup:
            let old = moves[m].sourceRecord!
            let members = fleet.virtualStorages[old.virtualStorage].members
            let held = moves[m].sourceData
            guard held.slots.allSatisfy({ nodes[fleet.storages[members[$0]].node].up }) else {
                return failMove(m, reason: "source storage unreachable during cleanup", &s)
            }
            for slot in held.slots { storageUsedBytes[members[slot]] -= old.sizeBytes }
            perform(try! moves[m].move.apply(.finishCleanup), move: m, s.now)
            endMove(m, &s)
        case .done:
            // A move failed while it waited for a Sidekiq thread: give the thread back.
            if moves[m].holdsWorker { endMove(m, &s) }
        }
    }

    /// ReplicateRepository onto the destination: one flow per destination replica from the
    /// source's primary (source disk read, both links, destination disk write).
    mutating func beginCopy(_ m: Int, _ s: inout EventScheduler<WorldEvent>) {
        let r = moves[m].move.repository
        let source = repositories[r]
        let sv = source.virtualStorage
        let candidates = (source.upToDate & dataPresent[r]).slots.filter { nodes[node(sv, $0)].up }
        guard let from = candidates.first(where: { $0 == source.primary }) ?? candidates.first else {
            return failMove(m, reason: "source repository unavailable", &s)
        }
        let dv = moves[m].move.destinationStorage
        let dest = fleet.virtualStorages[dv]
        var up: MemberSet = 0
        for slot in dest.members.indices where nodes[node(dv, slot)].up { up |= .single(slot) }
        guard let (assigned, primary) = Praefect.placeNewRepository(members: dest.members.count, replicationFactor: dest.replicationFactor, locallyHealthy: up, random: &gitlabRandom) else {
            return failMove(m, reason: "destination storage unavailable", &s)
        }
        moves[m].destinationAssigned = assigned
        moves[m].destinationPrimary = primary
        moves[m].copyGeneration = source.generation
        moves[m].phase = .copying
        for slot in (assigned & up).slots {
            let storage = dest.members[slot]
            guard storageUsedBytes[storage] + source.sizeBytes <= fleet.storages[storage].capacityBytes else {
                moves[m].copyFailed = true
                continue
            }
            storageUsedBytes[storage] += source.sizeBytes
            moves[m].copied |= .single(slot)
            moves[m].pendingFlows += 1
            startFlow(bytes: source.sizeBytes, from: node(sv, from), to: node(dv, slot), owner: .moveCopy(move: m, nodes: (node(sv, from), node(dv, slot))), &s)
        }
        if moves[m].pendingFlows == 0 { failMove(m, reason: "destination storage full", &s) }
    }

    mutating func moveCopyEnded(_ m: Int, success: Bool, _ s: inout EventScheduler<WorldEvent>) {
        guard moves[m].phase == .copying else { return }
        moves[m].pendingFlows -= 1
        if !success { moves[m].copyFailed = true }
        guard moves[m].pendingFlows == 0 else { return }
        if moves[m].copyFailed { return failMove(m, reason: "ReplicateRepository failed", &s) }
        moves[m].phase = .checksum
        s.schedule(after: Self.checksumTime, .moveStep(move: Int32(m)))
    }

    /// `finish_replication!`: the repository's storage is now the destination. Writes
    /// acknowledged on the source after the copy began (non-push RPCs are not held back by
    /// the push counter) are not in the copy and are lost with the switch.
    mutating func switchToDestination(_ m: Int, _ now: SimTime) {
        let r = moves[m].move.repository
        let old = repositories[r]
        let g = moves[m].copyGeneration
        if old.generation > g { ledger.discard(repository: r, above: g) }
        let dv = moves[m].move.destinationStorage
        let record = RepositoryRecord(virtualStorage: dv, members: fleet.virtualStorages[dv].members.count, assigned: moves[m].destinationAssigned,
                                      primary: moves[m].destinationPrimary, sizeBytes: old.sizeBytes, generation: g, present: moves[m].copied)
        moves[m].sourceRecord = old
        moves[m].sourceData = dataPresent[r]
        repositoriesByStorage[old.virtualStorage].removeAll { $0 == r }
        repositoriesByStorage[dv].append(r)
        repositories[r] = record
        dataPresent[r] = moves[m].copied
        for slot in moves[m].copied.slots { enqueueVerification(r, slot, due: now + verificationInterval) }
        if fleet.virtualStorages[dv].viaPraefect {
            for target in (record.assigned & ~record.existing).slots {
                praefect!.queue.enqueue(repository: r, virtualStorage: dv, source: record.primary, target: target, change: .update, at: now)
            }
        }
    }

    mutating func failMove(_ m: Int, reason: String, _ s: inout EventScheduler<WorldEvent>) {
        guard moves[m].phase != .done else { return }
        if moves[m].phase == .copying || moves[m].phase == .checksum {
            // The copy is removed from the destination.
            let dv = moves[m].move.destinationStorage
            let size = repositories[moves[m].move.repository].sizeBytes
            for slot in moves[m].copied.slots { storageUsedBytes[fleet.virtualStorages[dv].members[slot]] -= size }
            moves[m].copied = 0
            moves[m].phase = .done
        }
        moves[m].move.failureReason = reason
        perform(try! moves[m].move.apply(.fail), move: m, s.now)
        endMove(m, &s)
    }

    /// The worker's thread is free: the next queued move starts.
    mutating func endMove(_ m: Int, _ s: inout EventScheduler<WorldEvent>) {
        moves[m].phase = .done
        guard moves[m].holdsWorker else { return }
        moves[m].holdsWorker = false
        if let (next, _) = sidekiq.release(at: s.now) {
            moves[next].holdsWorker = true
            s.schedule(at: s.now, .moveStep(move: Int32(next)))
        }
    }
}

extension World {
    /// Bulk `POST /project_repository_storage_moves {source_storage_name, destination_storage_name?}`:
    /// schedules a move for every repository on `source`, skipping the ones that fail
    /// validation (already read-only), as `ScheduleBulkRepositoryShardMovesService` does.
    /// Returns the ids of the moves scheduled.
    public static func scheduleBulkMove(_ sim: inout Simulation<World>, source: Int, destination: Int?) -> AdminResponse<[Int]> {
        let latency = SimTime.seconds(sim.model.fleet.gitlab.apiLatencySeconds)
        if sim.model.gitlabRandom.bernoulli(sim.model.fleet.gitlab.apiErrorRate) { return AdminResponse(result: .failure(.serverError), latency: latency) }
        var ids: [Int] = []
        for r in sim.model.repositoriesByStorage[source] where !sim.model.readOnly[r] {
            let now = sim.now
            if case .success(let id) = sim.model.scheduleMoveNow(repository: r, destination: destination, now) {
                ids.append(id)
                if sim.model.moves[id].holdsWorker { sim.schedule(at: now, .moveStep(move: Int32(id))) }
            }
        }
        return AdminResponse(result: .success(ids), latency: latency)
    }

    /// A new repository (a project created in GitLab): its storage is drawn by the weights
    /// and, in a cluster, its primary and secondaries by Praefect's creation routing. Fails
    /// when no storage has a weight or the chosen storages lack room.
    public mutating func createRepository(path: String, sizeBytes: Double, at now: SimTime) -> AdminResponse<Int> {
        adminCall { w -> Result<Int, AdminError> in
            guard let vs = StorageWeights.pick(w.weights, random: &w.gitlabRandom) else { return .failure(.noDestination) }
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
            w.addRepository(path: path, record: record)
            let id = w.repositories.count - 1
            for slot in present.slots { w.enqueueVerification(id, slot, due: now + w.verificationInterval) }
            for target in (assigned & ~present).slots {
                w.praefect?.queue.enqueue(repository: id, virtualStorage: vs, source: primary, target: target, change: .update, at: now)
            }
            w.refreshAvailability(id, now)
            return .success(id)
        }
    }
}
