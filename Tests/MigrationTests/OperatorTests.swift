import Testing
@testable import Migration

@Test func pauseStopsNewMovesButKeepsPollingInFlightOnes() {
    // Goal: between pause (30 s) and resume (300 s) no repository is looked up or scheduled,
    // while the move in flight is still polled to its end. perSource 1, 71.8 s per repository
    // (EngineScenarioTests): repository 1 finishes at 71.8 s inside the pause.
    let plan = drainPlan(count: 3)
    var driver = EmbeddedDriver(gitlab: gitlab(for: plan))
    driver.inject(.operatorCommand(.pause), at: seconds(30))
    driver.inject(.operatorCommand(.resume), at: seconds(300))
    var engine = try! MigrationEngine(plan: plan)
    driver.run(&engine)
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
    var driver = EmbeddedDriver(gitlab: gitlab(for: plan))
    driver.inject(.operatorCommand(.abort), at: seconds(30))
    var engine = try! MigrationEngine(plan: plan)
    driver.run(&engine)
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
    var world = gitlab(for: plan)
    world.scripts[RepositoryID(1)] = [MoveScript(stuckIn: .started)]
    var driver = EmbeddedDriver(gitlab: world)
    driver.inject(.operatorCommand(.abort), at: seconds(30))
    var engine = try! MigrationEngine(plan: plan)
    driver.run(&engine)
    #expect(driver.times(isFail) == [seconds(3600.4)])
    #expect(driver.gitlab.move(MoveID(1))?.state == .failed)
    #expect(driver.gitlab.repositories[RepositoryID(1)]?.readOnly == false)
    #expect(driver.gitlab.movesCreated[RepositoryID(1)] == 1, "no retry after an abort")
    #expect(engine.isFinished)
}
