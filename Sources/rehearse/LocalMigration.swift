import Experiments
import Foundation
import LocalGit
import Migration
import Planner
import SpecFiles

/// `migrate --driver local-git` and `migrate resume`: a plan carried out on real bare
/// repositories through the engine and its journal. Everything the plan names is checked
/// against the local GitLab before the first move.
struct LocalMigration {
    var journal: String
    var state: String
    var workers: Int
    /// PUBLIC name, ASSUMED value: gitalyctl polls each move (`move_status_update`), 10 s.
    var pollInterval = EngineDuration.seconds(10)
    var retryBackoff = EngineDuration.minutes(1)
    var retryAttempts: Int?

    func start(planFile: String, dryRun: Bool) async throws {
        guard let data = FileManager.default.contents(atPath: planFile) else { throw InputError("\(planFile): cannot read the file") }
        let plan: Plan
        do { plan = try Plan.decode(data, file: planFile) } catch let e as SpecError { throw InputError(e.description) }
        // The engine's windows are laid out from a simulated Monday; a real run has a calendar.
        guard plan.maintenanceWindows.isEmpty else { throw InputError("\(planFile): maintenanceWindows: the local-git driver runs no maintenance windows; plan without them") }
        // A gate needs monitoring samples, which local storages do not have.
        if let p = plan.phases.first(where: { $0.gate != nil }) {
            throw InputError("\(planFile): phase \(p.name) has a gate; the local-git driver has no monitoring to feed it: plan without gates")
        }
        var engineInput = MigrationPlan(plan, id: URL(fileURLWithPath: planFile).deletingPathExtension().lastPathComponent)
        engineInput.pollInterval = pollInterval
        engineInput.retry.backoffBase = retryBackoff
        engineInput.retry.backoffCap = EngineDuration(milliseconds: retryBackoff.milliseconds * 30)
        if let n = retryAttempts { engineInput.retry.attempts = n }
        let gitlab = try openState()
        try check(engineInput, against: gitlab, file: planFile)
        if dryRun {
            var lines: [String] = []
            for phase in engineInput.phases {
                for step in phase.steps { lines.append("phase \(phase.name): set weights " + step.weights.map { "\($0.storage.name)=\($0.weight)" }.joined(separator: " ")) }
                for (w, wave) in phase.waves.enumerated() {
                    for m in wave.moves { lines.append("phase \(phase.name) wave \(w + 1): move repository \(m.repository.value) \(m.source.name) → \(m.destination?.name ?? "(by weight)")") }
                }
            }
            print((lines + ["dry run: \(engineInput.phases.reduce(0) { $0 + $1.waves.reduce(0) { $0 + $1.moves.count } }) moves, none made"]).joined(separator: "\n"))
            return
        }
        try await run(engineInput, gitlab: gitlab)
    }

    func openState() throws -> LocalGitLab {
        do { return try LocalGitLab(path: state) } catch let e as LocalGitLab.Failure { throw InputError(e.description) }
    }

    /// Every storage and repository the plan names exists in the local GitLab.
    func check(_ plan: MigrationPlan, against gitlab: LocalGitLab, file: String) throws {
        let storages = Set(try gitlab.storages().map(\.name))
        let known = storages.sorted().joined(separator: ", ")
        let repositories = Set(try gitlab.repositories().map(\.id))
        func storage(_ name: String, _ field: String) throws {
            guard storages.contains(name) else { throw InputError("\(file): \(field): storage \"\(name)\" is not a local storage (\(known))") }
        }
        for w in plan.initialWeights { try storage(w.storage.name, "initialWeights") }
        for (p, phase) in plan.phases.enumerated() {
            for step in phase.steps { for w in step.weights { try storage(w.storage.name, "phases[\(p)].weightSteps") } }
            for (w, wave) in phase.waves.enumerated() {
                for m in wave.moves {
                    let field = "phases[\(p)].waves[\(w)]"
                    try storage(m.source.name, field)
                    if let d = m.destination { try storage(d.name, field) }
                    guard repositories.contains(m.repository) else { throw InputError("\(file): \(field): repository \(m.repository.value) is not in \(state)") }
                }
            }
        }
    }

    func run(_ plan: MigrationPlan, gitlab: LocalGitLab? = nil, commands: [OperatorCommand] = []) async throws {
        let gitlab = try gitlab ?? openState()
        try check(plan, against: gitlab, file: journal)
        var engine: JournalledEngine
        do { engine = try JournalledEngine(path: journal, plan: plan) } catch { throw InputError("\(journal): \(error)") }
        let log: @Sendable (String) -> Void = { FileHandle.standardError.write(Data("migrate: \($0)\n".utf8)) }
        let driver = LocalGitDriver(gitlab: gitlab, workers: workers, log: log)
        let ending = try await driver.run(&engine, commands: commands)
        let t = engine.engine.tally
        let how: String
        switch ending {
        case .finished(let aborted): how = aborted ? "aborted" : "finished"
        case .paused(let why): how = "paused (\(why)); `rehearse migrate resume --journal \(journal) --state \(state)` goes on"
        }
        print("plan \(plan.id): \(how); done \(t.done), given up \(t.givenUp), pending \(t.pending), in flight \(t.inFlight)")
    }
}
