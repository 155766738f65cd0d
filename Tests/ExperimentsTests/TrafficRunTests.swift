import Foundation
import GitalyModel
import SimKernel
import Testing
import Traffic
@testable import Experiments

/// An in-memory arrival source: the test's own list, independent of the trace store.
struct ListSource: ArrivalSource {
    var methods: [MethodName]
    var arrivals: [Arrival]
    var position = 0
    mutating func next() throws -> Arrival? {
        guard position < arrivals.count else { return nil }
        position += 1
        return arrivals[position - 1]
    }
}

@Suite struct RPCClassifierTests {
    /// Hand table from GITALY_LOGS.md §3.
    @Test func classifiesByMethodThenOperation() {
        let cases: [(MethodName, RPCClassifier.Outcome)] = [
            (MethodName(service: "gitaly.SmartHTTPService", method: "PostUploadPackWithSidechannel", operation: .accessor), .rpc(.uploadPack)),
            (MethodName(service: "gitaly.SSHService", method: "SSHUploadPackWithSidechannel", operation: .accessor), .rpc(.uploadPack)),
            (MethodName(service: "gitaly.SmartHTTPService", method: "PostReceivePack", operation: .mutator), .rpc(.receivePack)),
            (MethodName(service: "gitaly.CommitService", method: "FindCommit", operation: .accessor), .rpc(.read)),
            (MethodName(service: "gitaly.OperationService", method: "UserCommitFiles", operation: .mutator), .rpc(.write)),
            (MethodName(service: "gitaly.RepositoryService", method: "OptimizeRepository", operation: .maintenance), .rpc(.maintenance)),
            (MethodName(service: "gitaly.HookService", method: "PackObjectsHookWithSidechannel", operation: .accessor), .internalCall),
            (MethodName(service: "gitaly.HookService", method: "PreReceiveHook", operation: .accessor), .internalCall),
            (MethodName(service: "gitaly.ServerService", method: "ServerInfo", operation: .unknown), .unclassified),
        ]
        for (m, expected) in cases { #expect(RPCClassifier.classify(m) == expected, "\(m.method)") }
    }
}

@Suite struct TrafficRunTests {
    static let methods = [
        MethodName(service: "gitaly.CommitService", method: "FindCommit", operation: .accessor),
        MethodName(service: "gitaly.OperationService", method: "UserCommitFiles", operation: .mutator),
        MethodName(service: "gitaly.HookService", method: "PreReceiveHook", operation: .accessor),
        MethodName(service: "gitaly.ServerService", method: "ServerInfo", operation: .unknown),
    ]

    static func cluster() throws -> Fleet {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../models/gitaly-cluster-3.yaml").standardized
        return try Fleet.build(FleetSpec.load(path: url.path))
    }

    /// Goal: every arrival is either submitted or counted under its reason, and a healthy
    /// cluster serves every submitted call and acknowledges every write. Method: a hand-built
    /// list of 400 arrivals, one every 50 ms, cycling through the four methods; repository -1 on
    /// every tenth.
    @Test func healthyClusterServesEveryReplayedCallAndLosesNoWrite() throws {
        var arrivals: [Arrival] = []
        var expected = (reads: 0, writes: 0, internalCalls: 0, unclassified: 0, noRepository: 0)
        for i in 0..<400 {
            let method = Int32(i % 4)
            let repository: Int32 = i % 10 == 9 ? -1 : Int32(i % 50)
            arrivals.append(Arrival(time: .milliseconds(Double(i) * 50), method: method, operation: Self.methods[Int(method)].operation,
                                    storage: 0, repository: repository, cost: RPCCost(durationNs: 1_000_000)))
            switch method {
            case 2: expected.internalCalls += 1
            case 3: expected.unclassified += 1
            default:
                if repository < 0 { expected.noRepository += 1 } else if method == 0 { expected.reads += 1 } else { expected.writes += 1 }
            }
        }
        var config = WorldConfig(seed: 7)
        config.repositoryCount = 50
        var run = TrafficRun(fleet: try Self.cluster(), config: config)
        var source = ListSource(methods: Self.methods, arrivals: arrivals)
        let r = try run.drive(&source)
        #expect(r.submitted == expected.reads + expected.writes)
        #expect(r.internalCalls == expected.internalCalls)
        #expect(r.unclassified == expected.unclassified)
        #expect(r.withoutRepository == expected.noRepository)
        #expect(r.submitted + r.internalCalls + r.unclassified + r.withoutRepository == arrivals.count)
        #expect(r.report.rpcsCompleted == r.submitted)
        #expect(r.report.outcomes[.ok] == r.submitted)
        #expect(r.report.acknowledgedWrites == expected.writes)
        #expect(r.report.lostWrites == 0)
        #expect(!r.stoppedAtHorizon)
    }

    /// Goal: a replayed call costs what its record says. Method: the mapping by hand (zero
    /// means not logged); then one read of 3 s recorded duration (no CPU logged) replayed alone:
    /// it is served in exactly 3 s, so the first window's read is neither satisfied (0.5 s) nor
    /// tolerated (1 s) by apdex, where the class model (5 ms) would satisfy it.
    @Test func replayedCallCostsItsOwnRecord() throws {
        #expect(TrafficRun.recordedCost(RPCCost(durationNs: 3_000_000_000, responseBytes: 5_000), .read)
                == RecordedCost(durationSeconds: 3, bytesRead: 5_000))
        #expect(TrafficRun.recordedCost(RPCCost(durationNs: 0, cpuNs: 250_000_000, requestBytes: 9, packBytes: 7), .write)
                == RecordedCost(cpuSeconds: 0.25, bytesWritten: 9))
        #expect(TrafficRun.recordedCost(RPCCost(durationNs: 1, cpuNs: 2, responseBytes: 5, packBytes: 7), .uploadPack).bytesRead == 7)
        let arrivals = [Arrival(time: .seconds(1), method: 0, operation: .accessor, storage: 0, repository: 0, cost: RPCCost(durationNs: 3_000_000_000))]
        var run = TrafficRun(fleet: try Self.cluster(), config: WorldConfig(seed: 1))
        var source = ListSource(methods: Self.methods, arrivals: arrivals)
        let r = try run.drive(&source, drain: .seconds(10))
        let w = r.report.windows[0]
        #expect(w.requests == 1 && w.apdexCounted == 1 && w.apdexSatisfied == 0 && w.apdexTolerated == 0)
    }

    @Test func horizonStopsTheFeed() throws {
        let arrivals = (0..<100).map { i in
            Arrival(time: .seconds(Double(i)), method: 0, operation: .accessor, storage: 0, repository: 0, cost: RPCCost(durationNs: 1_000_000))
        }
        var run = TrafficRun(fleet: try Self.cluster(), config: WorldConfig(seed: 1))
        var source = ListSource(methods: Self.methods, arrivals: arrivals)
        let r = try run.drive(&source, horizon: .seconds(49.5), drain: .seconds(10))
        #expect(r.submitted == 50)
        #expect(r.stoppedAtHorizon)
        #expect(abs(r.simulatedSeconds - 59) < 1e-9)
    }

    @Test func sameSeedGivesTheSameReport() throws {
        func once() throws -> TrafficRunResult {
            let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("../../models/traffic/reference-10k-users.yaml").standardized.path
            let profile = try TrafficProfile.decode(yaml: String(contentsOfFile: path, encoding: .utf8), path: path)
            var run = TrafficRun(fleet: try Self.cluster(), config: WorldConfig(seed: 3))
            var source = try SyntheticTraffic(profile: profile, target: run.target, horizon: .seconds(2), growth: 1, seed: 3)
            return try run.drive(&source, drain: .seconds(5))
        }
        let a = try once(), b = try once()
        #expect(a.submitted > 100)
        #expect(a.submitted == b.submitted && a.events == b.events)
        #expect(a.report.outcomes == b.report.outcomes && a.report.acknowledgedWrites == b.report.acknowledgedWrites)
    }
}
