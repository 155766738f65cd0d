import Foundation
@testable import Migration

func ms(_ m: Int64) -> EngineInstant { EngineInstant(milliseconds: m) }
func seconds(_ s: Double) -> EngineInstant { EngineInstant(milliseconds: Int64((s * 1000).rounded())) }

/// A one-phase, one-wave drain of `count` repositories (ids 1...count) from `source` to
/// `destination`, each of 1 MB.
func drainPlan(
    count: Int, source: StorageName = "nfs-01", destination: StorageName? = "gitaly-01",
    limits: ConcurrencyLimits = ConcurrencyLimits(perSource: 1), steps: [MigrationPlan.WeightStep] = [],
    retry: RetryPolicy = RetryPolicy(), onAbort: AbortPolicy = .rollbackWeights,
    windows: [MaintenanceWindow] = []
) -> MigrationPlan {
    let moves = (1...count).map {
        MigrationPlan.Move(repository: RepositoryID(Int64($0)), source: source, destination: destination, sizeBytes: 1_000_000)
    }
    return MigrationPlan(
        id: "drain-\(source)", initialWeights: [StorageWeight(source, 100), StorageWeight("gitaly-01", 0)],
        phases: [.init(name: "gprd", steps: steps, waves: [.init(moves: moves)])],
        limits: limits, retry: retry, maintenanceWindows: windows, onAbort: onAbort)
}

/// A fake GitLab holding every repository of `plan` on its source storage.
func gitlab(for plan: MigrationPlan, script: MoveScript = MoveScript()) -> FakeGitLab {
    var repositories: [RepositoryID: FakeGitLab.Repository] = [:]
    for phase in plan.phases { for wave in phase.waves { for m in wave.moves { repositories[m.repository] = .init(storage: m.source) } } }
    return FakeGitLab(repositories: repositories, weights: plan.initialWeights, defaultScript: script)
}

/// Runs `plan` to its end against a fake GitLab holding its repositories, after `configure`
/// has set scripts, faults and flags and `injected` inputs are queued.
func runDrain(
    _ plan: MigrationPlan, injected: [(EngineInstant, EngineInput)] = [], configure: (inout FakeGitLab) -> Void = { _ in }
) -> (MigrationEngine, EmbeddedDriver) {
    var world = gitlab(for: plan)
    configure(&world)
    var driver = EmbeddedDriver(gitlab: world)
    for (at, input) in injected { driver.inject(input, at: at) }
    var engine = try! MigrationEngine(plan: plan)
    driver.run(&engine)
    return (engine, driver)
}

extension EmbeddedDriver {
    /// The instants at which actions matching `predicate` were performed.
    func times(_ predicate: (EngineAction) -> Bool) -> [EngineInstant] {
        performed.filter { predicate($0.action) }.map(\.at)
    }

    func count(_ predicate: (EngineAction) -> Bool) -> Int { performed.filter { predicate($0.action) }.count }
}

func isSchedule(_ a: EngineAction) -> Bool { if case .scheduleMove = a { true } else { false } }
func isLookUp(_ a: EngineAction) -> Bool { if case .lookUpMoves = a { true } else { false } }
func isPoll(_ a: EngineAction) -> Bool { if case .pollMove = a { true } else { false } }
func isFail(_ a: EngineAction) -> Bool { if case .failMove = a { true } else { false } }
func isClear(_ a: EngineAction) -> Bool { if case .clearReadOnly = a { true } else { false } }

/// The effectful actions among `actions`.
func effects(_ actions: [EngineAction]) -> [EngineAction] { actions.filter(\.hasOutsideEffect) }

/// A fresh path for a journal in the temporary directory.
func temporaryJournalPath(_ name: String) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rehearse-migration-tests-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let path = dir.appendingPathComponent("\(name)-\(UUID().uuidString).sqlite").path
    return path
}

/// Deletes a journal and its WAL files (the crash tests write hundreds).
func removeJournal(_ path: String) {
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
}

/// Convergence after a run: every repository settled, GitLab agreeing with the engine, no move
/// left live, no repository left read-only, nothing a real GitLab would suffer.
func convergenceProblems(_ engine: MigrationEngine, _ gitlab: FakeGitLab) -> [String] {
    var problems = gitlab.violations
    if !engine.isFinished { problems.append("the engine did not finish") }
    for m in gitlab.moves where !m.state.isTerminal { problems.append("\(m.id) of \(m.repository) left \(m.state)") }
    for phase in engine.plan.phases {
        for wave in phase.waves {
            for m in wave.moves {
                let repo = gitlab.repositories[m.repository]!
                if repo.readOnly { problems.append("\(m.repository) left read-only") }
                switch engine.status(of: m.repository)! {
                case .done:
                    if repo.storage == m.source { problems.append("\(m.repository) done but still on \(m.source)") }
                    if let d = m.destination, repo.storage != d { problems.append("\(m.repository) done but on \(repo.storage)") }
                case .givenUp:
                    if repo.storage != m.source { problems.append("\(m.repository) given up but moved (a move forgotten)") }
                case .pending, .inFlight:
                    problems.append("\(m.repository) not settled")
                }
            }
        }
    }
    return problems
}
