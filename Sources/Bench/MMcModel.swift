import SimKernel

/// M/M/c on SimKernel: Poisson arrivals at λ, c servers with exponential service at μ, FIFO,
/// unlimited queue; or M/M/c/K when `systemCapacity` is set (arrivals finding K in the system
/// are lost). Measures the wait in queue by batch means.
public struct MMcModel: DiscreteEventModel {
    public enum Event: TraceableEvent {
        case arrival
        case departure
        public var traceCode: UInt64 {
            switch self {
            case .arrival: 1
            case .departure: 2
            }
        }
    }

    public struct Parameters: Sendable {
        public var servers: Int
        public var arrivalRate: Double
        public var serviceRate: Double
        public var customers: Int
        /// K, the most customers in the system (in service plus waiting); nil for unlimited.
        public var systemCapacity: Int?
        public var seed: UInt64
        public var replication: Int
        public init(servers: Int, arrivalRate: Double, serviceRate: Double, customers: Int, systemCapacity: Int? = nil, seed: UInt64, replication: Int = 0) {
            self.servers = servers; self.arrivalRate = arrivalRate; self.serviceRate = serviceRate
            self.customers = customers; self.systemCapacity = systemCapacity; self.seed = seed; self.replication = replication
        }
    }

    public let parameters: Parameters
    var server: Server<SimTime>
    var arrivals: RandomStream
    var services: RandomStream
    public private(set) var arrived = 0
    public private(set) var lost = 0
    public private(set) var waits: BatchMeans
    /// One observation per arrival with a finite K: 1 when it was lost. Losses come in runs
    /// (a busy period fills the system), so only batch means give their share an honest interval.
    public private(set) var losses: BatchMeans
    let countsLosses: Bool

    public init(_ p: Parameters) {
        parameters = p
        server = Server(servers: p.servers, queueLimit: p.systemCapacity.map { $0 - p.servers })
        let streams = RandomStreams(seed: p.seed, replication: p.replication)
        arrivals = streams.stream("mmc.arrivals")
        services = streams.stream("mmc.services")
        // Drop the first 1% as warm-up: the run starts empty, not in steady state.
        waits = BatchMeans(batches: 32, warmup: p.customers / 100)
        losses = BatchMeans(batches: 32, warmup: p.customers / 100)
        countsLosses = p.systemCapacity != nil
    }

    @inline(__always) static func delay(_ rng: inout RandomStream, rate: Double) -> SimTime {
        SimTime(nanoseconds: Int64(rng.exponential(rate: rate) * 1e9))
    }

    /// Schedules the first arrival.
    public mutating func start(_ scheduler: inout EventScheduler<Event>) {
        arrived = 1
        scheduler.schedule(after: Self.delay(&arrivals, rate: parameters.arrivalRate), .arrival)
    }

    public mutating func handle(_ event: Event, scheduler: inout EventScheduler<Event>) {
        switch event {
        case .arrival:
            if arrived < parameters.customers {
                arrived += 1
                scheduler.schedule(after: Self.delay(&arrivals, rate: parameters.arrivalRate), .arrival)
            }
            switch server.arrive(scheduler.now, at: scheduler.now) {
            case .started:
                waits.add(0)
                scheduler.schedule(after: Self.delay(&services, rate: parameters.serviceRate), .departure)
                if countsLosses { losses.add(0) }
            case .queued:
                if countsLosses { losses.add(0) }
            case .rejected:
                lost += 1
                losses.add(1)
            }
        case .departure:
            if let next = server.release(at: scheduler.now) {
                waits.add(next.waited.seconds)
                scheduler.schedule(after: Self.delay(&services, rate: parameters.serviceRate), .departure)
            }
        }
    }
}

public struct MMcResult: Sendable {
    public var events: Int
    public var wallSeconds: Double
    public var simulatedSeconds: Double
    public var meanWaitInQueue: Double
    public var waitInterval99: ConfidenceInterval?
    public var analyticWaitInQueue: Double?
    public var arrivals: Int
    public var lost: Int
    /// The share of arrivals lost after the warm-up, with its batch-means interval (M/M/c/K only).
    public var lossShare: Double
    public var lossInterval99: ConfidenceInterval?
    public var traceDigest: UInt64?
}

extension MMcModel {
    /// Runs the model to completion. With `traced`, every event is folded into a digest
    /// (slower; used by the determinism tests).
    public static func run(_ p: Parameters, traced: Bool = false) -> MMcResult {
        var sim = Simulation(model: MMcModel(p))
        sim.model.start(&sim.scheduler)
        let t0 = Probes.wallSeconds()
        var digest: UInt64?
        if traced {
            var observer = TraceDigest<Event>()
            sim.run(observer: &observer)
            digest = observer.value
        } else {
            sim.run()
        }
        let wall = Probes.wallSeconds() - t0
        let analytic: Double? = (p.systemCapacity == nil && p.arrivalRate < Double(p.servers) * p.serviceRate)
            ? Queueing.erlangC(servers: p.servers, arrivalRate: p.arrivalRate, serviceRate: p.serviceRate).meanWaitInQueue : nil
        return MMcResult(events: sim.eventsProcessed, wallSeconds: wall, simulatedSeconds: sim.now.seconds,
                         meanWaitInQueue: sim.model.waits.mean, waitInterval99: sim.model.waits.confidenceInterval(level: 0.99),
                         analyticWaitInQueue: analytic, arrivals: sim.model.arrived, lost: sim.model.lost,
                         lossShare: sim.model.losses.mean, lossInterval99: sim.model.losses.confidenceInterval(level: 0.99),
                         traceDigest: digest)
    }
}
