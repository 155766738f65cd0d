import SimKernel

/// The simulated world: Gitaly nodes on VMs or pods, Praefect, GitLab's moves, traffic and
/// faults, as one `DiscreteEventModel`. Its events are in `WorldEvent`, its settings in
/// `WorldConfig`; its behaviour is split by concern: `World+RPC` (requests and transactions),
/// `World+Health` (Praefect's health checks), `World+Replication` (workers, reconciler),
/// `World+Flows` (bulk transfers), `World+Verifier` (metadata verifier), `World+Hosts` (VMs and
/// pods going down and up), `World+Faults` (other faults), `World+Moves` (GitLab's move worker),
/// `World+Admin` (the operator's and the engine's door in), `World+Accounting` (writes,
/// availability, report), `World+Invariants`.
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
    /// By node and class index.
    let limitParams: FlatTable<LimitParams?>
    let profiles: [RPCProfile]
    /// Per class: 1 / mean CPU seconds, the rate of the exponential CPU time draw.
    let cpuRate: [Double]
    /// The client's deadline per class, `.max` for none.
    let deadlines: [SimTime]
    /// By node and class index: the seconds an RPC's disk reads and writes take
    /// at the node's current bandwidth (refreshed when a disk slows down).
    var ioSeconds: FlatTable<(read: Double, written: Double)>
    let trafficRatePerSecond: Double
    let trafficCumulativeMix: [Double]
    let diskReadBytesPerSecond: [Double]
    let diskWriteBytesPerSecond: [Double]
    /// Copies of the Praefect masks, refreshed with them.
    /// By Praefect and virtual storage.
    var localMask = FlatTable<MemberSet>(rows: 0, columns: 0, repeating: 0)
    var consensusMask: [MemberSet] = []
    var runningPraefects: [Int] = []
    /// Outages of Praefect's PostgreSQL in progress (`World+Faults.setDatabase`).
    var databaseDownCount = 0
    var databaseUp: Bool { databaseDownCount == 0 }
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
    /// How long a replica stays verified (the fleet's Praefect's setting), read once: through
    /// the optional spec it was a copy of the spec at each repository switched.
    let verificationInterval: SimTime
    public internal(set) var repositoryPaths: RepositoryPaths
    public internal(set) var readOnly: [Bool]
    var inflightPushes: [Int32]
    /// Wiki, design, pool and refs, by repository: what a move copies besides the project.
    /// Few differ (a population's rows all have the default): each distinct value kept once.
    public internal(set) var repositoryParts = InternedList<RepositoryParts>()
    /// The repositories on each GitLab storage, in no meaningful order (a move swaps the last
    /// one into the leaver's place); sort before the order can reach scheduling or output.
    var repositoriesByStorage: [[Int32]]
    /// Per repository: its index in `repositoriesByStorage[its storage]`, so a move's switch
    /// and the invariant check take O(1).
    var storageListIndex: [Int32] = []
    public internal(set) var praefect: Praefect?
    /// Whether `praefect` is set: testing the optional copies it (400 bytes), at every move's
    /// switch and in every window's sums.
    var hasPraefect = false
    var pool = BandwidthPool()
    /// One pool resource per `Fleet.links` entry.
    var siteLinks: [BandwidthPool.ResourceID] = []
    var flowOwners: [(BandwidthPool.FlowID, FlowOwner)?] = []
    var lastFlowVersionScheduled: UInt64 = .max
    /// Per node: bulk flows reading its disk and writing it.
    var flowsOnDisk: [(reading: Int, writing: Int)]
    /// Per node: RPCs in service whose class reads, and writes, its disk.
    var rpcsOnDisk: [(reading: Int, writing: Int)]
    /// RPCs held by nodes, by slot; events, cores and limiters carry slot indices.
    var inflight: [InflightRPC] = []
    /// The first free slot of `inflight`, or -1.
    var firstFreeInflight: Int32 = -1
    /// Occupied slots of `inflight`: every one is on a core, waiting for a core, or waiting in
    /// a limiter (checked by `checkInvariants`).
    var inflightHeld = 0
    /// Recorded costs of calls in flight (`RPC.cost` indexes it) and its free slots.
    var serviceCosts: [RecordedCost] = []
    var freeCostSlots: [Int32] = []
    var transactions: [PendingMutator?] = []
    var freeTransactions: [Int] = []
    var workers: [WorkerState] = []
    var pendingHealth: [[Bool]]
    var healthApplyPending: [Bool]
    /// By Praefect and node: the Praefect cannot reach the node.
    var partitioned: FlatTable<Bool>
    /// By node and node: the two Gitaly nodes cannot reach each other.
    var gitalyCut: FlatTable<Bool>
    public internal(set) var ledger: WriteLedger
    /// Per repository: its availability key (few are distinct: each kept once); and per
    /// distinct key, by its number in that list, how many repositories have it and through how
    /// many Praefects a write to them fails, kept current while any has it (`World+Accounting`).
    var availabilityKeys = InternedList<AvailabilityKey>()
    var repositoriesWithKey: [Int] = []
    var failingWithKey: [Int] = []
    /// Σ count × failing over keys.
    var failingWeight = 0
    /// Repositories a write would fail on, as a time-weighted value.
    var writeFailing = TimeWeightedAverage()
    public internal(set) var windows: [WindowStats] = []
    /// Traffic carried as a load (`World+Load`); without one (`hasLoad` false) every call is
    /// simulated and `load` is empty. Not an optional: reading through `load!` copied the
    /// whole state (400 bytes) at each access, several times a move.
    var load = LoadState.empty
    var hasLoad = false
    var window: WindowStats
    public internal(set) var outcomes: [Int]
    public internal(set) var rpcsCompleted = 0
    /// `gitaly_praefect_replication_delay`: seconds from a job's creation to its start.
    public internal(set) var replicationDelaySeconds = Tally()
    /// `gitaly_praefect_replication_latency`: seconds from a job's start to its end, for jobs
    /// that ran (not those that failed or were no-ops at once).
    public internal(set) var replicationLatencySeconds = Tally()
    var moves: [MoveProcess] = []
    /// The worker state of the moves not yet ended (`MoveProcess.worker`), and the places in
    /// it that ended moves gave back.
    var moveWorkers: [MoveWorker] = []
    var freeMoveWorkers: [Int32] = []
    /// `RepositoryStorageMove.failureReason` of the moves that failed.
    var moveFailureReasons: [Int32: String] = [:]
    /// Moves whose worker has not ended (`MoveProcess.step != .done`), so the invariant check
    /// walks these and not every move ever made.
    var activeMoves: Set<Int> = []
    /// Each repository's latest move (−1: none), kept at schedule time so a look-up answers
    /// from the world; older ones are chained through `MoveProcess.previous` (a list per
    /// repository would cost a heap array each).
    var lastMoveOfRepository: [Int32] = []
    /// Moves by state, indexed by `MoveState.rawValue`, kept where a move changes state.
    var movesInState = [Int](repeating: 0, count: MoveState.allCases.count + 1)
    /// How many calls of each kind each object has had, for the API error draw.
    var adminCalls = AdminCallCounts()
    /// When each read-only repository became read-only, and the longest stretch so far.
    public internal(set) var readOnlyClock = ReadOnlyClock()
    /// Per storage: bytes a move left behind on a replica that was down when Praefect's
    /// `RemoveRepository` deleted the records (gitaly `remove_repository.go` ignores per-node
    /// errors); counted in `storageUsedBytes` until an operator removes them.
    public internal(set) var orphanedBytes: [Double]
    /// The next repository the per-event invariant check visits.
    var invariantCursor = 0
    /// Events left before the shared invariants are checked again (`checkInvariants(after:)`).
    var sharedInvariantCountdown = 0
    var sidekiq: Server<Int>
    /// `repository_storages_weighted`, by GitLab storage index; the admin API changes it.
    public internal(set) var weights: [Int]
    /// Bytes of the repositories whose move switched to its destination so far.
    public internal(set) var movedBytes = 0.0
    /// Rolling updates: the first rolls, the others wait their turn (`World+Rollouts`).
    var rollouts: [Rollout] = []
    /// Canary analyses that rolled their release back.
    public internal(set) var rolloutsRolledBack = 0
    /// The most nodes on a bad release at once after a rolling update changed one.
    var badReleasePeak = 0
    var releaseRandom: RandomStream
    public internal(set) var nodesDown: TimeWeightedAverage
    var trafficRandom: RandomStream
    var routingRandom: RandomStream
    var electionRandom: RandomStream
    var serviceRandom: RandomStream
    var faultRandom: RandomStream
    /// Each random fault process (by `faultProcessKey`): its real rate (1 / MTBF) and when its
    /// current up-time began, for the likelihood ratio of importance sampling.
    var faultProcesses: [Int: (rate: Double, upSince: SimTime, running: Bool)] = [:]
    /// Random faults that struck, and Σ rate × up-time of the processes' finished up-times.
    public internal(set) var randomFaultsOccurred = 0
    var faultExposure = 0.0
    var replicationRandom: RandomStream
    var gitlabRandom: RandomStream
    /// Moves have their own streams (STYLE.md "Randomness that does not leak"): a draw for one
    /// decision never shifts another's.
    var apiErrorRandom: RandomStream
    var moveDestinationRandom: RandomStream
    var movePlacementRandom: RandomStream
    var moveSourceReadRandom: RandomStream
    var moveCorruptionRandom: RandomStream
    var moveInterruptionRandom: RandomStream

    /// The population's layout, read once from the fleet (`place(of:)`): through the optional
    /// population each look-up copied it.
    let populationStart: Int
    let populationLayout: [Int32]
    let populationPositions: [Int32]

    public init(fleet: Fleet, config: WorldConfig) {
        self.fleet = fleet
        self.config = config
        populationStart = fleet.repositories.count
        populationLayout = fleet.population?.layout ?? []
        populationPositions = fleet.population?.positionInLayout ?? []
        verificationInterval = .seconds(fleet.praefect?.verificationIntervalSeconds ?? 7 * 86_400)
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
        limitParams = FlatTable(rows: fleet.nodes.count, columns: RPCClass.count, elements: fleet.nodes.flatMap { n in
            n.limits.map { l in l.map { LimitParams(maxPerRepo: $0.maxPerRepo, maxQueueSize: $0.maxQueueSize, maxQueueWait: $0.maxQueueWaitSeconds.map(SimTime.seconds)) } }
        })
        profiles = config.traffic?.profiles ?? RPCClass.allCases.map(RPCProfile.defaultProfile)
        cpuRate = profiles.map { 1 / $0.cpuSecondsMean }
        deadlines = (config.traffic?.deadlineSeconds ?? RPCClass.allCases.map(\.defaultDeadlineSeconds)).map { $0.map(SimTime.seconds) ?? .max }
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
        apiErrorRandom = streams.stream("gitlab.api.errors")
        moveDestinationRandom = streams.stream("gitlab.move.destination")
        movePlacementRandom = streams.stream("praefect.move.placement")
        moveSourceReadRandom = streams.stream("praefect.move.read")
        moveCorruptionRandom = streams.stream("gitlab.move.corruption")
        moveInterruptionRandom = streams.stream("gitlab.move.interruption")
        releaseRandom = streams.stream("release.errors")
        var pool = BandwidthPool()
        nodes = fleet.nodes.map { n in
            NodeState(cpu: Server(servers: n.cpuCores),
                      diskRead: pool.addResource(named: "\(n.name).disk.read", bytesPerSecond: n.disk.readBytesPerSecond),
                      diskWrite: pool.addResource(named: "\(n.name).disk.write", bytesPerSecond: n.disk.writeBytesPerSecond),
                      network: pool.addResource(named: "\(n.name).network", bytesPerSecond: n.networkBytesPerSecond),
                      packCPU: pool.addResource(named: "\(n.name).cpu.pack", bytesPerSecond: Double(n.cpuCores) * fleet.gitlab.moveSourceBytesPerCoreSecond),
                      indexCPU: pool.addResource(named: "\(n.name).cpu.index", bytesPerSecond: Double(n.cpuCores) * fleet.gitlab.moveDestinationBytesPerCoreSecond),
                      release: n.release, releaseErrorRatio: fleet.releases[n.release].errorRatio, latencyFactor: fleet.releases[n.release].latencyFactor)
        }
        siteLinks = fleet.links.map { l in pool.addResource(named: "link \(fleet.sites[l.sites.0])-\(fleet.sites[l.sites.1])", bytesPerSecond: l.bytesPerSecond) }
        self.pool = pool
        flowsOnDisk = Array(repeating: (0, 0), count: fleet.nodes.count)
        rpcsOnDisk = Array(repeating: (0, 0), count: fleet.nodes.count)
        peakStorageUsedBytes = fleet.storages.map(\.initialUsedBytes)
        storageUsedBytes = fleet.storages.map(\.initialUsedBytes)
        orphanedBytes = Array(repeating: 0, count: fleet.storages.count)
        repositories = []
        repositoryPaths = RepositoryPaths()
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
            hasPraefect = true
        }
        pendingHealth = Array(repeating: Array(repeating: true, count: fleet.nodes.count), count: fleet.praefects.count)
        healthApplyPending = Array(repeating: false, count: fleet.praefects.count)
        partitioned = FlatTable(rows: fleet.praefects.count, columns: fleet.nodes.count, repeating: false)
        gitalyCut = FlatTable(rows: fleet.nodes.count, columns: fleet.nodes.count, repeating: false)
        ledger = WriteLedger()
        window = WindowStats(start: .zero)
        outcomes = Array(repeating: 0, count: RPCOutcome.allCases.count)
        sidekiq = Server(servers: fleet.gitlab.sidekiqConcurrency)
        weights = fleet.virtualStorages.map(\.weight)
        nodesDown = TimeWeightedAverage()
        ioSeconds = FlatTable(rows: fleet.nodes.count, columns: RPCClass.count, repeating: (0, 0))
        for n in nodes.indices { refreshIOSeconds(node: n) }
        copyPraefectMasks()
        populate()
        if let p = praefect {
            for vs in fleet.virtualStorages.indices where fleet.virtualStorages[vs].viaPraefect {
                for pi in 0..<p.praefectCount {
                    for _ in 0..<p.spec.replication.workersPerVirtualStorage { workers.append(WorkerState(praefect: pi, virtualStorage: vs)) }
                }
            }
        }
        if let spec = config.backgroundLoad {
            load = World.makeLoad(spec, self, streams: streams)
            hasLoad = true
        }
        recomputeWriteFailing(.zero)
        seedVerifier()
        checkAllInvariants()
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
            sim.schedule(at: World.staleCheckPeriod, .staleJobCheck)
        }
        for (i, f) in sim.model.fleet.faults.schedule.enumerated() { sim.schedule(at: .seconds(f.atSeconds), .scheduledFault(index: Int32(i))) }
        sim.model.scheduleRandomFaults(&sim.scheduler)
        sim.model.refreshLoad(&sim.scheduler)
        sim.schedule(at: .seconds(sim.model.config.windowSeconds), .windowClose)
    }

    /// How many repositories a world built from `fleet` and `config` holds: the model's own and
    /// its population's, or `config.repositoryCount` generated when it names none.
    public static func repositoryCount(fleet: Fleet, config: WorldConfig) -> Int {
        let placed = fleet.repositories.count + (fleet.population?.count ?? 0)
        return placed == 0 ? config.repositoryCount : placed
    }

    /// Places the model's hand-built repositories, or generates `repositoryCount` of them
    /// spread by GitLab's weights.
    mutating func populate() {
        // Every per-repository list sized once: grown by doubling, each would keep up to as
        // much again unused, a gigabyte at ten million repositories.
        let placed = fleet.repositories.count + (fleet.population?.count ?? 0)
        let count = Self.repositoryCount(fleet: fleet, config: config)
        let own = count - (fleet.population?.count ?? 0)
        repositories.reserveCapacity(count); dataPresent.reserveCapacity(count); repositoryPaths.reserveCapacity(own, bytes: own * 24)
        readOnly.reserveCapacity(count); inflightPushes.reserveCapacity(count); lastMoveOfRepository.reserveCapacity(count)
        availabilityKeys.reserveCapacity(count); repositoryParts.reserveCapacity(count); storageListIndex.reserveCapacity(count)
        adminCalls.reserveRepositories(count); ledger.reserveRepositories(count)
        if placed > 0 {
            for r in fleet.repositories {
                let vs = fleet.virtualStorage(named: r.storage)!
                let members = fleet.virtualStorages[vs].members
                var assigned: MemberSet = 0
                for name in r.replicas { assigned |= .single(members.firstIndex(of: fleet.storage(named: name)!)!) }
                let primary = r.primary.map { members.firstIndex(of: fleet.storage(named: $0)!)! }
                addRepository(path: r.path.utf8, record: placedRecord(virtualStorage: vs, assigned: assigned, primary: primary, sizeBytes: r.sizeBytes), parts: r.parts)
            }
            if let p = fleet.population {
                let storages = p.storageNames.map { fleet.virtualStorage(named: $0)! }
                repositoryPaths.share(p.paths, layout: p.layout)
                // What every row starts with alike goes in at once: row by row, appending to
                // each of those lists was a third of building a ten-million-repository world.
                appendFixedColumns(count: p.count, parts: RepositoryParts())
                if p.layout.isEmpty {
                    for row in 0..<p.count {
                        appendRecord(placedRecord(virtualStorage: storages[Int(p.storages[row])], assigned: 0, primary: nil, sizeBytes: p.sizeBytes[row]))
                    }
                } else {
                    populateLaidOut(p, storages: storages)
                }
            }
            return
        }
        for i in 0..<config.repositoryCount {
            // A modelling convenience, not Rails: with every weight 0 the population is spread
            // round-robin rather than piled on the first storage.
            let vs = weights.allSatisfy({ $0 == 0 }) ? i % fleet.virtualStorages.count : StorageWeights.pick(weights, random: &gitlabRandom)
            let v = fleet.virtualStorages[vs]
            let (assigned, primary) = Praefect.placeNewRepository(members: v.members.count, replicationFactor: v.replicationFactor, locallyHealthy: ~0, random: &routingRandom)!
            addRepository(path: "group/project-\(i).git".utf8, record: RepositoryRecord(virtualStorage: vs, members: v.members.count, assigned: assigned, primary: primary, sizeBytes: config.repositorySizeBytes), parts: config.repositoryParts)
        }
    }

    /// The population's rows in the order of its layout. Their replicas are drawn in the rows'
    /// order, as with no layout, so a layout changes no draw: a storage of one member takes one
    /// draw a row and always lands on it, so for a fleet of those the draws are made in a loop
    /// and no row is read twice (at ten million repositories each read out of order is a cache
    /// miss).
    mutating func populateLaidOut(_ p: RepositoryPopulation, storages: [Int]) {
        let single = storages.allSatisfy { fleet.virtualStorages[$0].members.count == 1 }
        // Each position's replicas (empty: one member each).
        var assigned: [MemberSet] = []
        if single {
            for _ in 0..<p.count { _ = placedRecord(virtualStorage: storages[0], assigned: 0, primary: nil, sizeBytes: 0) }
        } else {
            assigned = [MemberSet](repeating: 0, count: p.count)
            for row in 0..<p.count {
                let record = placedRecord(virtualStorage: storages[Int(p.storage(ofRow: row))], assigned: 0, primary: nil, sizeBytes: 0)
                assigned[Int(p.positionInLayout[row])] = record.assigned
            }
        }
        // The columns are in the layout's order: read from one end to the other.
        for i in 0..<p.count {
            appendRecord(placedRecord(virtualStorage: storages[Int(p.storages[i])], assigned: single ? 1 : assigned[i], primary: nil, sizeBytes: p.sizeBytes[i]))
        }
        // Praefect's reconciler walks each storage's list and draws as it goes: there the lists
        // start in place order, as with no layout, and every later change to them is then the
        // same. No other walk of them reaches a draw, the schedule or the output in its order.
        guard fleet.virtualStorages.contains(where: \.viaPraefect) else { return }
        for vs in repositoriesByStorage.indices { repositoriesByStorage[vs].removeAll(keepingCapacity: true) }
        for r in repositoriesInPlaceOrder {
            let vs = repositories[r].virtualStorage
            storageListIndex[r] = Int32(repositoriesByStorage[vs].count)
            repositoriesByStorage[vs].append(Int32(r))
        }
    }

    /// Traffic names a repository by its place: a popularity's rank k goes to place
    /// (k − 1) mod count, a uniform draw to any place, a trace's path to its repository's place
    /// (`MigrationRun.target`). A repository's place is its index, but in a population laid
    /// out in another order (`RepositoryPopulation.layout`), where it is its row's, so the
    /// traffic a repository gets does not depend on where its state lies.
    @inline(__always) public func place(of r: Int) -> Int {
        Self.place(of: r, start: populationStart, layout: populationLayout)
    }

    @inline(__always) static func place(of r: Int, start: Int, layout: [Int32]) -> Int {
        let i = r &- start
        return i >= 0 && i < layout.count ? start + Int(layout[i]) : r
    }

    /// The repository at place `place` (the inverse of `place(of:)`).
    @inline(__always) public func repository(atPlace place: Int) -> Int {
        Self.repository(atPlace: place, start: populationStart, positions: populationPositions)
    }

    @inline(__always) static func repository(atPlace place: Int, start: Int, positions: [Int32]) -> Int {
        let i = place &- start
        return i >= 0 && i < positions.count ? start + Int(positions[i]) : place
    }

    /// `repositories` in the order of their places: a walk whose order reaches a draw, the
    /// schedule or the output goes in it, which no layout changes.
    func inPlaceOrder(_ repositories: [Int32]) -> [Int] {
        guard !populationLayout.isEmpty else { return repositories.sorted().map(Int.init) }
        return repositories.map { place(of: Int($0)) }.sorted().map { repository(atPlace: $0) }
    }

    /// Every repository, place by place (holding the layout only: a walk may change the world).
    var repositoriesInPlaceOrder: LazyMapSequence<Range<Int>, Int> {
        let start = populationStart, positions = populationPositions
        return (0..<repositories.count).lazy.map { Self.repository(atPlace: $0, start: start, positions: positions) }
    }

    /// The record of a repository the model names on `virtualStorage`: on `assigned` (chosen
    /// at creation when empty), `primary` its primary slot (the lowest assigned when nil).
    mutating func placedRecord(virtualStorage vs: Int, assigned: MemberSet, primary: Int?, sizeBytes: Double) -> RepositoryRecord {
        let members = fleet.virtualStorages[vs].members
        var assigned = assigned
        if assigned == 0 {
            assigned = Praefect.placeNewRepository(members: members.count, replicationFactor: fleet.virtualStorages[vs].replicationFactor, locallyHealthy: ~0, random: &routingRandom)!.assigned
        }
        return RepositoryRecord(virtualStorage: vs, members: members.count, assigned: assigned, primary: primary ?? assigned.trailingZeroBitCount, sizeBytes: sizeBytes)
    }

    /// Adds a repository at `path`, unless its path is already listed (a shared population's
    /// row: `RepositoryPaths.share`).
    mutating func addRepository<Path: Collection<UInt8>>(path: Path, record: RepositoryRecord, parts: RepositoryParts) {
        let id = repositories.count
        if repositoryPaths.count == id { repositoryPaths.append(bytes: path) }
        precondition(repositoryPaths.count > id, "repository \(id) has no path")
        appendFixedColumns(count: 1, parts: parts)
        appendRecord(record)
    }

    /// The per-repository lists every new repository starts alike in, for `count` repositories
    /// (`appendRecord` adds the rest of each, in the same order).
    mutating func appendFixedColumns(count: Int, parts: RepositoryParts) {
        readOnly.append(contentsOf: repeatElement(false, count: count))
        inflightPushes.append(contentsOf: repeatElement(0, count: count))
        lastMoveOfRepository.append(contentsOf: repeatElement(-1, count: count))
        adminCalls.addRepositories(count)
        ledger.addRepositories(count)
        repositoryParts.append(parts, count: count)
    }

    /// The next repository's record and what follows from it: its data, its availability key,
    /// its place in its storage's list and its bytes on its replicas.
    mutating func appendRecord(_ record: RepositoryRecord) {
        let id = repositories.count
        precondition(id < readOnly.count, "repository \(id) has no fixed columns")
        repositories.append(record)
        dataPresent.append(record.existing)
        enterKey(availabilityKeys.append(availabilityKey(id)))
        storageListIndex.append(Int32(repositoriesByStorage[record.virtualStorage].count))
        repositoriesByStorage[record.virtualStorage].append(Int32(id))
        let members = fleet.virtualStorages[record.virtualStorage].members
        for slot in record.existing.slots { storageUsedBytes[members[slot]] += storedBytes(id) }
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

    func locallyHealthy(praefect p: Int, virtualStorage vs: Int) -> MemberSet { localMask[p, vs] }

    public mutating func handle(_ event: WorldEvent, scheduler: inout EventScheduler<WorldEvent>) {
        switch event {
        case .trafficArrival: trafficArrival(&scheduler)
        case .rpcArrival(let r, let c, let cost): arrive(repository: Int(r), rpcClass: c, cost: cost, &scheduler)
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
        case .replicationStep(let w, let token): replicationStep(Int(w), token: token, &scheduler)
        case .staleJobCheck: staleJobCheck(&scheduler)
        case .inFlightCall(let m, let k, let call): inFlightCall(Int(m), draw: k, call: call, &scheduler)
        }
        if config.checkInvariants { checkInvariants(after: event) }
    }
}
