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

/// A move as the world keeps it: GitLab's record of it (`RepositoryStorageMove`, with its
/// failure reason kept apart: few moves fail) and where its Sidekiq job is. The world keeps one
/// for every move ever made (ten million in a GitLab.com drain), so it holds only what a move
/// that has ended still needs; the copy's working state lives in a `MoveWorker` from a slab,
/// taken when the move is made and given back when it ends. Fields are as narrow as their
/// ranges allow and ordered widest first: Swift lays a struct's fields out in declaration
/// order, and padding would be paid ten million times.
struct MoveProcess {
    /// Seconds the move's copies took (every part, from its streams' start to the last one's
    /// end).
    var copySeconds = 0.0
    var repositoryIndex: Int32
    var sourceIndex: Int32
    var destinationIndex: Int32
    /// How many moves the repository had before this one: with the repository, the key of
    /// this move's random draws.
    var attempt: Int32
    /// The repository's move before this one (−1: none).
    var previous: Int32
    /// The move's worker state in `World.moveWorkers` (−1 once the move has ended).
    var worker: Int32
    var state: MoveState = .initial
    var step: MoveWorkerStep = .queued
    /// The job holds a Sidekiq thread. A move failed while queued is given a thread later and
    /// gives it back at once, so this outlives the worker state.
    var holdsWorker = false
    /// The source replica the copy read (a member slot, below 64: `MemberSet`): Praefect routes
    /// the read to a random up-to-date one. Kept with the move for its history.
    var sourceSlotIndex: Int8 = 0

    var repository: Int { Int(repositoryIndex) }
    var sourceSlot: Int {
        get { Int(sourceSlotIndex) }
        set { sourceSlotIndex = Int8(newValue) }
    }
    var sourceStorage: Int { Int(sourceIndex) }
    var destinationStorage: Int { Int(destinationIndex) }
}

/// What a move's worker needs while it runs (`UpdateRepositoryStorageService`'s state): one per
/// move not yet ended, in a slab the world reuses.
struct MoveWorker {
    /// When the current part's copy began.
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
    var polls: Int32 = 0
    var pendingFlows: Int32 = 0
    /// The repository being copied (project, wiki, design, then the pool).
    var part: MovePart = .project
    /// The destination's primary (a member slot, below 64: `MemberSet`).
    var destinationPrimarySlot: Int8 = 0

    var destinationPrimary: Int {
        get { Int(destinationPrimarySlot) }
        set { destinationPrimarySlot = Int8(newValue) }
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
    @inline(__always)
    func storedBytes(_ r: Int) -> Double {
        repositories[r].sizeBytes + repositoryParts[r].wikiBytes + repositoryParts[r].designBytes
    }

    @inline(__always)
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
    @inline(__always)
    func nextPart(after part: MovePart, _ r: Int) -> MovePart? {
        var next = MovePart(rawValue: part.rawValue + 1)
        while let p = next, bytes(of: p, r) <= 0 { next = MovePart(rawValue: p.rawValue + 1) }
        return next
    }

    /// Applies `event` to move `m`, keeps the count of moves by state, and performs the side
    /// effects. Every state change of a move goes through here.
    mutating func advance(_ m: Int, _ event: MoveEvent, _ now: SimTime) {
        let before = moves[m].state
        let effects = try! moves[m].state.apply(event, containerReadOnly: event == .schedule && readOnly[moves[m].repository])
        movesInState[before.rawValue] -= 1
        movesInState[moves[m].state.rawValue] += 1
        perform(effects, move: m, now)
    }

    /// A substream of `base` for this move's draws, keyed by (its repository's place, attempt),
    /// so that a move's random outcome does not depend on how many other moves drew before it
    /// nor on where its repository's state lies. Inlined: a call copied the whole world (3.7 kB)
    /// to hand it over, four times a move.
    @inline(__always)
    func moveRandom(_ base: RandomStream, _ m: Int) -> RandomStream {
        base.substream(UInt64(place(of: Int(moves[m].repository))), UInt64(moves[m].attempt))
    }

    /// Move `m`'s worker state. Only a move that has not ended has one: reading an ended
    /// move's traps (its place may hold another move's by now).
    subscript(worker m: Int) -> MoveWorker {
        get { moveWorkers[Int(moves[m].worker)] }
        _modify { yield &moveWorkers[Int(moves[m].worker)] }
    }

    /// A fresh worker state from the slab.
    mutating func takeMoveWorker() -> Int32 {
        if let w = freeMoveWorkers.popLast() {
            moveWorkers[Int(w)] = MoveWorker()
            return w
        }
        moveWorkers.append(MoveWorker())
        return Int32(moveWorkers.count - 1)
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
    @inline(__always)
    func moveChain(of r: Int) -> [Int] {
        var chain: [Int] = []
        var m = Int(lastMoveOfRepository[r])
        while m >= 0 { chain.append(m); m = Int(moves[m].previous) }
        return chain.reversed()
    }

    mutating func perform(_ effects: [MoveSideEffect], move m: Int, _ now: SimTime) {
        let r = moves[m].repository
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
        let r = moves[m].repository
        switch moves[m].step {
        case .queued:
            guard moves[m].state == .scheduled else { return }
            advance(m, .start, s.now)
            var interruption = moveRandom(moveInterruptionRandom, m)
            if interruption.bernoulli(config.moveWorkerInterruptionProbability) { return interruptWorker(m, &s) }
            // `same_filesystem?`: a move onto the storage it is on copies nothing and removes
            // nothing; it finishes as a no-op.
            if moves[m].sourceStorage == moves[m].destinationStorage {
                advance(m, .finishReplication, s.now)
                advance(m, .finishCleanup, s.now)
                return endMove(m, &s)
            }
            self[worker: m].part = .project
            moves[m].step = .waitingPushes
            moveStep(m, &s)
        case .waitingPushes:
            // `wait_for_pushes`: read the push counter at 0, 10 and 20 s, sleeping 10 s after
            // each read; after the third sleep, at 30 s, give up. Each repository type has its
            // own counter; only project pushes are modelled, so wikis and designs pass at once.
            if self[worker: m].polls >= fleet.gitlab.pushWaitPolls {
                return failMove(m, reason: "Timeout waiting for \(self[worker: m].part.name) repository pushes", &s)
            }
            let counter = self[worker: m].part == .project ? inflightPushes[r] : 0
            if counter == 0 {
                self[worker: m].polls = 0
                return copyPart(m, &s)
            }
            self[worker: m].polls += 1
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
        let r = moves[m].repository
        let part = self[worker: m].part
        // CalculateChecksum needs the source replica and the destination's primary to answer.
        let (sv, dv) = (repositories[r].virtualStorage, moves[m].destinationStorage)
        guard nodes[node(sv, moves[m].sourceSlot)].up, nodes[node(dv, self[worker: m].destinationPrimary)].up else {
            return failMove(m, reason: "CalculateChecksum failed", &s)
        }
        let written = part == .project && repositories[r].generation != self[worker: m].copyGeneration
        // One draw per part compared, keyed by the part.
        var corruption = moveRandom(moveCorruptionRandom, m).substream(UInt64(part.rawValue), 0)
        if written || corruption.bernoulli(config.moveChecksumMismatchProbability) {
            return failMove(m, reason: "Failed to verify \(part.name) repository checksum", &s)
        }
        if part == .project { self[worker: m].checksumGeneration = repositories[r].generation }
        guard let next = nextPart(after: part, r) else { return finishReplication(m, &s) }
        self[worker: m].part = next
        if next == .pool { return copyPart(m, &s) }
        moves[m].step = .waitingPushes
        moveStep(m, &s)
    }

    /// `finish_replication!` in the transaction after the pool's copy. A write acknowledged
    /// on the source after its checksum is in no copy: it is lost with the switch.
    mutating func finishReplication(_ m: Int, _ s: inout EventScheduler<WorldEvent>) {
        let r = moves[m].repository
        if repositories[r].generation > self[worker: m].checksumGeneration { ledger.discard(repository: r, above: self[worker: m].checksumGeneration) }
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
        let r = moves[m].repository
        // The repository's storage until the switch (a move holds it read-only, so no other
        // move changed it since this one was scheduled).
        let sv = moves[m].sourceStorage
        let members = fleet.virtualStorages[sv].members
        let held = self[worker: m].sourceData
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
        guard moves[m].state == .started, moves[m].step != .interrupted else { return }
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
        let r = moves[m].repository
        // `ReplicateRepository` and the creates go through Praefect on either side.
        guard praefectAnswers(repositories[r].virtualStorage), praefectAnswers(moves[m].destinationStorage) else {
            return failMove(m, reason: "Praefect unavailable", &s)
        }
        if self[worker: m].part == .project {
            guard prepareDestination(m, &s) else { return }
        }
        let sv = repositories[r].virtualStorage
        guard nodes[node(sv, moves[m].sourceSlot)].up, dataPresent[r].contains(slot: moves[m].sourceSlot) else {
            return failMove(m, reason: "source repository unavailable", &s)
        }
        let dv = moves[m].destinationStorage
        // A destination replica that went down since the last part cannot take this one.
        for slot in self[worker: m].targets.slots where !nodes[node(dv, slot)].up { dropTarget(m, slot) }
        guard createSucceeds(m) else { return failMove(m, reason: "ReplicateRepository failed", &s) }
        // Read into a local first: passed straight into a method of the world, the worker's
        // field made Swift copy the whole world for the call (5% of a large drain).
        let part = self[worker: m].part
        let partBytes = bytes(of: part, r)
        moves[m].step = .copying
        self[worker: m].copyStartedAt = s.now
        for slot in self[worker: m].targets.slots {
            let (a, b) = (node(sv, moves[m].sourceSlot), node(dv, slot))
            self[worker: m].pendingFlows += 1
            startFlow(bytes: partBytes, from: a, to: b, capBytesPerSecond: fleet.gitlab.moveStreamBytesPerSecondMax,
                      owner: .moveCopy(move: m, slot: slot, nodes: (a, b)), &s)
        }
    }

    /// Picks the source replica and creates the destination. Into a cluster the create is a
    /// voted mutator (gitaly `internal/praefect/coordinator.go`, repository creation): the
    /// primary and the healthy secondaries take the copy, an unhealthy assigned replica becomes
    /// a replication target. A voter without room drops out. Returns false when the move failed.
    mutating func prepareDestination(_ m: Int, _ s: inout EventScheduler<WorldEvent>) -> Bool {
        let r = moves[m].repository
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
        let dv = moves[m].destinationStorage
        let dest = fleet.virtualStorages[dv]
        var up: MemberSet = 0
        for slot in dest.members.indices where nodes[node(dv, slot)].up { up |= .single(slot) }
        var placement = moveRandom(movePlacementRandom, m)
        guard let (assigned, primary) = Praefect.placeNewRepository(members: dest.members.count, replicationFactor: dest.replicationFactor, locallyHealthy: up, random: &placement) else {
            failMove(m, reason: "destination storage unavailable", &s)
            return false
        }
        self[worker: m].destinationAssigned = assigned
        self[worker: m].destinationPrimary = primary
        self[worker: m].voters = assigned & up
        self[worker: m].copyGeneration = source.generation
        let total = storedBytes(r) + repositoryParts[r].poolBytes
        for slot in self[worker: m].voters.slots {
            let storage = dest.members[slot]
            guard storageUsedBytes[storage] + total <= fleet.storages[storage].capacityBytes else { continue }
            storageUsedBytes[storage] += total
            self[worker: m].targets |= .single(slot)
        }
        self[worker: m].reservedBytes = total
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
    @inline(__always)
    func createSucceeds(_ m: Int) -> Bool {
        let p = self[worker: m].destinationPrimary
        guard self[worker: m].targets.contains(slot: p) else { return false }
        let dv = moves[m].destinationStorage
        guard vsViaPraefect[dv], vsConsistency[dv] == .strong else { return true }
        let secondaries = self[worker: m].voters & ~MemberSet.single(p)
        return Transactions.quorumReached(secondaries: secondaries.nonzeroBitCount, agreeing: (self[worker: m].targets & secondaries).nonzeroBitCount)
    }

    mutating func moveCopyEnded(_ m: Int, slot: Int, success: Bool, _ s: inout EventScheduler<WorldEvent>) {
        guard moves[m].step == .copying else { return }
        self[worker: m].pendingFlows -= 1
        if !success { dropTarget(m, slot) }
        guard self[worker: m].pendingFlows == 0 else { return }
        moves[m].copySeconds += (s.now - self[worker: m].copyStartedAt).seconds
        guard createSucceeds(m) else { return failMove(m, reason: "ReplicateRepository failed", &s) }
        moves[m].step = .checksum
        s.schedule(after: .seconds(fleet.gitlab.checksumSeconds(self[worker: m].part, repositoryParts[moves[m].repository])), .moveStep(move: Int32(m)))
    }

    /// A destination replica failed its copy: the copy is removed, and the replica gets a
    /// replication job after the switch if the move still succeeds.
    mutating func dropTarget(_ m: Int, _ slot: Int) {
        guard self[worker: m].targets.contains(slot: slot) else { return }
        self[worker: m].targets &= ~MemberSet.single(slot)
        storageUsedBytes[fleet.virtualStorages[moves[m].destinationStorage].members[slot]] -= self[worker: m].reservedBytes
    }

    /// `finish_replication!`: the repository's storage is now the destination.
    mutating func switchToDestination(_ m: Int, _ now: SimTime) {
        // A move onto its own storage (`same_filesystem?`) leaves the repository where it is.
        guard moves[m].sourceStorage != moves[m].destinationStorage else { return }
        let r = moves[m].repository
        let old = repositories[r]
        let dv = moves[m].destinationStorage
        let record = RepositoryRecord(virtualStorage: dv, members: fleet.virtualStorages[dv].members.count, assigned: self[worker: m].destinationAssigned,
                                      primary: self[worker: m].destinationPrimary, sizeBytes: old.sizeBytes, generation: self[worker: m].checksumGeneration, present: self[worker: m].targets)
        precondition(old.virtualStorage == moves[m].sourceStorage, "move \(m) switches repository \(r) from storage \(old.virtualStorage), not its source")
        self[worker: m].sourceData = dataPresent[r]
        movedBytes += storedBytes(r)
        relist(r, from: old.virtualStorage, to: dv)
        loadMoved(r, from: old.virtualStorage, to: dv)
        repositories[r] = record
        dataPresent[r] = self[worker: m].targets
        self[worker: m].reservedBytes = 0
        for slot in self[worker: m].targets.slots { enqueueVerification(r, slot, due: now + verificationInterval) }
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
            repositoriesByStorage[old][Int(i)] = last
            storageListIndex[Int(last)] = i
        }
        storageListIndex[r] = Int32(repositoriesByStorage[new].count)
        repositoriesByStorage[new].append(Int32(r))
    }

    mutating func failMove(_ m: Int, reason: String, _ s: inout EventScheduler<WorldEvent>) {
        guard moves[m].step != .done else { return }
        // Copies in flight stop; every copy is removed from the destination.
        cancelMoveCopies(m, &s)
        releaseReservation(m)
        moveFailureReasons[Int32(m)] = reason
        advance(m, .fail, s.now)
        endMove(m, &s)
    }

    mutating func releaseReservation(_ m: Int) {
        let members = fleet.virtualStorages[moves[m].destinationStorage].members
        for slot in self[worker: m].targets.slots { storageUsedBytes[members[slot]] -= self[worker: m].reservedBytes }
        self[worker: m].targets = 0
        self[worker: m].reservedBytes = 0
    }

    /// The worker's thread is free: the next queued move takes it.
    mutating func endMove(_ m: Int, _ s: inout EventScheduler<WorldEvent>) {
        moves[m].step = .done
        // A move failed while queued ends again once a thread picks its job up.
        if moves[m].worker >= 0 {
            freeMoveWorkers.append(moves[m].worker)
            moves[m].worker = -1
        }
        activeMoves.remove(m)
        if hasLoad { loadMoveEnded(m) }
        releaseWorker(m, &s)
    }

    mutating func releaseWorker(_ m: Int, _ s: inout EventScheduler<WorldEvent>) {
        guard moves[m].holdsWorker else { return }
        moves[m].holdsWorker = false
        if let (next, _) = sidekiq.release(at: s.now) { workerAcquired(next, &s) }
    }
}
