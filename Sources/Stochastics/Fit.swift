#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A distribution fitted to observations, with how well it fits.
public struct FitResult<D: ContinuousDistribution>: Sendable {
    public let distribution: D
    /// Σ ln f(x_i) at the fitted parameters.
    public let logLikelihood: Double
    /// sup |F_n - F| between the observations and the fitted distribution.
    public let ksStatistic: Double
    public let sampleCount: Int

    public init(distribution: D, logLikelihood: Double, ksStatistic: Double, sampleCount: Int) {
        self.distribution = distribution
        self.logLikelihood = logLikelihood
        self.ksStatistic = ksStatistic
        self.sampleCount = sampleCount
    }

    /// The KS p-value of `ksStatistic`. The parameters were estimated from the same data, so
    /// this is conservative (too large); use it to rank candidate fits and to reject gross
    /// misfits, not as an exact test (see `KolmogorovSmirnov.pValue`).
    public var ksPValue: Double {
        KolmogorovSmirnov.pValue(statistic: ksStatistic, sampleCount: sampleCount)
    }

    /// Akaike's information criterion, 2p - 2 ln L, for comparing fits of different families.
    public func akaike(parameterCount p: Int) -> Double { 2 * Double(p) - 2 * logLikelihood }

    init(_ distribution: D, _ xs: [Double], logDensity: (Double) -> Double) {
        var ll = 0.0
        for x in xs { ll += logDensity(x) }
        self.init(
            distribution: distribution, logLikelihood: ll,
            ksStatistic: KolmogorovSmirnov.statistic(xs, cdf: distribution.cdf), sampleCount: xs.count)
    }
}

extension FitResult: Equatable where D: Equatable {}

/// Maximum-likelihood fits. Each rejects non-finite observations, and observations outside the
/// family's support, with a `DistributionError.invalidData` naming the first offending index.
public enum Fit {
    /// λ = n / Σ x. Zeros are allowed (inter-arrival times of requests logged in the same
    /// millisecond are zero), negative values are not, and the sum must be positive.
    public static func exponential(_ xs: [Double]) throws -> FitResult<Exponential> {
        try Check.count(xs, atLeast: 1)
        for (i, x) in xs.enumerated() where !(x.isFinite && x >= 0) {
            throw DistributionError.invalidData("observation at index \(i) is \(x); an exponential fit needs finite observations at least 0")
        }
        let sum = xs.reduce(0, +)
        guard sum > 0 else {
            throw DistributionError.invalidData("all \(xs.count) observations are 0; an exponential fit needs a positive mean")
        }
        let d = try Exponential(rate: Double(xs.count) / sum)
        return FitResult(d, xs, logDensity: d.logDensity)
    }

    /// μ = mean of ln x and σ² = Σ (ln x - μ)² / n. The maximum-likelihood σ divides by n, not
    /// n - 1, so it is biased low by a factor √((n-1)/n); we keep the MLE so that the reported
    /// log-likelihood is the maximum.
    public static func logNormal(_ xs: [Double]) throws -> FitResult<LogNormal> {
        try Check.count(xs, atLeast: 2)
        try Check.positiveData(xs)
        try distinct(xs, family: "lognormal")
        let n = Double(xs.count)
        var mu = 0.0
        for x in xs { mu += log(x) }
        mu /= n
        var ss = 0.0
        for x in xs { let e = log(x) - mu; ss += e * e }
        let d = try LogNormal(mu: mu, sigma: (ss / n).squareRoot())
        return FitResult(d, xs, logDensity: d.logDensity)
    }

    /// x_m = min x and α = n / Σ ln(x / x_m). The minimum is the MLE of the scale because the
    /// likelihood grows with x_m up to the smallest observation.
    public static func pareto(_ xs: [Double]) throws -> FitResult<Pareto> {
        try Check.count(xs, atLeast: 2)
        try Check.positiveData(xs)
        try distinct(xs, family: "Pareto")
        let xm = xs.min()!
        var s = 0.0
        for x in xs { s += log(x / xm) }
        let d = try Pareto(scale: xm, shape: Double(xs.count) / s)
        return FitResult(d, xs, logDensity: d.logDensity)
    }

    /// Weibull by maximum likelihood: the shape k solves the profile equation
    /// g(k) = Σ x^k ln x / Σ x^k - 1/k - (1/n) Σ ln x = 0, and then λ = ((1/n) Σ x^k)^{1/k}
    /// (Cohen, "Maximum likelihood estimation in the Weibull distribution based on complete
    /// and on censored samples", Technometrics 7, 1965). g rises strictly from -∞ to
    /// -(1/n)Σ ln(x/x_max) > 0, so the root is unique; we bracket it and run Newton's method,
    /// falling back to bisection whenever a step would leave the bracket.
    public static func weibull(_ xs: [Double]) throws -> FitResult<Weibull> {
        try Check.count(xs, atLeast: 2)
        try Check.positiveData(xs)
        try distinct(xs, family: "Weibull")
        let k = weibullShape(xs)
        let xMax = xs.max()!
        var b = 0.0
        for x in xs { b += exp(k * log(x / xMax)) }
        let d = try Weibull(scale: xMax * pow(b / Double(xs.count), 1 / k), shape: k)
        return FitResult(d, xs, logDensity: d.logDensity)
    }

    /// The root of the Weibull profile equation. The data are divided by their maximum first:
    /// the equation is scale-free, and with every ln y <= 0 the powers y^k never overflow.
    static func weibullShape(_ xs: [Double]) -> Double {
        let xMax = xs.max()!
        let logs = xs.map { log($0 / xMax) }
        let n = Double(logs.count)
        let meanLog = logs.reduce(0, +) / n
        /// g(k) and g'(k).
        func profile(_ k: Double) -> (g: Double, slope: Double) {
            var a = 0.0, b = 0.0, c = 0.0
            for l in logs {
                let w = exp(k * l)
                b += w; a += w * l; c += w * l * l
            }
            let ratio = a / b
            return (ratio - 1 / k - meanLog, c / b - ratio * ratio + 1 / (k * k))
        }
        // Start from the moment estimate on the log scale: ln X is Gumbel with standard
        // deviation π / (k √6).
        var ss = 0.0
        for l in logs { ss += (l - meanLog) * (l - meanLog) }
        var k = Double.pi / ((ss / n).squareRoot() * 6.0.squareRoot())
        // Widen the bracket by halving and doubling. 2 000 steps span 2^±2000, past every
        // double, so running out of steps means g is not the function described above.
        var lo = k, hi = k
        var steps = 0
        while profile(lo).g > 0 {
            precondition(steps < 2_000, "Weibull shape equation has no root above \(lo)")
            lo /= 2; steps += 1
        }
        while profile(hi).g < 0 {
            precondition(steps < 4_000, "Weibull shape equation has no root below \(hi)")
            hi *= 2; steps += 1
        }
        for _ in 0..<200 {
            let (g, slope) = profile(k)
            if g == 0 { return k }
            if g < 0 { lo = k } else { hi = k }
            var next = k - g / slope
            if !(next > lo && next < hi) { next = (lo + hi) / 2 }
            let converged = abs(next - k) <= 1e-13 * k || hi - lo <= 1e-13 * k
            k = next
            if converged { break }
        }
        return k
    }

    /// A two-parameter family cannot be fitted to a single repeated value.
    static func distinct(_ xs: [Double], family: String) throws {
        guard let first = xs.first, xs.contains(where: { $0 != first }) else {
            throw DistributionError.invalidData(
                "all \(xs.count) observations equal \(xs.first ?? .nan); a \(family) fit needs at least two distinct values")
        }
    }
}
