import Foundation
import Testing
import SimKernel
import SpecFiles
@testable import GitalyModel

/// Three pods (each outage stop + start + readiness = 30 + 20 + 30 = 80 s), one repository on
/// each, a bad release `bad` that fails the share `errorRatio` of its calls, and a rolling update
/// to `release` at 10 s with the canary stage `canary`.
private func releaseFleet(errorRatio: Double, canary: String?, release: String = "bad") throws -> Fleet {
    let pods = (1...3).map { "  - {name: p\($0), release: \"17.5\", cpuCores: 64, host: {kind: pod, stopTime: 30s, startTime: 20s, readinessDelay: 30s}, storages: [{name: s\($0), capacity: 1TB}]}" }
    let canaryField = canary.map { ", canary: \($0)" } ?? ""
    let yaml = """
    name: pods
    nodes:
    \(pods.joined(separator: "\n"))
    faults:
      releases:
        bad: {errorRatio: \(errorRatio)}
      schedule:
        - {at: 10s, kind: rollingUpdate, release: \(release)\(canaryField)}
    """
    return try Fleet.build(FleetSpec.parse(yaml, file: "pods.yaml"))
}

private func readTraffic(_ rate: Double, cpuSecondsMean: Double = 0.005) -> TrafficSpec {
    var t = TrafficSpec(ratePerSecond: rate, mix: [(.read, 1)])
    t.profiles[RPCClass.read.index] = RPCProfile(cpuSecondsMean: cpuSecondsMean, bytesRead: 0, bytesWritten: 0)
    return t
}

/// Goal: a canary analysis rolls a bad release back from the canary pod, and lets a good one
/// through to every pod, at the instants its interval and counts give. Method, worked by hand:
/// the update starts at 10 s, so the canary p1 is down 10–90 s and analysed at 150, 210, ... s.
/// - Every call p1 serves fails (errorRatio 1, threshold 2): the checks at 150 and 210 s fail,
///   so p1 rolls back at 210 s (down 210–290 s) and p2, p3 never stop. At the end no node runs
///   the bad release, one ran it at most, and one rollback is counted.
/// - A good release (errorRatio 0, checks 2): both checks pass, so at 210 s p2 rolls (down
///   210–290 s), then p3 (290–370 s); all three end on the new release.
/// - The good release with no traffic: a check without calls fails (Flagger's rule), so the
///   canary rolls back as the bad one did.
@Test func canaryAnalysisRollsABadReleaseBackAndLetsAGoodOneThrough() throws {
    func run(_ fleet: Fleet, traffic: Double) -> Simulation<World> {
        var sim = makeSim(fleet) { $0.repositoryCount = 3; $0.traffic = readTraffic(traffic) }
        sim.run(until: .seconds(600))
        return sim
    }
    let canary = "{pods: 1, interval: 1m, checks: 2, threshold: 2, errorRatioMax: 0.01}"
    let bad = run(try releaseFleet(errorRatio: 1, canary: canary), traffic: 30)
    #expect(bad.model.nodes.map(\.downSince) == [[.seconds(10), .seconds(210)], [], []])
    #expect((0..<3).map { bad.model.releaseName(node: $0) } == ["17.5", "17.5", "17.5"])
    let report = bad.model.report(at: bad.now)
    #expect(report.nodesOnBadRelease == 0 && report.nodesOnBadReleasePeak == 1 && report.rolloutsRolledBack == 1)
    #expect(!bad.model.rollingUpdateInProgress)

    let good = run(try releaseFleet(errorRatio: 0, canary: canary), traffic: 30)
    #expect(good.model.nodes.map(\.downSince) == [[.seconds(10)], [.seconds(210)], [.seconds(290)]])
    #expect((0..<3).map { good.model.releaseName(node: $0) } == ["bad", "bad", "bad"])
    #expect(good.model.rolloutsRolledBack == 0 && good.model.nodesOnBadRelease == 0, "errorRatio 0 is not a bad release")

    let silent = run(try releaseFleet(errorRatio: 0, canary: canary), traffic: 0)
    #expect(silent.model.nodes.map(\.downSince) == [[.seconds(10), .seconds(210)], [], []])

    // Without a canary stage the bad release reaches every pod, 80 s apart.
    let spread = run(try releaseFleet(errorRatio: 1, canary: nil), traffic: 30)
    #expect(spread.model.nodes.map(\.downSince) == [[.seconds(10)], [.seconds(90)], [.seconds(170)]])
    #expect(spread.model.nodesOnBadRelease == 3)
}

/// Goal: a node on a bad release fails its share of the calls it serves and serves them
/// slower, and a good release is untouched. Method: one 64-core node (no queueing at 20 reads/s
/// of exponential service with mean 0.25 s), 10 simulated minutes, about 12,000 calls.
/// - errorRatio 0.25: the share of calls failed is 0.25 within 4 binomial standard errors;
/// - latencyFactor 2: a read is satisfied within 0.5 s with probability 1 − e^(−0.5/0.5) =
///   0.632 instead of 1 − e^(−0.5/0.25) = 0.865 (its service is exponential with twice the mean);
/// - the good release: no call fails, and the satisfied share is 0.865 within 4 errors.
@Test func aBadReleaseFailsItsShareOfCallsAndServesSlower() throws {
    func run(release: String) throws -> (served: Int, failed: Int, satisfied: Double) {
        let yaml = """
        name: one
        nodes:
          - {name: a, release: \(release), cpuCores: 64, storages: [{name: s, capacity: 1TB}]}
        faults:
          releases:
            bad: {errorRatio: 0.25, latencyFactor: 2}
        """
        var sim = makeSim(try Fleet.build(FleetSpec.parse(yaml, file: "one.yaml"))) {
            $0.repositoryCount = 10
            $0.traffic = readTraffic(20, cpuSecondsMean: 0.25)
            $0.quietAfterSeconds = 600
        }
        sim.run(until: .seconds(700))
        let windows = sim.model.report(at: sim.now).windows
        let satisfied = Double(windows.reduce(0) { $0 + $1.apdexSatisfied }) / Double(windows.reduce(0) { $0 + $1.apdexCounted })
        return (sim.model.nodes[0].callsServed, sim.model.nodes[0].callsFailed, satisfied)
    }
    func within4(_ x: Double, _ p: Double, _ n: Int) -> Bool { abs(x - p) <= 4 * (p * (1 - p) / Double(n)).squareRoot() }
    let bad = try run(release: "bad")
    #expect(bad.served > 10_000)
    #expect(within4(Double(bad.failed) / Double(bad.served), 0.25, bad.served), "\(bad)")
    #expect(within4(bad.satisfied, 1 - exp(-1.0), bad.served), "\(bad)")
    let good = try run(release: "\"17.5\"")
    #expect(good.failed == 0 && good.served > 10_000)
    #expect(within4(good.satisfied, 1 - exp(-2.0), good.served), "\(good)")
}

/// Goal: release and canary mistakes are refused by file, line and field.
@Test func releaseAndCanaryMistakesAreNamed() throws {
    func message(_ canary: String?, release: String = "bad") -> String? {
        do { _ = try releaseFleet(errorRatio: 0.1, canary: canary, release: release); return nil } catch { return "\(error)" }
    }
    #expect(message(nil, release: "17.7") == "pods.yaml:10: faults.schedule[0].release: rollingUpdate fault: unknown release \"17.7\"; declare it under faults.releases (known: bad, 17.5)")
    #expect(message("{pods: 4}") == "pods.yaml:10: faults.schedule[0].canary.pods: rollingUpdate fault: the canary takes 1 to 3 of the pods rolled, got 4")
    #expect(message("{threshold: 0}") == "pods.yaml:10: faults.schedule[0].canary.threshold: rollingUpdate fault: must be at least 1, got 0")
    #expect(message("{errorRatioMax: 2}") == "pods.yaml:10: faults.schedule[0].canary.errorRatioMax: rollingUpdate fault: a ratio within 0 and 1, got 2.0")
    #expect(message("{interval: 0s}")?.hasPrefix("pods.yaml:10: faults.schedule[0].canary.interval: must be above 0") == true, "\(message("{interval: 0s}") ?? "")")
    #expect(message("{pods: 1, soak: 5m}")?.contains("faults.schedule[0].canary") == true)
    let noRelease = "name: p\nnodes:\n  - {name: p1, host: {kind: pod}, storages: [{name: s, capacity: 1TB}]}\nfaults: {schedule: [{at: 1s, kind: rollingUpdate, canary: {pods: 1}}]}\n"
    let e1 = #expect(throws: SpecError.self) { _ = try Fleet.build(FleetSpec.parse(noRelease, file: "p.yaml")) }
    #expect(e1?.description == "p.yaml:4: faults.schedule[0].canary: rollingUpdate fault: a canary stage needs the release it tries (release:)", "\(String(describing: e1))")
    let onCrash = "name: p\nnodes:\n  - {name: p1, storages: [{name: s, capacity: 1TB}]}\nfaults: {schedule: [{at: 1s, kind: nodeCrash, target: p1, release: x}]}\n"
    let e2 = #expect(throws: SpecError.self) { _ = try Fleet.build(FleetSpec.parse(onCrash, file: "p.yaml")) }
    #expect(e2?.description == "p.yaml:4: faults.schedule[0].release: nodeCrash fault: only a rollingUpdate changes a release", "\(String(describing: e2))")
    let badRatio = "name: p\nnodes:\n  - {name: p1, storages: [{name: s, capacity: 1TB}]}\nfaults:\n  releases:\n    bad: {errorRatio: 1.5}\n"
    let e3 = #expect(throws: SpecError.self) { _ = try Fleet.build(FleetSpec.parse(badRatio, file: "p.yaml")) }
    #expect(e3?.description == "p.yaml:6: faults.releases.bad.errorRatio: release bad: a probability is within 0 and 1, got 1.5", "\(String(describing: e3))")
}
