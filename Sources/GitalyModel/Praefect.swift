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
    /// Per (praefect, virtual storage): targets waiting for a worker, in the order they (re-)entered.
    var targetQueues: [[Int]]
    public var replicationJobsRun = 0

    /// A replication worker's view of one target storage: its idle backoff, and when it
    /// re-enters the worker's queue (`.max` while it is queued or being served).
    struct TargetState: Sendable {
        var reentryAt: SimTime = .max
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
        targetQueues = (0..<p).flatMap { _ in memberNodes.map { Array($0.indices) } }
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
    /// (gitaly `replicator.go`, `ProcessBacklog`): target storages wait in one queue per
    /// (Praefect, virtual storage) and a worker serves the one at its head, so targets take
    /// turns (round-robin). A target unhealthy in the local view, or with no job, leaves the
    /// queue for its backoff (1 s, doubling up to 5 s) and re-enters at its end; a target
    /// with jobs gives up to `batchSize` of them, to be run one after the other, and re-enters
    /// at once when its batch is done (`targetDone`), its backoff reset.
    /// Returns the target and its jobs, or nil when no queued target has work.
    public mutating func workerStep(praefect p: Int, virtualStorage vs: Int, at now: SimTime) -> (target: Int, jobs: [Int])?  {
        let healthy = locallyHealthy(praefect: p, virtualStorage: vs)
        let initial = SimTime.seconds(spec.replication.idleBackoffInitialSeconds)
        let cap = SimTime.seconds(spec.replication.idleBackoffMaxSeconds)
        let qi = p * memberNodes.count + vs
        admitDueTargets(praefect: p, virtualStorage: vs, at: now)
        while !targetQueues[qi].isEmpty {
            let slot = targetQueues[qi].removeFirst()
            let ti = targetIndex(p, vs, slot)
            var jobs: [Int] = []
            if healthy.contains(slot: slot) {
                jobs = queue.dequeue(virtualStorage: vs, target: slot, limit: spec.replication.batchSize, at: now)
            }
            if jobs.isEmpty {
                let b = targets[ti].backoff == .zero ? initial : min(cap, SimTime(nanoseconds: targets[ti].backoff.nanoseconds * 2))
                targets[ti].backoff = b
                targets[ti].reentryAt = now + b
                continue
            }
            targets[ti].backoff = .zero
            return (slot, jobs)
        }
        return nil
    }

    /// Targets whose backoff has passed re-enter the queue, earliest first (ties by slot).
    mutating func admitDueTargets(praefect p: Int, virtualStorage vs: Int, at now: SimTime) {
        var due: [(SimTime, Int)] = []
        for slot in memberNodes[vs].indices {
            let t = targets[targetIndex(p, vs, slot)].reentryAt
            if t <= now { due.append((t, slot)) }
        }
        due.sort { ($0.0, $0.1) < ($1.0, $1.1) }
        for (_, slot) in due {
            targets[targetIndex(p, vs, slot)].reentryAt = .max
            targetQueues[p * memberNodes.count + vs].append(slot)
        }
    }

    /// A worker finished a target's batch: the target goes back to the end of the queue.
    public mutating func targetDone(praefect p: Int, virtualStorage vs: Int, target slot: Int) {
        targetQueues[p * memberNodes.count + vs].append(slot)
    }

    /// When a worker of (p, vs) with nothing to do should look again: at once when a target
    /// is queued, else the earliest re-entry (`.max` while every target is being served).
    @inline(__always)
    public func nextWorkerWake(praefect p: Int, virtualStorage vs: Int, now: SimTime = .zero) -> SimTime {
        if !targetQueues[p * memberNodes.count + vs].isEmpty { return now }
        var t = SimTime.max
        for slot in memberNodes[vs].indices { t = min(t, targets[targetIndex(p, vs, slot)].reentryAt) }
        return t
    }
}
