import Testing
@testable import Migration

// Gates fed by hand: the engine alone, inputs and instants written out, so every deadline and
// action below is computed by hand from the plan.

let before = [StorageWeight("nfs-01", 100), StorageWeight("gitaly-01", 0)]
let half = [StorageWeight("nfs-01", 50), StorageWeight("gitaly-01", 50)]
let after = [StorageWeight("nfs-01", 0), StorageWeight("gitaly-01", 100)]

/// Steps: half (no gate), then `after` gated on apdex ≥ 0.9 and error ratio ≤ 0.01 for 10 min.
func gatedPlan(_ onFailure: GateFailureAction) -> MigrationPlan {
    let gate = Gate(checks: [GateCheck(.apdexMin, 0.9), GateCheck(.errorRatioMax, 0.01)], soak: .minutes(10), onFailure: onFailure)
    return drainPlan(count: 1, steps: [.init(weights: half), .init(weights: after, gate: gate)])
}

/// Runs the plan to the soak of its gated step: weights applied at 1 s then 2 s.
func engineSoakingGate(_ onFailure: GateFailureAction) -> MigrationEngine {
    var engine = try! MigrationEngine(plan: gatedPlan(onFailure))
    #expect(effects(engine.receive(.start, at: ms(0))) == [.setWeights(half)])
    #expect(effects(engine.receive(.weightsApplied, at: ms(1000))) == [.setWeights(after)])
    let soaking = engine.receive(.weightsApplied, at: ms(2000))
    #expect(effects(soaking).isEmpty)
    #expect(soaking.last == .wait(until: ms(602_000)))
    return engine
}

@Test func gateHeldForItsSoakLetsTheWavesStart() {
    var engine = engineSoakingGate(.pause)
    _ = engine.receive(.metricSample(.apdexMin, value: 0.9, measuredAt: ms(2000)), at: ms(2500))
    _ = engine.receive(.metricSample(.errorRatioMax, value: 0.01, measuredAt: ms(300_000)), at: ms(300_100))
    // A sample measured before the step was applied does not count, good or bad.
    _ = engine.receive(.metricSample(.apdexMin, value: 0.1, measuredAt: ms(1500)), at: ms(300_200))
    #expect(effects(engine.receive(.tick, at: ms(601_999))).isEmpty)
    let passed = engine.receive(.tick, at: ms(602_000))
    #expect(passed.contains(.notice(.gatePassed(phase: "gprd", step: 1))))
    #expect(effects(passed) == [.lookUpMoves(RepositoryID(1))])
}

@Test func gateViolationPausesWithoutTouchingWeights() {
    var engine = engineSoakingGate(.pause)
    let failed = engine.receive(.metricSample(.errorRatioMax, value: 0.05, measuredAt: ms(10_000)), at: ms(10_100))
    #expect(failed.contains(.notice(.gateFailed(phase: "gprd", step: 1, metric: .errorRatioMax, value: 0.05))))
    #expect(effects(failed).isEmpty)
    #expect(engine.isPaused)
    #expect(effects(engine.receive(.tick, at: ms(700_000))).isEmpty, "paused: no moves")
    // Resume applies the step again and soaks afresh from its answer.
    #expect(effects(engine.receive(.operatorCommand(.resume), at: ms(800_000))) == [.setWeights(after)])
    #expect(engine.receive(.weightsApplied, at: ms(801_000)).last == .wait(until: ms(1_401_000)))
}

@Test func gateViolationRollsTheWeightsBackToThePreviousStep() {
    var engine = engineSoakingGate(.rollbackWeights)
    let failed = engine.receive(.metricSample(.apdexMin, value: 0.85, measuredAt: ms(3000)), at: ms(3000))
    #expect(effects(failed) == [.setWeights(half)])
    #expect(engine.isPaused)
    #expect(effects(engine.receive(.weightsApplied, at: ms(3200))).isEmpty, "stays paused with the previous weights")
    #expect(effects(engine.receive(.operatorCommand(.resume), at: ms(10_000))) == [.setWeights(after)])
}

@Test func gateWithoutSamplesFailsAtTheEndOfItsSoak() {
    var engine = engineSoakingGate(.pause)
    _ = engine.receive(.metricSample(.apdexMin, value: 0.99, measuredAt: ms(5000)), at: ms(5000))
    #expect(!engine.isPaused)
    let end = engine.receive(.tick, at: ms(602_000))
    #expect(end.contains(.notice(.gateFailed(phase: "gprd", step: 1, metric: .errorRatioMax, value: nil))))
    #expect(engine.isPaused)
}

@Test func firstStepRollsBackToTheInitialWeights() {
    let gate = Gate(checks: [GateCheck(.diskFillMax, 0.8)], soak: .minutes(1), onFailure: .rollbackWeights)
    let plan = drainPlan(count: 1, steps: [.init(weights: half, gate: gate)])
    var engine = try! MigrationEngine(plan: plan)
    _ = engine.receive(.start, at: ms(0))
    _ = engine.receive(.weightsApplied, at: ms(100))
    let failed = engine.receive(.metricSample(.diskFillMax, value: 0.81, measuredAt: ms(200)), at: ms(200))
    #expect(effects(failed) == [.setWeights(before)])
}

@Test func metricKindsCompareTheRightWay() {
    #expect(MetricKind.apdexMin.holds(0.9, limit: 0.9) && !MetricKind.apdexMin.holds(0.89, limit: 0.9))
    for kind in [MetricKind.errorRatioMax, .replicationLagSecondsMax, .diskFillMax] {
        #expect(kind.holds(5, limit: 5) && !kind.holds(5.01, limit: 5))
    }
}

@Test func gateFailingUnderTheDriverRollsGitLabsWeightsBackAndHoldsTheMoves() {
    // Goal: the whole loop. Steps `half` then `after` (gated, rollback); weights reach GitLab at
    // 0.2 s and 0.4 s; a bad apdex measured at 60 s arrives at 61 s: GitLab's weights go back to
    // `half` and nothing moves until the operator resumes at 3600 s; then the step is applied
    // again (at 3600 s, answered 3600.2 s), soaks 10 min on good samples and the drain runs.
    let plan = gatedPlan(.rollbackWeights)
    var injected: [(EngineInstant, EngineInput)] = [
        (seconds(61), .metricSample(.apdexMin, value: 0.5, measuredAt: seconds(60))),
        (seconds(3600), .operatorCommand(.resume)),
    ]
    for minute in stride(from: 3601.0, through: 4300, by: 60) {
        injected.append((seconds(minute), .metricSample(.apdexMin, value: 0.95, measuredAt: seconds(minute))))
        injected.append((seconds(minute), .metricSample(.errorRatioMax, value: 0.001, measuredAt: seconds(minute))))
    }
    let (engine, driver) = runDrain(plan, injected: injected)
    let weights = driver.performed.compactMap { if case .setWeights(let w) = $0.action { ($0.at, w) } else { nil } }
    #expect(weights.map(\.0) == [seconds(0), seconds(0.2), seconds(61), seconds(3600)])
    #expect(weights.map(\.1) == [half, after, half, after])
    #expect(driver.notices.contains(.gateFailed(phase: "gprd", step: 1, metric: .apdexMin, value: 0.5)))
    // Soak from the answer at 3600.2 s for 10 min: the first look-up at 4200.2 s.
    #expect(driver.times(isLookUp) == [seconds(4200.2)])
    #expect(driver.gitlab.weights == after)
    #expect(convergenceProblems(engine, driver.gitlab).isEmpty)
}

/// Goal: a windowed gate judges ratios over trailing windows weighted by their requests, and
/// gauges sample by sample. Method: the gated step soaks 10 min from 2 s with a 5 min window;
/// error-ratio samples at 2 s + k min, k = 1...10, each over 100 requests, all 0 but k = 2.
/// Judged at k ≥ 5 over samples k−4...k. By hand: a 0.04 at k = 2 over 100 requests gives
/// 4 / 500 = 0.008 ≤ 0.01 at k = 5 and 6 (passes, where a sample alone fails); over 200
/// requests it gives 8 / 600 = 0.01333 > 0.01 at k = 5 (fails there, not before).
struct WindowedGateTests {
    func engine(window: EngineDuration?) -> MigrationEngine {
        let gate = Gate(checks: [GateCheck(.errorRatioMax, 0.01), GateCheck(.diskFillMax, 0.8)], soak: .minutes(10), onFailure: .pause, window: window)
        var engine = try! MigrationEngine(plan: drainPlan(count: 1, steps: [.init(weights: after, gate: gate)]))
        _ = engine.receive(.start, at: ms(0))
        _ = engine.receive(.weightsApplied, at: ms(2000))
        return engine
    }

    /// Feeds minutes 1...10 (stopping at a pause) and returns the notices' gate verdict.
    func soak(_ engine: inout MigrationEngine, badCount: Double?, count: Double? = 100) -> [EngineNotice] {
        var notices: [EngineNotice] = []
        for k in 1...10 {
            let at = ms(2000 + Int64(k) * 60_000)
            let value = k == 2 ? 0.04 : 0
            for a in engine.receive(.metricSample(.errorRatioMax, value: value, measuredAt: at, count: k == 2 ? badCount : count), at: at) {
                if case .notice(let n) = a { notices.append(n) }
            }
            for a in engine.receive(.metricSample(.diskFillMax, value: 0.5, measuredAt: at), at: at) { if case .notice(let n) = a { notices.append(n) } }
            if engine.isPaused { break }
        }
        return notices
    }

    @Test func aBriefSpikeWithinTheWindowsBudgetPasses() {
        var e = engine(window: .minutes(5))
        #expect(soak(&e, badCount: 100).contains(.gatePassed(phase: "gprd", step: 0)))
        #expect(!e.isPaused)
        // Each sample alone: the spike fails the gate at k = 2.
        var single = engine(window: nil)
        #expect(soak(&single, badCount: 100) == [.gateFailed(phase: "gprd", step: 0, metric: .errorRatioMax, value: 0.04),
                                                  .paused("gate after step 0 of phase gprd failed on errorRatioMax")])
    }

    @Test func aSpikeOverMoreRequestsFailsTheWindowWhenItFills() {
        var e = engine(window: .minutes(5))
        let notices = soak(&e, badCount: 200)
        #expect(notices.contains(.gateFailed(phase: "gprd", step: 0, metric: .errorRatioMax, value: 8.0 / 600)))
        #expect(e.isPaused)
        // Samples without counts weigh one each: 0.04 / 5 = 0.008 passes.
        var unweighted = engine(window: .minutes(5))
        #expect(soak(&unweighted, badCount: nil, count: nil).contains(.gatePassed(phase: "gprd", step: 0)))
    }

    @Test func gaugesAreJudgedSampleBySampleEvenWithAWindow() {
        var e = engine(window: .minutes(5))
        let at = ms(62_000)
        let failed = e.receive(.metricSample(.diskFillMax, value: 0.81, measuredAt: at), at: at)
        #expect(failed.contains(.notice(.gateFailed(phase: "gprd", step: 0, metric: .diskFillMax, value: 0.81))))
    }

    @Test func aWindowThatNeverFillsFailsAtTheEndOfTheSoak() {
        var e = engine(window: .minutes(5))
        for k in 1...4 {
            let at = ms(2000 + Int64(k) * 60_000)
            _ = e.receive(.metricSample(.errorRatioMax, value: 0, measuredAt: at, count: 100), at: at)
            _ = e.receive(.metricSample(.diskFillMax, value: 0.5, measuredAt: at), at: at)
        }
        let end = e.receive(.tick, at: ms(602_000))
        #expect(end.contains(.notice(.gateFailed(phase: "gprd", step: 0, metric: .errorRatioMax, value: nil))))
    }
}

/// Goal: a wave's gate holds the next wave for its soak from the moment the wave settled, and a
/// violation there pauses the run (nothing to roll back: the moves are done). Method: two
/// repositories in two waves, the phase's gate (apdex ≥ 0.9, 10 min soak) on each wave, no
/// weight steps, samples every minute for two hours. By hand: with good samples the second
/// repository's look-up comes 10 min after the first wave's last answer (its last poll plus
/// the answer's latency, under 1 s); with bad samples the run pauses after the first wave and
/// never looks the second repository up.
struct WaveGateTests {
    func plan() -> MigrationPlan {
        var plan = drainPlan(count: 2)
        let gate = Gate(checks: [GateCheck(.apdexMin, 0.9)], soak: .minutes(10), onFailure: .pause)
        let moves = plan.phases[0].waves[0].moves
        plan.phases[0].waves = [.init(moves: [moves[0]], gate: gate), .init(moves: [moves[1]], gate: gate)]
        return plan
    }

    func samples(apdex: Double) -> [(EngineInstant, EngineInput)] {
        stride(from: 60.0, through: 7200, by: 60).map { (seconds($0), .metricSample(.apdexMin, value: apdex, measuredAt: seconds($0))) }
    }

    @Test func theNextWaveWaitsForTheSoak() {
        let (engine, driver) = runDrain(plan(), injected: samples(apdex: 0.95))
        #expect(engine.isFinished)
        #expect(driver.notices.filter { if case .waveGatePassed = $0 { true } else { false } } == [.waveGatePassed(phase: "gprd", wave: 0), .waveGatePassed(phase: "gprd", wave: 1)])
        let lookUps = driver.times(isLookUp), polls = driver.times(isPoll).filter { $0 < lookUps[1] }
        let gap = lookUps[1].milliseconds - polls.last!.milliseconds
        #expect(gap >= 600_000 && gap < 601_000, "second look-up \(gap) ms after the first wave's last poll")
    }

    @Test func aFailingWaveGatePausesBeforeTheNextWave() {
        let (engine, driver) = runDrain(plan(), injected: samples(apdex: 0.5))
        #expect(engine.isPaused && !engine.isFinished)
        #expect(driver.notices.contains(.waveGateFailed(phase: "gprd", wave: 0, metric: .apdexMin, value: 0.5)))
        #expect(driver.times(isLookUp).count == 1, "the second wave never starts")
    }
}

/// Goal: a soak as long as its window is judged once, at its end, though no sample falls on
/// that instant. Method: a 5 min soak and window from 2 s, samples at whole minutes 1...5
/// (60 s ... 300 s, all before the soak's end at 302 s), error ratios 0 but one of 0.04 over
/// the same 100 requests: the end's window (2 s, 302 s] holds all five, 0.04 / 5 = 0.008.
@Test func aSoakAsLongAsItsWindowIsJudgedAtItsEnd() {
    let gate = Gate(checks: [GateCheck(.errorRatioMax, 0.01)], soak: .minutes(5), onFailure: .pause, window: .minutes(5))
    for (bad, passes) in [(0.04, true), (0.06, false)] {
        var engine = try! MigrationEngine(plan: drainPlan(count: 1, steps: [.init(weights: after, gate: gate)]))
        _ = engine.receive(.start, at: ms(0))
        _ = engine.receive(.weightsApplied, at: ms(2000))
        for k in 1...5 {
            let at = ms(Int64(k) * 60_000)
            _ = engine.receive(.metricSample(.errorRatioMax, value: k == 3 ? bad : 0, measuredAt: at, count: 100), at: at)
        }
        let end = engine.receive(.tick, at: ms(302_000))
        #expect(end.contains(.notice(.gatePassed(phase: "gprd", step: 0))) == passes)
        #expect(end.contains(.notice(.gateFailed(phase: "gprd", step: 0, metric: .errorRatioMax, value: bad / 5))) == !passes)
    }
}
