import Testing
@testable import Migration

/// Six repositories meeting most of what can go wrong: a move failing before `started`, one
/// stuck past its timeout, a `cleanup_failed`, a 5xx after the move was created, one left
/// read-only before the run, one plain. Polls every minute and a 10-minute timeout keep the
/// journal short enough to crash after each of its writes.
func troubledWorld() -> (MigrationPlan, FakeGitLab) {
    var plan = drainPlan(count: 6, limits: ConcurrencyLimits(perSource: 2), steps: [.init(weights: after)])
    plan.pollInterval = .minutes(1)
    plan.moveTimeout = .minutes(10)
    var world = gitlab(for: plan)
    world.scripts[RepositoryID(2)] = [MoveScript(failsIn: .scheduled)]
    world.scripts[RepositoryID(3)] = [MoveScript(stuckIn: .started)]
    world.scripts[RepositoryID(4)] = [MoveScript(failsIn: .replicated)]
    world.faults[.scheduleMove(RepositoryID(5))] = [InjectedFault(.transient(retryAfter: nil), afterEffect: true)]
    world.repositories[RepositoryID(6)]!.readOnly = true
    return (plan, world)
}

/// Runs `plan` against `world` through a journal; after each journal write whose number is in
/// `crashes`, performs only the first `(write mod 3)` of its effectful actions, loses every
/// answer on its way, and resumes from the journal file. Returns the engine, the driver and the
/// number of journal writes.
func runCrashing(_ plan: MigrationPlan, _ world: FakeGitLab, crashes: Set<Int>) throws -> (MigrationEngine, EmbeddedDriver, Int) {
    let path = temporaryJournalPath("crash")
    defer { removeJournal(path) }
    var driver = EmbeddedDriver(gitlab: world)
    var journalled = try JournalledEngine(path: path, plan: plan, durable: false)
    var next: (EngineInput, EngineInstant)? = (.start, driver.now)
    var writes = 0
    while let (input, at) = next, writes < 10_000 {
        let actions = try journalled.receive(input, at: at)
        writes += 1
        if crashes.contains(writes) {
            driver.perform(actions, limit: writes % 3)
            driver.crash()
            journalled = try JournalledEngine(path: path, plan: plan, durable: false)
            next = (.start, driver.now)
            continue
        }
        driver.perform(actions)
        if journalled.engine.isFinished { break }
        next = driver.nextInput()
    }
    return (journalled.engine, driver, writes)
}

@Test func crashAfterEveryJournalWriteThenResumeConverges() throws {
    // Goal: the journal's promise. Method: run once without a crash and count the journal's
    // writes N; then for each k in 1...N run again from scratch, crash right after write k
    // (with none, one or two of its actions performed), resume from the file, and check
    // convergence: every repository settled as in the run without a crash, GitLab agreeing
    // (done = off its source, given up = still on it), no move live, none left read-only, and
    // the fake GitLab never saw a second move of a repository while one was live or after one
    // finished (no move scheduled twice, none forgotten).
    let (plan, world) = troubledWorld()
    let (reference, referenceDriver, writes) = try runCrashing(plan, world, crashes: [])
    #expect(convergenceProblems(reference, referenceDriver.gitlab).isEmpty)
    #expect(writes > 40, "the scenario exercises the journal (\(writes) writes)")
    let outcome = reference.statuses.map { "\($0.0): \($0.1.rank)" }
    for k in 1...writes {
        let (engine, driver, _) = try runCrashing(plan, world, crashes: [k])
        let problems = convergenceProblems(engine, driver.gitlab)
        #expect(problems.isEmpty, "crash after journal write \(k) of \(writes): \(problems)")
        #expect(engine.statuses.map { "\($0.0): \($0.1.rank)" } == outcome, "crash after journal write \(k)")
        #expect(driver.gitlab.movesCreated.values.reduce(0, +) <= referenceDriver.gitlab.movesCreated.values.reduce(0, +) + 1,
                "crash after journal write \(k): \(driver.gitlab.movesCreated)")
    }
}

@Test func crashesInARowDuringRecoveryStillConverge() throws {
    // Goal: a crash while recovering from a crash. Method: crash after writes k, k+1 and k+2
    // (the resumed `start` and what follows it), for k every seventh write.
    let (plan, world) = troubledWorld()
    let (_, _, writes) = try runCrashing(plan, world, crashes: [])
    for k in stride(from: 1, through: writes, by: 7) {
        let (engine, driver, _) = try runCrashing(plan, world, crashes: [k, k + 1, k + 2])
        let problems = convergenceProblems(engine, driver.gitlab)
        #expect(problems.isEmpty, "crashes after journal writes \(k)...\(k + 2): \(problems)")
    }
}
