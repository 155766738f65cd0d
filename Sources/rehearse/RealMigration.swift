import Experiments
import Foundation
import GitLabAPI
import LocalGit
import Migration
import Planner
import SpecFiles

/// `migrate --driver local-git|gitlab`, `migrate resume` and `migrate abort`: a plan carried out
/// for real through the engine and its journal, on bare repositories in storage folders or
/// through a GitLab's API. Everything the plan names is checked against the target before the
/// first move.
struct RealMigration {
    /// Where the moves happen.
    enum Target {
        /// A local GitLab state (`inventory scan --state`) and the workers that run its moves.
        case localGit(state: String, workers: Int)
        /// A GitLab at `url`, the token's file (nil: `GITLAB_TOKEN`), requests in flight at once.
        case gitlab(url: String, tokenFile: String?, concurrency: Int)
    }

    var journal: String
    var target: Target
    /// PUBLIC name, ASSUMED value: gitalyctl polls each move (`move_status_update`), 10 s.
    var pollInterval = EngineDuration.seconds(10)
    var retryBackoff = EngineDuration.minutes(1)
    var retryAttempts: Int?

    var driverName: String {
        switch target {
        case .localGit: "local-git"
        case .gitlab: "gitlab"
        }
    }

    func start(planFile: String, dryRun: Bool) async throws {
        guard let data = FileManager.default.contents(atPath: planFile) else { throw InputError("\(planFile): cannot read the file") }
        let plan: Plan
        do { plan = try Plan.decode(data, file: planFile) } catch let e as SpecError { throw InputError(e.description) }
        // The engine's windows are laid out from a simulated Monday; a real run has a calendar.
        guard plan.maintenanceWindows.isEmpty else { throw InputError("\(planFile): maintenanceWindows: the \(driverName) driver runs no maintenance windows; plan without them") }
        // A gate needs monitoring samples, which neither driver has a source of yet.
        if let p = plan.phases.first(where: { $0.gate != nil }) {
            throw InputError("\(planFile): phase \(p.name) has a gate; the \(driverName) driver has no monitoring to feed it: plan without gates")
        }
        var engineInput = MigrationPlan(plan, id: URL(fileURLWithPath: planFile).deletingPathExtension().lastPathComponent)
        engineInput.pollInterval = pollInterval
        engineInput.retry.backoffBase = retryBackoff
        engineInput.retry.backoffCap = EngineDuration(milliseconds: retryBackoff.milliseconds * 30)
        if let n = retryAttempts { engineInput.retry.attempts = n }
        if dryRun {
            // A dry run reads the target (the state, or GitLab's settings) and changes nothing.
            let describe = try await check(engineInput, file: planFile)
            var lines: [String] = []
            for phase in engineInput.phases {
                for step in phase.steps { lines.append("phase \(phase.name): " + describe(.setWeights(step.weights))) }
                for (w, wave) in phase.waves.enumerated() {
                    for m in wave.moves { lines.append("phase \(phase.name) wave \(w + 1): " + describe(.scheduleMove(m.repository, source: m.source, destination: m.destination))) }
                }
            }
            print((lines + ["dry run: \(engineInput.moveCount) moves, none made"]).joined(separator: "\n"))
            return
        }
        try await run(engineInput, checkedAgainst: planFile)
    }

    /// Checks the plan against the target and returns how each of its requests reads.
    @discardableResult
    func check(_ plan: MigrationPlan, file: String) async throws -> (EngineAction) -> String {
        switch target {
        case .localGit(let state, _):
            try Self.check(plan, against: try Self.openState(state), state: state, file: file)
            return { action in
                switch action {
                case .setWeights(let w): "set weights " + w.map { "\($0.storage.name)=\($0.weight)" }.joined(separator: " ")
                case .scheduleMove(let r, let source, let destination): "move repository \(r.value) \(source.name) → \(destination?.name ?? "(by weight)")"
                default: "\(action)"
                }
            }
        case .gitlab:
            let driver = try gitLabDriver(plan)
            do { try await driver.preflight(storages: Self.storages(of: plan)) } catch { throw InputError("\(file): \(error)") }
            return driver.describe
        }
    }

    static func openState(_ state: String) throws -> LocalGitLab {
        do { return try LocalGitLab(path: state) } catch let e as LocalGitLab.Failure { throw InputError(e.description) }
    }

    /// Every storage the plan names.
    static func storages(of plan: MigrationPlan) -> Set<StorageName> {
        var names = Set(plan.initialWeights.map(\.storage))
        for phase in plan.phases {
            for step in phase.steps { names.formUnion(step.weights.map(\.storage)) }
            for wave in phase.waves { for m in wave.moves { names.insert(m.source); if let d = m.destination { names.insert(d) } } }
        }
        return names
    }

    /// Every storage and repository the plan names exists in the local GitLab.
    static func check(_ plan: MigrationPlan, against gitlab: LocalGitLab, state: String, file: String) throws {
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

    func gitLabDriver(_ plan: MigrationPlan) throws -> GitLabDriver {
        guard case .gitlab(let url, let tokenFile, let concurrency) = target else { preconditionFailure("not a gitlab target") }
        let client: GitLabClient
        do { client = try GitLabClient(baseURL: url, token: try Self.token(file: tokenFile)) } catch let e as GitLabError { throw InputError("--gitlab \(url): \(e)") }
        do { return try GitLabDriver(client: client, plan: plan, concurrency: concurrency, log: Self.log) } catch { throw InputError("\(journal): \(error)") }
    }

    /// The token from its file (first line) or from `GITLAB_TOKEN`; never printed.
    static func token(file: String?) throws -> GitLabToken {
        if let file {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw InputError("--token-file \(file): cannot read the file") }
            let line = text.split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            guard !line.isEmpty else { throw InputError("--token-file \(file): the file is empty") }
            return GitLabToken(line)
        }
        guard let env = ProcessInfo.processInfo.environment["GITLAB_TOKEN"], !env.isEmpty else {
            throw InputError("no GitLab token: set GITLAB_TOKEN or give --token-file (an administrator's personal access token with the api scope)")
        }
        return GitLabToken(env)
    }

    static let log: @Sendable (String) -> Void = { FileHandle.standardError.write(Data("migrate: \($0)\n".utf8)) }

    /// Runs (or resumes, or with `commands` aborts) the plan; `file` names it in errors.
    func run(_ plan: MigrationPlan, checkedAgainst file: String? = nil, commands: [OperatorCommand] = []) async throws {
        try await check(plan, file: file ?? journal)
        var engine: JournalledEngine
        do { engine = try JournalledEngine(path: journal, plan: plan) } catch { throw InputError("\(journal): \(error)") }
        let ending: EngineRunner.Ending
        let resume: String
        switch target {
        case .localGit(let state, let workers):
            ending = try await LocalGitDriver(gitlab: try Self.openState(state), workers: workers, log: Self.log).run(&engine, commands: commands)
            resume = "--state \(state)"
        case .gitlab(let url, let tokenFile, _):
            do { ending = try await gitLabDriver(plan).run(&engine, commands: commands) } catch let e as GitLabDriverError {
                throw InputError("\(e); the journal keeps its place: fix it, then `rehearse migrate resume --journal \(journal) --gitlab \(url)`")
            }
            resume = "--gitlab \(url)" + (tokenFile.map { " --token-file \($0)" } ?? "")
        }
        let t = engine.engine.tally
        let how: String
        switch ending {
        case .finished(let aborted): how = aborted ? "aborted" : "finished"
        case .paused(let why): how = "paused (\(why)); `rehearse migrate resume --journal \(journal) \(resume)` goes on"
        }
        print("plan \(plan.id): \(how); done \(t.done), given up \(t.givenUp), pending \(t.pending), in flight \(t.inFlight)")
    }
}
