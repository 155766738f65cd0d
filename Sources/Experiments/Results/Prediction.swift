import SpecFiles
import Foundation
import SimKernel
import Stochastics

/// A point estimate with its 95% interval, when one exists.
public struct Interval95: Sendable, Equatable {
    public var value: Double
    public var low: Double?
    public var high: Double?

    init(_ value: Double, _ ci: ConfidenceInterval?) {
        self.value = value
        low = ci?.low
        high = ci?.high
    }

    init(value: Double, low: Double?, high: Double?) {
        self.value = value
        self.low = low
        self.high = high
    }
}

/// What a run predicts, computed from its replications' metrics alone (so the results
/// database reproduces it): quantiles with bootstrap intervals, means with Student's t
/// intervals, the probability of data loss with Wilson's interval, and the claims judged.
public struct Prediction: Sendable {
    public static let level = 0.95
    /// Bootstrap resamples per quantile interval.
    public static let resamples = 2000

    public var replications: Int
    public var unfinished: Int
    public var durationP50: Interval95
    public var durationP95: Interval95
    public var durationMean: Interval95
    public var writeUnavailableMean: Interval95
    public var writeUnavailableP95: Interval95
    public var longestReadOnlyMean: Interval95
    public var longestReadOnlyMax: Double
    public var dataLossProbability: Interval95
    public var replicationsWithLoss: Int
    /// "Wilson score", or "importance sampling of fault rates".
    public var dataLossMethod: String
    public var expectedLostWrites: Interval95
    public var peakFillMax: Double
    /// The worst monitoring window over every replication: its apdex and its error ratio.
    public var minApdex: Double
    public var maxErrorRatio: Double
    /// The most nodes any replication left on a bad release, and had on one at once.
    public var badReleaseNodesMax: Int
    public var badReleasePeakMax: Int
    public var movesFailedMean: Double
    public var claims: [Claim.Judgement]

    public init(_ results: [ReplicationMetrics], claims: [Claim], seed: UInt64) {
        precondition(!results.isEmpty)
        replications = results.count
        unfinished = results.filter { !$0.finished }.count
        // Each interval draws from its own stream of the run's seed: adding a prediction
        // never shifts another's bootstrap.
        func quantile(_ xs: [Double], _ q: Double, _ name: String) -> Interval95 {
            var rng = RandomStreams(seed: seed).stream("prediction.bootstrap." + name)
            let ci = xs.count >= 2 ? Intervals.bootstrapQuantile(xs, quantile: q, level: Self.level, resamples: Self.resamples, rng: &rng) : nil
            return Interval95(Intervals.sampleQuantile(sorted: xs.sorted(), q), ci)
        }
        func mean(_ xs: [Double]) -> Interval95 {
            Interval95(xs.reduce(0, +) / Double(xs.count), Intervals.studentT(xs, level: Self.level))
        }
        let duration = results.map(\.durationHours)
        durationP50 = quantile(duration, 0.5, "duration.p50")
        durationP95 = quantile(duration, 0.95, "duration.p95")
        durationMean = mean(duration)
        let unavailable = results.map(\.writeUnavailableRepositorySeconds)
        writeUnavailableMean = mean(unavailable)
        writeUnavailableP95 = quantile(unavailable, 0.95, "write_unavailable.p95")
        let readOnly = results.map(\.maxReadOnlySeconds)
        longestReadOnlyMean = mean(readOnly)
        longestReadOnlyMax = readOnly.max()!
        let loss = RiskProbability(results, .dataLoss, level: Self.level)
        replicationsWithLoss = loss.happened
        dataLossProbability = Interval95(value: loss.estimate, low: loss.low, high: loss.high)
        dataLossMethod = loss.method
        // Under importance sampling each run counts with its likelihood ratio.
        expectedLostWrites = mean(results.map { Double($0.lostWrites) * $0.likelihoodRatio })
        peakFillMax = results.map(\.peakFill).max()!
        minApdex = results.map(\.minApdex).min()!
        maxErrorRatio = results.map(\.maxErrorRatio).max()!
        badReleaseNodesMax = results.map(\.badReleaseNodes).max()!
        badReleasePeakMax = results.map(\.badReleasePeak).max()!
        movesFailedMean = Double(results.reduce(0) { $0 + $1.movesFailed }) / Double(results.count)
        self.claims = claims.map { $0.evaluate(results, seed: seed) }
    }

    /// The `rehearse run --json` object's prediction fields, keys sorted, numbers as JSON
    /// numbers (null where an interval does not exist).
    public func jsonFields() -> [(String, String)] {
        func n(_ x: Double?) -> String { x.map(jsonNumber) ?? "null" }
        func obj(_ pairs: [(String, String)]) -> String { "{" + pairs.sorted { $0.0 < $1.0 }.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}" }
        func withCI(_ i: Interval95, _ name: String) -> [(String, String)] { [(name, n(i.value)), (name + "_ci95", "[\(n(i.low)),\(n(i.high))]")] }
        let duration = obj([("p50", n(durationP50.value)), ("p95", n(durationP95.value)), ("mean", n(durationMean.value)),
                            ("ci95_low", n(durationMean.low)), ("ci95_high", n(durationMean.high)),
                            ("p50_ci95", "[\(n(durationP50.low)),\(n(durationP50.high))]"),
                            ("p95_ci95", "[\(n(durationP95.low)),\(n(durationP95.high))]"), ("unfinished", "\(unfinished)")])
        let loss = obj([("probability", n(dataLossProbability.value)), ("ci95_low", n(dataLossProbability.low)),
                        ("ci95_high", n(dataLossProbability.high)), ("replications_with_loss", "\(replicationsWithLoss)"), ("method", jsonString(dataLossMethod)),
                        ("expected_lost_writes", n(expectedLostWrites.value))])
        let unavailable = obj(withCI(writeUnavailableMean, "mean") + [("p95", n(writeUnavailableP95.value))])
        let readOnly = obj(withCI(longestReadOnlyMean, "mean") + [("max", n(longestReadOnlyMax))])
        let claimList = "[" + claims.map { j in
            obj([("statement", jsonString(j.claim.statement)), ("holds", j.holds ? "true" : "false"), ("observed", jsonString(j.observed))])
        }.joined(separator: ",") + "]"
        return [("duration_hours", duration), ("data_loss", loss), ("write_unavailable_repo_seconds", unavailable),
                ("longest_read_only_seconds", readOnly), ("peak_fill", n(peakFillMax)), ("moves_failed_mean", n(movesFailedMean)),
                ("min_apdex", n(minApdex)), ("max_error_ratio", n(maxErrorRatio)), ("bad_release_nodes_max", "\(badReleaseNodesMax)"), ("bad_release_peak_max", "\(badReleasePeakMax)"),
                ("claims", claimList)]
    }
}
