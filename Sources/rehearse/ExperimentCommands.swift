import ArgumentParser
import Experiments
import Foundation
import Planner
import Report
import SpecFiles
import Synchronization

/// Loads an experiment and builds its runner; every input problem becomes one line, exit 2.
func experimentRunner(_ path: String, _ invariants: InvariantChecks) throws -> ExperimentRunner {
    var runner = try experimentInput(path) { try ExperimentRunner(Experiment.load(path: path)) }
    runner.checkInvariants = invariants.checkInvariants
    return runner
}

/// `--check-invariants`, the same in every command that simulates: the world's invariants
/// checked after every event. A debugging aid, off unless asked for: it costs a tenth of a
/// GitLab.com-size replication (BENCHMARKS.md) and changes no result. The tests and
/// `make check` turn it on.
struct InvariantChecks: ParsableArguments {
    @Flag(help: "Check the world's invariants after every event (slower; for debugging a model; the results are the same).")
    var checkInvariants = false
}

/// Reads the experiment at `path`, or builds a runner for it or one point of its sweep,
/// with every input problem one line, exit 2.
func experimentInput<T>(_ path: String, _ make: () throws -> T) throws -> T {
    do {
        return try make()
    } catch let e as SpecError {
        throw InputError(e.description)
    } catch let e as PlanError {
        throw InputError("\(path): \(e.description)")
    } catch let e as InputError {
        throw e
    } catch {
        throw TraceCommand.inputError(error)
    }
}

/// Runs an experiment's replications with a progress line on stderr once a run takes long.
func runReplications(_ runner: ExperimentRunner, replications: Int, seed: UInt64, hours: Double, threads: Int, label: String) throws -> ExperimentResults {
    try runReplications(runner, indices: Array(0..<replications), seed: seed, hours: hours, threads: threads, label: label)
}

/// The replications numbered `indices`, with progress on stderr.
func runReplications(_ runner: ExperimentRunner, indices: [Int], seed: UInt64, hours: Double, threads: Int, label: String) throws -> ExperimentResults {
    let start = Date()
    let lastReport = LockedDate()
    do {
        return try runner.run(indices: indices, seed: seed, hours: hours, threads: threads) { p in
            let now = Date()
            let last = p.done == p.total && p.simulatedHours == nil
            guard now.timeIntervalSince(start) > 2, lastReport.advance(to: now, every: 1) || last else { return }
            let within = p.simulatedHours.map { ", one at \(fixed($0, 0)) of \(fixed(hours, 0)) simulated hours" } ?? ""
            printError("\(label): \(p.done)/\(p.total) replications\(within), \(fixed(now.timeIntervalSince(start), 1)) s")
        }
    } catch let e as SpecError {
        throw InputError(e.description)
    } catch let e as InputError {
        throw e
    } catch {
        throw TraceCommand.inputError(error)
    }
}

/// The flags every experiment command shares, checked the same way.
/// A results-database call whose refusals (not a results database, no run, a stored claim
/// that no longer parses) become one line, exit 2.
func resultsStore<T>(_ call: () throws -> T) throws -> T {
    do {
        return try call()
    } catch let e as ResultsStoreError {
        throw InputError(e.description)
    } catch let e as SpecError {
        throw InputError(e.description)
    }
}

func checkRunFlags(replications: Int?, threads: Int, db: String?) throws {
    if let replications, !(1...Experiment.maxReplications).contains(replications) {
        throw InputError("--replications must be between 1 and \(Experiment.maxReplications), got \(replications)")
    }
    guard (1...1024).contains(threads) else { throw InputError("--threads must be between 1 and 1024, got \(threads)") }
    if let db { guard db != ":memory:", !db.isEmpty else { throw InputError("--db needs a file path") } }
}

/// The last time a progress line was printed, shared by the replication threads.
final class LockedDate: Sendable {
    private let last = Mutex(Date.distantPast)
    func advance(to now: Date, every seconds: Double) -> Bool {
        last.withLock { last in
            guard now.timeIntervalSince(last) >= seconds else { return false }
            last = now
            return true
        }
    }
}

/// `rehearse run`: one experiment's Monte Carlo prediction.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run an experiment's replications and predict duration, write downtime and data-loss risk.",
        discussion: """
            The experiment file (experiments/README.md) names the fleet model, the repositories, \
            the policy, traffic, faults, the run and the claims. Each replication plans and runs \
            the migration through the migration engine against its own simulated world; \
            replication i draws every random number from (seed, i), so the same seed gives the \
            same results whatever --threads. With --db the run, its inputs and its results are \
            added to a results database (SQLite) for `rehearse report` and `rehearse compare`.
            """)

    @Argument(help: ArgumentHelp("The experiment (YAML).", valueName: "experiment"))
    var experiment: String

    @Option(help: ArgumentHelp("Replications (default: the experiment's).", valueName: "n"))
    var replications: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("Seed (default: the experiment's).", valueName: "seed"), transform: parseSeed)
    var seed: UInt64?

    @Option(help: ArgumentHelp("Threads running replications (default: this machine's cores).", valueName: "n"))
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(parsing: .unconditional, help: ArgumentHelp("Simulated hours at most (default: the experiment's).", valueName: "hours"))
    var hours: Double?

    @Option(help: ArgumentHelp("Add the run to this results database (SQLite).", valueName: "file"))
    var db: String?

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @OptionGroup var invariants: InvariantChecks

    func validate() throws {
        try checkRunFlags(replications: replications, threads: threads, db: db)
        if let hours { try Limits.check(hours: hours) }
    }

    func run() throws {
        let runner = try experimentRunner(experiment, invariants)
        let e = runner.experiment
        let results = try runReplications(runner, replications: replications ?? e.replications, seed: seed ?? e.seed,
                                          hours: hours ?? e.hours, threads: threads, label: "run \(e.name)")
        let prediction = Prediction(results.metrics, claims: e.claims, seed: results.seed)
        var runID: Int64?
        if let db {
            runID = try resultsStore { try ResultsStore.save(results, to: db) }
        }
        print(json ? Self.json(results, prediction, runID: runID) : Self.text(results, prediction, db: db, runID: runID))
    }

    static func json(_ r: ExperimentResults, _ p: Prediction, runID: Int64?) -> String {
        var fields = p.jsonFields()
        fields += [("experiment", jsonString(r.experiment.name)), ("replications", "\(r.replications.count)"), ("events", "\(r.events)"),
                   ("wall_seconds", jsonNumber(r.wallSeconds)), ("seed", "\(r.seed)"), ("threads", "\(r.threads)"),
                   ("run_id", runID.map(String.init) ?? "null")]
        return "{" + fields.sorted { $0.0 < $1.0 }.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    static func text(_ r: ExperimentResults, _ p: Prediction, db: String?, runID: Int64?) -> String {
        func ci(_ i: Interval95, _ unit: String = "") -> String {
            guard let low = i.low, let high = i.high else { return "" }
            return " (95% CI \(shortText(low))–\(shortText(high))\(unit))"
        }
        var lines = [
            "experiment \(r.experiment.name): \(r.replications.count) replications, seed \(r.seed), \(r.threads) threads, \(fixed(r.wallSeconds, 1)) s wall, \(r.events) events",
            "  duration           p50 \(shortText(p.durationP50.value)) h\(ci(p.durationP50)), p95 \(shortText(p.durationP95.value)) h\(ci(p.durationP95)); \(p.unfinished) of \(p.replications) unfinished within \(shortText(r.hours)) h",
            "  write-unavailable  mean \(shortText(p.writeUnavailableMean.value)) repository-seconds\(ci(p.writeUnavailableMean)), p95 \(shortText(p.writeUnavailableP95.value))",
            "  longest read-only  mean \(shortText(p.longestReadOnlyMean.value)) s, max \(shortText(p.longestReadOnlyMax)) s",
            "  data loss          P = \(shortText(p.dataLossProbability.value)) (\(p.replicationsWithLoss) of \(p.replications))\(ci(p.dataLossProbability)), expected lost writes \(shortText(p.expectedLostWrites.value))",
            "  peak storage fill  \(fixed(p.peakFillMax * 100, 1))%",
            "  worst window       apdex \(fixed(p.minApdex, 3)), error ratio \(shortText(p.maxErrorRatio))",
        ]
        if p.badReleasePeakMax > 0 {
            lines.append("  bad release        up to \(p.badReleasePeakMax) nodes on it at once, \(p.badReleaseNodesMax) left on it at the end")
        }
        if !p.claims.isEmpty {
            lines.append("  claims")
            for j in p.claims { lines.append("    \(j.holds ? "holds " : "FAILS ") \(j.claim.statement): \(j.observed)") }
        }
        if let db, let runID { lines.append("saved as run \(runID) in \(db)") }
        return lines.joined(separator: "\n")
    }
}

func shortText(_ x: Double) -> String {
    guard x.isFinite else { return "∞" }
    if abs(x) >= 100 { return fixed(x, 0) }
    if abs(x) >= 1 { return fixed(x, 2) }
    return x == 0 ? "0" : String(format: "%.3g", x)
}

/// Claims that failed (or controls whose claim held): exit code 1, not 2, since no input was
/// wrong.
struct ClaimsFailed: Error, CustomStringConvertible {
    var description: String
}

/// `rehearse check`: every claim of every experiment, for CI.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Run every experiment's claims; exit 1 naming each claim that fails.",
        discussion: """
            Each path is an experiment file or a folder searched for *.yaml experiments (its \
            README and sub-folders included). A control experiment (control: true) holds claims \
            written to fail: when one of them holds, the check itself could not have failed, and \
            that is reported as a failure too. Every experiment is read and planned before the \
            first replication runs. With --baseline, each experiment's metrics are also compared \
            with the latest run of the same name in that results database (paired over \
            replications when seeds and counts match), and a significant change fails the check \
            even when every claim holds: a regression the claims are too loose to catch. With \
            --db, every run is stored (the next baseline).
            """)

    @Argument(help: ArgumentHelp("Experiment files or folders.", valueName: "path"))
    var paths: [String]

    @Option(help: ArgumentHelp("Replications per experiment (default: each experiment's).", valueName: "n"))
    var replications: Int?

    @Option(help: ArgumentHelp("Threads running replications.", valueName: "n"))
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: ArgumentHelp("A results database to compare each experiment's metrics with.", valueName: "db"))
    var baseline: String?

    @Option(help: ArgumentHelp("Add every run to this results database (SQLite).", valueName: "file"))
    var db: String?

    @OptionGroup var invariants: InvariantChecks

    func validate() throws {
        try checkRunFlags(replications: replications, threads: threads, db: db)
        if let baseline, let db, URL(fileURLWithPath: baseline).standardized == URL(fileURLWithPath: db).standardized {
            throw InputError("--baseline and --db name the same file; store the new runs elsewhere")
        }
    }

    func run() throws {
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw InputError("\(path): no such file or folder") }
            if isDirectory.boolValue {
                let found = (FileManager.default.enumerator(atPath: path)?.compactMap { $0 as? String } ?? [])
                    .filter { $0.hasSuffix(".yaml") }.sorted().map { (path as NSString).appendingPathComponent($0) }
                files += found
            } else {
                files.append(path)
            }
        }
        guard !files.isEmpty else { throw InputError("no experiment (*.yaml) in \(paths.joined(separator: ", "))") }
        // Every experiment is read and planned first: a malformed one stops the check before
        // any replication runs.
        let runners = try files.map { try (file: $0, runner: experimentRunner($0, invariants)) }
        var baselineRuns: [String: Int64] = [:]
        if let baseline {
            for run in try resultsStore({ try ResultsStore.runs(path: baseline) }) { baselineRuns[run.experiment] = max(baselineRuns[run.experiment] ?? run.id, run.id) }
        }
        var failures: [String] = []
        for (file, runner) in runners {
            let e = runner.experiment
            guard !e.claims.isEmpty else { print("skip  \(file): no claims"); continue }
            let results = try runReplications(runner, replications: replications ?? e.replications, seed: e.seed, hours: e.hours, threads: threads, label: "check \(e.name)")
            for j in Prediction(results.metrics, claims: e.claims, seed: results.seed).claims {
                let ok = j.holds != e.control
                let verdict = e.control ? (j.holds ? "FAIL  control held" : "ok    control fails as written") : (j.holds ? "ok   " : "FAIL ")
                print("\(verdict) \(file): \(j.claim.statement): \(j.observed)")
                if !ok { failures.append("\(file): \(e.control ? "control claim held" : "claim failed"): \(j.claim.statement)") }
            }
            if let baseline, !e.control {
                failures += try compareWithBaseline(results, file: file, baseline: baseline, run: baselineRuns[e.name])
            }
            if let db {
                _ = try resultsStore { try ResultsStore.save(results, to: db) }
            }
        }
        if !failures.isEmpty { throw ClaimsFailed(description: failures.joined(separator: "; ")) }
    }
}

/// One experiment's metrics against its latest run in the baseline database: prints every
/// metric that changed significantly and returns them as failures.
func compareWithBaseline(_ results: ExperimentResults, file: String, baseline: String, run: Int64?) throws -> [String] {
    guard let run else {
        print("new   \(file): no run named \(results.experiment.name) in \(baseline) to compare with")
        return []
    }
    let stored = try resultsStore { try ResultsStore.load(path: baseline, run: run) }
    var failures: [String] = []
    for d in Comparison.differences(stored.metrics, seed: stored.seed, results.metrics, seed: results.seed) where d.significant {
        print("FAIL  \(file): \(d.metric) changed from the baseline (run \(run)): \(shortText(d.baseline)) → \(shortText(d.candidate)) (\(d.test))")
        failures.append("\(file): \(d.metric) changed from the baseline")
    }
    if failures.isEmpty { print("ok    \(file): no significant change from the baseline (run \(run))") }
    return failures
}

/// `rehearse report`: a run's HTML report.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a run's report, or a sweep's: one self-contained HTML page with SVG plots.")

    @Argument(help: ArgumentHelp("The results database.", valueName: "db"))
    var db: String

    @Option(name: .customLong("run"), help: ArgumentHelp("The run (default: the latest).", valueName: "id"))
    var runID: Int64?

    @Option(help: ArgumentHelp("Where to write the page.", valueName: "file"))
    var html: String

    @Flag(help: "Report a sweep (`rehearse sweep --db`): the latest, or the one run --run belongs to; one row per point.")
    var sweep = false

    func run() throws {
        if sweep {
            let runs = try resultsStore { try ResultsStore.loadSweep(path: db, containing: runID) }
            try AtomicFile.write(Data(HTMLReport.render(SweepReport(runs)).utf8), to: html)
            print("wrote \(html): sweep of \(runs.count) points, runs \(runs.first!.id)–\(runs.last!.id)")
            return
        }
        let stored = try resultsStore { try ResultsStore.load(path: db, run: runID) }
        try AtomicFile.write(Data(HTMLReport.render(RunReport(stored)).utf8), to: html)
        print("wrote \(html): run \(stored.id) of \(stored.experiment), \(stored.metrics.count) replications")
    }
}

/// `rehearse compare`: two runs side by side.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare two runs (the latest of each database): each metric's difference and whether it is significant.")

    @Argument(help: ArgumentHelp("The baseline's results database.", valueName: "db-a"))
    var baseline: String

    @Argument(help: ArgumentHelp("The candidate's results database.", valueName: "db-b"))
    var candidate: String

    @Option(help: ArgumentHelp("Also write the comparison as an HTML page.", valueName: "file"))
    var html: String?

    func run() throws {
        let a = try resultsStore { try ResultsStore.load(path: baseline) }
        let b = try resultsStore { try ResultsStore.load(path: candidate) }
        let c = Comparison(baseline: a, candidate: b)
        print("baseline  \(a.experiment) (run \(a.id), seed \(a.seed), \(a.metrics.count) replications)")
        print("candidate \(b.experiment) (run \(b.id), seed \(b.seed), \(b.metrics.count) replications)")
        for d in c.differences {
            print("  \(d.metric.padding(toLength: 46, withPad: " ", startingAt: 0)) \(shortText(d.baseline)) → \(shortText(d.candidate))  \(d.significant ? "significant" : "not significant") (\(d.test))")
        }
        if let html { try AtomicFile.write(Data(HTMLReport.render(c).utf8), to: html) }
    }
}

/// `rehearse sweep`: an experiment over its parameter grid.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run an experiment at every point of its sweep grid, with the same seed at each point.",
        discussion: """
            The experiment's sweep: block (experiments/README.md) sets fields of its model and \
            policy files; each point is planned and run with the experiment's replications and \
            seed, so points differ only by their parameters. With --db each point is added to \
            the results database as a run of its own, named by its parameters.
            """)

    @Argument(help: ArgumentHelp("The experiment (YAML) with a sweep: block.", valueName: "experiment"))
    var experiment: String

    @Option(help: ArgumentHelp("Replications per point (default: the experiment's).", valueName: "n"))
    var replications: Int?

    @Option(help: ArgumentHelp("Threads running replications.", valueName: "n"))
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: ArgumentHelp("Add each point's run to this results database (SQLite).", valueName: "file"))
    var db: String?

    @Flag(help: "Print one JSON object per point, one per line.")
    var json = false

    @Option(help: ArgumentHelp("Run shard K of N only (1 ≤ K ≤ N): the (point, replication) pairs dealt to it round-robin; needs --db. `rehearse merge` joins the shards.", valueName: "K/N"))
    var shard: String?

    @OptionGroup var invariants: InvariantChecks

    func validate() throws {
        try checkRunFlags(replications: replications, threads: threads, db: db)
        if let shard {
            guard SweepShard(shard) != nil else { throw InputError("--shard \(shard): expected K/N with 1 ≤ K ≤ N ≤ \(SweepShard.maxCount), like 2/7") }
            guard db != nil else { throw InputError("--shard needs --db: a shard's share is only of use merged") }
        }
    }

    func run() throws {
        let e = try experimentInput(experiment) { try Experiment.load(path: experiment) }
        guard let sweep = e.sweep else { throw InputError("\(experiment): no sweep: block; `rehearse run` runs a single configuration") }
        // Every point's files are checked before the first replication runs.
        let runners = try sweep.points.map { point -> ExperimentRunner in
            var runner = try experimentInput(experiment) { try ExperimentRunner(e, point: point) }
            runner.checkInvariants = invariants.checkInvariants
            return runner
        }
        let perPoint = replications ?? e.replications
        let share = shard.flatMap(SweepShard.init)
        // A shard is written under a temporary name and renamed when its last point is stored:
        // a shard killed part-way (a pod evicted, a CI job cancelled) leaves no file that merge
        // would take, and running it again starts afresh. Running a finished shard again (a
        // retried pod) finds its file and does nothing.
        var target = db
        if let share, let db {
            let record = ShardRecord(shard: share, experimentSHA256: SHA256.hex(Array(e.source.utf8)), points: runners.count, replicationsPerPoint: perPoint)
            if FileManager.default.fileExists(atPath: db) {
                if (try? ResultsStore.shardRecord(path: db)) == record {
                    print("shard \(share) of \(e.name) is already in \(db)")
                    return
                }
                throw InputError("\(db): a shard writes a new results database; this one exists and holds another one")
            }
            let partial = db + ".partial"
            try? FileManager.default.removeItem(atPath: partial)
            try resultsStore { try ResultsStore.markShard(record, path: partial) }
            target = partial
        }
        if !json { print("sweep \(e.name): \(runners.count) points × \(perPoint) replications, seed \(e.seed)" + (share.map { ", shard \($0)" } ?? "")) }
        var first: Int64?
        for (index, runner) in runners.enumerated() {
            let label = runner.point.map(\.label).joined(separator: ", ")
            let mine = share?.replications(ofPoint: index, perPoint: perPoint) ?? Array(0..<perPoint)
            if mine.isEmpty { continue }
            var results = try runReplications(runner, indices: mine, seed: e.seed, hours: e.hours, threads: threads, label: "sweep \(label)")
            results.experiment.name = "\(e.name) [\(label)]"
            let p = Prediction(results.metrics, claims: e.claims, seed: results.seed)
            var runID: Int64?
            if let target {
                runID = try resultsStore { try ResultsStore.save(results, to: target, sweep: (of: first, point: runner.point.map(\.stored), index: index)) }
                first = first ?? runID
            }
            if json {
                print(RunCommand.json(results, p, runID: runID))
            } else {
                let claims = p.claims.isEmpty ? "" : "; claims " + p.claims.map { $0.holds ? "holds" : "FAILS" }.joined(separator: " ")
                print("  \(label): duration p50 \(shortText(p.durationP50.value)) h, p95 \(shortText(p.durationP95.value)) h; write-unavailable \(shortText(p.writeUnavailableMean.value)) repo-s; P(loss) \(shortText(p.dataLossProbability.value)); unfinished \(p.unfinished)\(claims)")
            }
        }
        if let db, let target, target != db {
            guard rename(target, db) == 0 else { throw InputError("\(db): cannot rename \(target) into place: \(String(cString: strerror(errno)))") }
        }
    }
}

/// `rehearse merge`: the shards of one sweep joined into one results database.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Join the shards of a sweep (`rehearse sweep --shard K/N --db`) into one results database.",
        discussion: """
            Every shard K of N must be given exactly once, all of one experiment file and grid. \
            The merged database holds, for each point in grid order, one run with every \
            replication in order: the rows a single machine's `rehearse sweep --db` writes, \
            but for each run's wall time (the shards' sum) and threads (their total).
            """)

    @Argument(help: ArgumentHelp("The shards' results databases.", valueName: "shard"))
    var shards: [String]

    @Option(help: ArgumentHelp("The merged results database to write (must not exist).", valueName: "file"))
    var db: String

    func run() throws {
        guard !shards.isEmpty else { throw InputError("give the shards' databases") }
        let ids: [Int64]
        do { ids = try resultsStore { try ResultsStore.merge(shards: shards, into: db) } } catch let e as MergeError { throw InputError(e.description) }
        print("wrote \(db): \(shards.count) shards merged into \(ids.count) points, runs \(ids.first ?? 0)–\(ids.last ?? 0)")
    }
}
