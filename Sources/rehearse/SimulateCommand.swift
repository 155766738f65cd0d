import ArgumentParser
import Bench
import Experiments
import Foundation
import GitalyModel
import SpecFiles
import SimKernel
import Traffic

/// `rehearse simulate`: one run of a fleet model under recorded or synthetic traffic.
struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run a fleet model under a recorded trace or a traffic profile and report what the fleet did.",
        discussion: """
            Traffic comes from a trace database (--db, from `rehearse trace import`) or a profile \
            (--profile, from `rehearse trace fit` or written by hand). Trace storages and \
            repositories that the model does not name are spread over the model's by a stable \
            hash. Hook calls are left out (the world counts them inside their fetch or push), \
            and so are storage-scoped calls and calls with no known operation type; the report \
            counts each.
            """)

    @Option(help: ArgumentHelp("The fleet model (YAML, schema in models/README.md).", valueName: "file"))
    var model: String

    @Option(help: ArgumentHelp("Replay this trace database.", valueName: "path"))
    var db: String?

    @Option(help: ArgumentHelp("Draw synthetic traffic from this profile.", valueName: "path"))
    var profile: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Simulated hours of traffic (profile: required length; trace: a cap).", valueName: "hours"))
    var hours: Double?

    @Option(parsing: .unconditional, help: ArgumentHelp("Multiply the call rate (trace: thin or copy; profile: growth).", valueName: "factor"))
    var rate: Double = 1

    @Option(parsing: .unconditional, help: ArgumentHelp("Replay the trace this many times faster than recorded.", valueName: "factor"))
    var speedUp: Double = 1

    @Option(parsing: .unconditional, help: ArgumentHelp("Repositories the world creates when the model lists none.", valueName: "count"))
    var repositories: Int = 100

    @Option(parsing: .unconditional, help: ArgumentHelp("Seed of the run; the same seed gives the same result.", valueName: "seed"), transform: parseSeed)
    var seed: UInt64 = 1

    @OptionGroup var invariants: InvariantChecks

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        guard (db == nil) != (profile == nil) else { throw InputError("give exactly one of --db (a trace) or --profile (synthetic traffic)") }
        if profile != nil, hours == nil { throw InputError("--hours is required with --profile: synthetic traffic needs a length") }
        if let hours { try Limits.check(hours: hours) }
        guard rate > 0, rate.isFinite else { throw InputError("--rate must be a positive number, got \(rate)") }
        guard rate <= Limits.rateFactor else { throw InputError("--rate must be at most \(Int(Limits.rateFactor)), got \(rate)") }
        guard speedUp > 0, speedUp.isFinite else { throw InputError("--speed-up must be a positive number, got \(speedUp)") }
        guard repositories >= 1 else { throw InputError("--repositories must be at least 1, got \(repositories)") }
        try Limits.check(repositories, "--repositories", maximum: Limits.repositories)
    }

    func run() throws {
        let fleet: Fleet
        do { fleet = try Fleet.build(FleetSpec.load(path: model)) } catch let e as SpecError { throw InputError(e.description) }
        var config = WorldConfig(seed: seed)
        config.repositoryCount = repositories
        config.checkInvariants = invariants.checkInvariants
        var run = TrafficRun(fleet: fleet, config: config)
        let horizon = hours.map { SimTime.hours($0) } ?? .max
        let wall0 = Probes.wallSeconds()
        let result: TrafficRunResult
        do {
            if let db {
                var options = ReplayOptions()
                options.speedUp = speedUp
                options.rateMultiplier = rate
                options.seed = seed
                var source = try TraceReplay(store: TraceCommand.openStore(db, access: .readWrite), target: run.target, options: options)
                result = try run.drive(&source, horizon: horizon)
            } else {
                let path = profile!
                let p = try TrafficProfile.decode(yaml: TextFile.read(path: path), path: path)
                var source = try SyntheticTraffic(profile: p, target: run.target, horizon: horizon, growth: rate, seed: seed)
                result = try run.drive(&source, horizon: horizon)
            }
        } catch let e as InputError {
            throw e
        } catch {
            throw TraceCommand.inputError(error)
        }
        let wall = Probes.wallSeconds() - wall0
        print(json ? Self.json(result, seed: seed, wall: wall) : Self.text(result, seed: seed, wall: wall))
    }

    /// Totals over the report's windows.
    static func totals(_ r: WorldReport) -> (requests: Int, errors: Int, apdex: Double?, worstApdex: Double?) {
        var w = WindowStats(start: .zero)
        var worst: Double?
        for x in r.windows {
            w.requests += x.requests; w.errors += x.errors
            w.apdexSatisfied += x.apdexSatisfied; w.apdexTolerated += x.apdexTolerated; w.apdexCounted += x.apdexCounted
            if let a = x.apdex { worst = min(worst ?? a, a) }
        }
        return (w.requests, w.errors, w.apdex, worst)
    }

    static func text(_ r: TrafficRunResult, seed: UInt64, wall: Double) -> String {
        let t = totals(r.report)
        func pct(_ x: Double?) -> String { x.map { fixed($0, 4) } ?? "n/a" }
        var lines = [
            "seed \(seed): \(r.submitted) calls submitted over \(fixed(r.simulatedSeconds, 1)) simulated s "
                + "(left out: \(r.internalCalls) hook calls, \(r.withoutRepository) without a repository, \(r.unclassified) of unknown type)",
            "  completed            \(r.report.rpcsCompleted)",
        ]
        for o in RPCOutcome.allCases where (r.report.outcomes[o] ?? 0) > 0 {
            lines.append("    \(String(describing: o).padding(toLength: 18, withPad: " ", startingAt: 0)) \(r.report.outcomes[o]!)")
        }
        lines += [
            "  apdex                \(pct(t.apdex)) (worst window \(pct(t.worstApdex)); GitLab's Gitaly target 0.999)",
            "  error ratio          \(pct(t.requests > 0 ? Double(t.errors) / Double(t.requests) : nil)) (target below 0.0005)",
            "  writes acknowledged  \(r.report.acknowledgedWrites), lost \(r.report.lostWrites)",
            "  unavailable repos    \(r.report.unavailableRepositories.count) at the end",
            "  write-unavailable    \(fixed(r.report.writeUnavailableRepositorySeconds, 1)) repository-seconds",
            "  replication jobs     \(r.report.replicationJobsRun) run, \(r.report.replicationJobsDead) dead",
            "  peak storage fill    \(r.report.peakStorageFill.map { String(format: "%.1f%%", $0 * 100) }.joined(separator: ", "))",
            "  events               \(r.events) in \(fixed(wall, 2)) s wall",
        ]
        return lines.joined(separator: "\n")
    }

    static func json(_ r: TrafficRunResult, seed: UInt64, wall: Double) -> String {
        let t = totals(r.report)
        var fields: [(String, String)] = [
            ("seed", "\(seed)"), ("submitted", "\(r.submitted)"), ("internal_calls", "\(r.internalCalls)"),
            ("without_repository", "\(r.withoutRepository)"), ("unclassified", "\(r.unclassified)"),
            ("completed", "\(r.report.rpcsCompleted)"), ("requests", "\(t.requests)"), ("errors", "\(t.errors)"),
            ("apdex", t.apdex.map(jsonNumber) ?? "null"), ("worst_window_apdex", t.worstApdex.map(jsonNumber) ?? "null"),
            ("acknowledged_writes", "\(r.report.acknowledgedWrites)"), ("lost_writes", "\(r.report.lostWrites)"),
            ("unavailable_repositories", "\(r.report.unavailableRepositories.count)"),
            ("write_unavailable_repository_seconds", jsonNumber(r.report.writeUnavailableRepositorySeconds)),
            ("simulated_seconds", jsonNumber(r.simulatedSeconds)), ("events", "\(r.events)"), ("wall_seconds", jsonNumber(wall)),
        ]
        for o in RPCOutcome.allCases { fields.append(("outcome_\(o)", "\(r.report.outcomes[o] ?? 0)")) }
        return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }
}
