import Foundation
import GRDB
import Testing
@testable import Experiments
import SpecFiles
import Report

// Experiments: files, claims, the runner, the results database. Expectations are worked by
// hand (claims on fixed numbers), come from published test vectors (SHA-256), or are
// invariants (the same seed gives the same results whatever the threads).

/// A folder with a two-storage model, a drain policy and an experiment over them.
func experimentFolder(replications: Int = 4, claims: [String] = [], extra: String = "", apiErrorRate: Double = 0.2, runExtra: String = "") throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rehearse-exp-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try """
    name: two
    nodes:
      - {name: na, disk: {readBandwidth: 100MB/s, writeBandwidth: 1000MB/s}, storages: [{name: a, capacity: 10TB, used: 1TB}]}
      - {name: nb, storages: [{name: b, capacity: 10TB}]}
    gitlab: {weights: {a: 100, b: 0}, apiLatency: 100ms, apiErrorRate: \(apiErrorRate)}
    """.write(toFile: dir + "/model.yaml", atomically: true, encoding: .utf8)
    try "drain: {from: [a], to: [b]}\nconcurrency: {perSource: 4}\n".write(toFile: dir + "/policy.yaml", atomically: true, encoding: .utf8)
    let claimLines = claims.isEmpty ? "" : "claims:\n" + claims.map { "  - \"\($0)\"" }.joined(separator: "\n") + "\n"
    try """
    name: drain-two
    model: model.yaml
    inventory: {generate: 30, seed: 3}
    policy: policy.yaml
    run: {hours: 48, replications: \(replications), seed: 7\(runExtra)}
    \(claimLines)\(extra)
    """.write(toFile: dir + "/experiment.yaml", atomically: true, encoding: .utf8)
    return dir
}

func metrics(durations: [Double], lost: [Int] = []) -> [ReplicationMetrics] {
    durations.enumerated().map { i, d in
        ReplicationMetrics(durationHours: d, finished: true, writeUnavailableRepositorySeconds: 0, maxReadOnlySeconds: 0,
                           acknowledgedWrites: 0, lostWrites: i < lost.count ? lost[i] : 0, movesFinished: 0, movesFailed: 0,
                           repositoriesLeftReadOnly: 0, bytesMoved: 0, peakFill: 0, events: 0)
    }
}

func claim(_ text: String) throws -> Claim {
    try Claim.parse(text) { SpecError(file: "t.yaml", line: 3, field: "claims[0]", message: $0) }
}

/// Goal: the digest matches FIPS 180-4's published examples.
@Test func sha256MatchesPublishedVectors() {
    #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
        == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
}

/// Goal: claims judged by hand. Durations 1…10 h: the H&F-7 median is 5.5, the mean 5.5 with
/// Student's 95% interval 5.5 ± 2.262 × 3.028 / √10 = 3.334…7.666. No loss in 10 runs: Wilson's
/// 95% upper bound is 0.2775, so P < 0.3 holds at 95% and P < 0.25 does not (though the point
/// estimate, 0, would pass it).
@Test func claimsAreJudgedOnTheRightBound() throws {
    let m = metrics(durations: (1...10).map(Double.init))
    #expect(try claim("p50(duration_hours) < 6").evaluate(m, seed: 1).holds)
    #expect(try !claim("p50(duration_hours) < 5").evaluate(m, seed: 1).holds)
    let mean = try claim("mean(duration_hours) < 7.7 at 95%").evaluate(m, seed: 1)
    #expect(mean.holds && abs(mean.interval!.upperBound - 7.666) < 1e-3, "\(mean.interval!)")
    #expect(try !claim("mean(duration_hours) < 7.6 at 95%").evaluate(m, seed: 1).holds)
    #expect(try claim("mean(duration_hours) > 3.3 at 95%").evaluate(m, seed: 1).holds)
    #expect(try claim("P(data_loss) < 0.3 at 95%").evaluate(m, seed: 1).holds)
    let tight = try claim("P(data_loss) < 0.25 at 95%").evaluate(m, seed: 1)
    #expect(!tight.holds && abs(tight.interval!.upperBound - 0.2775) < 1e-4)
    #expect(try claim("P(data_loss) < 0.25").evaluate(m, seed: 1).holds, "the point estimate alone passes")
    #expect(try claim("max(duration_hours) <= 10h").evaluate(m, seed: 1).holds)
    let withLoss = metrics(durations: [1, 1, 1, 1], lost: [0, 3, 0, 0])
    #expect(try claim("P(data_loss) >= 0.25").evaluate(withLoss, seed: 1).holds)
}

/// Goal: a malformed claim names the file, line and what is wrong, and the expected form.
@Test(arguments: [
    ("p95 duration_hours < 72", "no STAT(QUANTITY)"),
    ("p101(duration_hours) < 72", "unknown statistic \"p101\""),
    ("p95(speed) < 72", "unknown quantity \"speed\""),
    ("P(duration_hours) < 0.1", "P() takes one of data_loss, unfinished, left_read_only"),
    ("p95(duration_hours) = 72", "no comparison"),
    ("p95(duration_hours) < lots", "\"lots\" is not a number"),
    ("p95(duration_hours) < 72 with 95%", "after the number only \"at LEVEL%\" may follow"),
    ("max(duration_hours) < 72 at 95%", "max has no confidence interval"),
])
func malformedClaimsAreRefused(_ text: String, _ why: String) {
    let error = #expect(throws: SpecError.self) { _ = try claim(text) }
    #expect(error?.description.hasPrefix("t.yaml:3: claims[0]: claim \"\(text)\": \(why)") == true, "\(String(describing: error))")
}

/// Goal: an experiment file's problems name file, line and field. Method: a missing model,
/// an unknown field, a bad claim on line 7.
@Test func experimentFileErrorsNameTheirPlace() throws {
    let dir = try experimentFolder()
    let file = dir + "/experiment.yaml"
    var text = try String(contentsOfFile: file, encoding: .utf8)
    let missing = #expect(throws: SpecError.self) {
        _ = try Experiment.parse(text.replacingOccurrences(of: "model: model.yaml", with: "model: nowhere.yaml"), file: file)
    }
    #expect(missing?.description.contains("experiment.yaml:2: model: no such file") == true, "\(String(describing: missing))")
    let unknown = #expect(throws: SpecError.self) { _ = try Experiment.parse(text + "\nspeed: 3\n", file: file) }
    #expect(unknown?.description.contains("speed: unknown field") == true, "\(String(describing: unknown))")
    text += "claims:\n  - \"p95(duration_hours) < soon\"\n"
    let bad = #expect(throws: SpecError.self) { _ = try Experiment.parse(text, file: file) }
    #expect(bad?.line == 7 && bad?.description.contains("\"soon\" is not a number") == true, "\(String(describing: bad))")
}

/// Goal: results do not depend on the number of threads, replications differ from each other
/// (each has its own streams), and the same seed repeats a run exactly. Method: 4 replications
/// of a 30-repository drain with API errors (the only randomness), on 1 thread and on 3.
@Test func resultsAreTheSameWhateverTheThreads() throws {
    let runner = try ExperimentRunner(Experiment.load(path: try experimentFolder() + "/experiment.yaml"))
    let one = try runner.run(replications: 4, seed: 7, hours: 48, threads: 1)
    let three = try runner.run(replications: 4, seed: 7, hours: 48, threads: 3)
    #expect(one.metrics == three.metrics)
    #expect(one.replications.map(\.series) == three.replications.map(\.series))
    #expect(Set(one.metrics.map(\.movesFailed)).count > 1 || Set(one.metrics.map(\.durationHours)).count > 1,
            "replications draw different API errors: \(one.metrics.map(\.movesFailed))")
    #expect(one.metrics.allSatisfy { $0.finished && $0.movesFinished == 30 && $0.lostWrites == 0 })
    let other = try runner.run(replications: 4, seed: 8, hours: 48, threads: 2)
    #expect(other.metrics != one.metrics, "another seed, other draws")
}

/// Goal: a run saved and loaded back predicts the same, with its inputs hashed; another
/// program's SQLite file is refused untouched; an input edited or removed while the run ran
/// is stored as the run read it.
@Test func resultsDatabaseRoundTrip() throws {
    let dir = try experimentFolder(claims: ["p95(duration_hours) < 48", "P(data_loss) < 0.6 at 95%"])
    let runner = try ExperimentRunner(Experiment.load(path: dir + "/experiment.yaml"))
    let results = try runner.run(replications: 4, seed: 7, hours: 48, threads: 2)
    let db = dir + "/results.sqlite"
    let id = try ResultsStore.save(results, to: db)
    let stored = try ResultsStore.load(path: db)
    #expect(stored.id == id && stored.metrics == results.metrics)
    #expect(stored.series == results.replications.map(\.series))
    let before = Prediction(results.metrics, claims: runner.experiment.claims, seed: 7)
    let after = stored.prediction
    #expect(after.durationP95 == before.durationP95 && after.claims == before.claims)
    let model = stored.inputs.first { $0.role == "model" }!
    #expect(model.sha256 == SHA256.hex(Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/model.yaml")))))
    #expect(try ResultsStore.runs(path: db).count == 1)

    let foreign = dir + "/other.sqlite"
    try DatabaseQueue(path: foreign).write { try $0.execute(sql: "CREATE TABLE t (x INTEGER)") }
    let size = try FileManager.default.attributesOfItem(atPath: foreign)[.size] as! Int
    #expect(throws: ResultsStoreError.self) { try ResultsStore.save(results, to: foreign) }
    #expect(try FileManager.default.attributesOfItem(atPath: foreign)[.size] as! Int == size)

    let policy = try Data(contentsOf: URL(fileURLWithPath: dir + "/policy.yaml"))
    try "drain: {from: [nowhere]}\n".write(toFile: dir + "/model.yaml", atomically: true, encoding: .utf8)
    try FileManager.default.removeItem(atPath: dir + "/policy.yaml")
    let second = try ResultsStore.save(results, to: db)
    let contents = try DatabaseQueue(path: db).read { db in
        try Row.fetchAll(db, sql: "SELECT role, content FROM input WHERE run_id = ?", arguments: [second]).map { ($0[0] as String, $0[1] as Data) }
    }
    #expect(contents.first { $0.0 == "policy" }?.1 == policy)
    #expect(SHA256.hex(Array(contents.first { $0.0 == "model" }!.1)) == model.sha256)
    #expect(contents.first { $0.0 == "experiment" }?.1 == Data(runner.experiment.source.utf8))
}

/// Goal: a sweep point is the experiment with its fields set, and nothing else. Method: the
/// drain (no API errors, so every replication is the same) swept over perSource 1 and 4. By
/// hand: one move at a time through a 100 MB/s source disk is slower than four sharing it only
/// by the per-move fixed costs, which four moves overlap; the point perSource=4 is the policy
/// as written, so it equals a plain run exactly.
@Test func sweepPointsSetTheirFieldsAndNothingElse() throws {
    let dir = try experimentFolder(extra: "sweep:\n  policy.concurrency.perSource: [1, 4]\n", apiErrorRate: 0)
    let e = try Experiment.load(path: dir + "/experiment.yaml")
    let points = try #require(e.sweep?.points)
    #expect(points.map { $0.map(\.label) } == [["policy.concurrency.perSource=1"], ["policy.concurrency.perSource=4"]])
    let serial = try ExperimentRunner(e, point: points[0]).run(replications: 2, seed: 7, hours: 48, threads: 2)
    let four = try ExperimentRunner(e, point: points[1]).run(replications: 2, seed: 7, hours: 48, threads: 2)
    let plain = try ExperimentRunner(e).run(replications: 2, seed: 7, hours: 48, threads: 2)
    #expect(four.metrics == plain.metrics)
    #expect(serial.metrics[0].durationHours > four.metrics[0].durationHours, "\(serial.metrics[0].durationHours) vs \(four.metrics[0].durationHours)")
}

/// Goal: `set:` runs the experiment with its fields changed, as the sweep point with the same
/// value does, and a field both set and swept is refused. Method: perSource set to 1 equals the
/// sweep point perSource=1 replication for replication, and differs from the policy as written.
@Test func settingsChangeEveryRunAsTheirSweepPointDoes() throws {
    let swept = try Experiment.load(path: try experimentFolder(extra: "sweep:\n  policy.concurrency.perSource: [1]\n", apiErrorRate: 0) + "/experiment.yaml")
    let set = try Experiment.load(path: try experimentFolder(extra: "set:\n  policy.concurrency.perSource: 1\n", apiErrorRate: 0) + "/experiment.yaml")
    #expect(set.settings.map(\.label) == ["policy.concurrency.perSource=1"])
    let a = try ExperimentRunner(set).run(replications: 2, seed: 7, hours: 48, threads: 1)
    let b = try ExperimentRunner(swept, point: swept.sweep!.points[0]).run(replications: 2, seed: 7, hours: 48, threads: 1)
    let plain = try ExperimentRunner(swept).run(replications: 2, seed: 7, hours: 48, threads: 1)
    #expect(a.metrics == b.metrics)
    #expect(a.metrics != plain.metrics)
    let both = try experimentFolder(extra: "set:\n  policy.concurrency.perSource: 1\nsweep:\n  policy.concurrency.perSource: [1, 2]\n")
    let error = #expect(throws: SpecError.self) { _ = try Experiment.load(path: both + "/experiment.yaml") }
    #expect(error?.description.hasSuffix("experiment.yaml:9: sweep: policy.concurrency.perSource is also under set:; a field is either fixed or swept") == true, "\(String(describing: error))")
}

/// Goal: a sweep that cannot apply names its key. Method: an unknown target, a list index past
/// the end, and a field inside a plain value.
@Test(arguments: [
    ("speed.x: [1]", "a key is model.<field>... or policy.<field>..., got \"speed.x\""),
    ("model.nodes.5.cpuCores: [4]", "sweep: \"5\" is not an entry of the list (0 to 1)"),
    ("model.name.first: [x]", "sweep: \"first\" is inside a plain value, not a mapping or a list"),
])
func sweepThatCannotApplyNamesItsKey(_ line: String, _ message: String) throws {
    let dir = try experimentFolder(extra: "sweep:\n  \(line)\n")
    let error = #expect(throws: SpecError.self) {
        let e = try Experiment.load(path: dir + "/experiment.yaml")
        for point in e.sweep!.points { _ = try ExperimentRunner(e, point: point) }
    }
    #expect(error?.description.contains(message) == true, "\(String(describing: error))")
}

/// Goal: an experiment that samples its faults faster weighs each replication back to the real
/// rates, and the weights survive the results database. Method: node crashes with an MTBF of
/// 10,000 h sampled 1,000 times as often; every replication then carries a likelihood ratio
/// other than 1, the loss probability is named as importance sampling, and a stored run
/// predicts the same.
@Test func importanceSamplingReachesThePrediction() throws {
    let dir = try experimentFolder(extra: "faults: {nodeCrash: {mtbf: 10000h, mttr: 10m}}\n", runExtra: ", faultRateScale: 1000")
    let e = try Experiment.load(path: dir + "/experiment.yaml")
    #expect(e.faultRateScale == 1000)
    let results = try ExperimentRunner(e).run(replications: 4, seed: 7, hours: 48, threads: 2)
    #expect(results.metrics.allSatisfy { $0.likelihoodRatio != 1 && $0.likelihoodRatio > 0 })
    let p = Prediction(results.metrics, claims: [], seed: 7)
    #expect(p.dataLossMethod == "importance sampling of fault rates")
    try ResultsStore.save(results, to: dir + "/r.sqlite")
    let stored = try ResultsStore.load(path: dir + "/r.sqlite")
    #expect(stored.metrics == results.metrics && stored.prediction.dataLossProbability == p.dataLossProbability)
    let bad = #expect(throws: SpecError.self) {
        _ = try Experiment.parse(try String(contentsOfFile: dir + "/experiment.yaml", encoding: .utf8).replacingOccurrences(of: "faultRateScale: 1000", with: "faultRateScale: 0.5"), file: dir + "/experiment.yaml")
    }
    #expect(bad?.description.contains("a scale of fault rates is from 1 (off) to 1000000, got 0.5") == true, "\(String(describing: bad))")
}

/// Goal: two runs' loss probabilities compare as a two-proportion test, including the
/// all-or-nothing case where the normal interval has no width. Method, by hand: 0 of 10
/// against 10 of 10 differ (it once reported "no variation" and not significant); 0 of 10
/// twice do not; 2 of 10 against 3 of 10 give a 95% interval of the difference 0.1 ±
/// 1.96·sqrt(0.16/10 + 0.21/10) = (−0.277, 0.477), not significant; 0 of 40 against 20 of 40
/// give 0.5 ± 1.96·sqrt(0.25/40) = (0.345, 0.655), significant.
@Test func lossProportionsCompareEvenWithoutSpread() {
    #expect(Comparison.proportions(0, 10, 10, 10).0)
    #expect(!Comparison.proportions(0, 10, 0, 10).0)
    let (small, text) = Comparison.proportions(2, 10, 3, 10)
    #expect(!small && text == "two-proportion z, 95% CI -0.277…0.477", "\(text)")
    #expect(Comparison.proportions(0, 40, 20, 40).0)
}

/// Goal: runs whose faults were sampled faster compare their loss probabilities as weighted
/// estimates, not as raw counts. Method, by hand: 2 of 4 replications lose writes, each with
/// likelihood ratio 0.001, against a run with no loss: the baseline's probability is
/// (0.001 + 0.001) / 4 = 0.0005, not the raw 2/4 the comparison used to report.
@Test func weightedLossProbabilitiesCompareAsWeightedMeans() {
    var a = metrics(durations: [1, 1, 1, 1], lost: [3, 5, 0, 0])
    for i in a.indices { a[i].likelihoodRatio = 0.001 }
    let b = metrics(durations: [1, 1, 1, 1])
    let loss = Comparison.differences(a, seed: 1, b, seed: 2).first { $0.metric == "P(any acknowledged write lost)" }!
    #expect(abs(loss.baseline - 0.0005) < 1e-15 && loss.candidate == 0, "\(loss)")
    #expect(loss.test.hasPrefix("Welch"), "\(loss.test)")
}

/// Goal: `inventory: {fill: used}` draws repositories that make up storage `a`'s 1 TB (less what
/// the size cap cuts), and the
/// world counts those bytes once: the storage starts at 1 TB used (10% fill), not 1 TB plus its
/// repositories. Method: the same experiment without `fill` for contrast, whose world starts
/// at 1 TB plus the (unscaled) repositories' bytes; a bad `fill` value names its line.
@Test func anInventoryFilledToUsedIsCountedOnce() throws {
    let dir = try experimentFolder()
    let path = dir + "/experiment.yaml"
    let plainText = try String(contentsOfFile: path, encoding: .utf8)
    try plainText.replacingOccurrences(of: "{generate: 30, seed: 3}", with: "{generate: 30, seed: 3, fill: used}").write(toFile: path, atomically: true, encoding: .utf8)
    // Repositories of up to 280 GB outlast gitalyctl's 1 h timeout at 28.5 MB/s: planning
    // refuses them unless the policy waits longer.
    #expect { try ExperimentRunner(Experiment.load(path: path)) } throws: { "\($0)".contains("over moveTimeout 1.0 h") }
    try "drain: {from: [a], to: [b]}\nconcurrency: {perSource: 4}\nmoveTimeout: 3h\n".write(toFile: dir + "/policy.yaml", atomically: true, encoding: .utf8)
    let filled = try ExperimentRunner(Experiment.load(path: path))
    let bytes = try #require(filled.setup.fleet.population).sizeBytes.reduce(0, +)
    // 30 repositories for 1 TB: the heavy tail's largest reach the 280 GB cap, so they hold a little less.
    #expect(bytes <= 1e12 + 30 && bytes > 0.5e12, "the 30 repositories make up most of a's 1 TB: \(bytes)")
    #expect(abs(filled.setup.fleet.storages[0].initialUsedBytes + bytes - 1e12) <= 30, "counted once: \(filled.setup.fleet.storages[0].initialUsedBytes) besides them")

    try plainText.write(toFile: path, atomically: true, encoding: .utf8)
    let plain = try ExperimentRunner(Experiment.load(path: path))
    #expect(plain.setup.fleet.storages[0].initialUsedBytes == 1e12, "without fill the repositories come on top of used")
    #expect(try #require(plain.setup.fleet.population).sizeBytes.reduce(0, +) < 1e12 / 10, "and are far smaller: the size model's own scale")

    try plainText.replacingOccurrences(of: "{generate: 30, seed: 3}", with: "{generate: 30, seed: 3, fill: all}").write(toFile: path, atomically: true, encoding: .utf8)
    #expect { try Experiment.load(path: path) } throws: { ($0 as? SpecError)?.description == "\(path):3: inventory.fill: expected none or used, got all" }
}
