import SimKernel

/// The empirical distribution of observed samples: each observation carries mass 1/n, and
/// sampling inverts the empirical CDF, so it resamples the observed values (no interpolation,
/// no values outside the observed range).
public struct Empirical: ContinuousDistribution, Equatable, CustomStringConvertible {
    /// The observations in ascending order.
    public let sorted: [Double]
    public let mean: Double
    /// The variance of the empirical distribution itself (n in the denominator), not the
    /// unbiased estimate of the population's.
    public let variance: Double

    public init(samples: [Double]) throws {
        try Check.count(samples, atLeast: 1)
        try Check.finiteData(samples)
        sorted = samples.sorted()
        var t = Tally()
        for x in sorted { t.add(x) }
        mean = t.mean
        variance = t.variance * Double(t.count - 1) / Double(t.count)
    }

    public var count: Int { sorted.count }

    /// Inversion with U on [0, 1): the observation at sorted index ⌊U n⌋, each with
    /// probability exactly 1/n.
    public func sample(_ rng: inout RandomStream) -> Double {
        sorted[min(sorted.count - 1, Int(rng.nextDouble() * Double(sorted.count)))]
    }

    /// (number of observations <= x) / n.
    public func cdf(_ x: Double) -> Double {
        Double(Self.countAtMost(x, in: sorted)) / Double(sorted.count)
    }

    /// inf { x : cdf(x) >= p }: the observation at sorted index ⌈p n⌉ - 1 (the minimum for p = 0).
    public func quantile(_ p: Double) -> Double {
        Check.probability(p)
        // p = cdf(x) = k/n comes back as p n = k give or take an ulp; shrinking by four ulps
        // before rounding up keeps quantile(cdf(x)) == x for every observation x.
        let n = Double(sorted.count)
        let rank = Int((p * n * (1 - 4 * Double.ulpOfOne)).rounded(.up))
        return sorted[max(0, min(sorted.count - 1, rank - 1))]
    }

    public var description: String { "Empirical(\(sorted.count) observations from \(sorted[0]) to \(sorted[sorted.count - 1]))" }

    /// Number of elements of ascending `sorted` that are <= x, by binary search.
    static func countAtMost(_ x: Double, in sorted: [Double]) -> Int {
        var lo = 0, hi = sorted.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if sorted[mid] <= x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
