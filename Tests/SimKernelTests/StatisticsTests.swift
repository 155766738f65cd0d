import Testing
import Foundation
@testable import SimKernel

@Suite struct StatisticsTests {
    @Test func tallyAgreesWithTwoPassFormulas() {
        var r = RandomStream(seed: 4)
        let xs = (0..<10_000).map { _ in 1e6 + r.nextDouble() }  // a large offset defeats naive sums
        var t = Tally()
        xs.forEach { t.add($0) }
        let mean = xs.reduce(0, +) / Double(xs.count)
        let variance = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(xs.count - 1)
        #expect(abs(t.mean - mean) / mean < 1e-14)
        #expect(abs(t.variance - variance) / variance < 1e-6)
        #expect(t.min == xs.min() && t.max == xs.max())
    }

    @Test func mergedTalliesEqualOneTally() {
        var a = Tally(), b = Tally(), all = Tally()
        for i in 0..<1_000 { let x = Double(i * i % 37); (i % 3 == 0 ? { a.add(x) } : { b.add(x) })(); all.add(x) }
        a.merge(b)
        #expect(a.count == all.count)
        #expect(abs(a.mean - all.mean) < 1e-12)
        #expect(abs(a.variance - all.variance) < 1e-9)
    }

    /// Hand case: t interval for {1, 2, 3, 4, 5} at 95%: mean 3, s = sqrt(2.5),
    /// t(0.975, 4) = 2.776445, half-width 2.776445 × 1.581139 / sqrt(5) = 1.963243.
    @Test func tallyIntervalMatchesHandComputation() {
        var t = Tally()
        [1, 2, 3, 4, 5].forEach { t.add(Double($0)) }
        let ci = t.confidenceInterval(level: 0.95)!
        #expect(abs(ci.halfWidth - 1.963243) < 1e-5)
    }

    /// Hand case: 2 for 3 s, then 5 for 1 s, then 0 for 6 s: (6 + 5 + 0) / 10 = 1.1.
    @Test func timeWeightedAverageMatchesHandComputation() {
        var tw = TimeWeightedAverage(initial: 2)
        tw.set(5, at: .seconds(3))
        tw.set(0, at: .seconds(4))
        #expect(abs(tw.average(at: .seconds(10)) - 1.1) < 1e-12)
        #expect(abs(tw.integral(at: .seconds(10)) - 11) < 1e-9)
        #expect(tw.max == 5)
    }

    /// Quantiles against the exact order statistics of the same sample, within the
    /// histogram's stated 0.2% relative error (half a 1/256-wide bucket).
    @Test(arguments: [0.5, 0.9, 0.99, 0.999])
    func histogramQuantilesAreWithinStatedError(q: Double) {
        var r = RandomStream(seed: 21)
        var h = Histogram()
        var xs: [Double] = []
        for _ in 0..<100_000 {
            let x = exp(3 * r.nextDouble() - 6)  // log-uniform over three decades
            xs.append(x)
            h.add(x)
        }
        xs.sort()
        let exact = xs[Int((q * Double(xs.count)).rounded(.up)) - 1]
        let got = h.quantile(q)!
        #expect(abs(got - exact) / exact < 0.002 + 1e-9, "q \(q): \(got) vs \(exact)")
    }

    @Test func histogramCountsZerosAndMerges() {
        var a = Histogram(), b = Histogram()
        for _ in 0..<10 { a.add(0) }
        for i in 1...10 { b.add(Double(i)) }
        a.merge(b)
        #expect(a.count == 20)
        #expect(a.quantile(0.5) == 0)
        #expect(abs(a.quantile(1.0)! - 10) < 1e-12)
    }

    /// Independent normal-ish observations (sum of 12 uniforms minus 6, mean 0, variance 1):
    /// the batch-means interval must contain the true mean 0 and be close to the iid interval.
    @Test(arguments: [31, 32, 33] as [UInt64])
    func batchMeansIntervalCoversTrueMean(seed: UInt64) {
        var r = RandomStream(seed: seed)
        var bm = BatchMeans(batches: 20)
        for _ in 0..<50_000 {
            var s = -6.0
            for _ in 0..<12 { s += r.nextDouble() }
            bm.add(s)
        }
        let ci = bm.confidenceInterval(level: 0.99)!
        #expect(ci.contains(0), "seed \(seed): \(ci)")
        // For iid data the half-width is about t × 1/sqrt(n) = 2.86 / 223.6 = 0.0128.
        #expect(ci.halfWidth > 0.006 && ci.halfWidth < 0.03, "seed \(seed): \(ci.halfWidth)")
        #expect(bm.batchMeans.count >= 20 && bm.batchMeans.count < 40)
    }

    @Test func batchMeansDropsWarmupAndRefusesShortRuns() {
        var bm = BatchMeans(batches: 10, warmup: 5)
        for _ in 0..<5 { bm.add(1_000) }
        for _ in 0..<5 { bm.add(1) }
        #expect(bm.mean == 1)
        #expect(bm.confidenceInterval(level: 0.95) == nil)
    }
}
