#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SimKernel
import Testing
@testable import Stochastics

/// H(n, s) summed from the smallest term up, independently of the code under test.
func generalisedHarmonic(_ n: Int, _ s: Double) -> Double {
    var h = 0.0
    for k in stride(from: n, through: 1, by: -1) { h += pow(Double(k), -s) }
    return h
}

@Test(arguments: [(1_000, 1.1), (1, 2.0), (50, 0.0), (100_000, 0.8)])
func zipfProbabilitiesSumToOne(_ n: Int, _ s: Double) throws {
    let z = try Zipf(count: n, exponent: s)
    var total = 0.0
    for k in stride(from: n, through: 1, by: -1) { total += z.probability(k) }
    #expect(abs(total - 1) < 1e-12, "n \(n), s \(s): sum \(total)")
    #expect(z.probability(0) == 0 && z.probability(n + 1) == 0)
    #expect(z.cdf(n) == 1)
}

// H(10, 1) = 7381/2520 by hand, so P(1) = 2520/7381; with s = 0 every rank has 1/n.
@Test func zipfProbabilitiesMatchHandComputedValues() throws {
    #expect(abs(try Zipf(count: 10, exponent: 1).probability(1) - 2520.0 / 7381.0) < 1e-15)
    #expect(abs(try Zipf(count: 10, exponent: 1).probability(4) - 2520.0 / 7381.0 / 4) < 1e-15)
    #expect(abs(try Zipf(count: 50, exponent: 0).probability(37) - 1.0 / 50) < 1e-15)
    #expect(abs(try Zipf(count: 3, exponent: 2).cdf(2) - (1 + 0.25) / (1 + 0.25 + 1.0 / 9)) < 1e-15)
}

// Goal: the sampler's frequencies follow the law. Method: 200 000 draws with n = 10 000,
// s = 1; the counts of ranks 1, 2, 3 and 10 lie within 5 binomial standard errors of
// n_draws / (k^s H(n, s)), with H summed independently above.
@Test func zipfRankFrequenciesMatchOneOverHarmonicNumber() throws {
    let n = 10_000, s = 1.0, draws = 200_000
    let z = try Zipf(count: n, exponent: s)
    let h = generalisedHarmonic(n, s)
    #expect(abs(z.harmonicNumber - h) < 1e-12 * h)
    var rng = stream("zipf frequency")
    var counts = [Int](repeating: 0, count: n + 1)
    for _ in 0..<draws {
        let k = z.sample(&rng)
        precondition(k >= 1 && k <= n, "rank \(k) out of 1...\(n)")
        counts[k] += 1
    }
    for k in [1, 2, 3, 10] {
        let p = 1 / (pow(Double(k), s) * h)
        let se = (Double(draws) * p * (1 - p)).squareRoot()
        #expect(abs(Double(counts[k]) - Double(draws) * p) <= 5 * se,
                "rank \(k): \(counts[k]) vs \(Double(draws) * p), seed \(testSeed)")
    }
}

@Test func zipfWithOneRankAlwaysDrawsIt() throws {
    let z = try Zipf(count: 1, exponent: 3)
    var rng = stream("zipf one")
    for _ in 0..<100 { #expect(z.sample(&rng) == 1) }
}

// Goal: the table stays exact at the sizes it is meant for (millions of repositories).
// Method: compare H(n, s) with the Euler–Maclaurin expansion, an analytic truth:
// H(n, 1) = ln n + γ + 1/(2n) - 1/(12n²) + O(n⁻⁴), and for s ≠ 1
// H(n, s) = ζ(s) - n^{1-s}/(s-1) + n^{-s}/2 - s n^{-s-1}/12 + O(n^{-s-3}), with ζ(1.2) computed outside this code.
@Test func zipfNormalisingConstantIsExactForMillionsOfRanks() throws {
    let n = 2_000_000
    let nd = Double(n)
    let harmonic = try Zipf(count: n, exponent: 1)
    let eulerGamma = 0.5772156649015329
    let expected1 = log(nd) + eulerGamma + 1 / (2 * nd) - 1 / (12 * nd * nd)
    #expect(abs(harmonic.harmonicNumber - expected1) < 1e-13 * expected1, "H = \(harmonic.harmonicNumber) vs \(expected1)")
    let s = 1.2
    let zeta = 5.591582441177751884   // ζ(1.2), from mpmath at 25 digits
    let expected = zeta - pow(nd, 1 - s) / (s - 1) + pow(nd, -s) / 2 - s * pow(nd, -s - 1) / 12
    let z = try Zipf(count: n, exponent: s)
    #expect(abs(z.harmonicNumber - expected) < 1e-13 * expected, "H = \(z.harmonicNumber) vs \(expected)")
    #expect(z.cdf(n - 1) < 1 && z.cdf(n - 1) > 1 - 2 * z.probability(n))
}

// The guide-table search against a second implementation: a linear scan for the smallest rank
// whose cumulative probability exceeds u, at random u and at every bucket boundary j/m and
// its neighbouring doubles, where rounding could mislead the guide.
@Test func zipfGuidedSearchAgreesWithALinearScan() throws {
    for (n, s) in [(1, 1.0), (7, 0.0), (300, 1.3), (1_000, 0.6), (4_099, 1.0)] {
        let z = try Zipf(count: n, exponent: s)
        var cumulative = [Double]()
        for k in 1...n { cumulative.append(z.cdf(k)) }
        func linear(_ u: Double) -> Int { cumulative.firstIndex { $0 > u }! + 1 }
        var rng = stream("zipf guide")
        var us = (0..<2_000).map { _ in rng.nextDouble() }
        let buckets = z.guide.count
        for j in 0..<buckets {
            let b = Double(j) / Double(buckets)
            us += [b, b.nextUp, b.nextDown].filter { $0 >= 0 && $0 < 1 }
        }
        us += cumulative.flatMap { [$0, $0.nextDown] }.filter { $0 >= 0 && $0 < 1 }
        for u in us { #expect(z.rank(forUniform: u) == linear(u), "n \(n), s \(s), u \(u)") }
    }
}
