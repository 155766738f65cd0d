/// The engine's invariants, checked after every input when `checksInvariants` is on (debug
/// builds and tests). Their cost is in the repositories in flight, not in the plan's size;
/// that a status only moves forward is asserted at each change, in `setStage`.
extension MigrationEngine {
    func checkInvariants() {
        var recount = SlotCounts(storages: storageNames.count)
        var moves = 0
        var previous = -1
        var waiting = 0
        for i in active {
            precondition(i > previous, "the active list is sorted and has no repeat")
            previous = i
            let r = repositories[i]
            precondition(r.stage.status == .inFlight, "\(r.repository) is active but \(r.stage.status)")
            if r.stage.holdsSlot { recount.take(r, 1) }
            if let m = r.stage.moveID {
                moves += 1
                precondition(indexByMove[m] == i, "\(m) of \(r.repository) is not indexed to it")
            }
            if case .moving(let progress) = r.stage { precondition(!progress.state.isTerminal) }
            if case .failing(let progress) = r.stage { precondition(!progress.state.isTerminal) }
            if r.stage.waitsUntil != nil { waiting += 1 }
        }
        precondition(waiting == waitingCount, "\(waitingCount) repositories counted waiting, \(waiting) are")
        // Each followed move belongs to one repository and each repository follows one move.
        precondition(moves == indexByMove.count, "\(indexByMove.count) moves indexed, \(moves) followed")
        precondition(recount == slots, "slot counts drifted: \(slots) kept, \(recount) counted")
        if let l = plan.limits.global { precondition(slots.global <= l, "\(slots.global) moves in flight, limit \(l)") }
        for (s, name) in storageNames.enumerated() {
            if let l = plan.limits.perSource { precondition(slots.perSource[s] <= l, "\(slots.perSource[s]) moves from \(name), limit \(l)") }
            if let l = plan.limits.perDestination {
                precondition(slots.perDestination[s] <= l, "\(slots.perDestination[s]) moves to \(name), limit \(l)")
            }
        }
        precondition(unsettledInWave >= 0)
        // A queue a scan would skip has no head with room (`PendingQueues`).
        for s in storageNames.indices where pending.isSettled(s) {
            if let i = pending.head(s) {
                precondition(!slots.hasRoom(source: repositories[i].source, destination: repositories[i].destination, plan.limits),
                             "\(repositories[i].repository) heads a queue not to be looked at, yet has room")
            }
        }
        switch run {
        case .waves: break
        case .notStarted, .step, .waveSoaking, .abortRollingBack, .finished:
            // Moves run only inside a wave; an abort rolls back only once they have settled.
            precondition(!active.contains { repositories[$0].stage.holdsSlot }, "a move holds a slot outside a wave")
        }
    }
}
