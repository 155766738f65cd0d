import Testing
@testable import Migration

// Answers fed by hand to the engine alone, for the paths a fake GitLab rarely takes.

/// An engine with repository 1 scheduled as move 1 at 400 ms (polls every 10 s, timeout 1 h).
func engineWithMoveInFlight() -> MigrationEngine {
    var engine = try! MigrationEngine(plan: drainPlan(count: 2))
    #expect(effects(engine.receive(.start, at: ms(0))) == [.lookUpMoves(RepositoryID(1))])
    let lookup = RepositoryLookup(storage: "nfs-01", readOnly: false, moves: [ExistingMove(id: MoveID(9), state: .failed)])
    #expect(effects(engine.receive(.existingMoves(RepositoryID(1), lookup), at: ms(200)))
            == [.scheduleMove(RepositoryID(1), source: "nfs-01", destination: "gitaly-01")])
    let scheduled = engine.receive(.moveScheduled(RepositoryID(1), MoveID(1)), at: ms(400))
    #expect(scheduled.last == .wait(until: ms(10_400)))
    return engine
}

@Test func everyNonTerminalStateKeepsPollingAndEveryTerminalOneEndsTheMove() {
    for state in MoveState.allCases {
        var engine = engineWithMoveInFlight()
        let actions = engine.receive(.moveStatus(MoveID(1), state), at: ms(10_600))
        switch state {
        case .initial, .scheduled, .started, .replicated:
            #expect(engine.status(of: RepositoryID(1)) == .inFlight)
            #expect(actions.last == .wait(until: ms(20_600)), "\(state): next poll 10 s after the answer")
        case .finished:
            #expect(engine.status(of: RepositoryID(1)) == .done(.finished(MoveID(1))))
            #expect(effects(actions) == [.lookUpMoves(RepositoryID(2))])
        case .failed:
            // Clearing holds no slot: the next repository starts meanwhile.
            #expect(effects(actions) == [.clearReadOnly(RepositoryID(1)), .lookUpMoves(RepositoryID(2))])
            #expect(engine.failures(of: RepositoryID(1)) == 1)
        case .cleanupFailed:
            #expect(engine.status(of: RepositoryID(1)) == .done(.sourceLeftBehind(MoveID(1))))
        }
    }
}

@Test func scheduleRefusedForReadOnlyClearsThenRetriesAfterBackoff() {
    var engine = try! MigrationEngine(plan: drainPlan(count: 1))
    _ = engine.receive(.start, at: ms(0))
    _ = engine.receive(.existingMoves(RepositoryID(1), RepositoryLookup(storage: "nfs-01", readOnly: false, moves: [])), at: ms(200))
    #expect(effects(engine.receive(.scheduleRefused(RepositoryID(1), .repositoryReadOnly), at: ms(400))) == [.clearReadOnly(RepositoryID(1))])
    #expect(engine.receive(.readOnlyCleared(RepositoryID(1)), at: ms(600)).last == .wait(until: ms(60_600)))
    #expect(effects(engine.receive(.tick, at: ms(60_600))) == [.scheduleMove(RepositoryID(1), source: "nfs-01", destination: "gitaly-01")])
}

@Test func pollOfAVanishedMoveLooksTheRepositoryUp() {
    var engine = engineWithMoveInFlight()
    #expect(effects(engine.receive(.tick, at: ms(10_400))) == [.pollMove(MoveID(1))])
    #expect(effects(engine.receive(.apiError(.pollMove(MoveID(1)), .permanent("404")), at: ms(10_600))) == [.lookUpMoves(RepositoryID(1))])
    let moved = RepositoryLookup(storage: "gitaly-01", readOnly: false, moves: [ExistingMove(id: MoveID(1), state: .finished)])
    _ = engine.receive(.existingMoves(RepositoryID(1), moved), at: ms(10_800))
    #expect(engine.status(of: RepositoryID(1)) == .done(.alreadyMoved))
}

@Test func refusedFailMoveIsPolledAndGivenAnotherTimeout() {
    var engine = engineWithMoveInFlight()
    // Deadline 400 ms + 1 h.
    #expect(effects(engine.receive(.tick, at: ms(3_600_400))) == [.failMove(MoveID(1))])
    let refused = engine.receive(.apiError(.failMove(MoveID(1)), .permanent("422 finished already")), at: ms(3_600_600))
    #expect(effects(refused) == [.pollMove(MoveID(1))])
    _ = engine.receive(.moveStatus(MoveID(1), .finished), at: ms(3_600_800))
    #expect(engine.status(of: RepositoryID(1)) == .done(.finished(MoveID(1))))
}

@Test func lateAndDuplicatedAnswersAreIgnored() {
    var engine = engineWithMoveInFlight()
    let before = engine.tally
    let late = engine.receive(.moveScheduled(RepositoryID(1), MoveID(2)), at: ms(500))
    #expect(effects(late).isEmpty && late.contains { if case .notice(.ignored) = $0 { true } else { false } })
    #expect(effects(engine.receive(.moveStatus(MoveID(77), .finished), at: ms(600))).isEmpty)
    #expect(effects(engine.receive(.weightsApplied, at: ms(700))).isEmpty)
    #expect(engine.tally == before)
}

@Test func transientErrorsBackOffPerRequestAndHonourRetryAfter() {
    var engine = try! MigrationEngine(plan: drainPlan(count: 1))
    _ = engine.receive(.start, at: ms(0))
    // Base 1 min, doubling: the first error waits 1 min, the second 2 min; Retry-After wins.
    #expect(engine.receive(.apiError(.lookUpMoves(RepositoryID(1)), .transient(retryAfter: nil)), at: ms(200)).last == .wait(until: ms(60_200)))
    _ = engine.receive(.tick, at: ms(60_200))
    #expect(engine.receive(.apiError(.lookUpMoves(RepositoryID(1)), .transient(retryAfter: nil)), at: ms(60_400)).last == .wait(until: ms(180_400)))
    _ = engine.receive(.tick, at: ms(180_400))
    #expect(engine.receive(.apiError(.lookUpMoves(RepositoryID(1)), .transient(retryAfter: .seconds(7))), at: ms(180_600)).last == .wait(until: ms(187_600)))
    #expect(engine.movesInFlight == 1, "the slot is held through the retries")
}

@Test func planMovingARepositoryTwiceIsRefused() {
    var plan = drainPlan(count: 2)
    plan.phases[0].waves.append(.init(moves: [plan.phases[0].waves[0].moves[0]]))
    #expect(throws: MigrationPlanError.duplicateRepository(RepositoryID(1))) { _ = try MigrationEngine(plan: plan) }
}
