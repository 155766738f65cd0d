import ArgumentParser
import Bench
import Experiments
import Foundation
import GitalyModel
import GitLabAPI
import Inventory
import LocalGit
import Migration
import Planner
import SimKernel
import SpecFiles
import Traffic

/// `rehearse migrate`: plan a migration and run it through the migration engine against a
/// driver, or read a journal's state.
struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Run a storage migration through the migration engine, or show a journal's state.",
        subcommands: [Run.self, Resume.self, Abort.self, Status.self],
        defaultSubcommand: Run.self)

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Plan a migration and run it against the simulated fleet: a prediction of one run.",
            discussion: """
                The planner makes the plan from the inventory, the fleet model and the policy; the \
                migration engine carries it out through the simulated GitLab, under traffic from a \
                profile (--profile with --hours) or a trace (--db), or under none. The world's \
                repositories are the inventory's. The run ends when the engine finishes, when a \
                failed gate pauses it (no operator resumes it in a simulation), or at --hours.
                """)

        @Option(help: ArgumentHelp("Where the migration runs: `simulated` (a prediction), `local-git` (bare repositories in storage folders, for real) or `gitlab` (a GitLab's API, for real).", valueName: "driver"))
        var driver: String = "simulated"

        @Option(help: ArgumentHelp("simulated: the fleet model (YAML, schema in models/README.md).", valueName: "file"))
        var model: String?

        @Option(help: ArgumentHelp("simulated: the repositories (CSV, or JSON when it ends in .json).", valueName: "file"))
        var inventory: String?

        @Option(help: ArgumentHelp("simulated: the migration policy (YAML, schema in models/policies/README.md).", valueName: "file"))
        var policy: String?

        @Option(help: ArgumentHelp("local-git, gitlab: the plan to carry out (`rehearse plan --out`).", valueName: "file"))
        var plan: String?

        @Option(help: ArgumentHelp("local-git, gitlab: the migration's journal (SQLite); `migrate resume` goes on from it.", valueName: "file"))
        var journal: String?

        @OptionGroup var target: RealTargetOptions

        @Flag(help: "local-git, gitlab: check the plan against the target, print the requests it would make, and make none.")
        var dryRun = false

        @Option(help: ArgumentHelp("local-git, gitlab: how often a move in flight is polled (gitalyctl's move_status_update).", valueName: "duration"))
        var pollInterval: String = "10s"

        @Option(help: ArgumentHelp("local-git, gitlab: the first wait before a failed move is tried again (doubling, capped at 30 times it).", valueName: "duration"))
        var retryBackoff: String = "1m"

        @Option(help: ArgumentHelp("local-git, gitlab: attempts per repository before it is given up (default: the engine's 3).", valueName: "n"))
        var retryAttempts: Int?

        @Option(help: ArgumentHelp("Draw synthetic traffic from this profile (needs --hours).", valueName: "path"))
        var profile: String?

        @Option(help: ArgumentHelp("Replay this trace database as traffic.", valueName: "path"))
        var db: String?

        @Option(parsing: .unconditional, help: ArgumentHelp("Simulated hours at most (and of profile traffic).", valueName: "hours"))
        var hours: Double?

        @Option(parsing: .unconditional, help: ArgumentHelp("Seed of the run; the same seed gives the same result.", valueName: "seed"), transform: parseSeed)
        var seed: UInt64 = 1

        @OptionGroup var invariants: InvariantChecks

        @Flag(help: "Print one JSON object instead of text.")
        var json = false

        func validate() throws {
            switch driver {
            case "simulated":
                for (flag, value) in [("--model", model), ("--inventory", inventory), ("--policy", policy)] where value == nil {
                    throw InputError("\(flag) is required with --driver simulated")
                }
            case "local-git", "gitlab":
                for (flag, value) in [("--plan", plan), ("--journal", journal)] where value == nil {
                    throw InputError("\(flag) is required with --driver \(driver)")
                }
                try target.check(driver: driver)
                _ = try Self.duration(pollInterval, "--poll-interval")
                _ = try Self.duration(retryBackoff, "--retry-backoff")
                if let n = retryAttempts, !(1...1000).contains(n) { throw InputError("--retry-attempts must be 1 to 1000, got \(n)") }
                return
            default:
                throw InputError("--driver \(driver): use simulated, local-git or gitlab")
            }
            guard db == nil || profile == nil else { throw InputError("give at most one of --db (a trace) or --profile (synthetic traffic)") }
            if profile != nil, hours == nil { throw InputError("--hours is required with --profile: synthetic traffic needs a length") }
            if let hours { try Limits.check(hours: hours) }
        }

        func run() async throws {
            if driver != "simulated" {
                var real = RealMigration(journal: journal!, target: try target.target(driver: driver))
                real.pollInterval = try Self.duration(pollInterval, "--poll-interval")
                real.retryBackoff = try Self.duration(retryBackoff, "--retry-backoff")
                real.retryAttempts = retryAttempts
                return try await real.start(planFile: plan!, dryRun: dryRun)
            }
            let (model, inventory, policy) = (self.model!, self.inventory!, self.policy!)
            let setup: MigrationSetup
            do {
                let spec = try FleetSpec.load(path: model)
                let planFleet = PlanFleet(try Fleet.build(spec))
                let inv = try loadInventory(inventory, knownStorages: planFleet.storages.map(\.name))
                guard let policyText = try? String(contentsOfFile: policy, encoding: .utf8) else { throw InputError("\(policy): cannot read the file") }
                setup = try MigrationSetup(spec: spec, planFleet: planFleet, inventory: inv, inventoryPath: inventory, policy: try Policy.parse(policyText, file: policy),
                                           planID: URL(fileURLWithPath: policy).deletingPathExtension().lastPathComponent)
            } catch let e as SpecError {
                throw InputError(e.description)
            } catch let e as PlanError {
                throw InputError(e.description)
            }
            let plan = setup.planTotals
            var config = WorldConfig(seed: seed)
            config.checkInvariants = invariants.checkInvariants
            var run = try MigrationRun(fleet: setup.fleet, config: config, plan: setup.engineInput, repositoryIDs: setup.repositoryIDs)
            let horizon = hours.map { SimTime.hours($0) } ?? .max
            let wall0 = Probes.wallSeconds()
            var lastProgress = wall0
            let progress: (Double) -> Void = { simulated in
                let now = Probes.wallSeconds()
                guard now - wall0 > 2, now - lastProgress > 1 else { return }
                lastProgress = now
                FileHandle.standardError.write(Data("migrate: \(fixed(simulated / 3600, 1)) simulated hours, \(fixed(now - wall0, 1)) s wall\n".utf8))
            }
            let outcome: MigrationOutcome
            do {
                if let db {
                    var source: TraceReplay? = try TraceReplay(store: TraceCommand.openStore(db, access: .readWrite), target: run.target, options: ReplayOptions())
                    outcome = try run.run(traffic: &source, horizon: horizon, progress: progress)
                } else if let path = profile {
                    let p = try TrafficProfile.decode(yaml: TextFile.read(path: path), path: path)
                    var source: SyntheticTraffic? = try SyntheticTraffic(profile: p, target: run.target, horizon: horizon, growth: 1, seed: seed)
                    outcome = try run.run(traffic: &source, horizon: horizon, progress: progress)
                } else {
                    var none: SyntheticTraffic? = nil
                    outcome = try run.run(traffic: &none, horizon: horizon, progress: progress)
                }
            } catch let e as InputError {
                throw e
            } catch {
                throw TraceCommand.inputError(error)
            }
            let wall = Probes.wallSeconds() - wall0
            print(json ? Self.json(outcome.summary, wall: wall) : Self.text(outcome, plan: plan, wall: wall))
        }

        /// A positive duration flag ("250ms", "10s") as the engine's.
        static func duration(_ text: String, _ flag: String) throws -> EngineDuration {
            guard let s = Units.seconds(text), s > 0, s <= 86_400 else { throw InputError("\(flag) \(text): expected a duration above 0 and at most a day, like 250ms or 10s") }
            return EngineDuration(milliseconds: Int64((s * 1000).rounded()))
        }

        /// The `--json` object: `MigrationSummary`'s fields in a fixed order, then `wall_seconds`.
        static func json(_ s: MigrationSummary, wall: Double) -> String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let body = (try? encoder.encode(s)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            return String(body.dropLast()) + ",\"wall_seconds\":\(jsonNumber(wall))}"
        }

        static func text(_ o: MigrationOutcome, plan: PlanTotals, wall: Double) -> String {
            let s = o.summary
            var lines = [
                "seed \(s.seed): \(plan.moves) moves planned, \(ByteText.decimal(plan.bytes)) (planner's estimate \(ByteText.duration(plan.estimatedSeconds)))",
                "  duration             " + (s.durationSeconds.map { "\(ByteText.duration($0))" + (o.aborted ? " (aborted)" : "") } ?? ("not finished within \(fixed(o.simulatedSeconds / 3600, 1)) simulated hours" + (o.pausedBecause.map { "; paused: \($0)" } ?? ""))),
                "  moves                \(s.movesFinished) finished, \(s.movesFailed) failed attempts, \(o.movesTimedOut) timed out, \(o.repositoriesGivenUp) given up",
                "  bytes moved          \(ByteText.decimal(s.bytesMoved))",
                "  write-unavailable    \(fixed(s.writeUnavailableRepositorySeconds, 1)) repository-seconds; longest read-only \(fixed(s.maxReadOnlySeconds, 1)) s",
                "  writes               \(s.acknowledgedWrites) acknowledged, \(s.lostWrites) lost",
                "  left read-only       \(s.repositoriesLeftReadOnly)",
            ]
            for p in s.phases {
                lines.append("  phase \(p.name.padding(toLength: 14, withPad: " ", startingAt: 0)) \(fixed(p.startSeconds / 3600, 2)) h → " + (p.endSeconds.map { "\(fixed($0 / 3600, 2)) h" } ?? "not ended"))
            }
            lines.append("  events               \(s.events) in \(fixed(wall, 2)) s wall")
            return lines.joined(separator: "\n")
        }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "resume",
            abstract: "Go on with a local-git or gitlab migration from its journal (after a crash, a pause or an interruption).")

        @Option(help: ArgumentHelp("The migration's journal (SQLite).", valueName: "file"))
        var journal: String

        @OptionGroup var target: RealTargetOptions

        func validate() throws { try target.check(driver: nil) }

        func run() async throws {
            try await RealMigration(journal: journal, target: try target.target(driver: nil)).run(try Self.journalledPlan(journal))
        }

        static func journalledPlan(_ journal: String) throws -> MigrationPlan {
            guard FileManager.default.fileExists(atPath: journal) else { throw InputError("\(journal): no such journal") }
            do { return try MigrationJournal.plan(inJournalAt: journal) } catch { throw InputError("\(journal): \(error)") }
        }
    }

    struct Abort: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "abort",
            abstract: "Abort a local-git or gitlab migration: no new move starts, moves in flight settle, the weights go back as the plan says.")

        @Option(help: ArgumentHelp("The migration's journal (SQLite).", valueName: "file"))
        var journal: String

        @OptionGroup var target: RealTargetOptions

        func validate() throws { try target.check(driver: nil) }

        func run() async throws {
            try await RealMigration(journal: journal, target: try target.target(driver: nil)).run(try Resume.journalledPlan(journal), commands: [.abort])
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "Show where a journalled migration stands: repositories pending, in flight, done, given up.")

        @Option(help: ArgumentHelp("The migration's journal (SQLite).", valueName: "file"))
        var journal: String

        func run() throws {
            guard FileManager.default.fileExists(atPath: journal) else { throw InputError("\(journal): no such journal") }
            let engine: MigrationEngine
            do {
                let plan = try MigrationJournal.plan(inJournalAt: journal)
                engine = try MigrationJournal(path: journal, plan: plan).replay(plan: plan)
            } catch {
                throw InputError("\(error)")
            }
            let t = engine.tally
            print("""
                \(journal): plan \(engine.plan.id), \(engine.isFinished ? "finished" : engine.isPaused ? "paused" : "running")
                  pending \(t.pending), in flight \(t.inFlight), done \(t.done), given up \(t.givenUp)
                """)
        }
    }
}

/// Where a real migration runs: a local GitLab state (`--state`, with `--workers`) or a GitLab
/// (`--gitlab`, with `--token-file` or `GITLAB_TOKEN`, and `--api-concurrency`).
struct RealTargetOptions: ParsableArguments {
    @Option(help: ArgumentHelp("local-git: the local GitLab state (`inventory scan --state`).", valueName: "file"))
    var state: String?

    @Option(help: ArgumentHelp("local-git: workers running moves (Sidekiq's threads).", valueName: "n"))
    var workers: Int = 4

    @Option(help: ArgumentHelp("gitlab: the GitLab's address, like https://gitlab.example.com (its API is under /api/v4).", valueName: "url"))
    var gitlab: String?

    @Option(help: ArgumentHelp("gitlab: a file whose first line is an administrator's token (default: the GITLAB_TOKEN variable).", valueName: "file"))
    var tokenFile: String?

    @Option(help: ArgumentHelp("gitlab: API requests in flight at once.", valueName: "n"))
    var apiConcurrency: Int = 8

    /// With `driver` nil (resume, abort), the target is the one whose flag is given.
    func check(driver: String?) throws {
        switch driver ?? (gitlab != nil ? "gitlab" : "local-git") {
        case "local-git":
            guard state != nil else { throw InputError(driver == nil ? "give --state (local-git) or --gitlab (gitlab)" : "--state is required with --driver local-git") }
            guard gitlab == nil else { throw InputError("give --state (local-git) or --gitlab (gitlab), not both") }
            guard (1...256).contains(workers) else { throw InputError("--workers must be 1 to 256, got \(workers)") }
        default:
            guard gitlab != nil else { throw InputError("--gitlab is required with --driver gitlab") }
            guard state == nil else { throw InputError("give --state (local-git) or --gitlab (gitlab), not both") }
            guard (1...64).contains(apiConcurrency) else { throw InputError("--api-concurrency must be 1 to 64, got \(apiConcurrency)") }
        }
    }

    func target(driver: String?) throws -> RealMigration.Target {
        try check(driver: driver)
        if let gitlab { return .gitlab(url: gitlab, tokenFile: tokenFile, concurrency: apiConcurrency) }
        return .localGit(state: state!, workers: workers)
    }
}
