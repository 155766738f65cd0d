import Foundation

/// A synthetic run that exercises every part of the report, for tests and for regenerating the
/// screenshot (`swift test --filter ReportRenderingTests`, see the README). Made of closed-form
/// curves and a fixed-seed SplitMix64, so it is the same on every machine. Its numbers are
/// illustrations (ASSUMED), not predictions.
public enum SampleReport {
    public static func run(
        title: String = "gprd VM → Kubernetes", storages: Int = 12, pointsPerSeries: Int = 2_000,
        replications: Int = 400, slowdown: Double = 1
    ) -> RunReport {
        precondition(storages >= 2 && pointsPerSeries >= 2 && replications >= 1)
        let horizonSeconds = 60 * 3600 * slowdown
        let phases = [
            PhaseSpan(name: "pre", startSeconds: 0, endSeconds: 0.1 * horizonSeconds),
            PhaseSpan(name: "gstg", startSeconds: 0.1 * horizonSeconds, endSeconds: 0.3 * horizonSeconds),
            PhaseSpan(name: "gprd-cny", startSeconds: 0.3 * horizonSeconds, endSeconds: 0.45 * horizonSeconds),
            PhaseSpan(name: "gprd", startSeconds: 0.45 * horizonSeconds, endSeconds: horizonSeconds),
        ]
        let times = (0..<pointsPerSeries).map { horizonSeconds * Double($0) / Double(pointsPerSeries - 1) }
        func series(_ name: String, _ value: (Double) -> Double) -> TimeSeries {
            TimeSeries(name: name, timesSeconds: times, values: times.map { value($0 / horizonSeconds) })
        }
        // Half the storages are old VMs drained to weight 0; the other half are pods that take over.
        let names = (0..<storages).map { $0 < storages / 2 ? "gitaly-vm-\($0 + 1)" : "gitaly-pod-\($0 - storages / 2 + 1)" }
        let weights = names.enumerated().map { index, name in
            series(name) { t in
                // Storages shift one after another, a few hours apart.
                let shift = min(1, max(0, (t - 0.3 - 0.04 * Double(index % (storages / 2))) / 0.35))
                return index < storages / 2 ? 100 * (1 - shift) : 100 * shift
            }
        }
        let fills = names.enumerated().map { index, name in
            series(name) { t in
                let start = 0.55 + 0.25 * Double(index % 5) / 4
                let progress = min(1, max(0, (t - 0.3) / 0.6))
                return index < storages / 2 ? start * (1 - progress) + 0.02 : 0.05 + (0.62 + 0.2 * Double(index % 3) / 2) * progress
            }
        }
        var random = SplitMix64(seed: 42)
        let moves = series("moves in flight") { t in t < 0.3 || t > 0.9 ? 0 : (20 + 5 * sin(t * 90)).rounded() }
        let bytes = series("bytes moved") { t in 48 * pow(1024, 4) * min(1, max(0, (t - 0.3) / 0.6)) }
        let queue = series("queue depth") { t in max(0, 40 * sin(t * 31) + 30 * exp(-pow((t - 0.62) * 30, 2)) * 10) }
        let lag = series("replication lag") { t in 2 + 90 * exp(-pow((t - 0.62) * 25, 2)) }
        let apdex = series("apdex") { t in min(1, 0.985 - 0.06 * exp(-pow((t - 0.5) * 40, 2)) - 0.02 * sin(t * 70) * 0.3) }
        let durations = (0..<replications).map { _ in
            // Sum of uniforms: a bell around 41 h with a right tail.
            let u = random.unit() + random.unit() + random.unit()
            return (36 + 3.5 * u + 6 * pow(random.unit(), 6)) * slowdown
        }
        let sorted = durations.sorted()
        func quantile(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(p * Double(sorted.count)))] }
        let predictions = Predictions(
            durationHours: [
                QuantileEstimate(probability: 0.5, estimate: Estimate(quantile(0.5), interval: quantile(0.46)...quantile(0.54))),
                QuantileEstimate(probability: 0.95, estimate: Estimate(quantile(0.95), interval: quantile(0.93)...quantile(0.97))),
            ],
            writeUnavailableRepositorySeconds: Estimate(183_400, interval: 171_000...196_200),
            longestReadOnlySeconds: Estimate(1_260, interval: 1_020...1_530),
            dataLoss: LossProbability(
                replicationsWithLoss: 3, replications: replications,
                probability: Estimate(3 / Double(replications), interval: 0.00255...0.0218), method: "Wilson score"),
            lostWrites: Estimate(0.0125, interval: 0...0.031))
        let summary = RunSummary(
            title: title, experiment: "experiments/000-vm-to-kubernetes.yaml", seed: 42, replications: replications,
            predictions: predictions,
            claims: [
                ClaimResult(statement: "p95(duration) < 72h", observed: "p95 = " + Format.estimate(predictions.durationHours[1].estimate, .hours), holds: true),
                ClaimResult(statement: "P(any acknowledged write lost) < 1e-3 at 95%", observed: HTMLReport.lossDetail(predictions.dataLoss), holds: false),
            ],
            fidelity: [
                Fidelity(part: "traffic", level: "RPC level"), Fidelity(part: "moves", level: "discrete"),
                Fidelity(part: "replication", level: "per job"), Fidelity(part: "disks", level: "fill only"),
            ],
            inputs: [
                InputFile(path: "models/gprd.yaml", sha256: "9f2c1e0b7d4a5b3c8e6f1a2d4c7b9e0f3a5c8d1e2f4b6a7c9d0e1f2a3b4c5d6e"),
                InputFile(path: "traces/gprd-2026-11.sqlite", sha256: "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"),
            ])
        let runSeries = RunSeries(
            phases: phases, storageWeights: weights, movesInFlight: moves, bytesMoved: bytes, diskFill: fills,
            diskFillLimit: 0.85, replicationQueueDepth: queue, replicationLagSeconds: lag, apdex: apdex, apdexObjective: 0.95)
        return RunReport(summary: summary, series: runSeries, durationHoursPerReplication: durations)
    }

    /// The sample run against a slower variant, with differences as a caller would pass them.
    public static func comparison() -> Comparison {
        let baseline = run(title: "concurrency 20")
        let candidate = run(title: "concurrency 40", slowdown: 0.8)
        let differences = [
            MetricDifference(metric: "migration duration, p95", unit: .hours, baseline: baseline.summary.predictions.durationHours[1].estimate.value, candidate: candidate.summary.predictions.durationHours[1].estimate.value, significant: true, test: "bootstrap, p < 0.001"),
            MetricDifference(metric: "write-unavailable repository-seconds", unit: .repositorySeconds, baseline: 183_400, candidate: 191_000, significant: false, test: "paired t, p = 0.21"),
            MetricDifference(metric: "probability of any data loss", unit: .probability, baseline: 0.0075, candidate: 0.0075, significant: false, test: "Wilson intervals overlap"),
        ]
        return Comparison(baseline: baseline, candidate: candidate, differences: differences)
    }
}

/// Steele, Lea and Flood's SplitMix64: a tiny fixed generator so the sample never depends on
/// the standard library's unspecified one.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform on [0, 1) with 53 random bits.
    mutating func unit() -> Double { Double(next() >> 11) / Double(UInt64(1) << 53) }
}
