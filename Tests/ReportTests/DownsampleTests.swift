import Testing
@testable import Report

@Suite struct DownsampleTests {
    /// A noisy walk with spikes placed inside buckets, not on their edges.
    func walk(count: Int, seed: UInt64) -> [SeriesPoint] {
        var random = SplitMix64(seed: seed)
        var value = 0.0
        return (0..<count).map { index in
            value += random.unit() - 0.5
            let spike = random.unit() < 0.001 ? (random.unit() - 0.5) * 1_000 : 0
            return SeriesPoint(timeSeconds: Double(index) * 0.5, value: value + spike)
        }
    }

    @Test(arguments: [(10_000, 800, UInt64(1)), (10_001, 4, 2), (999, 100, 3), (50_000, 801, 4), (5, 4, 5)])
    func keepsFirstLastMinimumAndMaximumWithinTheBound(count: Int, maxPoints: Int, seed: UInt64) {
        let points = walk(count: count, seed: seed)
        let kept = Downsample.minMax(points, maxPoints: maxPoints)
        #expect(kept.count <= maxPoints, "seed \(seed)")
        #expect(kept.first == points.first, "seed \(seed)")
        #expect(kept.last == points.last, "seed \(seed)")
        let values = points.map(\.value)
        #expect(kept.contains { $0.value == values.min()! }, "seed \(seed): minimum dropped")
        #expect(kept.contains { $0.value == values.max()! }, "seed \(seed): maximum dropped")
        // A subsequence of the input, in time order: nothing invented, nothing reordered.
        #expect(zip(kept, kept.dropFirst()).allSatisfy { $0.timeSeconds < $1.timeSeconds }, "seed \(seed)")
        #expect(kept.allSatisfy { points[Int($0.timeSeconds * 2)] == $0 }, "seed \(seed)")
    }

    @Test func shortSeriesPassThroughUnchanged() {
        let points = walk(count: 12, seed: 9)
        #expect(Downsample.minMax(points, maxPoints: 12) == points)
        #expect(Downsample.minMax([], maxPoints: 4) == [])
    }

    @Test func everyBucketKeepsItsOwnExtremes() {
        // A sawtooth of period 10 cut into buckets of 10: each bucket's low and high must survive.
        let points = (0..<1_002).map { SeriesPoint(timeSeconds: Double($0), value: Double(($0 - 1) % 10)) }
        let kept = Downsample.minMax(points, maxPoints: 202)
        #expect(kept.count == 202)
        let interior = kept.dropFirst().dropLast()
        #expect(interior.filter { $0.value == 0 }.count == 100)
        #expect(interior.filter { $0.value == 9 }.count == 100)
    }
}
