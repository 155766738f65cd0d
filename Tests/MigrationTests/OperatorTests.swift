import Testing
@testable import Migration

@Test func pauseStopsNewMovesButKeepsPollingInFlightOnes() {
    // Goal: between pause (30 s) and resume (300 s) no repository is looked up or scheduled,
    // while the move in flight is still polled to its end. perSource 1, 71.8 s per repository
    // (EngineScenarioTests): repository 1 finishes at 71.8 s inside the pause.
    let plan = drainPlan(count: 3)
    let (engine, driver) = runDrain(plan, injected: [(seconds(30), .operatorCommand(.pause)), (seconds(300), .operatorCommand(.resume))])
    let inPause = driver.performed.filter { $0.at > seconds(30) && $0.at < seconds(300) }.map(\.action)
    #expect(!inPause.contains(where: isLookUp) && !inPause.contains(where: isSchedule))
    #expect(inPause.contains(where: isPoll))
    #expect(engine.status(of: RepositoryID(1)) == .done(.finished(MoveID(1))))
    #expect(driver.times(isLookUp)[1] == seconds(300))
    #expect(convergenceProblems(engine, driver.gitlab).isEmpty)
}

@Test(arguments: [AbortPolicy.rollbackWeights, .keepWeights])
func abortLetsInFlightMovesFinishThenRestoresTheWeights(policy: AbortPolicy) {
    // Goal: abort at 30 s: repositories 1 and 2 (perSource 2) are in flight and finish; 3 and 4
    // never start; then the weights go back to the initial ones (or stay, per policy).
    let plan = drainPlan(count: 4, limits: ConcurrencyLimits(perSource: 2), steps: [.init(weights: after)], onAbort: policy)
    let (engine, driver) = runDrain(plan, injected: [(seconds(30), .operatorCommand(.abort))])
    #expect(engine.isFinished)
    #expect(driver.notices.last == .finished(aborted: true))
    #expect(engine.status(of: RepositoryID(1)) == .done(.finished(MoveID(1))))
    #expect(engine.status(of: RepositoryID(2)) == .done(.finished(MoveID(2))))
    #expect(engine.status(of: RepositoryID(3)) == .pending && engine.status(of: RepositoryID(4)) == .pending)
    #expect(driver.gitlab.weights == (policy == .rollbackWeights ? plan.initialWeights : after))
    #expect(driver.gitlab.moves.allSatisfy { $0.state == .finished })
}

@Test func abortWaitsForAStuckMoveToTimeOut() {
    let plan = drainPlan(count: 2)
    let (engine, driver) = runDrain(plan, injected: [(seconds(30), .operatorCommand(.abort))]) {
        $0.scripts[RepositoryID(1)] = [MoveScript(stuckIn: .started)]
    }
    #expect(driver.times(isFail) == [seconds(3600.4)])
    #expect(driver.gitlab.move(MoveID(1))?.state == .failed)
    #expect(driver.gitlab.repositories[RepositoryID(1)]?.readOnly == false)
    #expect(driver.gitlab.movesCreated[RepositoryID(1)] == 1, "no retry after an abort")
    #expect(engine.isFinished)
}

@Test func abortBeforeStartFinishesWithoutActing() {
    var engine = try! MigrationEngine(plan: drainPlan(count: 2, steps: [.init(weights: after)]))
    #expect(effects(engine.receive(.operatorCommand(.abort), at: ms(0))).isEmpty)
    let started = engine.receive(.start, at: ms(10))
    #expect(effects(started).isEmpty && started.contains(.notice(.finished(aborted: true))))
    #expect(engine.isFinished && engine.tally == StatusTally(pending: 2))
}
