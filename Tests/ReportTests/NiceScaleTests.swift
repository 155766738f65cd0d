import Foundation
import Testing
@testable import Report

@Suite struct NiceScaleTests {
    @Test(arguments: [
        // (low, high, maxTicks) → (lower, upper, step), worked by hand.
        (0.0, 1.0, 6, 0.0, 1.0, 0.2),
        (0.0, 97.0, 6, 0.0, 100.0, 20.0),
        (3.0, 7.0, 5, 3.0, 7.0, 1.0),
        (-13.0, 47.0, 6, -20.0, 60.0, 20.0),
        (0.0012, 0.0087, 6, 0.0, 0.01, 0.002),
        (5.0, 5.0, 6, 4.5, 5.5, 0.5),
        (0.0, 60.0, 10, 0.0, 60.0, 10.0),
        (36.2, 47.9, 10, 36.0, 48.0, 2.0),
        (0.0, 3.3e12, 6, 0.0, 4e12, 1e12),
    ])
    func handPickedRanges(low: Double, high: Double, maxTicks: Int, lower: Double, upper: Double, step: Double) {
        let scale = NiceScale(low: low, high: high, maxTicks: maxTicks)
        #expect(abs(scale.lower - lower) < step * 1e-9, "\(low)...\(high): lower \(scale.lower)")
        #expect(abs(scale.upper - upper) < step * 1e-9, "\(low)...\(high): upper \(scale.upper)")
        #expect(abs(scale.step - step) < step * 1e-9, "\(low)...\(high): step \(scale.step)")
    }

    @Test(arguments: 0..<200)
    func stepsAreOneTwoOrFiveTimesAPowerOfTenAndCoverTheRange(seed: Int) {
        var random = SplitMix64(seed: UInt64(seed))
        let low = (random.unit() - 0.5) * pow(10, Double(Int(random.unit() * 12) - 6))
        let high = low + random.unit() * pow(10, Double(Int(random.unit() * 12) - 6))
        let maxTicks = 2 + Int(random.unit() * 10)
        let scale = NiceScale(low: low, high: high, maxTicks: maxTicks)
        let mantissa = scale.step / pow(10, floor(log10(scale.step) + 1e-9))
        #expect([1, 2, 5].contains { abs(mantissa - $0) < 1e-6 }, "seed \(seed): step \(scale.step)")
        // Covered up to a millionth of a step: the tick rounding forgives floating-point dust.
        #expect(scale.lower <= low + scale.step * 1e-6 && scale.upper >= high - scale.step * 1e-6, "seed \(seed)")
        #expect(scale.ticks.count <= maxTicks && scale.ticks.count >= 2, "seed \(seed): \(scale.ticks.count) ticks")
    }

    @Test func tickLabelsNeedOnlyTheStepsDecimals() {
        #expect(NiceScale(low: 0, high: 1).decimals == 1)
        #expect(NiceScale(low: 0, high: 97).decimals == 0)
        #expect(NiceScale(low: 0.0012, high: 0.0087).decimals == 3)
        #expect(NiceScale(low: 0, high: 1).ticks.map { Format.fixed($0, decimals: 1) } == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
    }

    @Test func timeAxesPickMinutesHoursOrDays() {
        #expect(TimeUnit(spanSeconds: 2 * 3600) == .minutes)
        #expect(TimeUnit(spanSeconds: 60 * 3600) == .hours)
        #expect(TimeUnit(spanSeconds: 9 * 86_400) == .days)
    }
}
