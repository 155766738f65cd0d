import SimKernel

/// The "storage" anchor model (../shared/anchors/des/README.md): three FIFO nodes with one
/// server each; arrivals Poisson at 1.5/s; 70% are reads served by a random node; 30% are
/// writes served by a random primary, after which each of the two other nodes runs one
/// replication job. Every service is Exp(1). Per-node utilisation is 1.5 × (0.7 + 0.3·3)/3 = 0.8.
public struct StorageBenchModel: DiscreteEventModel {
    public enum JobKind: UInt8, Sendable { case read, writeOnPrimary, replication }
    public struct Job: Sendable {
        var kind: JobKind
        var arrivedAt: SimTime
        var write: Int32
    }
    public enum Event: TraceableEvent {
        case arrival
        case done(node: Int32)
        public var traceCode: UInt64 {
            switch self {
            case .arrival: 1
            case .done(let node): 2 &+ UInt64(node) &<< 8
            }
        }
    }

    public static let nodeCount = 3
    let arrivalRate = 1.5, serviceRate = 1.0, readShare = 0.7
    let arrivalsTotal: Int
    var nodes: [Server<Job>]
    var inService: [Job]
    var rng: RandomStream
    var writeStart: [SimTime] = []
    var replicasLeft: [UInt8] = []
    public private(set) var arrived = 0
    public private(set) var reads = Tally()
    public private(set) var writesOnPrimary = Tally()
    public private(set) var writesFullyReplicated = Tally()

    public init(arrivals: Int, seed: UInt64) {
        arrivalsTotal = arrivals
        nodes = Array(repeating: Server(servers: 1), count: Self.nodeCount)
        inService = Array(repeating: Job(kind: .read, arrivedAt: .zero, write: -1), count: Self.nodeCount)
        rng = RandomStreams(seed: seed).stream("storage")
        writeStart.reserveCapacity(arrivals / 2)
        replicasLeft.reserveCapacity(arrivals / 2)
    }

    @inline(__always) mutating func serviceTime() -> SimTime {
        SimTime(nanoseconds: Int64(rng.exponential(rate: serviceRate) * 1e9))
    }

    mutating func enqueue(_ node: Int, _ job: Job, _ scheduler: inout EventScheduler<Event>) {
        switch nodes[node].arrive(job, at: scheduler.now) {
        case .started:
            inService[node] = job
            scheduler.schedule(after: serviceTime(), .done(node: Int32(node)))
        case .queued, .rejected:
            break  // unlimited queue: never rejected
        }
    }

    public mutating func start(_ scheduler: inout EventScheduler<Event>) {
        arrived = 1
        scheduler.schedule(after: SimTime(nanoseconds: Int64(rng.exponential(rate: arrivalRate) * 1e9)), .arrival)
    }

    public mutating func handle(_ event: Event, scheduler: inout EventScheduler<Event>) {
        let now = scheduler.now
        switch event {
        case .arrival:
            if arrived < arrivalsTotal {
                arrived += 1
                scheduler.schedule(after: SimTime(nanoseconds: Int64(rng.exponential(rate: arrivalRate) * 1e9)), .arrival)
            }
            let node = rng.below(Self.nodeCount)
            let kind: JobKind = rng.nextDouble() < readShare ? .read : .writeOnPrimary
            enqueue(node, Job(kind: kind, arrivedAt: now, write: -1), &scheduler)
        case .done(let n):
            let node = Int(n)
            let job = inService[node]
            switch job.kind {
            case .read:
                reads.add((now - job.arrivedAt).seconds)
            case .writeOnPrimary:
                writesOnPrimary.add((now - job.arrivedAt).seconds)
                let id = Int32(writeStart.count)
                writeStart.append(job.arrivedAt)
                replicasLeft.append(UInt8(Self.nodeCount - 1))
                for other in 0..<Self.nodeCount where other != node {
                    enqueue(other, Job(kind: .replication, arrivedAt: now, write: id), &scheduler)
                }
            case .replication:
                let w = Int(job.write)
                replicasLeft[w] -= 1
                if replicasLeft[w] == 0 { writesFullyReplicated.add((now - writeStart[w]).seconds) }
            }
            if let next = nodes[node].release(at: now) {
                inService[node] = next.job
                scheduler.schedule(after: serviceTime(), .done(node: n))
            }
        }
    }
}

/// The classic hold model (Vaucher and Duval, CACM 1975): P events pending; each one handled
/// schedules one more at now + Exp(1). It measures the pending-event set alone.
public struct HoldModel: DiscreteEventModel {
    public enum Event: TraceableEvent {
        case hold
        public var traceCode: UInt64 { 1 }
    }
    var rng: RandomStream
    public init(seed: UInt64) { rng = RandomStreams(seed: seed).stream("hold") }

    @inline(__always) mutating func delay() -> SimTime { SimTime(nanoseconds: Int64(rng.exponential(rate: 1) * 1e9)) }

    public mutating func prime(pending: Int, _ scheduler: inout EventScheduler<Event>) {
        for _ in 0..<pending { scheduler.schedule(after: delay(), .hold) }
    }

    public mutating func handle(_ event: Event, scheduler: inout EventScheduler<Event>) {
        scheduler.schedule(after: delay(), .hold)
    }

    /// The same model directly on any event queue, to compare queue structures side by side.
    public static func runOnQueue<Q: EventQueue>(_ type: Q.Type, pending: Int, events: Int, seed: UInt64) -> (events: Int, wallSeconds: Double, checksum: Int64)
    where Q.Payload == Event {
        var model = HoldModel(seed: seed)
        var q = Q()
        for _ in 0..<pending { q.push(model.delay(), .hold) }
        var handled = 0
        var checksum: Int64 = 0
        let t0 = Probes.wallSeconds()
        while handled < events, let (t, _) = q.pop() {
            handled += 1
            checksum &+= t.nanoseconds
            q.push(t + model.delay(), .hold)
        }
        return (handled, Probes.wallSeconds() - t0, checksum)
    }
}
