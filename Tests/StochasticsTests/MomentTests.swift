#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SimKernel
import Testing
@testable import Stochastics

/// A distribution with its first four raw moments E[X^j], taken from the textbook formulas
/// (Johnson, Kotz and Balakrishnan, "Continuous Univariate Distributions"), not from the code.
struct MomentCase: Sendable, CustomStringConvertible {
    let description: String
    let distribution: any ContinuousDistribution
    let raw: [Double]   // E[X], E[X²], E[X³], E[X⁴]

    var mean: Double { raw[0] }
    var variance: Double { raw[1] - raw[0] * raw[0] }
    /// The fourth central moment, from the raw ones.
    var fourthCentral: Double {
        let m = raw[0]
        return raw[3] - 4 * raw[2] * m + 6 * raw[1] * m * m - 3 * m * m * m * m
    }

    static let all: [MomentCase] = [
        MomentCase(description: "Exponential(rate 2)", distribution: try! Exponential(rate: 2),
                   raw: (1...4).map { j in tgamma(Double(j) + 1) / pow(2, Double(j)) }),
        MomentCase(description: "LogNormal(mu 0.3, sigma 0.5)", distribution: try! LogNormal(mu: 0.3, sigma: 0.5),
                   raw: (1...4).map { j in exp(Double(j) * 0.3 + Double(j * j) * 0.25 / 2) }),
        MomentCase(description: "Pareto(scale 2, shape 9)", distribution: try! Pareto(scale: 2, shape: 9),
                   raw: (1...4).map { j in 9 * pow(2, Double(j)) / (9 - Double(j)) }),
        MomentCase(description: "Weibull(scale 3, shape 1.5)", distribution: try! Weibull(scale: 3, shape: 1.5),
                   raw: (1...4).map { j in pow(3, Double(j)) * tgamma(1 + Double(j) / 1.5) }),
        MomentCase(description: "Weibull(scale 0.5, shape 0.7)", distribution: try! Weibull(scale: 0.5, shape: 0.7),
                   raw: (1...4).map { j in pow(0.5, Double(j)) * tgamma(1 + Double(j) / 0.7) }),
        MomentCase(description: "Gamma(shape 3, scale 2)", distribution: try! Gamma(shape: 3, scale: 2),
                   raw: (1...4).map { j in pow(2, Double(j)) * tgamma(3 + Double(j)) / tgamma(3) }),
        MomentCase(description: "Gamma(shape 0.5, scale 1.5)", distribution: try! Gamma(shape: 0.5, scale: 1.5),
                   raw: (1...4).map { j in pow(1.5, Double(j)) * tgamma(0.5 + Double(j)) / tgamma(0.5) }),
        MomentCase(description: "Empirical(1, 2, 2, 5, 10)", distribution: try! Empirical(samples: [5, 2, 10, 1, 2]),
                   raw: (1...4).map { j in [1.0, 2, 2, 5, 10].map { pow($0, Double(j)) }.reduce(0, +) / 5 }),
    ]
}

// Goal: each sampler draws from the distribution it claims. Method: 200 000 draws; the sample
// mean must lie within 5 standard errors σ/√n of the true mean, and the sample variance within
// 5 standard errors √((μ4 - σ⁴)/n) of the true variance.
@Test(arguments: MomentCase.all)
func sampleMeanAndVarianceMatchTheory(_ c: MomentCase) {
    let n = 200_000
    var rng = stream("moments \(c.description)")
    var xs = [Double]()
    xs.reserveCapacity(n)
    for _ in 0..<n { xs.append(c.distribution.sample(&rng)) }
    let (mean, variance) = meanAndVariance(xs)
    let seMean = (c.variance / Double(n)).squareRoot()
    let seVariance = ((c.fourthCentral - c.variance * c.variance) / Double(n)).squareRoot()
    #expect(abs(mean - c.mean) <= 5 * seMean,
            "\(c): sample mean \(mean) vs \(c.mean) (SE \(seMean)), seed \(testSeed)")
    #expect(abs(variance - c.variance) <= 5 * seVariance,
            "\(c): sample variance \(variance) vs \(c.variance) (SE \(seVariance)), seed \(testSeed)")
}

// The closed-form mean and variance the types report agree with the raw moments above.
@Test(arguments: MomentCase.all)
func reportedMeanAndVarianceMatchTextbookFormulas(_ c: MomentCase) {
    #expect(abs(c.distribution.mean - c.mean) <= 1e-10 * abs(c.mean), "\(c)")
    #expect(abs(c.distribution.variance - c.variance) <= 1e-9 * abs(c.variance), "\(c)")
}

@Test func paretoMomentsAreInfiniteWhereTheyDoNotExist() throws {
    #expect(try Pareto(scale: 1, shape: 1).mean == .infinity)
    #expect(try Pareto(scale: 1, shape: 2).variance == .infinity)
    #expect(try Pareto(scale: 1, shape: 2).mean == 2)
}
