import Foundation
import Report
import SimKernel
import Stochastics

extension Estimate {
    init(_ i: Interval95) {
        self.init(i.value, interval: i.low.flatMap { low in i.high.map { low...$0 } })
    }
}

extension RunReport {
    /// The report of a stored run. The plots over time are those of the replication whose
    /// duration is the median (the lower middle one for an even count), a typical run rather
    /// than the luckiest or the unluckiest.
    public init(_ run: StoredRun) {
        let p = run.prediction
        let order = run.metrics.indices.sorted { (run.metrics[$0].durationHours, $0) < (run.metrics[$1].durationHours, $1) }
        let typical = order[(order.count - 1) / 2]
        let series = run.series[typical]
        func one(_ name: String, _ label: String) -> TimeSeries {
            let s = series.first { $0.name == name }
            return TimeSeries(name: label, timesSeconds: s?.timesSeconds ?? [], values: s?.values ?? [])
        }
        func all(prefix: String) -> [TimeSeries] {
            series.filter { $0.name.hasPrefix(prefix) }.map { TimeSeries(name: String($0.name.dropFirst(prefix.count)), timesSeconds: $0.timesSeconds, values: $0.values) }
        }
        let horizon = run.hours * 3600
        let phases = run.phases[typical].map { PhaseSpan(name: $0.name, startSeconds: $0.startSeconds, endSeconds: $0.endSeconds ?? horizon) }
        let predictions = Predictions(
            durationHours: [QuantileEstimate(probability: 0.5, estimate: Estimate(p.durationP50)),
                            QuantileEstimate(probability: 0.95, estimate: Estimate(p.durationP95))],
            writeUnavailableRepositorySeconds: Estimate(p.writeUnavailableMean),
            longestReadOnlySeconds: Estimate(p.longestReadOnlyMean),
            dataLoss: LossProbability(replicationsWithLoss: p.replicationsWithLoss, replications: p.replications,
                                      probability: Estimate(p.dataLossProbability), method: p.dataLossMethod),
            lostWrites: Estimate(p.expectedLostWrites))
        let summary = RunSummary(
            title: "\(run.experiment) (run \(run.id))", experiment: run.experimentFile, seed: run.seed, replications: run.metrics.count,
            predictions: predictions,
            claims: p.claims.map { ClaimResult(statement: $0.claim.statement, observed: $0.observed, holds: $0.holds) },
            fidelity: [Fidelity(part: "traffic", level: run.trafficFidelity.isEmpty ? "none" : run.trafficFidelity),
                       Fidelity(part: "moves, replication, faults", level: "discrete, every event"),
                       Fidelity(part: "plots over time", level: "replication \(typical) (median duration), every \(series.first.map { $0.timesSeconds.count } ?? 0) samples")],
            inputs: run.inputs.map { InputFile(path: $0.path, sha256: $0.sha256) })
        self.init(
            summary: summary,
            series: RunSeries(
                phases: phases, storageWeights: all(prefix: SampleSeries.Name.weightPrefix),
                movesInFlight: one(SampleSeries.Name.movesInFlight, "moves in flight"),
                bytesMoved: one(SampleSeries.Name.movedBytes, "bytes moved"),
                diskFill: all(prefix: SampleSeries.Name.storageFillPrefix),
                // GitLab stops placing new repositories on a storage near 75-80% full
                // (production#8426, models/README.md): the line the fill plot draws.
                diskFillLimit: 0.8,
                replicationQueueDepth: one(SampleSeries.Name.replicationQueueDepth, "replication queue"),
                replicationLagSeconds: one(SampleSeries.Name.replicationLagSeconds, "replication lag"),
                apdex: one(SampleSeries.Name.apdex, "apdex"),
                // GitLab.com's Gitaly apdex objective (GITALY_LOGS.md, SLO figures).
                apdexObjective: 0.995),
            durationHoursPerReplication: run.metrics.map(\.durationHours))
    }
}

extension Comparison {
    /// Two stored runs side by side. A metric's difference is significant when the 95%
    /// interval of the difference of means excludes 0: paired (replication i against i)
    /// when both runs used the same seed and count, so common random numbers cancel the
    /// shared noise; Welch's otherwise. Probabilities use a two-proportion z interval.
    public init(baseline a: StoredRun, candidate b: StoredRun) {
        self.init(baseline: RunReport(a), candidate: RunReport(b),
                  differences: Self.differences(a.metrics, seed: a.seed, b.metrics, seed: b.seed))
    }

    /// The metrics of two runs' replications compared, one difference per metric (the tests
    /// of `init(baseline:candidate:)`); also what `rehearse check --baseline` reports.
    public static func differences(_ a: [ReplicationMetrics], seed seedA: UInt64, _ b: [ReplicationMetrics], seed seedB: UInt64) -> [MetricDifference] {
        let paired = seedA == seedB && a.count == b.count
        func mean(_ xs: [Double]) -> Double { xs.reduce(0, +) / Double(xs.count) }
        func difference(_ name: String, _ unit: Quantity, _ f: (ReplicationMetrics) -> Double) -> MetricDifference {
            let xa = a.map(f), xb = b.map(f)
            let (significant, test) = significance(xa, xb, paired: paired)
            return MetricDifference(metric: name, unit: unit, baseline: mean(xa), candidate: mean(xb), significant: significant, test: test)
        }
        let loss: MetricDifference
        if (a + b).contains(where: { $0.likelihoodRatio != 1 }) {
            // Importance sampling: a run's loss probability is the mean of indicator × likelihood
            // ratio (`RiskProbability`), so the two means are compared as any other metric's.
            loss = difference("P(any acknowledged write lost)", .probability) { $0.lostWrites > 0 ? $0.likelihoodRatio : 0 }
        } else {
            let ka = a.filter { $0.lostWrites > 0 }.count, kb = b.filter { $0.lostWrites > 0 }.count
            let (significant, test) = proportions(ka, a.count, kb, b.count)
            loss = MetricDifference(metric: "P(any acknowledged write lost)", unit: .probability,
                                    baseline: Double(ka) / Double(a.count), candidate: Double(kb) / Double(b.count),
                                    significant: significant, test: test)
        }
        return [
            difference("migration duration (mean)", .hours) { $0.durationHours },
            difference("write-unavailable repository-seconds (mean)", .repositorySeconds) { $0.writeUnavailableRepositorySeconds },
            difference("longest read-only (mean)", .seconds) { $0.maxReadOnlySeconds },
            difference("lost writes (mean)", .count) { Double($0.lostWrites) },
            difference("failed move attempts (mean)", .count) { Double($0.movesFailed) },
            difference("peak storage fill (mean)", .probability) { $0.peakFill },
            difference("lowest window apdex (mean)", .ratio) { $0.minApdex },
            difference("highest window error ratio (mean)", .probability) { $0.maxErrorRatio },
            difference("nodes left on a bad release (mean)", .count) { Double($0.badReleaseNodes) },
            difference("most nodes on a bad release at once (mean)", .count) { Double($0.badReleasePeak) },
            loss,
        ]
    }

    static func significance(_ a: [Double], _ b: [Double], paired: Bool) -> (Bool, String) {
        if paired {
            let d = zip(b, a).map { $0 - $1 }
            if d.allSatisfy({ $0 == d[0] }) {
                return (d[0] != 0, d[0] == 0 ? "paired: no replication differs" : "paired: every replication differs by the same amount")
            }
            guard let ci = Intervals.studentT(d, level: 0.95) else { return (false, "paired t: too few replications") }
            return (ci.low > 0 || ci.high < 0, "paired t, 95% CI of the difference \(shortNumber(ci.low))…\(shortNumber(ci.high))")
        }
        guard a.count >= 2, b.count >= 2 else { return (false, "Welch: too few replications") }
        func meanVar(_ xs: [Double]) -> (Double, Double) {
            let m = xs.reduce(0, +) / Double(xs.count)
            return (m, xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(xs.count - 1))
        }
        let (ma, va) = meanVar(a), (mb, vb) = meanVar(b)
        let sa = va / Double(a.count), sb = vb / Double(b.count)
        let se = (sa + sb).squareRoot()
        if se == 0 { return (ma != mb, "Welch: no spread in either run") }
        // Welch–Satterthwaite degrees of freedom.
        let df = (sa + sb) * (sa + sb) / (sa * sa / Double(a.count - 1) + sb * sb / Double(b.count - 1))
        let t = StudentT.quantile(probability: 0.975, degreesOfFreedom: df)
        let low = mb - ma - t * se, high = mb - ma + t * se
        return (low > 0 || high < 0, "Welch t, 95% CI of the difference \(shortNumber(low))…\(shortNumber(high))")
    }

    static func proportions(_ ka: Int, _ na: Int, _ kb: Int, _ nb: Int) -> (Bool, String) {
        let pa = Double(ka) / Double(na), pb = Double(kb) / Double(nb)
        let se = (pa * (1 - pa) / Double(na) + pb * (1 - pb) / Double(nb)).squareRoot()
        // No spread in either run: both all-or-nothing, so they differ exactly when the
        // proportions do (0 of 10 against 10 of 10 is as clear as a difference gets).
        if se == 0 { return (pa != pb, pa == pb ? "two proportions: equal, no variation" : "two proportions: one run always, the other never") }
        let low = pb - pa - 1.959963984540054 * se, high = pb - pa + 1.959963984540054 * se
        return (low > 0 || high < 0, "two-proportion z, 95% CI \(shortNumber(low))…\(shortNumber(high))")
    }
}

extension SweepReport {
    /// The report of a sweep's stored runs (`ResultsStore.loadSweep`), in their order.
    public init(_ runs: [StoredRun]) {
        precondition(!runs.isEmpty)
        let parameters = runs[0].sweepPoint?.map(\.key) ?? []
        let points = runs.map { run in
            let report = RunReport(run)
            let p = run.prediction
            return Point(runID: run.id, values: run.sweepPoint?.map(\.value) ?? [], replications: run.metrics.count, unfinished: p.unfinished,
                         predictions: report.summary.predictions, worstErrorRatio: p.maxErrorRatio, claims: report.summary.claims)
        }
        // A point's run is named "experiment [k=v, ...]": the sweep is the experiment.
        let name = runs[0].experiment.split(separator: " [").first.map(String.init) ?? runs[0].experiment
        self.init(title: "Sweep of \(name) (runs \(runs.first!.id)–\(runs.last!.id))", experiment: runs[0].experimentFile, seed: runs[0].seed,
                  parameters: parameters, points: points)
    }
}
