import SimKernel

/// A model that only counts the arrivals it is handed: the replay benchmark's event loop, and
/// the smallest example of feeding an `ArrivalSource` into a simulation.
public struct ArrivalCountingModel<Source: ArrivalSource>: DiscreteEventModel {
    public enum Event {
        case arrival(Arrival)
    }

    public var feeder: ArrivalFeeder<Source>
    public private(set) var count = 0
    public private(set) var copies = 0
    public private(set) var lastTime = SimTime.zero
    /// False if an arrival ever came before the one handled before it.
    public private(set) var inOrder = true
    public private(set) var costNs: Int64 = 0

    public init(source: Source) { feeder = ArrivalFeeder(source: source) }

    /// Schedules the first arrival; call once before running.
    public mutating func start(_ scheduler: inout EventScheduler<Event>) {
        feeder.scheduleNext(&scheduler) { .arrival($0) }
    }

    public mutating func handle(_ event: Event, scheduler: inout EventScheduler<Event>) {
        switch event {
        case .arrival(let a):
            count += 1
            if a.isCopy { copies += 1 }
            if a.time < lastTime { inOrder = false }
            lastTime = a.time
            costNs &+= a.cost.durationNs
            feeder.scheduleNext(&scheduler) { .arrival($0) }
        }
    }
}

/// Benchmarks for `make bench` (Sources/Traffic/README.md, "Measurements").
public enum TrafficBenchmark {
    public struct Result: Sendable {
        public var rows: Int
        public var seconds: Double
        public var rowsPerSecond: Double { seconds > 0 ? Double(rows) / seconds : 0 }
    }

    /// Replays the whole store into an event loop that counts the arrivals; wall time of the run.
    public static func replay(store: TraceStore, options: ReplayOptions = ReplayOptions(),
                              target: ReplayTarget = ReplayTarget(storages: ["default"], repositories: ["repository"]),
                              clock: ContinuousClock = ContinuousClock()) throws -> Result {
        let begin = clock.now
        let source = try TraceReplay(store: store, target: target, options: options)
        var simulation = Simulation(model: ArrivalCountingModel(source: source))
        simulation.model.start(&simulation.scheduler)
        simulation.run()
        if let failure = simulation.model.feeder.failure { throw failure }
        let elapsed = clock.now - begin
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return Result(rows: simulation.model.count, seconds: seconds)
    }

    /// Imports `paths` into the store; wall time of the whole import.
    public static func importFiles(_ paths: [String], store: TraceStore, clock: ContinuousClock = ContinuousClock()) throws -> Result {
        let begin = clock.now
        let summary = try TraceImporter(store: store).importFiles(paths)
        let elapsed = clock.now - begin
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return Result(rows: summary.lines, seconds: seconds)
    }
}
