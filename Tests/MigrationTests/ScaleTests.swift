import Testing
@testable import Migration

@Test func lockstepDrainOfTwoThousandRepositoriesTakesBatchesTimesTheSerialTime() {
    // Goal: the engine's cost does not grow with the plan (it runs with invariants on), and the
    // closed form holds at scale. With perSource 10 and identical moves, ten repositories start
    // together and finish together, so N repositories take N/10 times the 71.8 s one takes
    // alone (EngineScenarioTests.serialDrainTakesHandComputedTime): 200 × 71.8 s = 14,360 s.
    let plan = drainPlan(count: 2000, limits: ConcurrencyLimits(perSource: 10))
    let (engine, driver) = runDrain(plan)
    #expect(engine.tally == StatusTally(done: 2000))
    #expect(driver.now == seconds(200 * 71.8))
    #expect(driver.gitlab.violations.isEmpty)
}

@Test func anEnginesRecordOfARepositoryTakesAtMostSixtyFourBytes() {
    // Goal: the engine's per-repository record stays within the size the GitLab.com-scale bar
    // was measured with (ten million of them; BENCHMARKS.md). A field added, or one put back
    // between a move's id and its deadline, grows it to 72 bytes: 80 MB more at that scale.
    #expect(MemoryLayout<RepositoryRecord>.stride <= 64, "\(MemoryLayout<RepositoryRecord>.stride) bytes")
}
