import Testing
@testable import Migration

// Scenarios through the embedded driver: a fake GitLab whose moves walk GitLab's state machine
// on a fake clock (200 ms per API call, moves of 5 s scheduled + 60 s started + 5 s replicated,
// polls every 10 s after each answer). Timings are computed by hand in each test's comment.

@Test func serialDrainTakesHandComputedTime() {
    // Goal: with perSource 1 the moves run one after the other, and the engine's own overheads
    // (look-up, schedule, poll cadence) add up as computed by hand.
    // Repository k: look-up sent at L, answered L+0.2; schedule sent L+0.2 (move created then,
    // finished 70 s later at L+70.2); answer L+0.4; polls at L+0.4+10.2j−0.2... each poll is
    // sent 10 s after the previous answer: sent at L+10.4, 20.6, ..., L+0.2+10.2j; the 7th
    // (L+71.6) is the first at or after L+70.2; its answer at L+71.8 starts the next look-up.
    // So a repository takes 71.8 s and three take 215.4 s.
    let plan = drainPlan(count: 3)
    let (engine, driver) = runDrain(plan)
    #expect(engine.isFinished)
    #expect(driver.now == seconds(215.4))
    #expect(driver.times(isSchedule) == [seconds(0.2), seconds(72.0), seconds(143.8)])
    #expect(convergenceProblems(engine, driver.gitlab).isEmpty)
    #expect(driver.gitlab.movesCreated.values.allSatisfy { $0 == 1 })
    #expect(driver.notices.first == .phaseStarted("gprd"))
    #expect(driver.notices.suffix(2) == [.phaseEnded("gprd"), .finished(aborted: false)])
}

@Test(arguments: [MoveState.scheduled, .started])
func failedMoveIsClearedAndRetriedAfterBackoff(failsIn: MoveState) {
    // Goal: a move failing before `started` leaves the repository read-only (gitlab#385309),
    // after it writable; either way the engine clears the flag, waits the backoff (1 min after
    // the first failure) and schedules again, and the second move finishes.
    let plan = drainPlan(count: 1)
    let (engine, driver) = runDrain(plan) {
        $0.scripts[RepositoryID(1)] = [MoveScript(failsIn: failsIn)]
    }
    #expect(convergenceProblems(engine, driver.gitlab).isEmpty)
    #expect(driver.gitlab.movesCreated[RepositoryID(1)] == 2)
    #expect(engine.failures(of: RepositoryID(1)) == 1)
    #expect(driver.count(isClear) == 1)
    let clears = driver.times(isClear), schedules = driver.times(isSchedule)
    // The clear is answered 200 ms after it is sent; the backoff runs from the answer.
    #expect(schedules.count == 2 && schedules[1] == clears[0] + EngineDuration(milliseconds: 200) + .minutes(1))
    #expect(driver.notices.contains(.moveFailed(RepositoryID(1), MoveID(1), attempt: 1)))
}

@Test func moveFailingInInitialIsRetried() {
    let plan = drainPlan(count: 1)
    let (engine, driver) = runDrain(plan) {
        $0.scripts[RepositoryID(1)] = [MoveScript(failsIn: .initial)]
    }
    #expect(convergenceProblems(engine, driver.gitlab).isEmpty)
    #expect(driver.gitlab.movesCreated[RepositoryID(1)] == 2)
}

@Test func cleanupFailedRecordsTheSourceLeftBehindAndDoesNotCopyAgain() {
    let plan = drainPlan(count: 2)
    let (engine, driver) = runDrain(plan) {
        $0.scripts[RepositoryID(1)] = [MoveScript(failsIn: .replicated)]
    }
    #expect(convergenceProblems(engine, driver.gitlab).isEmpty)
    #expect(engine.status(of: RepositoryID(1)) == .done(.sourceLeftBehind(MoveID(1))))
    #expect(driver.gitlab.movesCreated[RepositoryID(1)] == 1)
    #expect(driver.notices.contains(.sourceLeftBehind(RepositoryID(1), MoveID(1))))
    #expect(engine.status(of: RepositoryID(2)) == .done(.finished(MoveID(2))))
}

@Test(arguments: [MoveState.initial, .scheduled, .started])
func moveStuckBeforeReplicationTimesOutAfterOneHour(stuckIn: MoveState) {
    // Goal: gitalyctl's 1 h timeout (PRAEFECT.md §9). The schedule is answered at 0.4 s, so the
    // deadline is 3600.4 s; the engine sends `failMove` then, clears the read-only flag, and the
    // retry (1 min after the clear's answer) finishes.
    let plan = drainPlan(count: 1)
    let (engine, driver) = runDrain(plan) {
        $0.scripts[RepositoryID(1)] = [MoveScript(stuckIn: stuckIn)]
    }
    #expect(driver.times(isFail) == [seconds(3600.4)])
    #expect(driver.notices.contains(.moveTimedOut(RepositoryID(1), MoveID(1))))
    #expect(driver.gitlab.move(MoveID(1))?.state == .failed)
    #expect(convergenceProblems(engine, driver.gitlab).isEmpty)
    #expect(driver.gitlab.movesCreated[RepositoryID(1)] == 2)
}

@Test func moveStuckInReplicatedIsFailedIntoCleanupFailed() {
    let plan = drainPlan(count: 1)
    let (engine, driver) = runDrain(plan) {
        $0.scripts[RepositoryID(1)] = [MoveScript(stuckIn: .replicated)]
    }
    #expect(driver.gitlab.move(MoveID(1))?.state == .cleanupFailed)
    #expect(engine.status(of: RepositoryID(1)) == .done(.sourceLeftBehind(MoveID(1))))
    #expect(convergenceProblems(engine, driver.gitlab).isEmpty)
}

@Test func repositoryFailingEveryAttemptIsGivenUpAndTheDrainGoesOn() {
    // Goal: one bad project never stops the drain (gitalyctl's failure mode, PRAEFECT.md §9).
    // Three attempts fail; the waits between them are 1 min and 2 min (base 1 min, doubling);
    // after the third the repository is given up. A repository waiting out its backoff holds no
    // slot; two slots here, so only the backoff paces the retries.
    let plan = drainPlan(count: 2, limits: ConcurrencyLimits(perSource: 2))
    let (engine, driver) = runDrain(plan) {
        $0.scripts[RepositoryID(1)] = Array(repeating: MoveScript(failsIn: .started), count: 3)
    }
    #expect(engine.status(of: RepositoryID(1)) == .givenUp("3 failed attempts"))
    #expect(engine.status(of: RepositoryID(2)) == .done(.finished(MoveID(2))))
    let clears = driver.times(isClear)
    let schedules = driver.times { $0 == .scheduleMove(RepositoryID(1), source: "nfs-01", destination: "gitaly-01") }
    #expect(schedules.count == 3 && clears.count == 3)
    let answer = EngineDuration(milliseconds: 200)
    #expect(schedules[1] == clears[0] + answer + .minutes(1))
    #expect(schedules[2] == clears[1] + answer + .minutes(2))
    #expect(convergenceProblems(engine, driver.gitlab).isEmpty)
}

@Test func backoffDoublesUpToItsCap() {
    let retry = RetryPolicy(attempts: 5, backoffBase: .minutes(1), backoffCap: .minutes(5))
    #expect((1...6).map { retry.backoff(afterFailures: $0) } == [.minutes(1), .minutes(2), .minutes(4), .minutes(5), .minutes(5), .minutes(5)])
}

@Test func transientErrorAfterTheMoveWasCreatedIsLookedUpNotScheduledAgain() {
    // Goal: a 5xx on POST after GitLab created the move: the engine looks up (after the
    // server's Retry-After, 30 s), finds the move and follows it; one move in all.
    let plan = drainPlan(count: 1)
    let (engine, driver) = runDrain(plan) {
        $0.faults[.scheduleMove(RepositoryID(1))] = [InjectedFault(.transient(retryAfter: .seconds(30)), afterEffect: true)]
    }
    #expect(driver.gitlab.movesCreated[RepositoryID(1)] == 1)
    #expect(driver.count(isSchedule) == 1)
    // Look-ups at 0 and at the error's arrival (0.4 s) + 30 s.
    #expect(driver.times(isLookUp) == [seconds(0), seconds(30.4)])
    #expect(convergenceProblems(engine, driver.gitlab).isEmpty)
}

@Test func transientErrorBeforeTheMoveWasCreatedSchedulesOnce() {
    let plan = drainPlan(count: 1)
    let (engine, driver) = runDrain(plan) {
        $0.faults[.scheduleMove(RepositoryID(1))] = [InjectedFault(.transient(retryAfter: nil))]
        $0.faults[.pollMove(MoveID(1))] = [InjectedFault(.transient(retryAfter: nil)), InjectedFault(.transient(retryAfter: nil))]
    }
    #expect(driver.gitlab.movesCreated[RepositoryID(1)] == 1)
    #expect(driver.count(isSchedule) == 2)
    #expect(convergenceProblems(engine, driver.gitlab).isEmpty)
}

@Test func permanentRefusalGivesUpThatRepositoryOnly() {
    let plan = drainPlan(count: 2)
    let (engine, driver) = runDrain(plan) {
        $0.faults[.scheduleMove(RepositoryID(1))] = [InjectedFault(.permanent("422 invalid project"))]
    }
    #expect(engine.status(of: RepositoryID(1)) == .givenUp("schedule refused: 422 invalid project"))
    #expect(engine.status(of: RepositoryID(2)) == .done(.finished(MoveID(1))))
    #expect(convergenceProblems(engine, driver.gitlab).isEmpty)
}

@Test func repositoryLeftReadOnlyBeforeTheRunIsClearedThenMoved() {
    let plan = drainPlan(count: 1)
    let (engine, driver) = runDrain(plan) {
        $0.repositories[RepositoryID(1)]!.readOnly = true
    }
    #expect(driver.count(isClear) == 1)
    #expect(engine.failures(of: RepositoryID(1)) == 0)
    #expect(convergenceProblems(engine, driver.gitlab).isEmpty)
}

@Test func destinationLeftToWeightsFollowsTheHeaviestStorage() {
    let plan = drainPlan(count: 2, destination: nil, steps: [.init(weights: [StorageWeight("nfs-01", 0), StorageWeight("gitaly-01", 100)])])
    let (engine, driver) = runDrain(plan)
    #expect(driver.gitlab.repositories.values.allSatisfy { $0.storage == "gitaly-01" })
    #expect(convergenceProblems(engine, driver.gitlab).isEmpty)
}

@Test func newMovesStartOnlyInsideMaintenanceWindows() {
    // Window [100 s, 200 s): the first look-up waits for 100 s; the second repository's
    // look-up would come at 171.8 s (71.8 s per repository), inside; a third one at 243.6 s is
    // outside and waits for the next window at 1000 s.
    let windows = [MaintenanceWindow(start: seconds(100), end: seconds(200)), MaintenanceWindow(start: seconds(1000), end: seconds(2000))]
    let plan = drainPlan(count: 3, windows: windows)
    let (engine, driver) = runDrain(plan)
    #expect(driver.times(isLookUp) == [seconds(100), seconds(171.8), seconds(1000)])
    #expect(convergenceProblems(engine, driver.gitlab).isEmpty)
}
