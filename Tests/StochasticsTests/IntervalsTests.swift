#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SimKernel
import Testing
@testable import Stochastics

// By hand: 8 of 10 at 95 %, z = 1.959964, z² = 3.841459; centre (0.8 + 0.192073) / 1.384146
// = 0.716740 and half-width 1.416009 · √(0.016 + 0.009604) = 0.226577, so [0.49016, 0.94332]
// (the interval published for 8/10, e.g. Newcombe, Stat. Med. 17, 1998, method 3).
@Test func wilsonIntervalMatchesHandComputedEightOfTen() throws {
    let ci = try #require(Intervals.wilson(successes: 8, trials: 10, level: 0.95))
    #expect(abs(ci.low - 0.49016) < 1e-5)
    #expect(abs(ci.high - 0.94332) < 1e-5)
    #expect(ci.estimate == 0.8)
    #expect(ci.level == 0.95)
}

// With no successes the lower end is 0 and the upper z² / (n + z²) = 3.841459 / 13.841459.
@Test func wilsonIntervalWithNoSuccessesStartsAtZero() throws {
    let ci = try #require(Intervals.wilson(successes: 0, trials: 10, level: 0.95))
    #expect(ci.low == 0)
    #expect(abs(ci.high - 3.841459 / 13.841459) < 1e-6)
}

@Test func intervalsRefuseInputThatCannotSupportThem() {
    #expect(Intervals.wilson(successes: 1, trials: 0, level: 0.95) == nil)
    #expect(Intervals.wilson(successes: 11, trials: 10, level: 0.95) == nil)
    #expect(Intervals.wilson(successes: 5, trials: 10, level: 1) == nil)
    #expect(Intervals.studentT([3], level: 0.95) == nil)
    #expect(Intervals.studentT([1, .nan, 3], level: 0.95) == nil)
    var rng = stream("refuse")
    #expect(Intervals.bootstrapQuantile([], quantile: 0.5, level: 0.95, resamples: 100, rng: &rng) == nil)
    #expect(Intervals.bootstrapQuantile([1, 2], quantile: 1.5, level: 0.95, resamples: 100, rng: &rng) == nil)
}

// By hand: 1..5 has mean 3 and s = √2.5; t(0.975, 4) = 2.776445 (any t table), so the
// half-width is 2.776445 · √2.5 / √5 = 1.963243.
@Test func studentTIntervalMatchesHandComputedCase() throws {
    let ci = try #require(Intervals.studentT([1, 2, 3, 4, 5], level: 0.95))
    #expect(ci.estimate == 3)
    #expect(abs(ci.low - (3 - 1.963243)) < 1e-6)
    #expect(abs(ci.high - (3 + 1.963243)) < 1e-6)
}

// Hyndman and Fan definition 7 by hand (R's quantile(1:4, c(0.25, 0.5)) gives 1.75 and 2.5).
@Test func sampleQuantileInterpolatesBetweenOrderStatistics() {
    #expect(Intervals.sampleQuantile(sorted: [1, 2, 3, 4], 0.25) == 1.75)
    #expect(Intervals.sampleQuantile(sorted: [1, 2, 3, 4], 0.5) == 2.5)
    #expect(Intervals.sampleQuantile(sorted: [1, 2, 3, 4], 1) == 4)
    #expect(Intervals.sampleQuantile(sorted: [7], 0.3) == 7)
}

// Goal: the bootstrap percentile interval covers the true quantile about as often as its level
// says. Method: 100 data sets of 200 exponential(1) draws; 95 % intervals for the median
// (true value ln 2) from 300 resamples each; at least 85 must cover (the expected 95 less
// 4.5 binomial standard errors, allowing the percentile method's small-sample undercoverage).
@Test func bootstrapQuantileIntervalCoversTheTrueMedian() throws {
    let truth = try Exponential(rate: 1)
    var data = stream("bootstrap data")
    var resampling = stream("bootstrap resampling")
    var covered = 0
    for _ in 0..<100 {
        let xs = (0..<200).map { _ in truth.sample(&data) }
        let ci = try #require(Intervals.bootstrapQuantile(xs, quantile: 0.5, level: 0.95, resamples: 300, rng: &resampling))
        #expect(ci.low <= ci.estimate && ci.estimate <= ci.high)
        if ci.contains(log(2)) { covered += 1 }
    }
    #expect(covered >= 85, "covered \(covered) of 100, seed \(testSeed)")
}

// The resample count-and-walk shortcut against the plain method: a resample's q-quantile
// taken by sorting it. Both consume `below(n)` the same way, so their estimates must agree.
@Test func bootstrapMatchesResamplingBySorting() throws {
    let xs: [Double] = [5, 1, 9, 3, 3, 7, 2, 8, 6, 4, 11]
    for q in [0.0, 0.1, 0.5, 0.9, 1.0] {
        var a = stream("bootstrap compare"), b = stream("bootstrap compare")
        let ci = try #require(Intervals.bootstrapQuantile(xs, quantile: q, level: 0.9, resamples: 50, rng: &a))
        let sorted = xs.sorted()
        var estimates = [Double]()
        for _ in 0..<50 {
            let resample = (0..<xs.count).map { _ in sorted[b.below(xs.count)] }.sorted()
            estimates.append(Intervals.sampleQuantile(sorted: resample, q))
        }
        estimates.sort()
        #expect(abs(ci.low - Intervals.sampleQuantile(sorted: estimates, 0.05)) < 1e-12, "q \(q)")
        #expect(abs(ci.high - Intervals.sampleQuantile(sorted: estimates, 0.95)) < 1e-12, "q \(q)")
        #expect(ci.estimate == Intervals.sampleQuantile(sorted: sorted, q))
    }
}

@Test func bootstrapIsDeterministicGivenTheStream() throws {
    let xs = draws(try LogNormal(mu: 0, sigma: 1), 100, "bootstrap determinism data")
    var a = stream("bootstrap determinism"), b = stream("bootstrap determinism")
    let c1 = Intervals.bootstrapQuantile(xs, quantile: 0.99, level: 0.9, resamples: 200, rng: &a)
    let c2 = Intervals.bootstrapQuantile(xs, quantile: 0.99, level: 0.9, resamples: 200, rng: &b)
    #expect(c1 != nil && c1 == c2)
}
