#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SimKernel
import Testing
@testable import Stochastics

struct Named: Sendable, CustomStringConvertible {
    let description: String
    let distribution: any ContinuousDistribution
}

let continuousFamilies: [Named] = [
    Named(description: "Exponential(rate 0.25)", distribution: try! Exponential(rate: 0.25)),
    Named(description: "LogNormal(mu -1, sigma 2)", distribution: try! LogNormal(mu: -1, sigma: 2)),
    Named(description: "Pareto(scale 5, shape 1.2)", distribution: try! Pareto(scale: 5, shape: 1.2)),
    Named(description: "Weibull(scale 40, shape 0.6)", distribution: try! Weibull(scale: 40, shape: 0.6)),
    Named(description: "Weibull(scale 1, shape 12)", distribution: try! Weibull(scale: 1, shape: 12)),
    Named(description: "Gamma(shape 0.3, scale 4)", distribution: try! Gamma(shape: 0.3, scale: 4)),
    Named(description: "Gamma(shape 7.5, scale 0.1)", distribution: try! Gamma(shape: 7.5, scale: 0.1)),
]

@Test(arguments: continuousFamilies)
func cdfOfQuantileRoundTripsToTheProbability(_ c: Named) {
    for p in [1e-9, 1e-6, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1 - 1e-6] {
        let back = c.distribution.cdf(c.distribution.quantile(p))
        // Relative to the smaller tail, so that p = 1e-6 is checked to nine digits too, with an
        // absolute floor of 1e-15: near the bottom of the support rounding x itself moves F by
        // about x f(x) · 2^-52, which for Pareto at p = 1e-9 is 1e-16 absolute.
        #expect(abs(back - p) <= max(1e-9 * min(p, 1 - p), 1e-15), "\(c): cdf(quantile(\(p))) = \(back)")
    }
    #expect(c.distribution.quantile(1) == .infinity, "\(c)")
    #expect(c.distribution.cdf(c.distribution.quantile(0)) == 0, "\(c)")
}

// Medians and CDF values from closed forms worked by hand: exponential ln 2 / λ, lognormal
// e^μ, Pareto x_m 2^{1/α}, Weibull λ (ln 2)^{1/k}; Gamma(1, θ) is exponential with mean θ and
// Gamma(2, 1) has CDF 1 - e^{-x}(1 + x).
@Test func mediansAndCdfValuesMatchClosedForms() throws {
    #expect(abs(try Exponential(rate: 4).quantile(0.5) - log(2) / 4) < 1e-15)
    #expect(abs(try LogNormal(mu: 1.5, sigma: 0.3).quantile(0.5) - exp(1.5)) < 1e-12)
    #expect(abs(try Pareto(scale: 3, shape: 2).quantile(0.5) - 3 * 2.0.squareRoot()) < 1e-12)
    #expect(abs(try Weibull(scale: 10, shape: 2).quantile(0.5) - 10 * log(2).squareRoot()) < 1e-12)
    #expect(abs(try Gamma(shape: 1, scale: 2).cdf(3) - (1 - exp(-1.5))) < 1e-12)
    #expect(abs(try Gamma(shape: 2, scale: 1).cdf(2) - (1 - 3 * exp(-2))) < 1e-12)
    // Φ(1) = 0.841344746..., so a lognormal one σ above its median sits there.
    #expect(abs(try LogNormal(mu: 0, sigma: 1).cdf(exp(1)) - 0.8413447460685429) < 1e-12)
}

@Test func invalidParametersAreRejectedByName() {
    #expect(invalidParameterName { _ = try Exponential(rate: 0) } == "rate")
    #expect(invalidParameterName { _ = try Exponential(rate: .infinity) } == "rate")
    #expect(invalidParameterName { _ = try LogNormal(mu: .nan, sigma: 1) } == "mu")
    #expect(invalidParameterName { _ = try LogNormal(mu: 0, sigma: -1) } == "sigma")
    #expect(invalidParameterName { _ = try Pareto(scale: 0, shape: 1) } == "scale")
    #expect(invalidParameterName { _ = try Pareto(scale: 1, shape: -2) } == "shape")
    #expect(invalidParameterName { _ = try Weibull(scale: -1, shape: 1) } == "scale")
    #expect(invalidParameterName { _ = try Weibull(scale: 1, shape: 0) } == "shape")
    #expect(invalidParameterName { _ = try Gamma(shape: 0, scale: 1) } == "shape")
    #expect(invalidParameterName { _ = try Gamma(shape: 1, scale: .nan) } == "scale")
    #expect(invalidParameterName { _ = try Zipf(count: 0, exponent: 1) } == "count")
    #expect(invalidParameterName { _ = try Zipf(count: 10, exponent: -0.5) } == "exponent")
}

@Test func errorsSayWhatFailed() {
    let e = DistributionError.invalidParameter(name: "rate", value: -1, reason: "must be a positive finite number")
    #expect(e.description == "parameter rate must be a positive finite number, got -1.0")
    #expect(DistributionError.notEnoughData(needed: 2, got: 1).description == "need at least 2 observations, got 1")
}

// Common random numbers: inversion is monotone in U, so two distributions fed identically
// seeded streams produce samples in the same rank order, draw for draw.
@Test func inversionSamplersPreserveRankOrderAcrossParameters() throws {
    let pairs: [(any ContinuousDistribution, any ContinuousDistribution)] = [
        (try Exponential(rate: 1), try Exponential(rate: 3)),
        (try LogNormal(mu: 0, sigma: 1), try LogNormal(mu: 2, sigma: 0.2)),
        (try Pareto(scale: 1, shape: 1.5), try Pareto(scale: 9, shape: 4)),
        (try Weibull(scale: 1, shape: 0.5), try Weibull(scale: 7, shape: 3)),
    ]
    for (a, b) in pairs {
        var ra = stream("crn"), rb = stream("crn")
        let xa = (0..<500).map { _ in a.sample(&ra) }
        let xb = (0..<500).map { _ in b.sample(&rb) }
        #expect(xa.indices.sorted { xa[$0] < xa[$1] } == xb.indices.sorted { xb[$0] < xb[$1] },
                "\(a) vs \(b), seed \(testSeed)")
    }
}

@Test func sameSeedGivesIdenticalSamplesAndAnotherSeedDoesNot() throws {
    let zipf = try Zipf(count: 1_000, exponent: 1.1)
    for d in continuousFamilies.map(\.distribution) + [try Empirical(samples: [1, 2, 3, 4])] {
        var r1 = stream("determinism"), r2 = stream("determinism"), r3 = stream("determinism", seed: testSeed + 1)
        let a = (0..<200).map { _ in d.sample(&r1) }
        let b = (0..<200).map { _ in d.sample(&r2) }
        let c = (0..<200).map { _ in d.sample(&r3) }
        #expect(a == b, "\(d)")
        #expect(a != c, "\(d)")
    }
    var r1 = stream("zipf"), r2 = stream("zipf")
    #expect((0..<200).map { _ in zipf.sample(&r1) } == (0..<200).map { _ in zipf.sample(&r2) })
}

@Test func distributionsDescribeThemselvesWithTheirParameters() throws {
    #expect(try Weibull(scale: 2, shape: 1.5).description == "Weibull(scale: 2.0, shape: 1.5)")
    #expect(try Exponential(rate: 3).description == "Exponential(rate: 3.0)")
    #expect(try LogNormal(mu: -1, sigma: 0.5).description == "LogNormal(mu: -1.0, sigma: 0.5)")
    #expect(try Empirical(samples: [4, 1, 9]).description == "Empirical(3 observations from 1.0 to 9.0)")
}
