import SimKernel
import Testing
@testable import Migration

/// A seeded random drain: 40 repositories from three sources in two waves, to two destinations
/// or to the weights' choice; random move lengths, failures in every state, stuck moves,
/// transient API errors (some after the effect), refusals. Each decision draws from its own
/// stream.
func randomWorld(seed: UInt64) -> (MigrationPlan, FakeGitLab) {
    let streams = RandomStreams(seed: seed)
    var layout = streams.stream("migration.test.layout")
    var fates = streams.stream("migration.test.fates")
    var faults = streams.stream("migration.test.faults")
    let sources: [StorageName] = ["nfs-01", "nfs-02", "nfs-03"]
    let destinations: [StorageName?] = ["gitaly-01", "gitaly-02", nil]
    var waves: [MigrationPlan.Wave] = [.init(moves: []), .init(moves: [])]
    for r in 1...40 {
        let move = MigrationPlan.Move(
            repository: RepositoryID(Int64(r)), source: sources[layout.below(3)], destination: destinations[layout.below(3)],
            sizeBytes: Int64(1 + layout.below(1_000_000)))
        waves[r <= 20 ? 0 : 1].moves.append(move)
    }
    var plan = MigrationPlan(
        id: "random-\(seed)", initialWeights: sources.map { StorageWeight($0, 100) } + [StorageWeight("gitaly-01", 0), StorageWeight("gitaly-02", 0)],
        phases: [.init(name: "gprd", steps: [.init(weights: sources.map { StorageWeight($0, 0) } + [StorageWeight("gitaly-01", 60), StorageWeight("gitaly-02", 40)])], waves: waves)],
        limits: ConcurrencyLimits(perSource: 2, perDestination: 2, global: 5),
        readOnlyDurationMax: .minutes(20), moveTimeout: .minutes(30), pollInterval: .seconds(30),
        retry: RetryPolicy(attempts: 3, backoffBase: .seconds(30), backoffCap: .minutes(5)))
    plan.onAbort = .keepWeights
    var world = gitlab(for: plan)
    let states: [MoveState] = [.initial, .scheduled, .started, .replicated]
    for r in 1...40 {
        let id = RepositoryID(Int64(r))
        world.scripts[id] = (0..<3).map { _ in
            var script = MoveScript(scheduledFor: .seconds(Int64(1 + fates.below(30))), startedFor: .seconds(Int64(10 + fates.below(600))),
                                    replicatedFor: .seconds(Int64(1 + fates.below(30))))
            let draw = fates.nextDouble()
            if draw < 0.15 { script.failsIn = states[fates.below(4)] } else if draw < 0.22 { script.stuckIn = states[fates.below(4)] }
            return script
        }
        if faults.bernoulli(0.2) {
            world.faults[.scheduleMove(id)] = [InjectedFault(.transient(retryAfter: faults.bernoulli(0.5) ? .seconds(20) : nil), afterEffect: faults.bernoulli(0.5))]
        } else if faults.bernoulli(0.05) {
            world.faults[.scheduleMove(id)] = [InjectedFault(.permanent("422 invalid"))]
        }
        if faults.bernoulli(0.1) { world.faults[.lookUpMoves(id)] = [InjectedFault(.transient(retryAfter: nil))] }
        if faults.bernoulli(0.1) { world.faults[.clearReadOnly(id)] = [InjectedFault(.transient(retryAfter: nil), afterEffect: true)] }
        if faults.bernoulli(0.05) { world.repositories[id]!.readOnly = true }
    }
    for m in 1...80 where faults.bernoulli(0.1) {
        world.faults[.pollMove(MoveID(Int64(m)))] = [InjectedFault(.transient(retryAfter: nil))]
        world.faults[.failMove(MoveID(Int64(m)))] = [InjectedFault(.transient(retryAfter: nil), afterEffect: faults.bernoulli(0.5))]
    }
    world.faults[.setWeights] = [InjectedFault(.transient(retryAfter: .seconds(5)))]
    return (plan, world)
}

/// GitLab's live moves per source, per planned destination and in all, against the limits.
func limitProblems(_ plan: MigrationPlan, _ gitlab: FakeGitLab) -> [String] {
    var planned: [RepositoryID: MigrationPlan.Move] = [:]
    for wave in plan.phases[0].waves { for m in wave.moves { planned[m.repository] = m } }
    var perSource: [StorageName: Int] = [:], perDestination: [StorageName: Int] = [:], global = 0
    for m in gitlab.moves where !m.state.isTerminal {
        global += 1
        perSource[m.source, default: 0] += 1
        if let d = planned[m.repository]!.destination { perDestination[d, default: 0] += 1 }
    }
    var problems: [String] = []
    if global > plan.limits.global! { problems.append("\(global) moves live") }
    for (s, n) in perSource.sorted(by: { $0.key < $1.key }) where n > plan.limits.perSource! { problems.append("\(n) moves from \(s)") }
    for (d, n) in perDestination.sorted(by: { $0.key < $1.key }) where n > plan.limits.perDestination! { problems.append("\(n) moves to \(d)") }
    return problems
}

@Test(arguments: [1, 2, 3, 42, 1234, 9001, 31337, 20261129] as [UInt64])
func randomGitLabNeverSeesMoreMovesThanTheLimits(seed: UInt64) {
    // Goal: safety then liveness over random behaviour. After every input GitLab's live moves
    // are within the limits (the engine's invariants, checked too, hold); at the end every
    // repository has settled and GitLab agrees.
    let (plan, world) = randomWorld(seed: seed)
    var driver = EmbeddedDriver(gitlab: world)
    var engine = try! MigrationEngine(plan: plan)
    engine.checksInvariants = true
    driver.perform(engine.receive(.start, at: driver.now))
    var inputs = 1
    var worst: [String] = []
    while !engine.isFinished, inputs < 200_000, let (input, t) = driver.nextInput() {
        driver.perform(engine.receive(input, at: t))
        inputs += 1
        if worst.isEmpty { worst = limitProblems(plan, driver.gitlab) }
    }
    #expect(worst.isEmpty, "seed \(seed): \(worst)")
    #expect(convergenceProblems(engine, driver.gitlab).isEmpty, "seed \(seed): \(convergenceProblems(engine, driver.gitlab))")
    let given = engine.statuses.filter { if case .givenUp = $0.1 { true } else { false } }.count
    #expect(given < 40, "seed \(seed): the drain moved something")
}

@Test(arguments: [7, 8, 9, 10] as [UInt64])
func randomWorldCrashedAtRandomWritesConverges(seed: UInt64) throws {
    // Goal: the journal's promise over random behaviour: three crashes at writes drawn from the
    // seed, each resumed from the file.
    let (plan, world) = randomWorld(seed: seed)
    let (_, _, writes) = try runCrashing(plan, world, crashes: [])
    var draws = RandomStreams(seed: seed).stream("migration.test.crashes")
    let crashes = Set((0..<3).map { _ in 1 + draws.below(writes) })
    let (engine, driver, _) = try runCrashing(plan, world, crashes: crashes)
    let problems = convergenceProblems(engine, driver.gitlab)
    #expect(problems.isEmpty, "seed \(seed), crashes after writes \(crashes.sorted()) of \(writes): \(problems)")
}
