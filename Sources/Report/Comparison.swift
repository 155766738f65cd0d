/// Two runs side by side (e.g. two policies under common random numbers) and the differences
/// the caller tested. The report never decides significance itself: the caller's test does.
public struct Comparison: Sendable, Equatable {
    public var baseline: RunReport
    public var candidate: RunReport
    public var differences: [MetricDifference]

    public init(baseline: RunReport, candidate: RunReport, differences: [MetricDifference]) {
        self.baseline = baseline
        self.candidate = candidate
        self.differences = differences
    }
}

public struct MetricDifference: Sendable, Equatable {
    public var metric: String
    public var unit: Quantity
    public var baseline: Double
    public var candidate: Double
    public var significant: Bool
    /// The test behind `significant`, e.g. "paired t, p = 0.003" or "Wilson intervals overlap".
    public var test: String

    public init(metric: String, unit: Quantity, baseline: Double, candidate: Double, significant: Bool, test: String) {
        self.metric = metric
        self.unit = unit
        self.baseline = baseline
        self.candidate = candidate
        self.significant = significant
        self.test = test
    }
}

/// What a number measures, so that the report can print it with its unit.
public enum Quantity: Sendable, Equatable {
    case seconds
    case hours
    case bytes
    case count
    /// Repository-seconds of write unavailability.
    case repositorySeconds
    /// A probability or a fraction (0–1), printed as a percentage or in scientific notation.
    case probability
    /// A dimensionless ratio such as apdex (0–1), printed with three decimals.
    case ratio
}
