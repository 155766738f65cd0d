import SimKernel
import Testing
@testable import Traffic

/// Goal: synthetic traffic follows λ(t) = growth × Σ rate × hourOfDay(h) / mean(hourOfDay), the
/// profile's day shape normalised to average 1 (a profile's shape says when, its rate how much).
/// Method: three days from a Monday, arrivals counted per hour of the day, one Pearson χ² test
/// over the 24 hours against the normalised intensity. The expected counts are fully specified,
/// so χ² has 24 degrees of freedom; its 0.999 quantile is 51.179 (any χ² table). The same counts
/// against the un-normalised shape must fail the test: the shape's mean is 23/24, a 4% error on
/// the shaped method, which three days of arrivals resolve (expected χ² about 118).
@Suite struct HourlyIntensityTests {
    static let critical999DF24 = 51.179

    @Test func hourlyCountsFitTheNormalisedShapeByOneChiSquareTest() throws {
        let shape = ProfileFitTests.shape
        let shapedRate = 0.2, flatRate = 0.1, growth = 1.5, days = 3.0
        let profile = TrafficProfile(
            start: "2023-10-16T00:00:00Z",
            methods: [
                MethodProfile(service: "gitaly.SSHService", method: "SSHUploadPackWithSidechannel", ratePerSecond: shapedRate,
                              hourOfDay: shape, serviceTimeMs: .logNormal(mu: 3, sigma: 1)),
                MethodProfile(service: "gitaly.RefService", method: "FindBranch", ratePerSecond: flatRate,
                              serviceTimeMs: DistributionSpec(family: "constant", value: 2)),
            ])
        var source = try SyntheticTraffic(profile: profile, target: ReplayTarget(storages: ["a"], repositories: ["r"]),
                                          horizon: .hours(72), growth: growth, seed: 17)
        var perHour = [Double](repeating: 0, count: 24)
        while let a = try source.next() { perHour[Int(a.time.seconds / 3600) % 24] += 1 }

        func chiSquare(_ expected: [Double]) -> Double {
            zip(perHour, expected).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) / $1.1 }
        }
        let shapeMean = shape.reduce(0, +) / 24
        let normalised = shape.map { days * 3600 * growth * (shapedRate * $0 / shapeMean + flatRate) }
        let unnormalised = shape.map { days * 3600 * growth * (shapedRate * $0 + flatRate) }
        let fit = chiSquare(normalised)
        #expect(fit < Self.critical999DF24, "χ² \(fit) over 24 hours: \(perHour)")
        #expect(chiSquare(unnormalised) > Self.critical999DF24, "the test cannot tell the shapes apart")
    }
}
