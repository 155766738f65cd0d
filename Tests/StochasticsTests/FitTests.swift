#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SimKernel
import Testing
@testable import Stochastics

func draws(_ d: some ContinuousDistribution, _ n: Int, _ component: String) -> [Double] {
    var rng = stream(component)
    return (0..<n).map { _ in d.sample(&rng) }
}

// Goal: each fit recovers the parameters that generated the data. Method: 4 000 draws; each
// estimate lies within 5 asymptotic standard errors from the Fisher information
// (exponential λ/√n; lognormal σ/√n and σ/√(2n); Pareto α/√n; Weibull k √(6/π²)/√n and
// λ √(1 + 6(1-γ)²/π²) / (k √n)).
let fitCount = 4_000

@Test func exponentialFitRecoversRate() throws {
    let xs = draws(try Exponential(rate: 0.5), fitCount, "fit exponential")
    let fit = try Fit.exponential(xs)
    #expect(abs(fit.distribution.rate - 0.5) <= 5 * 0.5 / Double(fitCount).squareRoot(), "seed \(testSeed)")
    // The reported log-likelihood against its closed form n ln λ − λ Σx at the fitted λ.
    let rate = fit.distribution.rate, n = Double(fitCount)
    let closedForm = n * log(rate) - rate * xs.reduce(0, +)
    #expect(abs(fit.logLikelihood - closedForm) < 1e-9 * abs(closedForm))
}

@Test func logNormalFitRecoversMuAndSigma() throws {
    let xs = draws(try LogNormal(mu: 1, sigma: 0.8), fitCount, "fit lognormal")
    let d = try Fit.logNormal(xs).distribution
    let n = Double(fitCount)
    #expect(abs(d.mu - 1) <= 5 * 0.8 / n.squareRoot(), "mu \(d.mu), seed \(testSeed)")
    #expect(abs(d.sigma - 0.8) <= 5 * 0.8 / (2 * n).squareRoot(), "sigma \(d.sigma), seed \(testSeed)")
}

@Test func paretoFitRecoversScaleAndShape() throws {
    let xs = draws(try Pareto(scale: 3, shape: 2.5), fitCount, "fit pareto")
    let d = try Fit.pareto(xs).distribution
    #expect(abs(d.shape - 2.5) <= 5 * 2.5 / Double(fitCount).squareRoot(), "shape \(d.shape), seed \(testSeed)")
    // The minimum exceeds x_m by about x_m / (n α), here 3e-4: 1 % would take a miracle.
    #expect(d.scale >= 3 && d.scale < 3.03, "scale \(d.scale), seed \(testSeed)")
}

@Test(arguments: [(2.0, 1.7), (40.0, 0.6), (1.0e6, 9.0)])
func weibullFitRecoversScaleAndShape(_ scale: Double, _ shape: Double) throws {
    let xs = draws(try Weibull(scale: scale, shape: shape), fitCount, "fit weibull \(scale) \(shape)")
    let d = try Fit.weibull(xs).distribution
    let n = Double(fitCount)
    let eulerGamma = 0.5772156649015329
    let seShape = shape * (6 / (Double.pi * Double.pi) / n).squareRoot()
    let seScale = scale / shape * ((1 + 6 * (1 - eulerGamma) * (1 - eulerGamma) / (Double.pi * Double.pi)) / n).squareRoot()
    #expect(abs(d.shape - shape) <= 5 * seShape, "shape \(d.shape) vs \(shape), seed \(testSeed)")
    #expect(abs(d.scale - scale) <= 5 * seScale, "scale \(d.scale) vs \(scale), seed \(testSeed)")
}

// An invariant independent of the solver: at the maximum both partial derivatives of the
// Weibull log-likelihood vanish, Σ (x/λ)^k = n and n/k + Σ ln(x/λ) - Σ (x/λ)^k ln(x/λ) = 0.
@Test func weibullFitSolvesTheLikelihoodEquations() throws {
    let xs: [Double] = [0.8, 1.3, 2.9, 3.1, 4.4, 7.0, 7.2, 11.5, 19.0]
    let d = try Fit.weibull(xs).distribution
    var sumPow = 0.0, sumLog = 0.0, sumPowLog = 0.0
    for x in xs {
        let z = x / d.scale
        sumPow += pow(z, d.shape); sumLog += log(z); sumPowLog += pow(z, d.shape) * log(z)
    }
    let n = Double(xs.count)
    #expect(abs(sumPow - n) < 1e-9 * n)
    #expect(abs(n / d.shape + sumLog - sumPowLog) < 1e-9 * n)
}

// The reported log-likelihood is a maximum: nudging any parameter lowers it.
@Test func fittedLogLikelihoodIsALocalMaximum() throws {
    let xs = draws(try Weibull(scale: 3, shape: 2), 300, "fit maximum")
    let w = try Fit.weibull(xs)
    let l = try Fit.logNormal(xs)
    for f in [0.99, 1.01] {
        let w1 = try Weibull(scale: w.distribution.scale * f, shape: w.distribution.shape)
        let w2 = try Weibull(scale: w.distribution.scale, shape: w.distribution.shape * f)
        let l1 = try LogNormal(mu: l.distribution.mu + (f - 1), sigma: l.distribution.sigma)
        let l2 = try LogNormal(mu: l.distribution.mu, sigma: l.distribution.sigma * f)
        #expect(xs.map(w1.logDensity).reduce(0, +) < w.logLikelihood)
        #expect(xs.map(w2.logDensity).reduce(0, +) < w.logLikelihood)
        #expect(xs.map(l1.logDensity).reduce(0, +) < l.logLikelihood)
        #expect(xs.map(l2.logDensity).reduce(0, +) < l.logLikelihood)
    }
}

// Small cases worked by hand.
@Test func fitsMatchHandComputedEstimates() throws {
    // Exponential of 1, 2, 3: λ = 3/6 = 0.5, ln L = 3 ln 0.5 - 0.5 · 6.
    let e = try Fit.exponential([1, 2, 3])
    #expect(e.distribution.rate == 0.5)
    #expect(abs(e.logLikelihood - (3 * log(0.5) - 3)) < 1e-12)
    // Pareto of 1, 2, 4: x_m = 1, α = 3 / (ln 2 + ln 4) = 1 / ln 2.
    let p = try Fit.pareto([2, 1, 4])
    #expect(p.distribution.scale == 1)
    #expect(abs(p.distribution.shape - 1 / log(2)) < 1e-12)
    // Lognormal of e⁰, e¹, e²: μ = 1, σ² = (1 + 0 + 1)/3 with the MLE's n denominator.
    let l = try Fit.logNormal([1, exp(1), exp(2)])
    #expect(abs(l.distribution.mu - 1) < 1e-12)
    #expect(abs(l.distribution.sigma - (2.0 / 3).squareRoot()) < 1e-12)
    // Exponential of 1, 2, 3 against F(x) = 1 - e^{-x/2}: D is the largest of
    // 1/3 - F(1) = -0.060, F(1) = 0.393, 2/3 - F(2) = 0.035, F(2) - 1/3 = 0.299,
    // 1 - F(3) = 0.223, F(3) - 2/3 = 0.110; so D = 1 - e^{-1/2} = 0.3935.
    #expect(abs(e.ksStatistic - (1 - exp(-0.5))) < 1e-12)
}

@Test func fitsRejectBadDataNamingTheIndex() {
    #expect(invalidDataText { _ = try Fit.weibull([1, -2, 3]) }?.contains("index 1") == true)
    #expect(invalidDataText { _ = try Fit.logNormal([1, 2, 0]) }?.contains("index 2") == true)
    #expect(invalidDataText { _ = try Fit.pareto([.infinity, 2, 3]) }?.contains("index 0") == true)
    #expect(invalidDataText { _ = try Fit.exponential([1, 2, -0.5, 4]) }?.contains("index 2") == true)
    #expect(invalidDataText { _ = try Fit.exponential([0, 0]) } != nil)
    #expect(invalidDataText { _ = try Fit.weibull([2, 2, 2]) } != nil)
    #expect(invalidDataText { _ = try Fit.pareto([5, 5]) } != nil)
    #expect(throws: DistributionError.notEnoughData(needed: 2, got: 1)) { _ = try Fit.logNormal([1]) }
    #expect(throws: DistributionError.notEnoughData(needed: 1, got: 0)) { _ = try Fit.exponential([]) }
}

// Zeros are legitimate inter-arrival times for an exponential fit.
@Test func exponentialFitAcceptsZeros() throws {
    #expect(try Fit.exponential([0, 1, 2, 1]).distribution.rate == 1)
}
