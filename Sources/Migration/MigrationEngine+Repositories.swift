/// Answers about one repository: look-ups, schedules, move states, read-only flags, API errors.
/// Every answer is matched against the request the repository waits on; any other (late,
/// duplicated, about a move no longer followed) is ignored with a notice.
extension MigrationEngine {
    /// Scheduling time to the move's deadline: the smaller of the move timeout and the longest a
    /// repository may stay read-only (read-only lasts from `schedule` to `finish_replication`).
    var moveDeadlineAfterSchedule: EngineDuration { min(plan.moveTimeout, plan.readOnlyDurationMax) }

    /// The one place a repository's stage changes: keeps slots, the active list, the move index
    /// and the wave's count in step, and asserts that the status only moves forward.
    mutating func setStage(_ i: Int, _ new: Stage) {
        let old = repositories[i].stage
        let (oldRank, newRank) = (old.status.rank, new.status.rank)
        precondition(newRank >= oldRank && oldRank < 2,
                     "\(repositories[i].repository): status may not go from \(old.status) to \(new.status)")
        if old.holdsSlot != new.holdsSlot {
            slots.take(repositories[i], new.holdsSlot ? 1 : -1)
            if old.holdsSlot { pending.slotFreed(source: repositories[i].source, destination: repositories[i].destination) }
        }
        if old.moveID != new.moveID {
            if let m = old.moveID { indexByMove[m] = nil }
            if let m = new.moveID {
                // One look-up, not three: a move's start hashed its id each time.
                let followed = indexByMove.updateValue(i, forKey: m)
                precondition(followed == nil || followed == i, "\(m) followed for two repositories")
            }
        }
        let (o1, o2) = old.requestInstants, (n1, n2) = new.requestInstants
        // An instant the old stage carried has its entry already.
        if let t = n1, t != o1, t != o2 { requestTimers.push(t, i) }
        if let t = n2, t != o1, t != o2 { requestTimers.push(t, i) }
        if let t = new.waitsUntil, t != old.waitsUntil { waitTimers.push(t, i) }
        if (old.waitsUntil == nil) != (new.waitsUntil == nil) { waitingCount += new.waitsUntil == nil ? -1 : 1 }
        if oldRank == 0 && newRank >= 1 { insertActive(i) }
        if newRank == 2 {
            if oldRank == 1 { removeActive(i) }
            unsettledInWave -= 1
        }
        repositories[i].stage = new
    }

    /// Where `i` stands, or would be inserted, in the sorted `indices`.
    static func sortedPosition(of i: Int, in indices: [Int]) -> Int {
        var lo = 0, hi = indices.count
        while lo < hi { let mid = (lo + hi) / 2; if indices[mid] < i { lo = mid + 1 } else { hi = mid } }
        return lo
    }

    mutating func insertActive(_ i: Int) {
        active.insert(i, at: Self.sortedPosition(of: i, in: active))
    }

    mutating func removeActive(_ i: Int) {
        let lo = Self.sortedPosition(of: i, in: active)
        precondition(lo < active.count && active[lo] == i)
        active.remove(at: lo)
    }

    mutating func ignored(_ what: String) { notice(.ignored(what)) }

    /// Starts a repository's next request; the caller has checked that a slot is free.
    mutating func begin(_ i: Int, _ next: NextRequest) {
        let r = repositories[i]
        switch next {
        case .lookUp:
            setStage(i, .lookingUp(.awaiting))
            ask(.lookUpMoves(r.repository), about: i)
        case .schedule:
            setStage(i, .scheduling)
            ask(.scheduleMove(r.repository, source: storageNames[r.source], destination: r.destination.map { storageNames[$0] }), about: i)
        }
    }

    /// The instant to retry after a transient error on repository `i`'s request.
    mutating func retryInstant(_ i: Int, _ retryAfter: EngineDuration?) -> EngineInstant {
        repositories[i].apiErrors += 1
        return now + (retryAfter ?? backoff(afterFailures: repositories[i].apiErrors))
    }

    mutating func moveScheduled(_ repository: RepositoryID, _ move: MoveID) {
        guard let i = index(of: repository), repositories[i].stage == .scheduling else {
            return ignored("moveScheduled(\(repository), \(move)) answers no schedule")
        }
        repositories[i].apiErrors = 0
        // POST returns the move already `scheduled` (`schedule` runs on create, PRAEFECT.md §8).
        setStage(i, .moving(MoveProgress(
            id: move, state: .scheduled, deadline: now + moveDeadlineAfterSchedule,
            poll: .retryAt(now + plan.pollInterval))))
    }

    mutating func scheduleRefused(_ repository: RepositoryID, _ refusal: ScheduleRefusal) {
        guard let i = index(of: repository), repositories[i].stage == .scheduling else {
            return ignored("scheduleRefused(\(repository)) answers no schedule")
        }
        repositories[i].apiErrors = 0
        switch refusal {
        case .repositoryReadOnly:
            // Left read-only by an earlier failure (gitlab#385309): clear it, count an attempt.
            repositories[i].failures += 1
            clearReadOnly(i)
        case .rejected(let reason):
            // A 4xx will not change on retry; one bad project never stops the drain
            // (gitalyctl stopped on one, PRAEFECT.md §9).
            giveUp(i, "schedule refused: \(reason)")
        }
    }

    mutating func moveStatus(_ move: MoveID, _ state: MoveState) {
        guard let i = indexByMove[move] else { return ignored("status of \(move), which no repository waits on") }
        repositories[i].apiErrors = 0
        switch repositories[i].stage {
        case .moving(var progress):
            switch state {
            case .initial, .scheduled, .started, .replicated:
                progress.state = state
                progress.poll = .retryAt(now + plan.pollInterval)
                setStage(i, .moving(progress))
            case .finished, .failed, .cleanupFailed:
                moveEnded(i, move, state)
            }
        case .failing:
            switch state {
            case .finished, .failed, .cleanupFailed:
                moveEnded(i, move, state)
            case .initial, .scheduled, .started, .replicated:
                ignored("status \(state) of \(move) while failing it (a late poll)")
            }
        case .pending, .lookingUp, .scheduling, .clearingReadOnly, .waiting, .done, .givenUp:
            preconditionFailure("\(move) indexed for a repository that follows no move")
        }
    }

    /// A move reached a terminal state.
    mutating func moveEnded(_ i: Int, _ move: MoveID, _ state: MoveState) {
        let repository = repositories[i].repository
        switch state {
        case .finished:
            notice(.moveFinished(repository, move))
            setStage(i, .done(.finished(move)))
        case .cleanupFailed:
            // On the destination and writable; the source copy stays. Copying again would be
            // wrong: record it for the operator.
            notice(.sourceLeftBehind(repository, move))
            setStage(i, .done(.sourceLeftBehind(move)))
        case .failed:
            repositories[i].failures += 1
            notice(.moveFailed(repository, move, attempt: repositories[i].failures))
            // Only a failure after `started` sets the repository writable again; the engine
            // cannot know whether a poll missed `started`, so it always clears (idempotent).
            clearReadOnly(i)
        case .initial, .scheduled, .started, .replicated:
            preconditionFailure("\(move) ended in the non-terminal state \(state)")
        }
    }

    mutating func clearReadOnly(_ i: Int) {
        setStage(i, .clearingReadOnly(.awaiting))
        ask(.clearReadOnly(repositories[i].repository), about: i)
    }

    mutating func giveUp(_ i: Int, _ reason: String) {
        notice(.givenUp(repositories[i].repository, reason))
        setStage(i, .givenUp(reason))
    }

    mutating func readOnlyCleared(_ repository: RepositoryID) {
        guard let i = index(of: repository), repositories[i].stage == .clearingReadOnly(.awaiting) else {
            return ignored("readOnlyCleared(\(repository)) answers no request")
        }
        repositories[i].apiErrors = 0
        let failures = repositories[i].failures
        if failures >= plan.retry.attempts {
            giveUp(i, "\(failures) failed attempts")
        } else {
            let wait = failures == 0 ? EngineDuration.zero : backoff(afterFailures: failures)
            setStage(i, .waiting(until: now + wait, next: .schedule))
        }
    }

    mutating func existingMoves(_ repository: RepositoryID, _ lookup: RepositoryLookup) {
        guard let i = index(of: repository), repositories[i].stage == .lookingUp(.awaiting) else {
            return ignored("existingMoves(\(repository)) answers no look-up")
        }
        repositories[i].apiErrors = 0
        let live = lookup.moves.filter { !$0.state.isTerminal }.max { $0.id < $1.id }
        let last = lookup.moves.max { $0.id < $1.id }
        if let live {
            // A move exists (scheduled before a crash, or by a lost answer): follow it, never
            // schedule a second. Its deadline runs from now: when it was scheduled is unknown.
            setStage(i, .moving(MoveProgress(
                id: live.id, state: live.state, deadline: now + moveDeadlineAfterSchedule,
                poll: .retryAt(now + plan.pollInterval))))
        } else if lookup.storage != storageNames[repositories[i].source] {
            notice(.alreadyMoved(repository))
            if let last, last.state == .cleanupFailed {
                setStage(i, .done(.sourceLeftBehind(last.id)))
            } else {
                setStage(i, .done(.alreadyMoved))
            }
        } else if lookup.readOnly {
            // Read-only with no move in flight: left behind by a failure before `started`.
            clearReadOnly(i)
        } else if mayStartMoves {
            begin(i, .schedule)
        } else {
            setStage(i, .waiting(until: now, next: .schedule))
        }
    }

    mutating func repositoryAPIError(_ request: EngineRequest, _ kind: APIErrorKind) {
        switch request {
        case .setWeights:
            preconditionFailure("weights errors are the run's")
        case .lookUpMoves(let repository):
            guard let i = index(of: repository), repositories[i].stage == .lookingUp(.awaiting) else {
                return ignored("error on lookUpMoves(\(repository)), which is not outstanding")
            }
            switch kind {
            case .transient(let retryAfter): setStage(i, .lookingUp(.retryAt(retryInstant(i, retryAfter))))
            case .permanent(let reason): giveUp(i, "look-up refused: \(reason)")
            }
        case .scheduleMove(let repository):
            guard let i = index(of: repository), repositories[i].stage == .scheduling else {
                return ignored("error on scheduleMove(\(repository)), which is not outstanding")
            }
            switch kind {
            case .transient(let retryAfter):
                // A 5xx or a timeout may come after GitLab created the move: look it up before
                // scheduling again, keeping the slot meanwhile.
                setStage(i, .lookingUp(.retryAt(retryInstant(i, retryAfter))))
            case .permanent(let reason):
                scheduleRefused(repository, .rejected(reason))
            }
        case .pollMove(let move):
            guard let i = indexByMove[move], case .moving(var progress) = repositories[i].stage, progress.poll == .awaiting else {
                return ignored("error on pollMove(\(move)), which is not outstanding")
            }
            switch kind {
            case .transient(let retryAfter):
                progress.poll = .retryAt(retryInstant(i, retryAfter))
                setStage(i, .moving(progress))
            case .permanent:
                // The move is gone (404): find out from the repository what happened.
                setStage(i, .lookingUp(.awaiting))
                ask(.lookUpMoves(repositories[i].repository), about: i)
            }
        case .failMove(let move):
            guard let i = indexByMove[move], case .failing(var progress) = repositories[i].stage, progress.poll == .awaiting else {
                return ignored("error on failMove(\(move)), which is not outstanding")
            }
            switch kind {
            case .transient(let retryAfter):
                progress.poll = .retryAt(retryInstant(i, retryAfter))
                setStage(i, .failing(progress))
            case .permanent:
                // `do_fail` refused (the move ended meanwhile, or another transition is
                // invalid): poll it, and allow it one more timeout before failing it again.
                progress.poll = .awaiting
                progress.deadline = now + moveDeadlineAfterSchedule
                setStage(i, .moving(progress))
                emit(.pollMove(move))
            }
        case .clearReadOnly(let repository):
            guard let i = index(of: repository), repositories[i].stage == .clearingReadOnly(.awaiting) else {
                return ignored("error on clearReadOnly(\(repository)), which is not outstanding")
            }
            switch kind {
            case .transient(let retryAfter): setStage(i, .clearingReadOnly(.retryAt(retryInstant(i, retryAfter))))
            case .permanent(let reason):
                notice(.leftReadOnly(repository))
                giveUp(i, "read-only flag could not be cleared: \(reason)")
            }
        }
    }

    /// Moves the waits that have ended into `readyToStart`, in index order.
    mutating func takeEndedWaits() {
        while let top = waitTimers.top, top.at <= now {
            waitTimers.pop()
            guard repositories[top.repository].stage.waitsUntil == top.at else { continue }
            let lo = Self.sortedPosition(of: top.repository, in: readyToStart)
            if lo == readyToStart.count || readyToStart[lo] != top.repository { readyToStart.insert(top.repository, at: lo) }
        }
    }

    /// Sends the repository requests that are due, in the plan's order (repository index):
    /// retries, polls, and `failMove` for moves past their deadline. Polls and failures go on
    /// while paused or aborting.
    mutating func fireDueRequests() {
        var due = overdue
        overdue = []
        while let top = requestTimers.top, top.at <= now {
            requestTimers.pop()
            due.append(top.repository)
        }
        guard !due.isEmpty else { return }
        due.sort()
        var previous = -1
        for i in due where i != previous {
            previous = i
            switch repositories[i].stage {
            case .lookingUp(.retryAt(let t)) where t <= now:
                setStage(i, .lookingUp(.awaiting))
                ask(.lookUpMoves(repositories[i].repository), about: i)
            case .moving(var progress):
                if now >= progress.deadline {
                    // Stuck in initial/scheduled/started (or replicated) past the timeout: the
                    // operator's `do_fail!` (PRAEFECT.md §9); the clear follows the `failed` answer.
                    notice(.moveTimedOut(repositories[i].repository, progress.id))
                    progress.poll = .awaiting
                    setStage(i, .failing(progress))
                    emit(.failMove(progress.id))
                } else if case .retryAt(let t) = progress.poll, t <= now {
                    progress.poll = .awaiting
                    setStage(i, .moving(progress))
                    emit(.pollMove(progress.id))
                }
            case .failing(var progress):
                if case .retryAt(let t) = progress.poll, t <= now {
                    progress.poll = .awaiting
                    setStage(i, .failing(progress))
                    emit(.failMove(progress.id))
                }
            case .clearingReadOnly(.retryAt(let t)) where t <= now:
                setStage(i, .clearingReadOnly(.awaiting))
                ask(.clearReadOnly(repositories[i].repository), about: i)
            case .lookingUp, .scheduling, .clearingReadOnly, .waiting, .pending, .done, .givenUp:
                break
            }
        }
    }

    /// After a restart from the journal: every request that was awaiting an answer is asked
    /// again (the answer, if any, was lost with the process); a schedule becomes a look-up.
    mutating func reissueOutstanding() {
        for i in active {
            let repository = repositories[i].repository
            switch repositories[i].stage {
            case .lookingUp(.awaiting), .scheduling:
                setStage(i, .lookingUp(.awaiting))
                ask(.lookUpMoves(repository), about: i)
            case .moving(let progress):
                if progress.poll == .awaiting { emit(.pollMove(progress.id)) }
            case .failing(let progress):
                if progress.poll == .awaiting { emit(.failMove(progress.id)) }
            case .clearingReadOnly(.awaiting):
                ask(.clearReadOnly(repository), about: i)
            case .lookingUp(.retryAt), .clearingReadOnly(.retryAt), .waiting, .pending, .done, .givenUp:
                break
            }
        }
    }

    /// Starts repositories of the current wave while slots allow: first those waiting (retries,
    /// in plan order), then pending ones, per source storage in name order, each source's queue
    /// in plan order. A source whose next repository's destination is full waits for it.
    mutating func startRepositories() {
        // With the global limit reached nothing can start: no scan of the waiting and pending
        // repositories (a fleet of a hundred sources asks this after every answer).
        if slots.isFull(plan.limits) { return }
        takeEndedWaits()
        if !readyToStart.isEmpty {
            var kept: [Int] = []
            for i in readyToStart {
                guard case .waiting(let until, let next) = repositories[i].stage, until <= now else { continue }
                if slots.hasRoom(source: repositories[i].source, destination: repositories[i].destination, plan.limits) {
                    begin(i, next)
                } else {
                    kept.append(i)
                }
            }
            readyToStart = kept
        }
        if pending.allBlocked { return }
        let queues = pending.takeTouched()
        for (k, s) in queues.enumerated() {
            while let i = pending.head(s) {
                if slots.isFull(plan.limits) {
                    // The queues not reached are looked at once a slot frees.
                    for t in queues[k...] { pending.touch(t) }
                    return
                }
                // Blocked by its source, the queue is touched when that source's slot frees;
                // by its destination, when that destination's does.
                if let l = plan.limits.perSource, slots.perSource[repositories[i].source] >= l { break }
                if let l = plan.limits.perDestination, let d = repositories[i].destination, slots.perDestination[d] >= l {
                    pending.waits(s, on: d)
                    break
                }
                pending.advance(s)
                begin(i, .lookUp)
            }
        }
    }
}
