import Foundation
import SimKernel
import Stochastics
import Testing
@testable import Traffic

/// Statistics and fitting recover the known parameters of a generated log; synthetic traffic
/// follows its profile.
@Suite struct ProfileFitTests {
    /// Monday 2023-10-16T00:00:00Z.
    static let monday: Int64 = 1_697_414_400_000_000_000
    /// A day shape with a night trough and an afternoon peak (mean 23/24).
    static let shape: [Double] = [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.8, 1.0, 1.2, 1.3, 1.4, 1.5,
                                  1.5, 1.5, 1.5, 1.4, 1.3, 1.2, 1.0, 0.9, 0.8, 0.7, 0.6, 0.4]

    static let methods: [Fixtures.GeneratedMethod] = [
        .init(service: "gitaly.SmartHTTPService", method: "PostUploadPackWithSidechannel", ratePerSecond: 0.05,
              mu: 4, sigma: 0.8, hourOfDay: shape),
        .init(service: "gitaly.RefService", method: "FindBranch", ratePerSecond: 0.02, mu: 1, sigma: 0.5),
    ]

    /// A two-day generated log (Monday and Tuesday), imported.
    static func importedLog(_ name: String) throws -> (TraceStore, [Fixtures.GeneratedCall]) {
        let dir = Fixtures.scratch(name)
        let calls = Fixtures.generate(seed: 2024, startNs: monday, seconds: 2 * 86_400, methods: methods,
                                      repositories: 200, zipfExponent: 1.1)
        let log = dir.appendingPathComponent("gitaly.log")
        Fixtures.write(calls.map(\.line), to: log)
        let store = try TraceStore(path: dir.appendingPathComponent("t.sqlite").path)
        _ = try TraceImporter(store: store).importFiles([log.path])
        return (store, calls)
    }

    /// Goal: stats report exact counts, hour-of-day counts and top repository, and latency
    /// quantiles within the histogram's resolution. Method: the generator's own calls give the
    /// counts; the p50 of a log-normal is exp(mu), checked within 5 % (sampling error at these
    /// sizes is about 1.5 %).
    @Test func statsMatchGeneratedLog() throws {
        let (store, calls) = try Self.importedLog("stats")
        let stats = try TraceStatistics.compute(store)
        #expect(stats.rpcs == calls.count)
        for m in Self.methods {
            let truth = calls.filter { $0.method == m.method }
            guard let s = stats.methods.first(where: { $0.method == m.method }) else { Issue.record("\(m.method) missing"); continue }
            #expect(s.count == truth.count)
            #expect(abs(s.latencyMsP50 / exp(m.mu) - 1) < 0.05, "\(m.method) p50 \(s.latencyMsP50)")
            let sorted = truth.map(\.durationMs).sorted()
            #expect(abs(s.latencyMsP99 / sorted[Int((0.99 * Double(sorted.count)).rounded(.up)) - 1] - 1) < 0.01)
        }
        var hours = [Int](repeating: 0, count: 24)
        for c in calls { hours[Int((c.arrivalNs / 3_600_000_000_000) % 24)] += 1 }
        #expect(stats.byHourOfDay == hours)
        #expect(stats.byDayOfWeek[0] + stats.byDayOfWeek[1] == calls.count)
        var perRepo: [String: Int] = [:]
        for c in calls { perRepo[c.repository, default: 0] += 1 }
        let top = perRepo.max { ($0.value, $1.key) < ($1.value, $0.key) }!
        #expect(stats.topRepositories.first == NamedCount(name: "default:" + top.key, count: top.value))
        #expect(stats.operations == [NamedCount(name: "accessor", count: calls.count)])
    }

    /// Goal: the fit recovers the rate, the daily shape, the service-time family and
    /// parameters, and the Zipf exponent. Method: compare with the generator's parameters;
    /// tolerances are about four standard errors at these sample sizes (rate: 1/√n ≈ 1.2 %;
    /// an hour's weight: 1/√(2·3600·0.05·weight) ≈ 6-9 %; μ: σ/√n ≈ 0.01).
    @Test func fitRecoversGeneratedParameters() throws {
        let (store, calls) = try Self.importedLog("fit")
        let profile = try TraceFit.fit(store)
        let upload = try #require(profile.methods.first { $0.method == "PostUploadPackWithSidechannel" })
        let uploads = calls.filter { $0.method == "PostUploadPackWithSidechannel" }.count
        // The fitted rate is the mean over a day of 0.05 × shape, and the fitted hourly weights
        // are the shape divided by its mean.
        let shapeMean = Self.shape.reduce(0, +) / 24
        #expect(abs(upload.ratePerSecond / (0.05 * shapeMean) - 1) < 0.06, "rate \(upload.ratePerSecond) from \(uploads) calls")
        let hours = try #require(upload.hourOfDay)
        for h in 0..<24 {
            #expect(abs(hours[h] / (Self.shape[h] / shapeMean) - 1) < 0.3, "hour \(h): \(hours[h]) vs \(Self.shape[h])")
        }
        // Both covered days carry the same rate; uncovered days are filled with their mean.
        let days = try #require(upload.dayOfWeek)
        #expect(days.allSatisfy { abs($0 - 1) < 0.06 }, "\(days)")
        #expect(upload.serviceTimeMs.family == "logNormal")
        #expect(abs(upload.serviceTimeMs.mu! - 4) < 0.05)
        #expect(abs(upload.serviceTimeMs.sigma! - 0.8) < 0.05)
        #expect(upload.serviceTimeMs.ks! < 0.03)
        #expect(upload.operation == "accessor")

        let branch = try #require(profile.methods.first { $0.method == "FindBranch" })
        #expect(abs(branch.ratePerSecond / 0.02 - 1) < 0.1)
        #expect(branch.serviceTimeMs.family == "logNormal")
        #expect(abs(branch.serviceTimeMs.mu! - 1) < 0.05)
        // A flat method over several covered hours gets an hour shape of ones (within sampling).
        let branchHours = try #require(branch.hourOfDay, "a method seen in two or more hours has an hour shape")
        #expect(branchHours.allSatisfy { abs($0 - 1) < 0.5 }, "\(branchHours)")

        let repos = try #require(profile.repositories)
        #expect(repos.count == Set(calls.map(\.repository)).count)
        #expect(abs(repos.exponent! - 1.1) < 0.1, "exponent \(repos.exponent!)")
        #expect(profile.operationMix == ["accessor": 1.0])

        // The fitted profile survives YAML both ways.
        let yaml = try profile.encodeYAML(header: "test")
        let decoded = try TrafficProfile.decode(yaml: yaml, path: "fitted.yaml")
        #expect(decoded == profile)
        // Plain decimals, and the same text every time (no dictionary order reaches it).
        #expect(!yaml.contains("e+0") && !yaml.contains("e-1"))
        #expect(try decoded.encodeYAML(header: "test") == yaml)
    }

    /// Goal: synthetic traffic follows λ(t) = growth × rate × shape(hour). Method: count the
    /// arrivals in each hour of a day and compare with the Poisson mean 3600·λ_h within five
    /// standard deviations (√mean); check the method split and the median service time.
    @Test func syntheticTrafficFollowsProfileIntensity() throws {
        let profile = TrafficProfile(
            start: "2023-10-16T00:00:00Z",
            methods: [
                MethodProfile(service: "gitaly.SSHService", method: "SSHUploadPackWithSidechannel", ratePerSecond: 0.2,
                              hourOfDay: Self.shape, serviceTimeMs: .logNormal(mu: 3, sigma: 1)),
                MethodProfile(service: "gitaly.RefService", method: "FindBranch", ratePerSecond: 0.1,
                              serviceTimeMs: DistributionSpec(family: "constant", value: 2)),
            ],
            repositories: RepositoryPopularity(model: "zipf", count: 50, exponent: 1))
        let growth = 1.5
        var source = try SyntheticTraffic(profile: profile, target: ReplayTarget(storages: ["a", "b"], repositories: (0..<50).map { "r\($0)" }),
                                          horizon: .hours(24), growth: growth, seed: 5)
        var perMethod = [0, 0]
        var last = SimTime.zero
        var ordered = true
        var durations: [Double] = []
        var storages = Set<Int32>()
        while let a = try source.next() {
            if a.time < last { ordered = false }
            last = a.time
            perMethod[Int(a.method)] += 1
            if a.method == 0 { durations.append(Double(a.cost.durationNs) / 1e6) } else { #expect(a.cost.durationNs == 2_000_000) }
            storages.insert(a.storage)
            #expect(a.repository >= 0 && a.repository < 50)
        }
        #expect(ordered)
        #expect(storages == [0, 1])
        // The hourly shape is checked by one χ² test in HourlyIntensityTests.
        let expectedUpload = 86_400 * growth * 0.2
        #expect(abs(Double(perMethod[0]) - expectedUpload) < 5 * expectedUpload.squareRoot())
        durations.sort()
        #expect(abs(durations[durations.count / 2] / exp(3) - 1) < 0.05)
        #expect(source.accepted == perMethod.reduce(0, +))
    }

    /// Goal: a source for some repositories draws exactly their share of the calls, among them
    /// by popularity (the RPC-level part of a run whose other calls are a load). Method: Zipf
    /// popularity over 50 ranks (exponent 1) dealt over 100 repositories, so repository r has
    /// rank r + 1 alone and those from 50 on have none; the source for repositories 0, 3, 7
    /// and 60 draws at rate × (1 + 1/4 + 1/8) / H₅₀ (hand-computed share), checked over a day
    /// within five standard deviations; repository 0 gets 8/11 of them, 3 gets 2/11, 7 gets
    /// 1/11 (within five binomial deviations) and 60 none. Control: the whole source's count
    /// is far outside that band. The same seed draws the same calls, another seed others.
    @Test func aSourceForSomeRepositoriesDrawsTheirShareOnly() throws {
        let profile = TrafficProfile(
            start: "2023-10-16T00:00:00Z",
            methods: [MethodProfile(service: "gitaly.SmartHTTPService", method: "PostUploadPackWithSidechannel", ratePerSecond: 2,
                                    serviceTimeMs: DistributionSpec(family: "constant", value: 2))],
            repositories: RepositoryPopularity(model: "zipf", count: 50, exponent: 1))
        let target = ReplayTarget(storages: ["a"], repositories: (0..<100).map { "r\($0)" })
        func count(_ subset: [Int32]?) throws -> [Int32: Int] {
            var source = try SyntheticTraffic(profile: profile, target: target, horizon: .hours(24), seed: 8, repositories: subset)
            var calls: [Int32: Int] = [:]
            while let a = try source.next() { calls[a.repository, default: 0] += 1 }
            return calls
        }
        let calls = try count([0, 3, 7, 60])
        func arrivals(seed: UInt64) throws -> [Arrival] {
            var source = try SyntheticTraffic(profile: profile, target: target, horizon: .hours(1), seed: seed, repositories: [0, 3, 7, 60])
            var out: [Arrival] = []
            while let a = try source.next() { out.append(a) }
            return out
        }
        #expect(try arrivals(seed: 8) == arrivals(seed: 8))
        #expect(try arrivals(seed: 8) != arrivals(seed: 9))
        let h50 = (1...50).reduce(0.0) { $0 + 1 / Double($1) }
        let expected = 86_400 * 2 * (1 + 0.25 + 0.125) / h50
        let total = Double(calls.values.reduce(0, +))
        #expect(abs(total - expected) < 5 * expected.squareRoot(), "\(total) calls, expected \(expected)")
        #expect(Set(calls.keys).isSubset(of: [0, 3, 7]))
        for (r, p) in [(Int32(0), 8.0 / 11), (3, 2.0 / 11), (7, 1.0 / 11)] {
            let got = Double(calls[r] ?? 0)
            #expect(abs(got - total * p) < 5 * (total * p * (1 - p)).squareRoot(), "repository \(r): \(got) of \(total)")
        }
        let whole = Double(try count(nil).values.reduce(0, +))
        #expect(abs(whole - expected) > 50 * expected.squareRoot(), "the whole source draws \(whole)")
        // A repository the model does not have is refused.
        #expect(throws: TrafficProfileError.invalid(field: "repositories", reason: "no repository 100 among the model's 100")) {
            _ = try SyntheticTraffic(profile: profile, target: target, horizon: .hours(1), seed: 8, repositories: [100])
        }
    }

    /// Goal: a bad profile is refused with the field named; the shipped profile is valid and
    /// its mean total rate is the sum of its methods' rates. Method: hand-broken profiles; the
    /// shipped profile's rates summed by hand from the file's PUBLIC/ASSUMED table.
    @Test func profileValidationNamesTheFieldAndShippedProfileLoads() throws {
        let good = """
            version: 1
            methods:
              - service: gitaly.CommitService
                method: FindCommit
                ratePerSecond: 10
                serviceTimeMs: {family: logNormal, mu: 1, sigma: 0.5}
            """
        #expect(try TrafficProfile.decode(yaml: good, path: "p.yaml").methods.count == 1)
        #expect(throws: TrafficProfileError.inFile(path: "p.yaml", field: "methods[0].serviceTimeMs.sigma",
                                                    reason: "must be a positive finite number, got -0.5")) {
            _ = try TrafficProfile.decode(yaml: good.replacingOccurrences(of: "sigma: 0.5", with: "sigma: -0.5"), path: "p.yaml")
        }
        #expect {
            _ = try TrafficProfile.decode(yaml: good + "\n    hourOfDay: [1, 2, 3]", path: "p.yaml")
        } throws: { error in
            (error as? TrafficProfileError) == .inFile(path: "p.yaml", field: "methods[0].hourOfDay", reason: "must have 24 values, got 3")
        }
        #expect {
            _ = try TrafficProfile.decode(yaml: good.replacingOccurrences(of: "    ratePerSecond: 10\n", with: ""), path: "p.yaml")
        } throws: { error in
            (error as? TrafficProfileError) == .inFile(path: "p.yaml", field: "methods[0].ratePerSecond", reason: "is required")
        }

        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("models/traffic/gitlab-com-git-fetch.yaml").path
        let shipped = try TrafficProfile.decode(yaml: try String(contentsOfFile: path, encoding: .utf8), path: path)
        let total = shipped.methods.reduce(0) { $0 + $1.ratePerSecond }
        // 925.9 + 983.8 + 925.9 + 1909.7 + 191 + 191 + 231.5 + 500 + 11.57
        #expect(abs(total - 5870.37) < 1e-6)
        // A minute of it: the count is Poisson around the intensity at that minute.
        var source = try SyntheticTraffic(profile: shipped, target: ReplayTarget(storages: ["s"], repositories: ["r"]),
                                          horizon: .seconds(60), seed: 1)
        let lambda = source.intensity(atSeconds: 30)
        var n = 0
        while try source.next() != nil { n += 1 }
        #expect(abs(Double(n) - 60 * lambda) < 5 * (60 * lambda).squareRoot())

        // The reference-architecture profile: its rates add up to the PUBLIC test load's
        // fan-out written in the file (pull 3 × 20, push 6 × 4, API and web 300).
        let reference = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("reference-10k-users.yaml").path
        let ref = try TrafficProfile.decode(yaml: try String(contentsOfFile: reference, encoding: .utf8), path: reference)
        #expect(ref.methods.reduce(0) { $0 + $1.ratePerSecond } == 60 + 24 + 300)
    }
}
