/// Everything one run's report shows, as plain values. The runner (issue 9) maps its results
/// database onto these; nothing here knows about the simulator.
public struct RunReport: Sendable, Equatable {
    public var summary: RunSummary
    public var series: RunSeries
    /// Migration duration of each replication, in hours (any order; the report sorts a copy).
    public var durationHoursPerReplication: [Double]

    public init(summary: RunSummary, series: RunSeries, durationHoursPerReplication: [Double]) {
        self.summary = summary
        self.series = series
        self.durationHoursPerReplication = durationHoursPerReplication
    }
}

/// The tables at the top of a run's page.
public struct RunSummary: Sendable, Equatable {
    public var title: String
    public var experiment: String
    public var seed: UInt64
    public var replications: Int
    public var predictions: Predictions
    public var claims: [ClaimResult]
    /// How faithfully each part of the world was simulated, e.g. ("traffic", "RPC level").
    public var fidelity: [Fidelity]
    public var inputs: [InputFile]

    public init(
        title: String, experiment: String, seed: UInt64, replications: Int, predictions: Predictions,
        claims: [ClaimResult], fidelity: [Fidelity], inputs: [InputFile]
    ) {
        self.title = title
        self.experiment = experiment
        self.seed = seed
        self.replications = replications
        self.predictions = predictions
        self.claims = claims
        self.fidelity = fidelity
        self.inputs = inputs
    }
}

/// The headline predictions of a run, each with its interval where the runner computed one.
public struct Predictions: Sendable, Equatable {
    /// Quantiles of migration duration in hours (e.g. p50, p95), each with its bootstrap interval.
    public var durationHours: [QuantileEstimate]
    public var writeUnavailableRepositorySeconds: Estimate
    public var longestReadOnlySeconds: Estimate
    public var dataLoss: LossProbability
    /// Acknowledged writes lost per replication (mean, with its interval).
    public var lostWrites: Estimate

    public init(
        durationHours: [QuantileEstimate], writeUnavailableRepositorySeconds: Estimate,
        longestReadOnlySeconds: Estimate, dataLoss: LossProbability, lostWrites: Estimate
    ) {
        self.durationHours = durationHours
        self.writeUnavailableRepositorySeconds = writeUnavailableRepositorySeconds
        self.longestReadOnlySeconds = longestReadOnlySeconds
        self.dataLoss = dataLoss
        self.lostWrites = lostWrites
    }
}

/// A point estimate and, when known, its interval at `confidence` (e.g. 0.95).
public struct Estimate: Sendable, Equatable {
    public var value: Double
    public var interval: ClosedRange<Double>?
    public var confidence: Double

    public init(_ value: Double, interval: ClosedRange<Double>? = nil, confidence: Double = 0.95) {
        self.value = value
        self.interval = interval
        self.confidence = confidence
    }
}

/// A quantile of a distribution (`probability` 0.5 is the median) with its estimate.
public struct QuantileEstimate: Sendable, Equatable {
    public var probability: Double
    public var estimate: Estimate

    public init(probability: Double, estimate: Estimate) {
        self.probability = probability
        self.estimate = estimate
    }

    /// "p50", "p95", "p99.9".
    public var label: String { "p" + Format.plain(probability * 100) }
}

/// The probability that a replication loses any acknowledged write: `replicationsWithLoss` of
/// `replications`, with its (Wilson or importance-sampling) interval computed by the runner.
public struct LossProbability: Sendable, Equatable {
    public var replicationsWithLoss: Int
    public var replications: Int
    public var probability: Estimate
    /// How the probability was estimated, e.g. "Wilson score" or "importance sampling".
    public var method: String

    public init(replicationsWithLoss: Int, replications: Int, probability: Estimate, method: String) {
        self.replicationsWithLoss = replicationsWithLoss
        self.replications = replications
        self.probability = probability
        self.method = method
    }
}

/// A claim of the experiment and whether the run upholds it.
public struct ClaimResult: Sendable, Equatable {
    /// The claim as written, e.g. "p95(duration) < 72h".
    public var statement: String
    /// What the run measured, already formatted, e.g. "p95 = 41.2 h (95% CI 38.0–44.9 h)".
    public var observed: String
    public var holds: Bool

    public init(statement: String, observed: String, holds: Bool) {
        self.statement = statement
        self.observed = observed
        self.holds = holds
    }
}

public struct Fidelity: Sendable, Equatable {
    public var part: String
    public var level: String

    public init(part: String, level: String) {
        self.part = part
        self.level = level
    }
}

/// An input file of the run and its content hash (hex), so the run can be reproduced.
public struct InputFile: Sendable, Equatable {
    public var path: String
    public var sha256: String

    public init(path: String, sha256: String) {
        self.path = path
        self.sha256 = sha256
    }
}
