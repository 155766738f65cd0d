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
    func mmcMeanWaitMatchesErlangCWithinBatchMeansInterval(_ c: Case) {
        let mu = 1.0
        let lambda = c.utilisation * Double(c.servers) * mu
        let r = MMcModel.run(.init(servers: c.servers, arrivalRate: lambda, serviceRate: mu, customers: c.customers, seed: c.seed))
        let analytic = Queueing.erlangC(servers: c.servers, arrivalRate: lambda, serviceRate: mu).meanWaitInQueue
        let ci = r.waitInterval99
        #expect(ci != nil, "\(c.testDescription): run too short for an interval")
        #expect(ci?.contains(analytic) == true, "\(c.testDescription): Erlang C \(analytic) outside \(String(describing: ci)); replay with rehearse bench kernel --servers \(c.servers) --arrival-rate \(lambda) --customers \(c.customers) --seed \(c.seed)")
        #expect(r.events == 2 * c.customers)
    }

    /// M/M/1/K with K = 5 at ρ = 0.9 and ρ = 1.2: the share of arrivals lost against the closed
    /// form, within 4 binomial standard errors.
    @Test(arguments: [0.9, 1.2])
    func mm1kBlockingMatchesClosedForm(rho: Double) {
        let n = 300_000
        let r = MMcModel.run(.init(servers: 1, arrivalRate: rho, serviceRate: 1, customers: n, systemCapacity: 5, seed: 77))
        let p = Queueing.mm1kBlocking(arrivalRate: rho, serviceRate: 1, capacity: 5)
        let observed = Double(r.lost) / Double(r.arrivals)
        let se = (p * (1 - p) / Double(n)).squareRoot()
        #expect(abs(observed - p) < 4 * se, "rho \(rho): lost \(observed), formula \(p)")
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

    /// The storage anchor: per-node utilisation 0.8 and, for reads at an M/M/1-like node, the
    /// sojourn time is near 1/(μ − λ_node) = 5 s; replication keeps writes' full time longer
    /// than their primary time.
    @Test func storageModelCountsAndOrdersAsDesigned() {
        let r = KernelBench.storage(arrivals: 100_000, seed: 42)
        let f = Dictionary(r.figures, uniquingKeysWith: { a, _ in a })
        let reads = f["reads"]!, writes = f["writes"]!
        #expect(reads + writes == 100_000)
        #expect(abs(reads / 100_000 - 0.7) < 0.01)
        // Events: one per arrival, one per service (reads + writes + 2 replications per write).
        #expect(r.events == 100_000 + Int(reads) + 3 * Int(writes))
        #expect(f["write_full_w"]! > f["write_primary_w"]!)
        #expect(abs(f["read_w"]! - 5) < 1.0)
    }
}
