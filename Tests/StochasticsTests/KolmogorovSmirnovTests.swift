#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SimKernel
import Testing
@testable import Stochastics

// By hand, for 0.1, 0.4, 0.7 against the uniform CDF F(x) = x:
// D+ = max(1/3 - 0.1, 2/3 - 0.4, 1 - 0.7) = 0.3 and D- = max(0.1, 0.4 - 1/3, 0.7 - 2/3) = 0.1.
@Test func ksStatisticMatchesAHandComputedSample() {
    let uniform: (Double) -> Double = { min(1, max(0, $0)) }
    #expect(abs(KolmogorovSmirnov.statistic([0.7, 0.1, 0.4], cdf: uniform) - 0.3) < 1e-15)
    // A tie: both points at 0.5 make F_n jump from 0 to 1 there, so D = 0.5.
    #expect(abs(KolmogorovSmirnov.statistic([0.5, 0.5], cdf: uniform) - 0.5) < 1e-15)
    // One point at 0.9: D = max(1 - 0.9, 0.9 - 0) = 0.9.
    #expect(abs(KolmogorovSmirnov.statistic([0.9], cdf: uniform) - 0.9) < 1e-15)
}

// Goal: KS separates the right law from a wrong one. Method: 2 000 exponential(1) draws; against
// their own law D stays below the 0.1 % critical value 1.95/√n, against rate 2 it is far above
// it. Against a lognormal of the same mean, the triangle inequality pins D to within dTrue of
// sup |F_exp - F_ln| = 0.060497 (found by a dense grid search outside this code, at x ≈ 0.1186).
@Test func ksStatisticIsSmallForTheTrueLawAndLargeForAWrongOne() throws {
    let n = 2_000
    let truth = try Exponential(rate: 1)
    let xs = draws(truth, n, "ks separation")
    let critical = 1.95 / Double(n).squareRoot()
    let dTrue = KolmogorovSmirnov.statistic(xs, cdf: truth.cdf)
    #expect(dTrue < critical, "D \(dTrue), seed \(testSeed)")
    #expect(KolmogorovSmirnov.pValue(statistic: dTrue, sampleCount: n) > 0.001)
    let dWrong = KolmogorovSmirnov.statistic(xs, cdf: try Exponential(rate: 2).cdf)
    #expect(dWrong > 5 * critical, "D \(dWrong), seed \(testSeed)")
    #expect(KolmogorovSmirnov.pValue(statistic: dWrong, sampleCount: n) < 1e-10)
    let dLogNormal = KolmogorovSmirnov.statistic(xs, cdf: try LogNormal(mu: -0.5, sigma: 1).cdf)
    #expect(abs(dLogNormal - 0.060497) <= dTrue + 1e-6, "D \(dLogNormal), seed \(testSeed)")
}

// The Kolmogorov distribution's upper quantiles, as tabulated (Smirnov 1948; e.g. Stephens
// 1970, Table 1A, n = ∞): P(K > 1.0727) = 0.20, P(K > 1.2238) = 0.10, P(K > 1.3581) = 0.05,
// P(K > 1.6276) = 0.01. The first lies on the small-λ branch, the others on the large-λ one.
@Test func kolmogorovLimitMatchesTabulatedCriticalValues() {
    #expect(abs(KolmogorovSmirnov.limitingSurvival(1.0727) - 0.20) < 2e-4)
    #expect(abs(KolmogorovSmirnov.limitingSurvival(1.2238) - 0.10) < 2e-4)
    #expect(abs(KolmogorovSmirnov.limitingSurvival(1.3581) - 0.05) < 2e-4)
    #expect(abs(KolmogorovSmirnov.limitingSurvival(1.6276) - 0.01) < 2e-4)
    #expect(KolmogorovSmirnov.limitingSurvival(0) == 1)
    #expect(KolmogorovSmirnov.limitingSurvival(0.2) > 0.999_999)
    #expect(KolmogorovSmirnov.limitingSurvival(5) < 1e-20)
    // The two series meet at the switch point.
    #expect(abs(KolmogorovSmirnov.limitingSurvival(1.18 - 1e-12) - KolmogorovSmirnov.limitingSurvival(1.18)) < 1e-12)
}

// Goal: the p-value is calibrated. Method: 4 000 samples of n = 20 uniforms tested against the
// uniform law (a second implementation: Monte Carlo); the share of p-values below 0.05 and
// 0.20 must lie within 4 binomial standard errors of 0.05 and 0.20.
@Test func ksPValueIsCalibratedUnderTheNull() {
    var rng = stream("ks calibration")
    let trials = 4_000, n = 20
    var below05 = 0, below20 = 0
    for _ in 0..<trials {
        let xs = (0..<n).map { _ in rng.nextDouble() }
        let p = KolmogorovSmirnov.pValue(statistic: KolmogorovSmirnov.statistic(xs, cdf: { $0 }), sampleCount: n)
        if p < 0.05 { below05 += 1 }
        if p < 0.20 { below20 += 1 }
    }
    for (count, level) in [(below05, 0.05), (below20, 0.20)] {
        let se = (level * (1 - level) / Double(trials)).squareRoot()
        #expect(abs(Double(count) / Double(trials) - level) <= 4 * se, "share below \(level): \(count)/\(trials), seed \(testSeed)")
    }
}

@Test func ksPValueIsOneAtZeroAndFallsAsTheStatisticGrows() {
    #expect(KolmogorovSmirnov.pValue(statistic: 0, sampleCount: 10) == 1)
    #expect(KolmogorovSmirnov.pValue(statistic: 1, sampleCount: 10) == 0)
    var last = 1.0
    for i in 1..<50 {
        let p = KolmogorovSmirnov.pValue(statistic: Double(i) / 50, sampleCount: 30)
        #expect(p <= last)
        last = p
    }
}
