import SimKernel

/// Where a move's Sidekiq worker is in `UpdateRepositoryStorageService` (not a plan's phase).
enum MoveWorkerStep: Equatable {
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
    var step: MoveWorkerStep = .queued
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

/// GitLab Rails' move worker (`Projects::UpdateRepositoryStorageWorker` running
/// `UpdateRepositoryStorageService`): wait for pushes, copy, compare checksums, switch, clean up.
extension World {
    /// CalculateChecksum reads refs, not objects: modelled as a fixed second on each side.
    static let checksumTime = SimTime.seconds(1)
    /// RemoveRepository on the source.
    static let cleanupTime = SimTime.seconds(1)

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
        switch moves[m].step {
        case .queued:
            guard moves[m].move.state == .scheduled else { return }
            perform(try! moves[m].move.apply(.start), move: m, s.now)
            moves[m].step = .waitingPushes
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
            moves[m].step = .cleanup
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
        moves[m].step = .copying
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
        guard moves[m].step == .copying else { return }
        moves[m].pendingFlows -= 1
        if !success { moves[m].copyFailed = true }
        guard moves[m].pendingFlows == 0 else { return }
        if moves[m].copyFailed { return failMove(m, reason: "ReplicateRepository failed", &s) }
        moves[m].step = .checksum
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
        guard moves[m].step != .done else { return }
        if moves[m].step == .copying || moves[m].step == .checksum {
            // The copy is removed from the destination.
            let dv = moves[m].move.destinationStorage
            let size = repositories[moves[m].move.repository].sizeBytes
            for slot in moves[m].copied.slots { storageUsedBytes[fleet.virtualStorages[dv].members[slot]] -= size }
            moves[m].copied = 0
            moves[m].step = .done
        }
        moves[m].move.failureReason = reason
        perform(try! moves[m].move.apply(.fail), move: m, s.now)
        endMove(m, &s)
    }

    /// The worker's thread is free: the next queued move starts.
    mutating func endMove(_ m: Int, _ s: inout EventScheduler<WorldEvent>) {
        moves[m].step = .done
        guard moves[m].holdsWorker else { return }
        moves[m].holdsWorker = false
        if let (next, _) = sidekiq.release(at: s.now) {
            moves[next].holdsWorker = true
            s.schedule(at: s.now, .moveStep(move: Int32(next)))
        }
    }
}
