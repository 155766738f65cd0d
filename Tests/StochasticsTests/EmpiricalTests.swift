import SimKernel
import Testing
@testable import Stochastics

@Test func empiricalCdfAndQuantileInvertEachOther() throws {
    let xs: [Double] = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3]
    let e = try Empirical(samples: xs)
    // By hand: sorted 1 1 2 3 3 4 5 5 6 9, so F(1) = 0.2, F(3) = 0.5, F(5) = 0.8, F(9) = 1.
    #expect(e.cdf(0.5) == 0)
    #expect(e.cdf(1) == 0.2)
    #expect(e.cdf(3.5) == 0.5)
    #expect(e.cdf(5) == 0.8)
    #expect(e.cdf(9) == 1)
    // The generalised inverse: the smallest observation whose CDF reaches p.
    #expect(e.quantile(0) == 1)
    #expect(e.quantile(0.2) == 1)
    #expect(e.quantile(0.21) == 2)
    #expect(e.quantile(0.5) == 3)
    #expect(e.quantile(0.51) == 4)
    #expect(e.quantile(1) == 9)
    for x in xs { #expect(e.quantile(e.cdf(x)) == x, "x = \(x)") }
}

@Test func empiricalRoundTripHoldsForEveryObservationOfALargeSample() throws {
    var rng = stream("empirical round trip")
    let xs = (0..<997).map { _ in rng.nextDouble() }
    let e = try Empirical(samples: xs)
    for x in xs { #expect(e.quantile(e.cdf(x)) == x, "x = \(x), seed \(testSeed)") }
}

// Each observation is drawn with probability 1/n: 100 000 draws over 5 values, counts within
// 5 binomial standard errors of 20 000.
@Test func empiricalSamplingGivesEachObservationEqualMass() throws {
    let e = try Empirical(samples: [10, 20, 30, 40, 50])
    var rng = stream("empirical mass")
    var counts = [Double: Int]()
    let n = 100_000
    for _ in 0..<n { counts[e.sample(&rng), default: 0] += 1 }
    let se = (Double(n) * 0.2 * 0.8).squareRoot()
    for v in [10.0, 20, 30, 40, 50] {
        #expect(abs(Double(counts[v] ?? 0) - Double(n) / 5) <= 5 * se, "value \(v): \(counts[v] ?? 0), seed \(testSeed)")
    }
    #expect(counts.count == 5)
}

@Test func empiricalRejectsEmptyAndNonFiniteSamples() {
    #expect(throws: DistributionError.notEnoughData(needed: 1, got: 0)) { _ = try Empirical(samples: []) }
    #expect(invalidDataText { _ = try Empirical(samples: [1, .nan]) }?.contains("index 1") == true)
}
