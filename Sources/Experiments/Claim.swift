import Foundation
import SimKernel
import SpecFiles
import Stochastics

/// What one replication measured, the quantities claims and predictions are made of.
public struct ReplicationMetrics: Sendable, Equatable {
    /// Hours from the engine's start to its end; the horizon when the run did not finish (a
    /// lower bound: such a replication is counted in `unfinished`).
    public var durationHours: Double
    public var finished: Bool
    public var writeUnavailableRepositorySeconds: Double
    public var maxReadOnlySeconds: Double
    public var acknowledgedWrites: Int
    public var lostWrites: Int
    public var movesFinished: Int
    public var movesFailed: Int
    public var repositoriesLeftReadOnly: Int
    public var bytesMoved: Int64
    /// The fullest any storage got (used / capacity) at any sample.
    public var peakFill: Double
    public var events: Int
    /// Random faults that struck in the run.
    public var randomFaults: Int
    /// The run's weight under the real fault rates when they were sampled faster (importance
    /// sampling); 1 otherwise.
    public var likelihoodRatio: Double
    /// The lowest apdex of any monitoring window of the run (1 when no window saw a request).
    public var minApdex: Double
    /// The highest error ratio of any monitoring window of the run.
    public var maxErrorRatio: Double
    /// Nodes running a bad release at the end (a rolling update that spread one), and the most
    /// at once during the run.
    public var badReleaseNodes: Int
    public var badReleasePeak: Int

    public init(durationHours: Double, finished: Bool, writeUnavailableRepositorySeconds: Double, maxReadOnlySeconds: Double,
                acknowledgedWrites: Int, lostWrites: Int, movesFinished: Int, movesFailed: Int, repositoriesLeftReadOnly: Int,
                bytesMoved: Int64, peakFill: Double, events: Int, randomFaults: Int = 0, likelihoodRatio: Double = 1,
                minApdex: Double = 1, maxErrorRatio: Double = 0, badReleaseNodes: Int = 0, badReleasePeak: Int = 0) {
        self.badReleaseNodes = badReleaseNodes
        self.badReleasePeak = badReleasePeak
        self.minApdex = minApdex
        self.maxErrorRatio = maxErrorRatio
        self.randomFaults = randomFaults
        self.likelihoodRatio = likelihoodRatio
        self.durationHours = durationHours
        self.finished = finished
        self.writeUnavailableRepositorySeconds = writeUnavailableRepositorySeconds
        self.maxReadOnlySeconds = maxReadOnlySeconds
        self.acknowledgedWrites = acknowledgedWrites
        self.lostWrites = lostWrites
        self.movesFinished = movesFinished
        self.movesFailed = movesFailed
        self.repositoriesLeftReadOnly = repositoriesLeftReadOnly
        self.bytesMoved = bytesMoved
        self.peakFill = peakFill
        self.events = events
    }
}

/// A quantity a claim is about.
public enum Metric: String, CaseIterable, Sendable {
    case durationHours = "duration_hours"
    case writeUnavailableRepositorySeconds = "write_unavailable_repo_seconds"
    case maxReadOnlySeconds = "max_read_only_seconds"
    case lostWrites = "lost_writes"
    case movesFailed = "moves_failed"
    case repositoriesLeftReadOnly = "repositories_left_read_only"
    case peakFill = "peak_fill"
    case minApdex = "min_apdex"
    case maxErrorRatio = "max_error_ratio"
    case badReleaseNodes = "bad_release_nodes"
    case badReleasePeak = "bad_release_peak"

    public func value(_ m: ReplicationMetrics) -> Double {
        switch self {
        case .durationHours: return m.durationHours
        case .writeUnavailableRepositorySeconds: return m.writeUnavailableRepositorySeconds
        case .maxReadOnlySeconds: return m.maxReadOnlySeconds
        case .lostWrites: return Double(m.lostWrites)
        case .movesFailed: return Double(m.movesFailed)
        case .repositoriesLeftReadOnly: return Double(m.repositoriesLeftReadOnly)
        case .peakFill: return m.peakFill
        case .minApdex: return m.minApdex
        case .maxErrorRatio: return m.maxErrorRatio
        case .badReleaseNodes: return Double(m.badReleaseNodes)
        case .badReleasePeak: return Double(m.badReleasePeak)
        }
    }
}

/// An event whose probability a claim bounds, one yes or no per replication.
public enum RiskEvent: String, CaseIterable, Sendable {
    /// Any acknowledged write lost.
    case dataLoss = "data_loss"
    /// The migration did not finish within the horizon.
    case unfinished
    /// A repository was left read-only at the end.
    case leftReadOnly = "left_read_only"

    public func happened(_ m: ReplicationMetrics) -> Bool {
        switch self {
        case .dataLoss: return m.lostWrites > 0
        case .unfinished: return !m.finished
        case .leftReadOnly: return m.repositoriesLeftReadOnly > 0
        }
    }
}

/// The probability of a risk event from a run's replications. Unweighted runs: the share of
/// replications where it happened, with Wilson's interval. Runs whose faults were sampled
/// faster (importance sampling): the mean of indicator × likelihood ratio, unbiased for the
/// real rates, with a normal interval from its standard error (the weights make Wilson's
/// interval wrong); clipped to [0, 1].
public struct RiskProbability: Sendable, Equatable {
    public var estimate: Double
    public var low: Double?
    public var high: Double?
    public var happened: Int
    public var weighted: Bool

    public init(_ results: [ReplicationMetrics], _ event: RiskEvent, level: Double) {
        happened = results.filter(event.happened).count
        weighted = results.contains { $0.likelihoodRatio != 1 }
        let n = Double(results.count)
        if !weighted {
            estimate = Double(happened) / n
            let ci = Intervals.wilson(successes: happened, trials: results.count, level: level)
            (low, high) = (ci?.low, ci?.high)
            return
        }
        let xs = results.map { event.happened($0) ? $0.likelihoodRatio : 0 }
        estimate = xs.reduce(0, +) / n
        guard results.count >= 2 else { (low, high) = (nil, nil); return }
        let sd = (xs.reduce(0) { $0 + ($1 - estimate) * ($1 - estimate) } / (n - 1)).squareRoot()
        let half = StandardNormal.quantile(0.5 + level / 2) * sd / n.squareRoot()
        (low, high) = (max(0, estimate - half), min(1, estimate + half))
    }

    public var method: String { weighted ? "importance sampling of fault rates" : "Wilson score" }
}

/// An assertion on an experiment's results, as written in its file:
/// `STAT(QUANTITY) OP NUMBER [at LEVEL%]`, e.g. `p95(duration_hours) < 72`,
/// `P(data_loss) < 0.001 at 95%`. STAT is `p50`, `p90`, `p95`, `p99`, `mean` or `max` of a
/// `Metric`, or `P` of a `RiskEvent`. Without `at` the point estimate is compared; with it the
/// bound of the interval on the side that could break the claim (the upper bound for `<`, the
/// lower for `>`): bootstrap for quantiles, Student's t for means, Wilson for probabilities.
public struct Claim: Sendable, Equatable {
    public enum Statistic: Sendable, Equatable {
        case quantile(Double)
        case mean
        case max
        case probability
    }
    public enum Comparison: String, Sendable, CaseIterable {
        case less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="

        func holds(_ a: Double, _ b: Double) -> Bool {
            switch self {
            case .less: return a < b
            case .lessOrEqual: return a <= b
            case .greater: return a > b
            case .greaterOrEqual: return a >= b
            }
        }
        var bounds: Bool { self == .less || self == .lessOrEqual }
    }

    public var statement: String
    public var statistic: Statistic
    /// The metric's raw value, or the risk event's.
    public var quantity: String
    public var comparison: Comparison
    public var threshold: Double
    /// Confidence level in (0, 1), nil for a point comparison.
    public var level: Double?

    public static func parse(_ text: String, at c: YAMLCursor) throws -> Claim {
        try parse(text) { c.error($0) }
    }

    /// Parses a claim; `error` makes the error for a message (naming the file and place).
    public static func parse(_ text: String, error: (String) -> SpecError) throws -> Claim {
        func fail(_ why: String) -> SpecError {
            error("claim \"\(text)\": \(why); the form is STAT(QUANTITY) OP NUMBER [at LEVEL%], e.g. p95(duration_hours) < 72 at 95%")
        }
        let t = text.trimmingCharacters(in: .whitespaces)
        guard let open = t.firstIndex(of: "("), let close = t.firstIndex(of: ")"), open < close else { throw fail("no STAT(QUANTITY)") }
        let stat = String(t[..<open]).trimmingCharacters(in: .whitespaces)
        let quantity = String(t[t.index(after: open)..<close]).trimmingCharacters(in: .whitespaces)
        var rest = Substring(t[t.index(after: close)...]).drop { $0 == " " }
        let statistic: Statistic
        switch stat {
        case "mean": statistic = .mean
        case "max": statistic = .max
        case "P": statistic = .probability
        case let s where s.hasPrefix("p"):
            guard let q = Double(s.dropFirst()), q > 0, q < 100 else { throw fail("unknown statistic \"\(s)\"") }
            statistic = .quantile(q / 100)
        default: throw fail("unknown statistic \"\(stat)\"; use p50, p90, p95, p99, mean, max or P")
        }
        if statistic == .probability {
            guard RiskEvent(rawValue: quantity) != nil else {
                throw fail("P() takes one of \(RiskEvent.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(quantity)\"")
            }
        } else {
            guard Metric(rawValue: quantity) != nil else {
                throw fail("unknown quantity \"\(quantity)\"; use one of \(Metric.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }
        guard let op = [Comparison.lessOrEqual, .greaterOrEqual, .less, .greater].first(where: { rest.hasPrefix($0.rawValue) }) else {
            throw fail("no comparison (<, <=, >, >=)")
        }
        rest = rest.dropFirst(op.rawValue.count).drop { $0 == " " }
        let words = rest.split(separator: " ")
        guard let first = words.first else { throw fail("no number to compare with") }
        var number = String(first)
        if quantity == Metric.durationHours.rawValue, number.hasSuffix("h") { number.removeLast() }
        guard let threshold = Double(number), threshold.isFinite else { throw fail("\"\(first)\" is not a number") }
        var level: Double?
        if words.count > 1 {
            guard words.count == 3, words[1] == "at", words[2].hasSuffix("%"), let l = Double(words[2].dropLast()), l > 0, l < 100 else {
                throw fail("after the number only \"at LEVEL%\" may follow, LEVEL between 0 and 100")
            }
            guard statistic != .max else { throw fail("max has no confidence interval; drop \"at\"") }
            level = l / 100
        }
        return Claim(statement: t, statistic: statistic, quantity: quantity, comparison: op, threshold: threshold, level: level)
    }

    /// The claim judged on a run's replications. Bootstrap draws come from a stream of `seed`,
    /// so the judgement is a function of the results and the seed.
    public func evaluate(_ results: [ReplicationMetrics], seed: UInt64) -> Judgement {
        precondition(!results.isEmpty, "a claim needs at least one replication")
        let point: Double
        var interval: ClosedRange<Double>?
        switch statistic {
        case .probability:
            let p = RiskProbability(results, RiskEvent(rawValue: quantity)!, level: level ?? 0.95)
            point = p.estimate
            if level != nil, let low = p.low, let high = p.high { interval = low...high }
        case .mean:
            let xs = results.map(Metric(rawValue: quantity)!.value)
            point = xs.reduce(0, +) / Double(xs.count)
            if let level {
                // One replication has no spread: the interval is unbounded, so a claim at a
                // confidence level cannot hold on it.
                if let ci = Intervals.studentT(xs, level: level) { interval = ci.low...ci.high } else { interval = -Double.infinity...Double.infinity }
            }
        case .max:
            point = results.map(Metric(rawValue: quantity)!.value).max()!
        case .quantile(let q):
            let xs = results.map(Metric(rawValue: quantity)!.value)
            point = Intervals.sampleQuantile(sorted: xs.sorted(), q)
            if let level {
                var rng = RandomStreams(seed: seed).stream("claims.bootstrap." + statement)
                if let ci = Intervals.bootstrapQuantile(xs, quantile: q, level: level, resamples: 2000, rng: &rng) { interval = ci.low...ci.high }
            }
        }
        let compared = interval.map { comparison.bounds ? $0.upperBound : $0.lowerBound } ?? point
        return Judgement(claim: self, estimate: point, interval: interval, holds: comparison.holds(compared, threshold))
    }

    public struct Judgement: Sendable, Equatable {
        public var claim: Claim
        public var estimate: Double
        public var interval: ClosedRange<Double>?
        public var holds: Bool

        /// What was measured, e.g. `p95 = 41.2 (95% CI 38.0–44.9)`.
        public var observed: String {
            let name: String
            switch claim.statistic {
            case .quantile(let q): name = "p" + shortNumber(q * 100)
            case .mean: name = "mean"
            case .max: name = "max"
            case .probability: name = "P"
            }
            var s = "\(name) = \(shortNumber(estimate))"
            if let interval, let level = claim.level {
                s += " (\(shortNumber(level * 100))% CI \(shortNumber(interval.lowerBound))–\(shortNumber(interval.upperBound)))"
            }
            return s
        }
    }
}

/// A number with at most 4 significant digits, no exponent below 1e6 (claims' readouts).
func shortNumber(_ x: Double) -> String {
    guard x.isFinite else { return x > 0 ? "∞" : "-∞" }
    if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
    let digits = max(0, 3 - Int((abs(x) < 1e-300 ? 0 : log10(abs(x))).rounded(.down)))
    var s = String(format: "%.\(min(digits, 12))f", x)
    if s.contains(".") { while s.hasSuffix("0") { s.removeLast() }; if s.hasSuffix(".") { s.removeLast() } }
    return s
}
