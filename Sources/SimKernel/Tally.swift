/// Count, mean and variance of a stream of observations, by Welford's update (Welford,
/// Technometrics 1962), which stays accurate where the naive sum of squares cancels.
public struct Tally: Sendable, Equatable {
    @usableFromInline var _count: Int = 0
    @inlinable public var count: Int { _count }
    @usableFromInline var _mean: Double = 0
    @inlinable public var mean: Double { _mean }
    @usableFromInline var m2: Double = 0
    @usableFromInline var _min: Double = .infinity
    @inlinable public var min: Double { _min }
    @usableFromInline var _max: Double = -.infinity
    @inlinable public var max: Double { _max }

    public init() {}

    @inlinable public mutating func add(_ x: Double) {
        _count += 1
        let d = x - mean
        _mean += d / Double(count)
        m2 += d * (x - mean)
        if x < min { _min = x }
        if x > max { _max = x }
    }

    /// Unbiased sample variance (n − 1 in the denominator); 0 below two observations.
    public var variance: Double { count > 1 ? m2 / Double(count - 1) : 0 }
    public var standardDeviation: Double { variance.squareRoot() }
    public var sum: Double { mean * Double(count) }

    /// Combines two tallies as if every observation had gone into one (Chan, Golub and
    /// LeVeque's parallel update), so replications can run apart and merge.
    public mutating func merge(_ o: Tally) {
        if o.count == 0 { return }
        if count == 0 { self = o; return }
        let n = Double(count + o.count)
        let d = o.mean - mean
        m2 += o.m2 + d * d * Double(count) * Double(o.count) / n
        _mean += d * Double(o.count) / n
        _count += o.count
        _min = Swift.min(min, o.min)
        _max = Swift.max(max, o.max)
    }

    /// A Student-t confidence interval for the mean at `level` (e.g. 0.99), treating the
    /// observations as independent. Nil below two observations.
    public func confidenceInterval(level: Double) -> ConfidenceInterval? {
        guard count > 1 else { return nil }
        let half = StudentT.quantile(probability: 0.5 + level / 2, degreesOfFreedom: Double(count - 1))
            * standardDeviation / Double(count).squareRoot()
        return ConfidenceInterval(estimate: mean, low: mean - half, high: mean + half, level: level)
    }
}

/// A two-sided interval around an estimate.
public struct ConfidenceInterval: Sendable, Equatable, CustomStringConvertible {
    public var estimate: Double
    public var low: Double
    public var high: Double
    public var level: Double
    public init(estimate: Double, low: Double, high: Double, level: Double) {
        self.estimate = estimate; self.low = low; self.high = high; self.level = level
    }
    public func contains(_ x: Double) -> Bool { low <= x && x <= high }
    public var halfWidth: Double { (high - low) / 2 }
    public var description: String { "\(estimate) [\(low), \(high)] at \(level * 100)%" }
}
