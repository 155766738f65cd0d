import SpecFiles
import Experiments
import ArgumentParser
import Bench
import Foundation
import SimKernel

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure Rehearse's own speed: the event kernel and the models built on it.",
        subcommands: [KernelBenchCommand.self, RPCBenchCommand.self])
}

struct KernelBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernel",
        abstract: "Run a reference model on SimKernel and report events per second.",
        discussion: """
            Models (see ../shared/anchors/des/README.md):
              mmc      M/M/c queue; reports the simulated mean wait in queue with its 99% \
            batch-means interval beside the Erlang C value.
              storage  three FIFO nodes, 70% reads, 30% writes replicated to the two others.
              hold     P pending events, each handled one rescheduled at now + Exp(1).
            """)

    enum Model: String, ExpressibleByArgument, CaseIterable { case mmc, storage, hold }

    @Option(help: "The model to run: mmc, storage or hold.")
    var model: Model = .mmc

    @Option(parsing: .unconditional, help: ArgumentHelp("Servers c of the M/M/c queue.", valueName: "count"))
    var servers: Int = 8

    @Option(name: .customLong("arrival-rate"), parsing: .unconditional, help: ArgumentHelp("Arrival rate λ, customers per second (mmc).", valueName: "rate"))
    var arrivalRate: Double = 7.2

    @Option(name: .customLong("service-rate"), parsing: .unconditional, help: ArgumentHelp("Service rate μ per server, per second (mmc).", valueName: "rate"))
    var serviceRate: Double = 1.0

    @Option(parsing: .unconditional, help: ArgumentHelp("Customers (mmc) or arrivals (storage) to simulate.", valueName: "count"))
    var customers: Int = 1_000_000

    @Option(parsing: .unconditional, help: ArgumentHelp("Pending events held (hold).", valueName: "count"))
    var pending: Int = 1_000_000

    @Option(parsing: .unconditional, help: ArgumentHelp("Events to handle (hold).", valueName: "count"))
    var events: Int = 10_000_000

    @Option(help: ArgumentHelp("Event queue for hold: kernel (the run loop's adaptive queue), or radix, binary or quaternary alone.", valueName: "queue"))
    var queue: String = "kernel"

    @Option(parsing: .unconditional, help: ArgumentHelp("Seed of the run; the same seed gives the same result.", valueName: "seed"), transform: parseSeed)
    var seed: UInt64 = 42

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        guard servers >= 1 else { throw InputError("--servers must be at least 1, got \(servers)") }
        try Limits.check(servers, "--servers", maximum: Limits.servers)
        guard arrivalRate > 0, arrivalRate.isFinite else { throw InputError("--arrival-rate must be a positive number, got \(arrivalRate)") }
        guard serviceRate > 0, serviceRate.isFinite else { throw InputError("--service-rate must be a positive number, got \(serviceRate)") }
        guard customers >= 1 else { throw InputError("--customers must be at least 1, got \(customers)") }
        try Limits.check(customers, "--customers", maximum: Limits.customers)
        guard pending >= 1 else { throw InputError("--pending must be at least 1, got \(pending)") }
        try Limits.check(pending, "--pending", maximum: Limits.pending)
        guard events >= 1 else { throw InputError("--events must be at least 1, got \(events)") }
        try Limits.check(events, "--events", maximum: Limits.events)
        guard KernelBench.Queue(rawValue: queue) != nil else {
            throw InputError("--queue must be one of kernel, radix, binary, quaternary, got '\(queue)'")
        }
        if model == .mmc, arrivalRate >= Double(servers) * serviceRate {
            throw InputError("--arrival-rate \(arrivalRate) must be below --servers × --service-rate = \(Double(servers) * serviceRate): the queue would grow without bound")
        }
    }

    func run() throws {
        let result: KernelBenchResult
        switch model {
        case .mmc:
            result = KernelBench.mmc(.init(servers: servers, arrivalRate: arrivalRate, serviceRate: serviceRate, customers: customers, seed: seed))
        case .storage:
            result = KernelBench.storage(arrivals: customers, seed: seed)
        case .hold:
            result = KernelBench.hold(pending: pending, events: events, seed: seed, queue: KernelBench.Queue(rawValue: queue)!)
        }
        print(json ? Self.json(result) : Self.text(result))
    }

    /// One JSON object with stable keys: model, events, events_per_second, wall_seconds, seed,
    /// peak_rss_kib, then the model's own figures.
    static func json(_ r: KernelBenchResult) -> String {
        var fields: [(String, String)] = [
            ("model", "\"\(r.model)\""), ("events", "\(r.events)"),
            ("events_per_second", jsonNumber(r.eventsPerSecond)), ("wall_seconds", jsonNumber(r.wallSeconds)),
            ("seed", "\(r.seed)"), ("peak_rss_kib", "\(r.peakResidentKiB)"),
        ]
        fields += r.figures.map { ($0.0, jsonNumber($0.1)) }
        return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    static func text(_ r: KernelBenchResult) -> String {
        var lines = ["model \(r.model), seed \(r.seed)"]
        let figures = Dictionary(r.figures, uniquingKeysWith: { a, _ in a })
        if r.model == "mmc", let sim = figures["wq_simulated"] {
            var line = "  mean wait in queue  \(fixed(sim, 6)) s"
            if let lo = figures["wq_ci99_low"], let hi = figures["wq_ci99_high"] { line += "  (99% interval \(fixed(lo, 6)) to \(fixed(hi, 6)))" }
            lines.append(line)
            if let a = figures["wq_analytic"] {
                let inside = (figures["wq_ci99_low"].map { $0 <= a } ?? false) && (figures["wq_ci99_high"].map { a <= $0 } ?? false)
                lines.append("  Erlang C            \(fixed(a, 6)) s  \(inside ? "inside" : "OUTSIDE") the interval")
            }
        } else {
            for (k, v) in r.figures {
                let value = v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : fixed(v, 6)
                lines.append("  \(k.replacingOccurrences(of: "_", with: " ").padding(toLength: 18, withPad: " ", startingAt: 0))  \(value)")
            }
        }
        lines.append("  events              \(r.events)")
        lines.append("  events per second   \(Int(r.eventsPerSecond))")
        lines.append("  wall seconds        \(fixed(r.wallSeconds, 3))")
        lines.append("  peak memory         \(r.peakResidentKiB / 1024) MiB")
        return lines.joined(separator: "\n")
    }
}

struct RPCBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rpc",
        abstract: "Run RPC-level traffic through a simulated Gitaly Cluster and report simulated RPCs per second.",
        discussion: """
            The fleet of models/gitaly-cluster-3.yaml: 3 Gitaly nodes behind 3 Praefects, replication \
            factor 3, strong consistency, 800 RPC/s of 70% reads and 30% writes. With --hours the \
            run covers a fixed simulated horizon instead of a number of RPCs (for the memory check: \
            peak memory must not grow with simulated time).
            """)

    @Option(parsing: .unconditional, help: ArgumentHelp("RPCs to complete.", valueName: "count"))
    var rpcs: Int = 2_000_000

    @Option(parsing: .unconditional, help: ArgumentHelp("Run for this many simulated hours instead of --rpcs.", valueName: "hours"))
    var hours: Double?

    @Option(parsing: .unconditional, help: ArgumentHelp("Seed of the run; the same seed gives the same result.", valueName: "seed"), transform: parseSeed)
    var seed: UInt64 = 1

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        guard rpcs >= 1 else { throw InputError("--rpcs must be at least 1, got \(rpcs)") }
        try Limits.check(rpcs, "--rpcs", maximum: Limits.rpcs)
        if let hours { try Limits.check(hours: hours) }
    }

    func run() throws {
        let r = hours.map { ModelBench.horizon(hours: $0, seed: seed) } ?? ModelBench.rpc(rpcs: rpcs, seed: seed)
        print(json ? KernelBenchCommand.json(r) : KernelBenchCommand.text(r))
    }
}
