#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one-sample Kolmogorov–Smirnov test of observations against a continuous CDF.
public enum KolmogorovSmirnov {
    /// D_n = sup_x |F_n(x) - F(x)|, with F_n the empirical CDF of `xs`.
    ///
    /// The supremum is reached at an observation, just before or at its jump, so over the
    /// sorted sample x_(1) <= ... <= x_(n) it is max_i max(i/n - F(x_(i)), F(x_(i)) - (i-1)/n).
    /// Ties need no special case: within a run of equal values the first gives the largest
    /// F - F_n(x-) and the last the largest F_n(x) - F. `xs` must be non-empty and free of NaN.
    public static func statistic(_ xs: [Double], cdf: (Double) -> Double) -> Double {
        precondition(!xs.isEmpty, "the KS statistic needs at least one observation")
        precondition(!xs.contains { $0.isNaN }, "the KS statistic needs observations that are numbers")
        let sorted = xs.sorted()
        let n = Double(sorted.count)
        var d = 0.0
        for (i, x) in sorted.enumerated() {
            let f = cdf(x)
            d = max(d, Double(i + 1) / n - f, f - Double(i) / n)
        }
        return d
    }

    /// P(D_n >= d) under the null hypothesis, from the asymptotic Kolmogorov distribution with
    /// Stephens' finite-sample correction: Q_KS((√n + 0.12 + 0.11/√n) d) (M. A. Stephens,
    /// "Use of the Kolmogorov–Smirnov, Cramér–von Mises and related statistics without
    /// extensive tables", JRSS B 32, 1970). The correction makes the limit law accurate to
    /// about two significant figures from n ≈ 5 on, and better as n grows; for exact small-n
    /// p-values use Marsaglia, Tsang and Wang's algorithm (J. Stat. Softw. 8(18), 2003).
    ///
    /// Valid only when F is fully specified in advance. When its parameters were estimated
    /// from the same data (as in `Fit`), D is smaller than the null law says and this p-value
    /// is conservative (too large): the Lilliefors effect.
    public static func pValue(statistic d: Double, sampleCount n: Int) -> Double {
        precondition(n >= 1, "a KS p-value needs a sample count of at least 1, got \(n)")
        if d.isNaN { return .nan }
        if d <= 0 { return 1 }
        if d >= 1 { return 0 }
        let rootN = Double(n).squareRoot()
        return limitingSurvival((rootN + 0.12 + 0.11 / rootN) * d)
    }

    /// Q_KS(λ) = P(K > λ) for the Kolmogorov distribution K = sup |B(t)| of a Brownian bridge:
    /// Q_KS(λ) = 2 Σ_{j>=1} (-1)^{j-1} e^{-2 j² λ²}. That series converges fast for large λ;
    /// below λ = 1.18 we use its Jacobi-theta dual,
    /// 1 - Q_KS(λ) = (√(2π)/λ) Σ_{j>=1} e^{-(2j-1)² π² / (8λ²)}, which converges fast there.
    /// Both are summed until the terms fall below 1e-17 (at most 100 terms).
    public static func limitingSurvival(_ lambda: Double) -> Double {
        if lambda <= 0 { return 1 }
        if lambda < 1.18 {
            let a = -Double.pi * Double.pi / (8 * lambda * lambda)
            var sum = 0.0
            for j in 1...100 {
                let m = Double(2 * j - 1)
                let term = exp(a * m * m)
                sum += term
                if term < 1e-17 { break }
            }
            return min(1, max(0, 1 - (2 * Double.pi).squareRoot() / lambda * sum))
        }
        let a = -2 * lambda * lambda
        var sum = 0.0
        for j in 1...100 {
            let jj = Double(j)
            let term = exp(a * jj * jj)
            sum += j % 2 == 1 ? term : -term
            if term < 1e-17 { break }
        }
        return min(1, max(0, 2 * sum))
    }
}
