import SimKernel

extension World {
    /// How many repositories beyond the event's own the per-event check visits, in turn: every
    /// repository is visited at least once per n events (a repository an event changes is
    /// checked by that event; the sweep finds what changed without one). One, not more: at ten
    /// million repositories each visit misses the cache, and four an event were a tenth of the
    /// run (BENCHMARKS.md, "GitLab.com scale").
    static let invariantSweepPerEvent = 1
    /// The shared invariants cost O(storages + nodes + moves in flight); they are checked every
    /// (that sum / 16) events, so an event costs a fleet of hundreds of nodes about what it
    /// costs a three-node cluster (checked after every event: 16 units of work an event), and
    /// a broken invariant is still caught within a few dozen events.
    static let sharedInvariantWork = 16

    /// The invariants every transition must keep (STYLE.md "Assertions"), checked after each
    /// event at a cost independent of the repository count: the repository the event names and
    /// the next few of a rotating sweep (`checkRepository`), and every few events
    /// (`sharedInvariantWork`) every move whose worker has not ended, every storage's use, and
    /// the RPC slots. Generations never decreasing and never passing the repository's are also
    /// enforced where they change (`RepositoryRecord`).
    mutating func checkInvariants(after event: WorldEvent) {
        switch event {
        case .rpcArrival(let r, _, _), .rpcDone(_, _, let r): checkRepository(Int(r))
        case .moveStep(let m), .inFlightCall(let m, _, _): checkRepository(moves[Int(m)].repository)
        case .trafficArrival, .limiterTimeout, .flowsDue, .healthRound, .healthApply, .workerWake, .reconcile, .verify,
             .nodeDownEnd, .scheduledFault, .faultEnd, .randomFault, .rollingUpdateStep, .windowClose, .replicationStep, .staleJobCheck: break
        }
        if !repositories.isEmpty {
            for _ in 0..<min(Self.invariantSweepPerEvent, repositories.count) {
                if invariantCursor >= repositories.count { invariantCursor = 0 }
                checkRepository(invariantCursor)
                invariantCursor += 1
            }
        }
        sharedInvariantCountdown -= 1
        if sharedInvariantCountdown <= 0 {
            checkSharedInvariants()
            sharedInvariantCountdown = (fleet.storages.count + nodes.count + activeMoves.count) / Self.sharedInvariantWork
        }
    }

    /// Every invariant over every repository: at the start and when a test asks.
    public func checkAllInvariants() {
        for r in repositories.indices { checkRepository(r) }
        checkSharedInvariants()
    }

    /// A repository's record is consistent and it is listed, once, on its storage.
    @inline(__always)
    func checkRepository(_ r: Int) {
        repositories[r].checkInvariants()
        let vs = repositories[r].virtualStorage
        let i = Int(storageListIndex[r])
        precondition(i < repositoriesByStorage[vs].count && repositoriesByStorage[vs][i] == r, "repository \(r) is not listed on its storage \(vs)")
    }

    /// What does not grow with the repository count: the lists' total, the moves in progress
    /// (a repository is authoritative on its source until `finish_replication`), storage use
    /// within capacity, and the RPC slots.
    func checkSharedInvariants() {
        var listed = 0
        for list in repositoriesByStorage { listed += list.count }
        precondition(listed == repositories.count, "a repository is listed on two storages")
        precondition(movesInState.reduce(0, +) == moves.count, "moves counted by state: \(movesInState.reduce(0, +)), made: \(moves.count)")
        for m in activeMoves {
            let move = moves[m]
            precondition(move.step != .done, "move \(m) ended but is still counted active")
            precondition(move.worker >= 0, "move \(m) is in progress without its worker state")
            let expected = move.state == .replicated ? move.destinationStorage : move.sourceStorage
            precondition(repositories[move.repository].virtualStorage == expected, "move \(m): repository \(move.repository) is authoritative on the wrong storage")
        }
        precondition(moveWorkers.count - freeMoveWorkers.count >= activeMoves.count, "fewer worker states in use than moves in progress")
        for s in fleet.storages.indices {
            precondition(storageUsedBytes[s] <= fleet.storages[s].capacityBytes * (1 + 1e-9) + 1, "storage \(fleet.storages[s].name) is over its capacity")
            precondition(storageUsedBytes[s] >= -1, "storage \(fleet.storages[s].name) has negative use")
        }
        // An RPC a limiter admitted is on a core or queued for one, so it is counted there.
        var held = 0
        for n in nodes { held += n.cpu.busy + n.cpu.queueLength + n.limiters.values.reduce(0) { $0 + $1.queueLength } }
        precondition(held == inflightHeld, "\(inflightHeld) RPC slots are held but nodes account for \(held)")
    }
}
