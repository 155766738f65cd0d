import SimKernel

/// Where a move's Sidekiq worker is in `UpdateRepositoryStorageService` (not a plan's phase).
enum MoveWorkerStep: Equatable {
    /// Waiting for a Sidekiq thread, or for the thread to pick the job up.
    case queued
    case waitingPushes
    case copying
    case checksum
    case cleanup
    /// The worker died after `start!` (Sidekiq interruption): nothing runs until an operator
    /// fails the move.
    case interrupted
    case done
}

/// A move with the worker state GitLab keeps in Sidekiq.
///
/// The world keeps one for every move ever made (ten million in a GitLab.com drain), so its
/// fields are as narrow as their ranges allow and ordered widest first: Swift lays a struct's
/// fields out in declaration order, and padding between narrow and wide ones would be paid
/// ten million times.
struct MoveProcess {
    var move: RepositoryStorageMove
    /// Seconds the move's copies took (every part, from its streams' start to the last one's
    /// end), and when the current part's copy began.
    var copySeconds = 0.0
    var copyStartedAt = SimTime.zero
    var destinationAssigned: MemberSet = 0
    /// The destination replicas the create routed live (Praefect's voters; the one storage
    /// of a plain destination).
    var voters: MemberSet = 0
    /// Voters whose copy is whole so far; each holds a reservation of the move's bytes.
    var targets: MemberSet = 0
    var reservedBytes = 0.0
    /// The source's generation when the project copy began, and at its source checksum.
    var copyGeneration: Int64 = 0
    var checksumGeneration: Int64 = 0
    /// The source replicas that held data at the switch, to clean up.
    var sourceData: MemberSet = 0
    /// How many moves the repository had before this one: with the repository, the key of
    /// this move's random draws.
    var attempt: Int32 = 0
    /// The repository's move before this one (−1: none).
    var previous: Int32 = -1
    var polls: Int32 = 0
    var pendingFlows: Int32 = 0
    var step: MoveWorkerStep = .queued
    /// The repository being copied (project, wiki, design, then the pool).
    var part: MovePart = .project
    var holdsWorker = false
    /// Member slots (below 64, `MemberSet`): the destination's primary, and the source replica
    /// the copy reads (Praefect routes the read to a random up-to-date one).
    var destinationPrimarySlot: Int8 = 0
    var sourceSlotIndex: Int8 = 0

    var destinationPrimary: Int {
        get { Int(destinationPrimarySlot) }
        set { destinationPrimarySlot = Int8(newValue) }
    }
    var sourceSlot: Int {
        get { Int(sourceSlotIndex) }
        set { sourceSlotIndex = Int8(newValue) }
    }
}

/// GitLab Rails' move worker (`Projects::UpdateRepositoryStorageWorker` running
/// `UpdateRepositoryStorageService`, gitlab `app/services/concerns/update_repository_storage_methods.rb`):
/// `start!`; unless both storages share a filesystem, for the project, wiki and design
/// repositories in turn wait for pushes and `ReplicateService` (copy, checksum the
/// destination then the source, remove the copy on mismatch); copy the object pool; then
/// `finish_replication!`, remove the source, `finish_cleanup!`. Any error calls `do_fail!`.
extension World {
    /// Bytes a repository occupies on each replica that holds it: the project, its wiki and
    /// its design repository (the pool is shared and counted apart).
    func storedBytes(_ r: Int) -> Double {
        repositories[r].sizeBytes + repositoryParts[r].wikiBytes + repositoryParts[r].designBytes
    }

    func bytes(of part: MovePart, _ r: Int) -> Double {
        switch part {
        case .project: return repositories[r].sizeBytes
        case .wiki: return repositoryParts[r].wikiBytes
        case .design: return repositoryParts[r].designBytes
        case .pool: return repositoryParts[r].poolBytes
        }
    }

    /// The part copied after `part`, skipping the ones the project lacks
    /// (`mirror_repositories` checks `repository_exists?` for each; `mirror_object_pool` returns
    /// without a pool).
    func nextPart(after part: MovePart, _ r: Int) -> MovePart? {
        var next = MovePart(rawValue: part.rawValue + 1)
        while let p = next, bytes(of: p, r) <= 0 { next = MovePart(rawValue: p.rawValue + 1) }
        return next
    }

    /// Applies `event` to move `m`, keeps the count of moves by state, and performs the side
    /// effects. Every state change of a move goes through here.
    mutating func advance(_ m: Int, _ event: MoveEvent, _ now: SimTime) {
        let before = moves[m].move.state
        let effects = try! moves[m].move.apply(event, containerReadOnly: event == .schedule && readOnly[moves[m].move.repository])
        movesInState[before.rawValue] -= 1
        movesInState[moves[m].move.state.rawValue] += 1
        perform(effects, move: m, now)
    }

    /// A substream of `base` for this move's draws, keyed by (repository, attempt), so that
    /// a move's random outcome does not depend on how many other moves drew before it.
    func moveRandom(_ base: RandomStream, _ m: Int) -> RandomStream {
        base.substream(UInt64(moves[m].move.repository), UInt64(moves[m].attempt))
    }

    /// How many moves the world has made.
    public var moveCount: Int { moves.count }

    /// Makes room for `count` moves in all, so that a drain that knows its size (a plan) does
    /// not grow the list by doubling: at ten million moves, the slack of a doubled list and
    /// the copy made while it grows would be gigabytes.
    public mutating func reserveMoves(_ count: Int) {
        moves.reserveCapacity(count)
        adminCalls.reserveMoves(count)
    }

    /// Seconds move `m`'s copies took in the world (its parts' copies, not their checksums);
    /// a copy cut short by a failure is not counted.
    public func moveCopySeconds(_ m: MoveIndex) -> Double { moves[m.index].copySeconds }

    /// The moves of repository `r`, oldest first.
    public func moves(of r: RepositoryIndex) -> [MoveIndex] { moveChain(of: r.index).map(MoveIndex.init) }

    /// Repository `r`'s moves, oldest first, from the chain its latest move starts.
    func moveChain(of r: Int) -> [Int] {
        var chain: [Int] = []
        var m = Int(lastMoveOfRepository[r])
        while m >= 0 { chain.append(m); m = Int(moves[m].previous) }
        return chain.reversed()
    }

    mutating func perform(_ effects: [MoveSideEffect], move m: Int, _ now: SimTime) {
        let r = moves[m].move.repository
        for e in effects {
            switch e {
            case .setReadOnly: setReadOnly(r, true, now)
            case .setWritable: setReadOnly(r, false, now)
            case .enqueueWorker:
                // Projects::UpdateRepositoryStorageWorker on a Sidekiq shard with limited
                // concurrency: the move waits for a free thread.
                if case .started = sidekiq.arrive(m, at: now) { moves[m].holdsWorker = true }
            case .switchToDestination: switchToDestination(m, now)
            }
        }
        refreshAvailability(r, now)
    }

    /// A Sidekiq thread has the move's job: it starts once the thread picks it up.
    mutating func workerAcquired(_ m: Int, _ s: inout EventScheduler<WorldEvent>) {
        moves[m].holdsWorker = true
        s.schedule(after: .seconds(fleet.gitlab.sidekiqPickupSeconds), .moveStep(move: Int32(m)))
    }

    mutating func moveStep(_ m: Int, _ s: inout EventScheduler<WorldEvent>) {
        let r = moves[m].move.repository
        switch moves[m].step {
        case .queued:
            guard moves[m].move.state == .scheduled else { return }
            advance(m, .start, s.now)
            var interruption = moveRandom(moveInterruptionRandom, m)
            if interruption.bernoulli(config.moveWorkerInterruptionProbability) { return interruptWorker(m, &s) }
            // `same_filesystem?`: a move onto the storage it is on copies nothing and removes
            // nothing; it finishes as a no-op.
            if moves[m].move.sourceStorage == moves[m].move.destinationStorage {
                advance(m, .finishReplication, s.now)
                advance(m, .finishCleanup, s.now)
                return endMove(m, &s)
            }
            moves[m].part = .project
            moves[m].step = .waitingPushes
            moveStep(m, &s)
        case .waitingPushes:
            // `wait_for_pushes`: read the push counter at 0, 10 and 20 s, sleeping 10 s after
            // each read; after the third sleep, at 30 s, give up. Each repository type has its
            // own counter; only project pushes are modelled, so wikis and designs pass at once.
            if moves[m].polls >= fleet.gitlab.pushWaitPolls {
                return failMove(m, reason: "Timeout waiting for \(moves[m].part.name) repository pushes", &s)
            }
            let counter = moves[m].part == .project ? inflightPushes[r] : 0
            if counter == 0 {
                moves[m].polls = 0
                return copyPart(m, &s)
            }
            moves[m].polls += 1
            s.schedule(after: .seconds(fleet.gitlab.pushWaitIntervalSeconds), .moveStep(move: Int32(m)))
        case .copying, .interrupted:
            break
        case .checksum:
            checksumsCompared(m, &s)
        case .cleanup:
            removeSource(m, &s)
        case .done:
            // A move failed while it waited for a Sidekiq thread: give the thread back.
            if moves[m].holdsWorker { endMove(m, &s) }
        }
    }

    /// `ReplicateService` compared the destination's checksum with the source's. The copy is
    /// the source as it was when the copy began; a write that landed since changed the
    /// source's refs, so its checksum differs and the move fails with the copy removed
    /// (`replicate_service.rb`). A corrupted copy is a separate fault with its own draw.
    mutating func checksumsCompared(_ m: Int, _ s: inout EventScheduler<WorldEvent>) {
        let r = moves[m].move.repository
        let part = moves[m].part
        // CalculateChecksum needs the source replica and the destination's primary to answer.
        let (sv, dv) = (repositories[r].virtualStorage, moves[m].move.destinationStorage)
        guard nodes[node(sv, moves[m].sourceSlot)].up, nodes[node(dv, moves[m].destinationPrimary)].up else {
            return failMove(m, reason: "CalculateChecksum failed", &s)
        }
        let written = part == .project && repositories[r].generation != moves[m].copyGeneration
        // One draw per part compared, keyed by the part.
        var corruption = moveRandom(moveCorruptionRandom, m).substream(UInt64(part.rawValue), 0)
        if written || corruption.bernoulli(config.moveChecksumMismatchProbability) {
            return failMove(m, reason: "Failed to verify \(part.name) repository checksum", &s)
        }
        if part == .project { moves[m].checksumGeneration = repositories[r].generation }
        guard let next = nextPart(after: part, r) else { return finishReplication(m, &s) }
        moves[m].part = next
        if next == .pool { return copyPart(m, &s) }
        moves[m].step = .waitingPushes
        moveStep(m, &s)
    }

    /// `finish_replication!` in the transaction after the pool's copy. A write acknowledged
    /// on the source after its checksum is in no copy: it is lost with the switch.
    mutating func finishReplication(_ m: Int, _ s: inout EventScheduler<WorldEvent>) {
        let r = moves[m].move.repository
        if repositories[r].generation > moves[m].checksumGeneration { ledger.discard(repository: r, above: moves[m].checksumGeneration) }
        advance(m, .finishReplication, s.now)
        moves[m].step = .cleanup
        s.schedule(after: .seconds(fleet.gitlab.cleanupSeconds), .moveStep(move: Int32(m)))
    }

    /// `remove_old_paths`. A plain source answers `RemoveRepository` itself: a source down is
    /// an error and the move ends `cleanup_failed`. Through Praefect (gitaly
    /// `internal/praefect/remove_repository.go`) the records are deleted first and each
    /// replica's removal is only logged when it fails, so the move finishes and a down
    /// replica keeps its bytes as an orphan; only a Praefect that cannot answer fails it.
    mutating func removeSource(_ m: Int, _ s: inout EventScheduler<WorldEvent>) {
        let r = moves[m].move.repository
        // The repository's storage until the switch (a move holds it read-only, so no other
        // move changed it since this one was scheduled).
        let sv = moves[m].move.sourceStorage
        let members = fleet.virtualStorages[sv].members
        let held = moves[m].sourceData
        let size = storedBytes(r)
        if vsViaPraefect[sv] {
            guard praefectAnswers(sv) else { return failMove(m, reason: "Praefect unavailable during cleanup", &s) }
            for slot in held.slots {
                if nodes[node(sv, slot)].up { storageUsedBytes[members[slot]] -= size } else { orphanedBytes[members[slot]] += size }
            }
        } else {
            guard held.slots.allSatisfy({ nodes[node(sv, $0)].up }) else {
                return failMove(m, reason: "source storage unreachable during cleanup", &s)
            }
            for slot in held.slots { storageUsedBytes[members[slot]] -= size }
        }
        advance(m, .finishCleanup, s.now)
        endMove(m, &s)
    }

    /// The Sidekiq-interruption fault (gitlab#429049): the worker dies after `start!`. Sidekiq
    /// retries the job, but `execute` returns at once unless the move is `scheduled`, so the
    /// move stays `started`, the repository read-only, until an operator runs `do_fail!`. The
    /// thread is free again; copies in flight stop and their bytes are removed.
    public static func interruptMoveWorker(_ sim: inout Simulation<World>, _ id: Int) {
        sim.model.interruptWorker(id, &sim.scheduler)
    }

    mutating func interruptWorker(_ m: Int, _ s: inout EventScheduler<WorldEvent>) {
        guard moves[m].move.state == .started, moves[m].step != .interrupted else { return }
        cancelMoveCopies(m, &s)
        releaseReservation(m)
        releaseWorker(m, &s)
        moves[m].step = .interrupted
    }

    /// The copy of one part: `ReplicateRepository` onto the destination, one stream per
    /// destination replica from one source replica (source disk read, both links,
    /// destination disk write), each no faster than one stream goes.
    /// Whether calls to a storage get through: a plain storage always reaches its node; a
    /// virtual storage needs a running Praefect and Praefect's database (`World+Faults`).
    func praefectAnswers(_ vs: Int) -> Bool {
        !vsViaPraefect[vs] || (!runningPraefects.isEmpty && databaseUp)
    }

    mutating func copyPart(_ m: Int, _ s: inout EventScheduler<WorldEvent>) {
        let r = moves[m].move.repository
        // `ReplicateRepository` and the creates go through Praefect on either side.
        guard praefectAnswers(repositories[r].virtualStorage), praefectAnswers(moves[m].move.destinationStorage) else {
            return failMove(m, reason: "Praefect unavailable", &s)
        }
        if moves[m].part == .project {
            guard prepareDestination(m, &s) else { return }
        }
        let sv = repositories[r].virtualStorage
        guard nodes[node(sv, moves[m].sourceSlot)].up, dataPresent[r].contains(slot: moves[m].sourceSlot) else {
            return failMove(m, reason: "source repository unavailable", &s)
        }
        let dv = moves[m].move.destinationStorage
        // A destination replica that went down since the last part cannot take this one.
        for slot in moves[m].targets.slots where !nodes[node(dv, slot)].up { dropTarget(m, slot) }
        guard createSucceeds(m) else { return failMove(m, reason: "ReplicateRepository failed", &s) }
        let bytes = bytes(of: moves[m].part, r)
        moves[m].step = .copying
        moves[m].copyStartedAt = s.now
        for slot in moves[m].targets.slots {
            let (a, b) = (node(sv, moves[m].sourceSlot), node(dv, slot))
            moves[m].pendingFlows += 1
            startFlow(bytes: bytes, from: a, to: b, capBytesPerSecond: fleet.gitlab.moveStreamBytesPerSecondMax,
                      owner: .moveCopy(move: m, slot: slot, nodes: (a, b)), &s)
        }
    }

    /// Picks the source replica and creates the destination. Into a cluster the create is a
    /// voted mutator (gitaly `internal/praefect/coordinator.go`, repository creation): the
    /// primary and the healthy secondaries take the copy, an unhealthy assigned replica becomes
    /// a replication target. A voter without room drops out. Returns false when the move failed.
    mutating func prepareDestination(_ m: Int, _ s: inout EventScheduler<WorldEvent>) -> Bool {
        let r = moves[m].move.repository
        let source = repositories[r]
        let sv = source.virtualStorage
        var candidates: MemberSet = 0
        for slot in (source.upToDate & dataPresent[r]).slots where nodes[node(sv, slot)].up { candidates |= .single(slot) }
        guard candidates != 0 else {
            failMove(m, reason: "source repository unavailable", &s)
            return false
        }
        // Praefect routes the replication's reads like any accessor: to a random up-to-date
        // replica (gitaly `router_per_repository.go`, `RouteRepositoryAccessor`).
        var read = moveRandom(moveSourceReadRandom, m)
        moves[m].sourceSlot = candidates.slot(at: read.below(candidates.nonzeroBitCount))
        let dv = moves[m].move.destinationStorage
        let dest = fleet.virtualStorages[dv]
        var up: MemberSet = 0
        for slot in dest.members.indices where nodes[node(dv, slot)].up { up |= .single(slot) }
        var placement = moveRandom(movePlacementRandom, m)
        guard let (assigned, primary) = Praefect.placeNewRepository(members: dest.members.count, replicationFactor: dest.replicationFactor, locallyHealthy: up, random: &placement) else {
            failMove(m, reason: "destination storage unavailable", &s)
            return false
        }
        moves[m].destinationAssigned = assigned
        moves[m].destinationPrimary = primary
        moves[m].voters = assigned & up
        moves[m].copyGeneration = source.generation
        let total = storedBytes(r) + repositoryParts[r].poolBytes
        for slot in moves[m].voters.slots {
            let storage = dest.members[slot]
            guard storageUsedBytes[storage] + total <= fleet.storages[storage].capacityBytes else { continue }
            storageUsedBytes[storage] += total
            moves[m].targets |= .single(slot)
        }
        moves[m].reservedBytes = total
        guard createSucceeds(m) else {
            failMove(m, reason: "destination storage full", &s)
            return false
        }
        return true
    }

    /// Whether the destination's create still stands: a plain storage needs its one copy; a
    /// cluster needs the primary's and, in strong mode, a quorum of the voters
    /// (`Transactions.quorumReached`); eventual mode takes the primary alone. A secondary that
    /// fails is outdated and gets a replication job, it does not fail the move.
    func createSucceeds(_ m: Int) -> Bool {
        let p = moves[m].destinationPrimary
        guard moves[m].targets.contains(slot: p) else { return false }
        let dv = moves[m].move.destinationStorage
        guard vsViaPraefect[dv], vsConsistency[dv] == .strong else { return true }
        let secondaries = moves[m].voters & ~MemberSet.single(p)
        return Transactions.quorumReached(secondaries: secondaries.nonzeroBitCount, agreeing: (moves[m].targets & secondaries).nonzeroBitCount)
    }

    mutating func moveCopyEnded(_ m: Int, slot: Int, success: Bool, _ s: inout EventScheduler<WorldEvent>) {
        guard moves[m].step == .copying else { return }
        moves[m].pendingFlows -= 1
        if !success { dropTarget(m, slot) }
        guard moves[m].pendingFlows == 0 else { return }
        moves[m].copySeconds += (s.now - moves[m].copyStartedAt).seconds
        guard createSucceeds(m) else { return failMove(m, reason: "ReplicateRepository failed", &s) }
        moves[m].step = .checksum
        s.schedule(after: .seconds(fleet.gitlab.checksumSeconds(moves[m].part, repositoryParts[moves[m].move.repository])), .moveStep(move: Int32(m)))
    }

    /// A destination replica failed its copy: the copy is removed, and the replica gets a
    /// replication job after the switch if the move still succeeds.
    mutating func dropTarget(_ m: Int, _ slot: Int) {
        guard moves[m].targets.contains(slot: slot) else { return }
        moves[m].targets &= ~MemberSet.single(slot)
        storageUsedBytes[fleet.virtualStorages[moves[m].move.destinationStorage].members[slot]] -= moves[m].reservedBytes
    }

    /// `finish_replication!`: the repository's storage is now the destination.
    mutating func switchToDestination(_ m: Int, _ now: SimTime) {
        // A move onto its own storage (`same_filesystem?`) leaves the repository where it is.
        guard moves[m].move.sourceStorage != moves[m].move.destinationStorage else { return }
        let r = moves[m].move.repository
        let old = repositories[r]
        let dv = moves[m].move.destinationStorage
        let record = RepositoryRecord(virtualStorage: dv, members: fleet.virtualStorages[dv].members.count, assigned: moves[m].destinationAssigned,
                                      primary: moves[m].destinationPrimary, sizeBytes: old.sizeBytes, generation: moves[m].checksumGeneration, present: moves[m].targets)
        precondition(old.virtualStorage == moves[m].move.sourceStorage, "move \(m) switches repository \(r) from storage \(old.virtualStorage), not its source")
        moves[m].sourceData = dataPresent[r]
        movedBytes += storedBytes(r)
        relist(r, from: old.virtualStorage, to: dv)
        loadMoved(r, from: old.virtualStorage, to: dv)
        repositories[r] = record
        dataPresent[r] = moves[m].targets
        moves[m].reservedBytes = 0
        for slot in moves[m].targets.slots { enqueueVerification(r, slot, due: now + verificationInterval) }
        if fleet.virtualStorages[dv].viaPraefect {
            for target in (record.assigned & ~record.existing).slots {
                praefect!.queue.enqueue(repository: r, virtualStorage: dv, source: record.primary, target: target, change: .update, at: now)
            }
        }
    }

    /// Moves a repository between storage lists in O(1): the last of the old list takes its
    /// place.
    mutating func relist(_ r: Int, from old: Int, to new: Int) {
        let i = storageListIndex[r]
        let last = repositoriesByStorage[old].removeLast()
        if last != r {
            repositoriesByStorage[old][i] = last
            storageListIndex[last] = i
        }
        storageListIndex[r] = repositoriesByStorage[new].count
        repositoriesByStorage[new].append(r)
    }

    mutating func failMove(_ m: Int, reason: String, _ s: inout EventScheduler<WorldEvent>) {
        guard moves[m].step != .done else { return }
        // Copies in flight stop; every copy is removed from the destination.
        cancelMoveCopies(m, &s)
        releaseReservation(m)
        moves[m].move.failureReason = reason
        advance(m, .fail, s.now)
        endMove(m, &s)
    }

    mutating func releaseReservation(_ m: Int) {
        let members = fleet.virtualStorages[moves[m].move.destinationStorage].members
        for slot in moves[m].targets.slots { storageUsedBytes[members[slot]] -= moves[m].reservedBytes }
        moves[m].targets = 0
        moves[m].reservedBytes = 0
    }

    /// The worker's thread is free: the next queued move takes it.
    mutating func endMove(_ m: Int, _ s: inout EventScheduler<WorldEvent>) {
        moves[m].step = .done
        activeMoves.remove(m)
        releaseWorker(m, &s)
    }

    mutating func releaseWorker(_ m: Int, _ s: inout EventScheduler<WorldEvent>) {
        guard moves[m].holdsWorker else { return }
        moves[m].holdsWorker = false
        if let (next, _) = sidekiq.release(at: s.now) { workerAcquired(next, &s) }
    }
}
