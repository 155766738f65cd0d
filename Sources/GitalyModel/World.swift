import SimKernel

/// Settings of one simulated run that are not part of the fleet.
public struct WorldConfig: Sendable {
    public var seed: UInt64 = 1
    public var replication: Int = 0
    public var traffic: TrafficSpec?
    /// Repositories generated when the model places none by hand, spread by the weights.
    public var repositoryCount = 100
    public var repositorySizeBytes = 100e6
    public var windowSeconds = 60.0
    /// Checks every invariant after every event: on in tests, off in benchmarks.
    public var checkInvariants = true
    /// Probability that a move's checksums differ (a corrupted copy); 0 in a healthy fleet.
    public var moveChecksumMismatchProbability = 0.0
    public init(seed: UInt64 = 1) { self.seed = seed }
}

/// One RPC on its way to, or on, one Gitaly node. Once it reaches a node it lives in the
/// world's slab (`World.inflight`) and events and queues carry only its slot index.
public struct RPC: Sendable {
    public var arrivedAt: SimTime
    public var repository: Int32
    /// The pending mutator it belongs to, or -1 for an accessor.
    var transaction: Int32
    var epoch: UInt32
    public var rpcClass: RPCClass
    var member: Int8
}

/// Everything that can happen in the world. Every case is handled by an exhaustive switch.
///
/// No payload is wider than 12 bytes, so an event takes 16 bytes and a queue entry (time,
/// sequence, event) 32: the event queue's sift moves are the benchmark's largest cost
/// (issue 3 profile), and an RPC carried inside events made every entry 56 bytes.
public enum WorldEvent: Sendable {
    case trafficArrival
    case rpcArrival(repository: Int32, rpcClass: RPCClass)
    /// The RPC in slab `slot` ends its service on `node`. The repository rides along only so
    /// that the trace code names it; the slab holds the rest.
    case rpcDone(node: Int32, slot: Int32, repository: Int32)
    /// The RPC in slab `slot` waited `max_queue_wait` in a limiter of `node`; `generation`
    /// tells whether the slot still holds that RPC.
    case limiterTimeout(node: Int32, slot: Int32, generation: UInt32)
    case flowsDue(version: UInt64)
    case healthRound(praefect: Int32)
    case healthApply(praefect: Int32)
    case workerWake(worker: Int32, token: UInt32)
    case reconcile
    case verify
    case nodeDownEnd(node: Int32)
    case scheduledFault(index: Int32)
    case faultEnd(FaultEnd)
    case randomFault(kind: FaultKind, target: Int32)
    case moveStep(move: Int32)
    case rollingUpdateStep
    case windowClose
}

/// The end of a fault that is not a node outage.
public enum FaultEnd: Sendable {
    case diskSlowdown(node: Int32)
    case partition(praefect: Int32, node: Int32)
    case praefectLoss(praefect: Int32)
}

extension WorldEvent: TraceableEvent {
    public var traceCode: UInt64 {
        switch self {
        case .trafficArrival: return 1
        case .rpcArrival(let r, let c): return 2 | UInt64(r) << 8 | UInt64(c.index) << 40
        case .rpcDone(let n, _, let r): return 3 | UInt64(n) << 8 | UInt64(UInt32(bitPattern: r)) << 24
        case .limiterTimeout(let n, let slot, let g): return 4 | UInt64(n) << 8 | UInt64(UInt32(bitPattern: slot)) << 24 ^ UInt64(g) << 40
        case .flowsDue(let v): return 5 | v << 8
        case .healthRound(let p): return 6 | UInt64(p) << 8
        case .healthApply(let p): return 7 | UInt64(p) << 8
        case .workerWake(let w, let t): return 8 | UInt64(w) << 8 | UInt64(t) << 32
        case .reconcile: return 9
        case .verify: return 19
        case .nodeDownEnd(let n): return 10 | UInt64(n) << 8
        case .scheduledFault(let i): return 11 | UInt64(i) << 8
        case .faultEnd(let e):
            switch e {
            case .diskSlowdown(let n): return 12 | UInt64(n) << 8
            case .partition(let p, let n): return 13 | UInt64(p) << 8 | UInt64(n) << 24
            case .praefectLoss(let p): return 14 | UInt64(p) << 8
            }
        // Partitions, Praefect losses and zone outages pick their target when they fire, so they
        // are scheduled with target -1: its bit pattern keeps the code total.
        case .randomFault(let k, let t): return 15 | UInt64(FaultKind.allCases.firstIndex(of: k)!) << 8 | UInt64(UInt32(bitPattern: t)) << 16
        case .moveStep(let m): return 16 | UInt64(m) << 8
        case .rollingUpdateStep: return 17
        case .windowClose: return 18
        }
    }
}

/// A Gitaly node's moving parts: its host's up/down state, its cores, its concurrency limiters
/// and its bandwidth resources.
struct NodeState {
    /// Outages currently holding the node down (crash, update, zone outage, ...): it serves
    /// only when none does.
    var downCount = 0
    /// Bumped at every crash so that work started before it is recognised.
    var epoch: UInt32 = 0
    /// Cores and limiters hold slab slots (`World.inflight`), not RPCs.
    var cpu: Server<Int32>
    /// Per-repository limiters, keyed by class index × repositories + repository; an idle
    /// limiter is dropped so memory follows the live requests.
    var limiters: [Int: Server<Int32>] = [:]
    var diskRead: BandwidthPool.ResourceID
    var diskWrite: BandwidthPool.ResourceID
    var network: BandwidthPool.ResourceID
    var slowdownFactor = 1.0
    var up: Bool { downCount == 0 }
}

/// A mutator waiting for its primary and secondaries (gitaly `internal/grpc/proxy/handler.go`:
/// the client's status comes after every stream ended and the finalizer ran).
struct PendingMutator {
    var repository: Int
    var route: MutatorRoute
    var rpcClass: RPCClass
    var arrivedAt: SimTime
    var remaining: Int
    var primaryCommitted = false
    var secondariesCommitted: MemberSet = 0

    /// Records one node's answer; true when it was the last one awaited.
    mutating func answer(member: Int, ok: Bool) -> Bool {
        if ok {
            if member == route.primary { primaryCommitted = true } else { secondariesCommitted |= .single(member) }
        }
        remaining -= 1
        return remaining == 0
    }
}

/// An RPC held by a node (waiting in a limiter, waiting for a core, or on a core), in the
/// world's slab.
struct InflightRPC {
    var rpc: RPC
    /// The limiter ticket while the RPC waits in a limiter queue.
    var ticket: UInt64 = 0
    /// Bumped each time the slot is freed, so that a limiter timeout scheduled for an earlier
    /// occupant of the slot is recognised as stale.
    var generation: UInt32 = 0
    /// While the slot is free: the next free slot, or -1. The free list runs through the slab
    /// itself, so holding and releasing an RPC touch one array.
    var nextFree: Int32 = -1

    /// Occupies the free slot with `rpc`; returns the next free slot.
    mutating func take(_ rpc: RPC) -> Int32 {
        self.rpc = rpc
        return nextFree
    }

    /// Frees the slot, chaining it before `next`; returns the RPC it held.
    mutating func free(next: Int32) -> RPC {
        generation &+= 1
        nextFree = next
        return rpc
    }
}

/// A concurrency limit without its source line, for the event loop.
struct LimitParams {
    var maxPerRepo: Int
    var maxQueueSize: Int?
    var maxQueueWait: SimTime?
}

/// A replication worker of one Praefect on one virtual storage.
struct WorkerState {
    var praefect: Int
    var virtualStorage: Int
    var batch: [Int] = []
    var next = 0
    var busy = false
    var token: UInt32 = 0
}

/// What a bandwidth flow is for.
enum FlowOwner {
    case replication(worker: Int, job: Int, sourceGeneration: Int64, nodes: (Int, Int))
    case moveCopy(move: Int, nodes: (Int, Int))
}

/// The simulated world: Gitaly nodes on VMs or pods, Praefect, GitLab's moves, traffic and
/// faults, as one `DiscreteEventModel`. Split by concern: `World+RPC` (requests),
/// `World+Replication` (workers, health, reconciler), `World+Faults` (hosts and faults),
/// `World+Moves` (GitLab), `World+Accounting` (writes, availability, invariants, report).
public struct World: DiscreteEventModel {
    public typealias Event = WorldEvent

    public let fleet: Fleet
    public let config: WorldConfig
    // Hot-path copies of the fleet, flat and free of strings, so the event loop never copies
    // a struct holding names (STYLE.md "Hot paths").
    let vsOffset: [Int]
    let memberNode: [Int]
    let vsViaPraefect: [Bool]
    let vsConsistency: [ConsistencyMode]
    /// Indexed node × class count + class index.
    let limitParams: [LimitParams?]
    let profiles: [RPCProfile]
    /// Per class: 1 / mean CPU seconds, the rate of the exponential CPU time draw.
    let cpuRate: [Double]
    /// Indexed node × class count + class index: the seconds an RPC's disk reads and writes take
    /// at the node's current bandwidth (refreshed when a disk slows down).
    var ioSeconds: [(read: Double, written: Double)] = []
    let trafficRatePerSecond: Double
    let trafficCumulativeMix: [Double]
    let diskReadBytesPerSecond: [Double]
    let diskWriteBytesPerSecond: [Double]
    /// Copies of the Praefect masks, refreshed with them.
    var localMask: [MemberSet] = []
    var consensusMask: [MemberSet] = []
    var runningPraefects: [Int] = []
    var nodes: [NodeState]
    public internal(set) var storageUsedBytes: [Double] {
        didSet { for i in storageUsedBytes.indices where storageUsedBytes[i] > peakStorageUsedBytes[i] { peakStorageUsedBytes[i] = storageUsedBytes[i] } }
    }
    public internal(set) var peakStorageUsedBytes: [Double]
    public internal(set) var repositories: [RepositoryRecord]
    /// Per repository: the member slots whose storage really holds the repository's data.
    /// Praefect's metadata (`RepositoryRecord.existing`) can claim more, after a disk loss,
    /// until the metadata verifier notices.
    public internal(set) var dataPresent: [MemberSet] = []
    /// Replicas waiting for the metadata verifier, in due order, and the ones marked by
    /// `praefect verify`, which go first.
    var verifierQueue = RingBuffer<VerifyEntry>()
    var verifierPriority = RingBuffer<VerifyEntry>()
    public internal(set) var repositoryPaths: [String]
    public internal(set) var readOnly: [Bool]
    var inflightPushes: [Int32]
    var repositoriesByStorage: [[Int]]
    public internal(set) var praefect: Praefect?
    var pool = BandwidthPool()
    var flowOwners: [(BandwidthPool.FlowID, FlowOwner)?] = []
    var lastFlowVersionScheduled: UInt64 = .max
    /// RPCs held by nodes, by slot; events, cores and limiters carry slot indices.
    var inflight: [InflightRPC] = []
    /// The first free slot of `inflight`, or -1.
    var firstFreeInflight: Int32 = -1
    /// Occupied slots of `inflight`: every one is on a core, waiting for a core, or waiting in
    /// a limiter (checked by `checkInvariants`).
    var inflightHeld = 0
    var transactions: [PendingMutator?] = []
    var freeTransactions: [Int] = []
    var workers: [WorkerState] = []
    var pendingHealth: [[Bool]]
    var healthApplyPending: [Bool]
    var partitioned: [Bool]
    public internal(set) var ledger: WriteLedger
    var writeUnavailable: [Bool]
    var writeUnavailableCount: TimeWeightedAverage
    public internal(set) var windows: [WindowStats] = []
    var window: WindowStats
    public internal(set) var outcomes: [Int]
    public internal(set) var rpcsCompleted = 0
    /// `gitaly_praefect_replication_delay`: seconds from a job's creation to its start.
    public internal(set) var replicationDelaySeconds = Tally()
    var moves: [MoveProcess] = []
    var sidekiq: Server<Int>
    /// `repository_storages_weighted`, by GitLab storage index; the admin API changes it.
    public internal(set) var weights: [Int]
    var rollingUpdate: RollingUpdate?
    public internal(set) var nodesDown: TimeWeightedAverage
    var trafficRandom: RandomStream
    var routingRandom: RandomStream
    var electionRandom: RandomStream
    var serviceRandom: RandomStream
    var faultRandom: RandomStream
    var replicationRandom: RandomStream
    var gitlabRandom: RandomStream

    public init(fleet: Fleet, config: WorldConfig) {
        self.fleet = fleet
        self.config = config
        var offsets: [Int] = []
        var flat: [Int] = []
        for vs in fleet.virtualStorages {
            offsets.append(flat.count)
            flat.append(contentsOf: vs.members.map { fleet.storages[$0].node })
        }
        vsOffset = offsets
        memberNode = flat
        vsViaPraefect = fleet.virtualStorages.map(\.viaPraefect)
        vsConsistency = fleet.virtualStorages.map(\.consistency)
        limitParams = fleet.nodes.flatMap { n in
            n.limits.map { l in l.map { LimitParams(maxPerRepo: $0.maxPerRepo, maxQueueSize: $0.maxQueueSize, maxQueueWait: $0.maxQueueWaitSeconds.map(SimTime.seconds)) } }
        }
        profiles = config.traffic?.profiles ?? RPCClass.allCases.map(RPCProfile.defaultProfile)
        cpuRate = profiles.map { 1 / $0.cpuSecondsMean }
        trafficRatePerSecond = config.traffic?.ratePerSecond ?? 0
        trafficCumulativeMix = config.traffic?.cumulativeMix ?? []
        diskReadBytesPerSecond = fleet.nodes.map(\.disk.readBytesPerSecond)
        diskWriteBytesPerSecond = fleet.nodes.map(\.disk.writeBytesPerSecond)
        let streams = RandomStreams(seed: config.seed, replication: config.replication)
        trafficRandom = streams.stream("traffic")
        routingRandom = streams.stream("praefect.routing")
        electionRandom = streams.stream("praefect.election")
        serviceRandom = streams.stream("gitaly.service")
        faultRandom = streams.stream("faults")
        replicationRandom = streams.stream("praefect.replication")
        gitlabRandom = streams.stream("gitlab")
        var pool = BandwidthPool()
        nodes = fleet.nodes.map { n in
            NodeState(cpu: Server(servers: n.cpuCores),
                      diskRead: pool.addResource(named: "\(n.name).disk.read", bytesPerSecond: n.disk.readBytesPerSecond),
                      diskWrite: pool.addResource(named: "\(n.name).disk.write", bytesPerSecond: n.disk.writeBytesPerSecond),
                      network: pool.addResource(named: "\(n.name).network", bytesPerSecond: n.networkBytesPerSecond))
        }
        self.pool = pool
        peakStorageUsedBytes = fleet.storages.map(\.initialUsedBytes)
        storageUsedBytes = fleet.storages.map(\.initialUsedBytes)
        repositories = []
        repositoryPaths = []
        readOnly = []
        inflightPushes = []
        repositoriesByStorage = Array(repeating: [], count: fleet.virtualStorages.count)
        if let spec = fleet.praefect {
            let memberNodes = fleet.virtualStorages.map { vs in vs.members.map { fleet.storages[$0].node } }
            var p = Praefect(spec: spec, memberNodes: memberNodes, nodes: fleet.nodes.count)
            // The run starts in a steady state: every Praefect has just seen every node.
            p.health.markAllHealthy(at: .zero)
            _ = p.refreshMasks(at: .zero)
            praefect = p
        }
        pendingHealth = Array(repeating: Array(repeating: true, count: fleet.nodes.count), count: fleet.praefects.count)
        healthApplyPending = Array(repeating: false, count: fleet.praefects.count)
        partitioned = Array(repeating: false, count: fleet.praefects.count * fleet.nodes.count)
        ledger = WriteLedger()
        writeUnavailable = []
        writeUnavailableCount = TimeWeightedAverage()
        window = WindowStats(start: .zero)
        outcomes = Array(repeating: 0, count: RPCOutcome.allCases.count)
        sidekiq = Server(servers: fleet.gitlab.sidekiqConcurrency)
        weights = fleet.virtualStorages.map(\.weight)
        nodesDown = TimeWeightedAverage()
        ioSeconds = Array(repeating: (0, 0), count: fleet.nodes.count * RPCClass.count)
        for n in nodes.indices { refreshIOSeconds(node: n) }
        populate()
        if let p = praefect {
            for vs in fleet.virtualStorages.indices where fleet.virtualStorages[vs].viaPraefect {
                for pi in 0..<p.praefectCount {
                    for _ in 0..<p.spec.replication.workersPerVirtualStorage { workers.append(WorkerState(praefect: pi, virtualStorage: vs)) }
                }
            }
        }
        copyPraefectMasks()
        seedVerifier()
        checkInvariants()
    }

    /// Schedules the world's own recurring events; call once before running.
    public static func start(_ sim: inout Simulation<World>) {
        if sim.model.config.traffic != nil { sim.schedule(at: .zero, .trafficArrival) }
        if let p = sim.model.praefect {
            let interval = SimTime.seconds(p.spec.health.checkIntervalSeconds)
            // Praefects start their rounds spread over one interval, as independent processes do.
            for i in 0..<p.praefectCount {
                sim.schedule(at: SimTime(nanoseconds: interval.nanoseconds * Int64(i) / Int64(p.praefectCount)), .healthRound(praefect: Int32(i)))
            }
            for w in sim.model.workers.indices { sim.schedule(at: .zero, .workerWake(worker: Int32(w), token: 0)) }
            sim.schedule(at: .seconds(p.spec.reconcilerIntervalSeconds), .reconcile)
            sim.schedule(at: World.verifierPeriod, .verify)
        }
        for (i, f) in sim.model.fleet.faults.schedule.enumerated() { sim.schedule(at: .seconds(f.atSeconds), .scheduledFault(index: Int32(i))) }
        sim.model.scheduleRandomFaults(&sim.scheduler)
        sim.schedule(at: .seconds(sim.model.config.windowSeconds), .windowClose)
    }

    /// Places the model's hand-built repositories, or generates `repositoryCount` of them
    /// spread by GitLab's weights.
    mutating func populate() {
        if !fleet.repositories.isEmpty {
            for r in fleet.repositories {
                let vs = fleet.virtualStorage(named: r.storage)!
                let members = fleet.virtualStorages[vs].members
                var assigned: MemberSet = 0
                for name in r.replicas { assigned |= .single(members.firstIndex(of: fleet.storage(named: name)!)!) }
                if assigned == 0 {
                    assigned = Praefect.placeNewRepository(members: members.count, replicationFactor: fleet.virtualStorages[vs].replicationFactor, locallyHealthy: ~0, random: &routingRandom)!.assigned
                }
                let primary = r.primary.map { members.firstIndex(of: fleet.storage(named: $0)!)! } ?? assigned.trailingZeroBitCount
                addRepository(path: r.path, record: RepositoryRecord(virtualStorage: vs, members: members.count, assigned: assigned, primary: primary, sizeBytes: r.sizeBytes))
            }
            return
        }
        for i in 0..<config.repositoryCount {
            let vs = StorageWeights.pick(weights, random: &gitlabRandom) ?? (i % fleet.virtualStorages.count)
            let v = fleet.virtualStorages[vs]
            let (assigned, primary) = Praefect.placeNewRepository(members: v.members.count, replicationFactor: v.replicationFactor, locallyHealthy: ~0, random: &routingRandom)!
            addRepository(path: "group/project-\(i).git", record: RepositoryRecord(virtualStorage: vs, members: v.members.count, assigned: assigned, primary: primary, sizeBytes: config.repositorySizeBytes))
        }
    }

    mutating func addRepository(path: String, record: RepositoryRecord) {
        let id = repositories.count
        repositories.append(record)
        dataPresent.append(record.existing)
        repositoryPaths.append(path)
        readOnly.append(false)
        inflightPushes.append(0)
        writeUnavailable.append(false)
        ledger.addRepository()
        repositoriesByStorage[record.virtualStorage].append(id)
        let members = fleet.virtualStorages[record.virtualStorage].members
        for slot in record.existing.slots { storageUsedBytes[members[slot]] += record.sizeBytes }
    }

    /// The node of a member slot of a virtual storage.
    func node(_ vs: Int, _ slot: Int) -> Int { memberNode[vsOffset[vs] + slot] }

    /// Refreshes the hot-path copies of Praefect's masks and running instances.
    mutating func copyPraefectMasks() {
        guard let p = praefect else { return }
        localMask = p.localMasks
        consensusMask = p.consensusMasks
        runningPraefects = p.up.indices.filter { p.up[$0] }
    }

    func locallyHealthy(praefect p: Int, virtualStorage vs: Int) -> MemberSet { localMask[p * fleet.virtualStorages.count + vs] }

    public mutating func handle(_ event: WorldEvent, scheduler: inout EventScheduler<WorldEvent>) {
        switch event {
        case .trafficArrival: trafficArrival(&scheduler)
        case .rpcArrival(let r, let c): arrive(repository: Int(r), rpcClass: c, &scheduler)
        case .rpcDone(let n, let slot, _): rpcDone(node: Int(n), slot: slot, &scheduler)
        case .limiterTimeout(let n, let slot, let g): limiterTimeout(node: Int(n), slot: slot, generation: g, &scheduler)
        case .flowsDue(let v): flowsDue(version: v, &scheduler)
        case .healthRound(let p): healthRound(praefect: Int(p), &scheduler)
        case .healthApply(let p): healthApply(praefect: Int(p), &scheduler)
        case .workerWake(let w, let token): workerWake(Int(w), token: token, &scheduler)
        case .reconcile: reconcile(&scheduler)
        case .verify: verify(&scheduler)
        case .nodeDownEnd(let n): nodeDownEnd(Int(n), &scheduler)
        case .scheduledFault(let i): scheduledFault(Int(i), &scheduler)
        case .faultEnd(let e): faultEnd(e, &scheduler)
        case .randomFault(let kind, let target): randomFault(kind, target: Int(target), &scheduler)
        case .moveStep(let m): moveStep(Int(m), &scheduler)
        case .rollingUpdateStep: rollingUpdateStep(&scheduler)
        case .windowClose: closeWindow(&scheduler)
        }
        if config.checkInvariants { checkInvariants() }
    }
}
