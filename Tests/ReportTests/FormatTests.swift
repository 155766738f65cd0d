import Testing
@testable import Report

@Suite struct FormatTests {
    @Test func valuesCarryTheirUnits() {
        #expect(Format.value(90, .seconds) == "90.0 s")
        #expect(Format.value(1_260, .seconds) == "21.0 min")
        #expect(Format.value(41.26, .hours) == "41.3 h")
        #expect(Format.value(100, .hours) == "4.17 d")
        #expect(Format.value(1.5 * 1_099_511_627_776, .bytes) == "1.50 TiB")
        #expect(Format.value(512, .bytes) == "512 B")
        #expect(Format.value(183_400, .repositorySeconds) == "183400 repo·s")
        #expect(Format.value(2_500_000, .count) == "2.50 M")
        #expect(Format.value(0.0075, .probability) == "0.750 %")
        #expect(Format.value(3.4e-5, .probability) == "3.4 × 10⁻⁵")
        #expect(Format.value(0, .probability) == "0")
        #expect(Format.value(0.9512, .ratio) == "0.951")
    }

    @Test func estimatesShowTheirInterval() {
        let estimate = Estimate(41.2, interval: 38.0...44.9)
        #expect(Format.estimate(estimate, .hours) == "41.2 h (95% CI 38.0 h – 44.9 h)")
        #expect(Format.estimate(Estimate(7), .count) == "7")
        #expect(QuantileEstimate(probability: 0.999, estimate: estimate).label == "p99.9")
    }

    @Test func coordinatesHaveOneDecimalAndNoNegativeZero() {
        #expect(Format.coordinate(12.34) == "12.3")
        #expect(Format.coordinate(12.0) == "12")
        #expect(Format.coordinate(-0.04) == "0")
        #expect(Format.coordinate(-0.06) == "-0.1")
        #expect(Format.coordinate(-12.35) == "-12.4")
        #expect(Format.fixed(-0.0001, decimals: 2) == "0.00")
    }
}
