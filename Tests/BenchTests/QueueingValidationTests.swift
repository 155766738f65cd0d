import Testing
import Bench
import SimKernel

/// Goal: the kernel's run loop, random streams and `Server` reproduce queueing theory.
/// Method: simulate M/M/c and M/M/1/K and compare with their closed forms, which are computed
/// apart from the simulator (Erlang C; the M/M/1/K blocking formula).
@Suite struct QueueingValidationTests {
    /// The anchor's Python reference (`python3 ../shared/anchors/des/erlangc.py`) prints Wq = 0.876916 s
    /// (its README says 0.876876, a typo: the script itself prints 0.876916)
    /// for c = 8, λ = 7.2, μ = 1; M/M/1 has Wq = ρ / (μ − λ).
    @Test func erlangCMatchesIndependentValues() {
        #expect(abs(Queueing.erlangC(servers: 8, arrivalRate: 7.2, serviceRate: 1).meanWaitInQueue - 0.876916) < 5e-7)
        #expect(abs(Queueing.erlangC(servers: 1, arrivalRate: 0.5, serviceRate: 1).meanWaitInQueue - 1.0) < 1e-12)
        // M/M/2 with a = 1: C = 1/3, Wq = C / (2 − 1) = 1/3 (hand computation).
        #expect(abs(Queueing.erlangC(servers: 2, arrivalRate: 1, serviceRate: 1).meanWaitInQueue - 1.0 / 3) < 1e-12)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var servers: Int, utilisation: Double, customers: Int, seed: UInt64
        var testDescription: String { "c=\(servers) rho=\(utilisation) seed=\(seed)" }
    }

    @Test(arguments: [
        Case(servers: 1, utilisation: 0.5, customers: 200_000, seed: 1),
        Case(servers: 2, utilisation: 0.8, customers: 300_000, seed: 2),
        Case(servers: 8, utilisation: 0.9, customers: 600_000, seed: 42),
        Case(servers: 4, utilisation: 0.95, customers: 1_000_000, seed: 3),
    ])
    func mmcMeanWaitMatchesErlangCWithinBatchMeansInterval(_ c: Case) throws {
        let mu = 1.0
        let lambda = c.utilisation * Double(c.servers) * mu
        let r = MMcModel.run(.init(servers: c.servers, arrivalRate: lambda, serviceRate: mu, customers: c.customers, seed: c.seed))
        let analytic = Queueing.erlangC(servers: c.servers, arrivalRate: lambda, serviceRate: mu).meanWaitInQueue
        let ci = try #require(r.waitInterval99, "\(c.testDescription): run too short for an interval")
        #expect(ci.contains(analytic), "\(c.testDescription): Erlang C \(analytic) outside \(ci); replay with rehearse bench kernel --servers \(c.servers) --arrival-rate \(lambda) --customers \(c.customers) --seed \(c.seed)")
        // A wide enough interval contains anything. These run lengths give half-widths of 4-9%
        // of Wq; 15% leaves room for the half-width's own sampling error (about ±13% with 32
        // batches) and still refuses an interval that would accept a formula off by a sixth.
        #expect(ci.halfWidth < 0.15 * analytic, "\(c.testDescription): half-width \(ci.halfWidth) is over 15% of \(analytic)")
    }

    /// M/M/1/K with K = 5 at ρ = 0.9 and ρ = 1.2: the share of arrivals lost against the closed
    /// form, within a batch-means interval over the per-arrival loss indicator. Losses cluster
    /// in busy periods, so the binomial standard error would understate the spread; the interval
    /// must also be at least as wide as the binomial one (the clustering is real) and narrow
    /// enough to mean something (under 5% of the share).
    @Test(arguments: [0.9, 1.2])
    func mm1kBlockingMatchesClosedForm(rho: Double) throws {
        let n = 300_000
        let r = MMcModel.run(.init(servers: 1, arrivalRate: rho, serviceRate: 1, customers: n, systemCapacity: 5, seed: 77))
        let p = Queueing.mm1kBlocking(arrivalRate: rho, serviceRate: 1, capacity: 5)
        let ci = try #require(r.lossInterval99, "rho \(rho): run too short for an interval")
        #expect(ci.contains(p), "rho \(rho): lost share \(ci), formula \(p)")
        let binomialHalfWidth = 2.576 * (p * (1 - p) / Double(n)).squareRoot()
        #expect(ci.halfWidth > binomialHalfWidth, "rho \(rho): \(ci.halfWidth) vs binomial \(binomialHalfWidth)")
        #expect(ci.halfWidth < 0.05 * p, "rho \(rho): half-width \(ci.halfWidth)")
    }

    @Test func sameSeedGivesIdenticalTraceDigest() {
        let p = MMcModel.Parameters(servers: 3, arrivalRate: 2.5, serviceRate: 1, customers: 50_000, seed: 9)
        let a = MMcModel.run(p, traced: true), b = MMcModel.run(p, traced: true)
        #expect(a.traceDigest == b.traceDigest)
        #expect(a.meanWaitInQueue == b.meanWaitInQueue)
        var q = p
        q.seed = 10
        #expect(MMcModel.run(q, traced: true).traceDigest != a.traceDigest)
    }

    /// The storage anchor run by another engine: SimPy 4.1.2,
    /// `python3 ../shared/anchors/des/simpy_models.py storage 100000 SEED` for SEED = 1…20, each
    /// run from empty like ours. Mean and standard deviation over those 20 replications.
    static let anchorReplications = 20.0
    static let anchor: [(figure: String, mean: Double, sd: Double)] = [
        ("read_w", 4.922950185630297, 0.11284290369869737),
        ("write_primary_w", 4.926114709495374, 0.11421294764499507),
        ("write_full_w", 12.187367896670805, 0.28300977613802786),
    ]

    /// Goal: the kernel runs the storage model as an independent engine does. Method: 12
    /// replications of 100 000 arrivals against the anchor's 20 (the M/M/1 value 1/(μ − λ) = 5 s
    /// is no truth here: replication jobs do not arrive as a Poisson stream, and a run from
    /// empty sits below steady state). The 99% Welch interval of the difference of the two
    /// means must contain 0, and each side's interval must be under 3% of its mean, so that
    /// neither side passes by being vague.
    @Test func storageModelMatchesTheSimPyAnchor() {
        var figures: [String: Tally] = [:]
        for seed in UInt64(1)...12 {
            let r = KernelBench.storage(arrivals: 100_000, seed: 1_000 + seed)
            for (name, value) in r.figures { figures[name, default: Tally()].add(value) }
            let f = Dictionary(r.figures, uniquingKeysWith: { a, _ in a })
            // One event per arrival and one per service: reads, writes, two replications each.
            #expect(r.events == 100_000 + Int(f["reads"]!) + 3 * Int(f["writes"]!), "seed \(1_000 + seed)")
        }
        for a in Self.anchor {
            let ours = figures[a.figure]!
            let seOurs = ours.standardDeviation / Double(ours.count).squareRoot()
            let seAnchor = a.sd / Self.anchorReplications.squareRoot()
            // Welch–Satterthwaite degrees of freedom for the difference of two means.
            let v1 = seOurs * seOurs, v2 = seAnchor * seAnchor
            let df = (v1 + v2) * (v1 + v2) / (v1 * v1 / Double(ours.count - 1) + v2 * v2 / (Self.anchorReplications - 1))
            let t = StudentT.quantile(probability: 0.995, degreesOfFreedom: df)
            #expect(abs(ours.mean - a.mean) <= t * (v1 + v2).squareRoot(),
                    "\(a.figure): ours \(ours.mean) ± \(seOurs), anchor \(a.mean) ± \(seAnchor)")
            let tOurs = StudentT.quantile(probability: 0.995, degreesOfFreedom: Double(ours.count - 1))
            let tAnchor = StudentT.quantile(probability: 0.995, degreesOfFreedom: Self.anchorReplications - 1)
            #expect(tOurs * seOurs < 0.03 * ours.mean && tAnchor * seAnchor < 0.03 * a.mean, "\(a.figure)")
        }
        // The read share is a binomial draw: 1.2M arrivals, within 5 standard errors of 0.7.
        let reads = figures["reads"]!.sum, writes = figures["writes"]!.sum
        #expect(abs(reads / (reads + writes) - 0.7) < 5 * (0.21 / (reads + writes)).squareRoot())
    }
}
