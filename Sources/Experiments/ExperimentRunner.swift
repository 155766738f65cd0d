import Dispatch
import Foundation
import GitalyModel
import Inventory
import Migration
import Planner
import SimKernel
import SpecFiles
import Synchronization
import Traffic

/// One replication's results: its metrics and its monitoring series, thinned to at most
/// `ExperimentRunner.maxSeriesPoints` samples.
public struct ReplicationResult: Sendable {
    public var index: Int
    public var metrics: ReplicationMetrics
    public var phases: [PhaseTiming]
    public var series: [SampleSeries]
}

/// One monitored quantity over a replication's time, by name (`SampleSeries.Name`).
public struct SampleSeries: Sendable, Equatable {
    public var name: String
    public var timesSeconds: [Double]
    public var values: [Double]

    public enum Name {
        public static let movesInFlight = "moves_in_flight"
        public static let movesFinished = "moves_finished"
        public static let writeUnavailableRepositories = "write_unavailable_repositories"
        public static let replicationQueueDepth = "replication_queue_depth"
        public static let replicationLagSeconds = "replication_lag_seconds"
        public static let apdex = "apdex"
        public static let movedBytes = "moved_bytes"
        /// One per GitLab storage: `weight:<name>`.
        public static let weightPrefix = "weight:"
        /// One per Gitaly storage: `storage_fill:<name>`.
        public static let storageFillPrefix = "storage_fill:"
    }
}

/// The results of every replication of one experiment run, in replication order.
public struct ExperimentResults: Sendable {
    public var experiment: Experiment
    public var seed: UInt64
    public var hours: Double
    public var replications: [ReplicationResult]
    public var wallSeconds: Double
    public var threads: Int
    /// The input files as the run read them (`ExperimentRunner.inputs`).
    public var inputs: [InputSnapshot]

    public var metrics: [ReplicationMetrics] { replications.map(\.metrics) }
    public var events: Int { replications.reduce(0) { $0 + $1.metrics.events } }
}

/// An input file of a run (its role: experiment, model, policy, inventory, traffic) and its
/// bytes as the run read them.
public struct InputSnapshot: Sendable, Equatable {
    public var role: String
    public var path: String
    public var content: Data
}

/// Runs an experiment's replications. The fleet, inventory and plan are built once and shared;
/// each replication is its own world (a value), so replications share nothing and run on as
/// many threads as asked. Replication i draws every random stream from (seed, i): the world's
/// through `WorldConfig.replication`, the traffic's from a stream of its own. Two runs with the
/// same seed therefore see the same traffic and the same faults in replication i whatever
/// their plans (common random numbers), and results do not depend on the thread count.
public struct ExperimentRunner: Sendable {
    public let experiment: Experiment
    public let setup: MigrationSetup
    public let profile: TrafficProfile?
    /// The profile as a load, when the experiment asks for `fidelity: load`.
    public let load: BackgroundLoad?
    /// The sweep point this runner's files were set to (empty without a sweep).
    public let point: [Sweep.Assignment]
    /// Every input file as it was read, once, here: the results store these, so a file edited
    /// while the replications run cannot pass for the one they ran on.
    public let inputs: [InputSnapshot]
    /// Check the world's invariants after every event (`WorldConfig.checkInvariants`): on
    /// for every run the command line makes; a test that checks them elsewhere may turn
    /// them off to run a larger case.
    public var checkInvariants = true

    /// Samples kept per series and replication (the report downsamples further).
    public static let maxSeriesPoints = 240

    /// `layout`: the order the worlds keep their repositories in (`MigrationSetup.Layout`),
    /// which changes no result.
    public init(_ experiment: Experiment, point: [Sweep.Assignment] = [], layout: MigrationSetup.Layout = .plan) throws {
        self.experiment = experiment
        self.point = point
        // A sweep point's files are the originals with its fields set; errors name the point.
        let label = point.isEmpty ? "" : " (sweep point \(point.map(\.label).joined(separator: ", ")))"
        let fields = experiment.settings + point
        var read: [String: Data] = ["experiment": Data(experiment.source.utf8)]
        let originalModel = try TextFile.read(path: experiment.model)
        read["model"] = Data(originalModel.utf8)
        let modelText = try Sweep.apply(fields, target: .model, to: originalModel, file: experiment.model)
        var spec = try FleetSpec.parse(modelText, file: experiment.model + label)
        if let f = experiment.faults { spec.faults = f }
        let planFleet = PlanFleet(try Fleet.build(spec))
        let inventory: Inventory
        let inventoryPath: String
        var inventoryFillsUsed = false
        switch experiment.inventory {
        case .file(let path):
            inventoryPath = path
            let names = planFleet.storages.map(\.name)
            // Inventories may be far larger than a model file: read whole, no size bound.
            guard let data = FileManager.default.contents(atPath: path) else { throw SpecError(file: path, line: nil, field: "", message: "cannot read the file") }
            read["inventory"] = data
            inventory = path.hasSuffix(".json")
                ? try Inventory.parseJSON(String(decoding: data, as: UTF8.self), file: path, knownStorages: names)
                : try Inventory.parseCSV([UInt8](data), file: path, knownStorages: names)
        case .generate(let n, let seed, let fillsUsed):
            inventoryPath = experiment.file
            let storages = planFleet.storages.map { InventoryGenerator.Storage(name: $0.name, shareWeight: $0.usedBytes) }
            var parameters = InventoryGenerator.Parameters()
            parameters.sizesFillShares = fillsUsed
            inventory = try InventoryGenerator(parameters: parameters).generate(count: n, storages: storages, seed: seed)
            inventoryFillsUsed = fillsUsed
        }
        let originalPolicy = try TextFile.read(path: experiment.policy)
        read["policy"] = Data(originalPolicy.utf8)
        let policyText = try Sweep.apply(fields, target: .policy, to: originalPolicy, file: experiment.policy)
        let policy = try Policy.parse(policyText, file: experiment.policy + label)
        setup = try MigrationSetup(spec: spec, planFleet: planFleet, inventory: inventory, inventoryPath: inventoryPath, policy: policy, inventoryFillsUsed: inventoryFillsUsed,
                                   planID: URL(fileURLWithPath: experiment.policy).deletingPathExtension().lastPathComponent, layout: layout)
        let profile = try experiment.trafficProfile.map { path in
            let text = try TextFile.read(path: path)
            read["traffic"] = Data(text.utf8)
            return try TrafficProfile.decode(yaml: text, path: path)
        }
        inputs = experiment.inputFiles.map { InputSnapshot(role: $0.role, path: $0.path, content: read[$0.role]!) }
        self.profile = profile
        // The profile was validated as it was read, so building its load throws nothing new.
        if let profile, case .load(let part) = experiment.trafficFidelity {
            let names = setup.fleet.virtualStorages.map(\.name)
            let rpcPart: BackgroundLoad.RPCPart?
            switch part {
            case .hours(let w): rpcPart = .window((w.lowerBound * 3600)..<(w.upperBound * 3600))
            case .storages(let storages):
                rpcPart = .storages(try storages.map { s in
                    guard let i = names.firstIndex(of: s.name) else {
                        throw s.error(file: experiment.file, "no GitLab storage \(s.name) in the model\(label) (its storages: \(SpecError.someNames(names)))")
                    }
                    return i
                })
            case .inFlight: rpcPart = .inFlight
            case nil: rpcPart = nil
            }
            load = try BackgroundLoad(profile: profile, rpcPart: rpcPart)
        } else {
            load = nil
        }
    }

    /// Runs replication `index` of a run seeded `seed`, `hours` long at most; `progress` hears
    /// its simulated seconds about once per simulated hour.
    public func replicate(_ index: Int, seed: UInt64, hours: Double, progress: ((Double) -> Void)? = nil) throws -> ReplicationResult {
        var config = WorldConfig(seed: seed)
        config.replication = index
        config.faultRateScale = experiment.faultRateScale
        config.backgroundLoad = load
        config.checkInvariants = checkInvariants
        var run = try MigrationRun(fleet: setup.fleet, config: config, plan: setup.engineInput, repositoryIDs: setup.repositoryIDs)
        let horizon = SimTime.hours(hours)
        let outcome: MigrationOutcome
        // Calls one by one: all of them, those of the load's RPC-level window, or those to the
        // repositories of its RPC-level storages.
        let calls: Range<SimTime>? = switch experiment.trafficFidelity {
        case .rpc: profile == nil ? nil : .zero..<horizon
        case .load(.hours(let w)): { let from = SimTime.seconds(w.lowerBound * 3600); return from..<max(from, min(horizon, .seconds(w.upperBound * 3600))) }()
        case .load(.storages): .zero..<horizon
        // The world draws the calls of the repositories in flight itself.
        case .load(.inFlight), .load(nil): nil
        }
        if let profile, let calls, !calls.isEmpty {
            let trafficSeed = RandomStreams.derive(seed: seed, component: "experiment.traffic", replication: index)
            // Calls to some storages' repositories only: those the world's load leaves out.
            var repositories: [Int32]?
            if case .storages = load?.rpcPart { repositories = run.simulation.model.placesAtRPCLevel }
            var source: SyntheticTraffic? = try SyntheticTraffic(profile: profile, target: run.target, horizon: calls.upperBound, growth: 1,
                                                                 seed: trafficSeed, from: calls.lowerBound, repositories: repositories)
            outcome = try run.run(traffic: &source, horizon: horizon, progress: progress)
        } else {
            var none: SyntheticTraffic? = nil
            outcome = try run.run(traffic: &none, horizon: horizon, progress: progress)
        }
        return ReplicationResult(index: index, metrics: Self.metrics(outcome, hours: hours), phases: outcome.phases,
                                 series: Self.series(outcome.samples, storages: setup.fleet.storages.map(\.name),
                                                     gitlabStorages: setup.fleet.virtualStorages.map(\.name)))
    }

    static func metrics(_ o: MigrationOutcome, hours: Double) -> ReplicationMetrics {
        let s = o.summary
        return ReplicationMetrics(
            durationHours: s.durationSeconds.map { $0 / 3600 } ?? hours, finished: s.durationSeconds != nil,
            writeUnavailableRepositorySeconds: s.writeUnavailableRepositorySeconds, maxReadOnlySeconds: s.maxReadOnlySeconds,
            acknowledgedWrites: s.acknowledgedWrites, lostWrites: s.lostWrites, movesFinished: s.movesFinished, movesFailed: s.movesFailed,
            repositoriesLeftReadOnly: s.repositoriesLeftReadOnly, bytesMoved: s.bytesMoved,
            peakFill: o.samples.map(\.storageFillMax).max() ?? 0, events: s.events,
            randomFaults: o.randomFaults, likelihoodRatio: o.faultLikelihoodRatio,
            minApdex: o.samples.compactMap(\.apdex).min() ?? 1, maxErrorRatio: o.samples.compactMap(\.errorRatio).max() ?? 0,
            badReleaseNodes: o.report.nodesOnBadRelease, badReleasePeak: o.report.nodesOnBadReleasePeak)
    }

    /// The samples as named series, every k-th sample kept so that at most `maxSeriesPoints`
    /// remain (the last one always).
    static func series(_ samples: [WorldSample], storages: [String], gitlabStorages: [String]) -> [SampleSeries] {
        guard !samples.isEmpty else { return [] }
        let step = max(1, (samples.count + maxSeriesPoints - 1) / maxSeriesPoints)
        var kept = stride(from: 0, to: samples.count, by: step).map { samples[$0] }
        if kept.last?.at != samples.last!.at { kept.append(samples.last!) }
        let t = kept.map(\.at.seconds)
        func make(_ name: String, _ f: (WorldSample) -> Double) -> SampleSeries { SampleSeries(name: name, timesSeconds: t, values: kept.map(f)) }
        var out = [
            make(SampleSeries.Name.movesInFlight) { s in
                Double(GitalyModel.MoveState.allCases.filter { !$0.isTerminal && $0 != GitalyModel.MoveState.initial }.reduce(0) { $0 + s.movesByState[$1.rawValue] })
            },
            make(SampleSeries.Name.movesFinished) { Double($0.movesByState[GitalyModel.MoveState.finished.rawValue]) },
            make(SampleSeries.Name.writeUnavailableRepositories) { Double($0.writeUnavailableRepositories) },
            make(SampleSeries.Name.replicationQueueDepth) { Double($0.replicationQueueDepth) },
            make(SampleSeries.Name.replicationLagSeconds) { $0.replicationLagSeconds },
            // A window without requests has no apdex: drawn as 1 (nothing was slow).
            make(SampleSeries.Name.apdex) { $0.apdex ?? 1 },
            make(SampleSeries.Name.movedBytes) { $0.movedBytes },
        ]
        for (i, name) in gitlabStorages.enumerated() {
            out.append(make(SampleSeries.Name.weightPrefix + name) { Double($0.weights[i]) })
        }
        for (i, name) in storages.enumerated() {
            out.append(make(SampleSeries.Name.storageFillPrefix + name) { $0.storageFill[i] })
        }
        return out
    }

    /// Runs `replications` replications on `threads` threads; `progress` hears how far they are
    /// after each one. Results come back in replication order whatever the threads did.
    public func run(replications: Int, seed: UInt64, hours: Double, threads: Int,
                    progress: (@Sendable (RunProgress) -> Void)? = nil) throws -> ExperimentResults {
        try run(indices: Array(0..<replications), seed: seed, hours: hours, threads: threads, progress: progress)
    }

    /// Runs the replications numbered `indices` (a shard's share of a sweep runs some of them):
    /// each replication is the same whichever others run beside it, since its random streams
    /// come from the seed and its own index.
    public func run(indices: [Int], seed: UInt64, hours: Double, threads: Int,
                    progress: (@Sendable (RunProgress) -> Void)? = nil) throws -> ExperimentResults {
        let replications = indices.count
        precondition(replications >= 1 && threads >= 1)
        let state = Mutex<(next: Int, done: Int, results: [ReplicationResult?], error: (any Error)?)>((0, 0, Array(repeating: nil, count: replications), nil))
        let wall0 = DispatchTime.now().uptimeNanoseconds
        DispatchQueue.concurrentPerform(iterations: min(threads, replications)) { _ in
            while true {
                let i: Int? = state.withLock { s in
                    guard s.error == nil, s.next < replications else { return nil }
                    s.next += 1
                    return s.next - 1
                }
                guard let i else { return }
                do {
                    // Within a replication, hour by hour: one replication of a large fleet
                    // runs for minutes.
                    let hourly = progress.map { p in { (simulated: Double) in
                        p(RunProgress(done: state.withLock { $0.done }, total: replications, simulatedHours: simulated / 3600))
                    } }
                    let r = try replicate(indices[i], seed: seed, hours: hours, progress: hourly)
                    let done = state.withLock { s in
                        s.results[i] = r
                        s.done += 1
                        return s.done
                    }
                    progress?(RunProgress(done: done, total: replications, simulatedHours: nil))
                } catch {
                    state.withLock { s in if s.error == nil { s.error = error } }
                }
            }
        }
        let (results, error) = state.withLock { ($0.results, $0.error) }
        if let error { throw error }
        let wall = Double(DispatchTime.now().uptimeNanoseconds - wall0) / 1e9
        return ExperimentResults(experiment: experiment, seed: seed, hours: hours, replications: results.map { $0! },
                                 wallSeconds: wall, threads: min(threads, replications), inputs: inputs)
    }
}

/// How far a run is: replications done of all, and when a replication reports from within, the
/// simulated hours it has reached.
public struct RunProgress: Sendable {
    public var done: Int
    public var total: Int
    public var simulatedHours: Double?
}
