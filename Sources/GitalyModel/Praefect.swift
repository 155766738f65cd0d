import SimKernel

/// The Praefect control plane shared by every Praefect instance of a fleet: the health view,
/// the replication queue, the cached health masks per virtual storage and the replication
/// workers' per-target state. Per-repository metadata lives in `RepositoryRecord`; the pure
/// decisions (routing, elections, the finalizer) are static functions in the extensions, so
/// they are tested without an event loop.
public struct Praefect: Sendable {
    public let spec: PraefectSpec
    /// For each virtual storage, the node of each member slot.
    public let memberNodes: [[Int]]
    public var health: HealthView
    public var queue: ReplicationQueue
    public var up: [Bool]
    /// Per (praefect, virtual storage): members healthy in that Praefect's local view.
    var localMasks: FlatTable<MemberSet>
    /// Per virtual storage: members healthy by consensus, as of the last health round.
    public private(set) var consensusMasks: [MemberSet]
    var targets: [TargetState]
    public var replicationJobsRun = 0

    /// A replication worker's view of one target storage: its idle backoff.
    struct TargetState: Sendable {
        var nextEligible: SimTime = .zero
        var backoff: SimTime = .zero
    }

    public var praefectCount: Int { up.count }
    public var virtualStorageCount: Int { memberNodes.count }

    public init(spec: PraefectSpec, memberNodes: [[Int]], nodes: Int) {
        self.spec = spec
        self.memberNodes = memberNodes
        let p = spec.instances.count
        health = HealthView(praefects: p, nodes: nodes, consensusWindow: .seconds(spec.health.consensusWindowSeconds), activeWindow: .seconds(spec.health.activeWindowSeconds))
        queue = ReplicationQueue(attempts: spec.replication.attempts)
        up = Array(repeating: true, count: p)
        localMasks = FlatTable(rows: p, columns: memberNodes.count, repeating: 0)
        consensusMasks = Array(repeating: 0, count: memberNodes.count)
        targets = Array(repeating: TargetState(), count: p * memberNodes.count * 64)
    }

    public func locallyHealthy(praefect p: Int, virtualStorage vs: Int) -> MemberSet { localMasks[p, vs] }

    /// Recomputes the cached masks from the health view at `now`. Returns the virtual storages
    /// whose consensus mask changed (their repositories' availability may have changed).
    public mutating func refreshMasks(at now: SimTime) -> [Int] {
        var changed: [Int] = []
        let consensusNodes = (0..<health.nodes).map { health.consensusHealthy(node: $0, at: now) }
        for vs in memberNodes.indices {
            var consensus: MemberSet = 0
            for (slot, n) in memberNodes[vs].enumerated() where consensusNodes[n] { consensus |= .single(slot) }
            if consensus != consensusMasks[vs] { changed.append(vs) }
            consensusMasks[vs] = consensus
            for p in 0..<praefectCount {
                var local: MemberSet = 0
                for (slot, n) in memberNodes[vs].enumerated() where up[p] && health.locallyHealthy(praefect: p, node: n) { local |= .single(slot) }
                localMasks[p, vs] = local
            }
        }
        return changed
    }

    // MARK: Replication workers

    func targetIndex(_ p: Int, _ vs: Int, _ slot: Int) -> Int { (p * memberNodes.count + vs) * 64 + slot }

    /// One step of a replication worker of Praefect `p` on virtual storage `vs`
    /// (gitaly `replicator.go`, `ProcessBacklog`): it takes the first target in member order
    /// whose backoff has passed, skips it if it is unhealthy in the local view, dequeues up to
    /// `batchSize` of its jobs and returns them to be run one after the other. A target with
    /// nothing to do re-enters after its backoff: 1 s, doubling up to 5 s, reset by work.
    /// Returns the jobs (possibly none) and, when there are none, when the worker should look
    /// again.
    public mutating func workerStep(praefect p: Int, virtualStorage vs: Int, at now: SimTime) -> (target: Int, jobs: [Int])?  {
        let healthy = locallyHealthy(praefect: p, virtualStorage: vs)
        let initial = SimTime.seconds(spec.replication.idleBackoffInitialSeconds)
        let cap = SimTime.seconds(spec.replication.idleBackoffMaxSeconds)
        for slot in memberNodes[vs].indices {
            let ti = targetIndex(p, vs, slot)
            guard targets[ti].nextEligible <= now else { continue }
            var jobs: [Int] = []
            if healthy.contains(slot: slot) {
                jobs = queue.dequeue(virtualStorage: vs, target: slot, limit: spec.replication.batchSize, at: now)
            }
            if jobs.isEmpty {
                let b = targets[ti].backoff == .zero ? initial : min(cap, SimTime(nanoseconds: targets[ti].backoff.nanoseconds * 2))
                targets[ti].backoff = b
                targets[ti].nextEligible = now + b
                continue
            }
            targets[ti].backoff = .zero
            return (slot, jobs)
        }
        return nil
    }

    /// When a worker of (p, vs) with nothing to do should look again: the earliest re-entry.
    public func nextWorkerWake(praefect p: Int, virtualStorage vs: Int) -> SimTime {
        var t = SimTime.max
        for slot in memberNodes[vs].indices { t = min(t, targets[targetIndex(p, vs, slot)].nextEligible) }
        return t
    }
}
