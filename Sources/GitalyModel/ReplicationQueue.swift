import SimKernel

/// The replication job types Praefect enqueues (gitaly `datastore/datastore.go`). RPCs only
/// enqueue `update`; `deleteReplica` comes from the reconciler. The legacy `delete` (before
/// 14.5) and `create` (switched to `update` by the finalizer) are not modelled.
public enum ReplicationChange: UInt8, Sendable {
    case update = 0
    case deleteReplica = 1
}

public enum ReplicationJobState: Sendable, Equatable {
    case ready
    case inProgress
    case failed
}

public struct ReplicationJob: Sendable, Equatable {
    public var id: UInt64
    public var repository: Int
    public var virtualStorage: Int
    /// Member slots of the virtual storage.
    public var source: Int
    public var target: Int
    public var change: ReplicationChange
    public var state: ReplicationJobState
    public var attemptsLeft: Int
    public var createdAt: SimTime
    /// When it last went in progress (`updated_at`), for collapsing.
    public var dequeuedAt: SimTime
    /// The last heartbeat of an in-progress job whose Praefect stopped; nil while a live
    /// worker holds it (its heartbeats every 5 s keep it fresh).
    public var lastHeartbeat: SimTime? = nil
}

/// Praefect's replication queue as the PostgreSQL tables behave (gitaly `datastore/queue.go`,
/// PRAEFECT.md §2), shared by every Praefect:
/// - enqueue is skipped when a `ready` job with the same virtual storage, repository, target and
///   change exists;
/// - new jobs start `ready` with 3 attempts; `deleteReplica` never uses attempts up;
/// - dequeue takes, per target, the oldest unlocked `ready` or `failed` job per (repository lock,
///   change), marks it in progress, spends an attempt and locks (target, repository);
/// - success deletes the job and collapses every `ready` job with the same lock, change and
///   source created before the job was dequeued; failure makes it `failed`, or deletes it when
///   no attempt is left (`dead` jobs are deleted since v13.4).
///
/// Jobs live in slots reused through a free list; each (virtual storage, target) has its
/// jobs in creation order. Its size is bounded by the deduplication: at most one ready job per
/// (repository, target, change) plus the ones in progress or failed.
public struct ReplicationQueue: Sendable {
    public let attempts: Int
    var slots: [ReplicationJob?] = []
    var free: [Int] = []
    var nextID: UInt64 = 1
    /// Per (virtual storage, target member) key: job slots in creation order.
    var byTarget: [Int: [Int]] = [:]
    /// Ready jobs by (virtual storage, repository, target, change): for deduplication.
    var readyIndex: [ReadyKey: Int] = [:]
    /// Held repository locks (virtual storage, target, repository).
    var locks: Set<LockKey> = []
    public private(set) var count = 0
    public private(set) var completed = 0
    public private(set) var collapsed = 0
    public private(set) var deadJobs = 0
    /// In-progress jobs whose Praefect stopped, waiting for `failStale`.
    var orphaned: [Int] = []
    public private(set) var staleJobs = 0

    struct ReadyKey: Hashable, Sendable { var vs: Int32; var target: Int32; var repository: Int; var change: ReplicationChange }
    struct LockKey: Hashable, Sendable { var vs: Int32; var target: Int32; var repository: Int }

    public init(attempts: Int = 3) {
        precondition(attempts >= 1)
        self.attempts = attempts
    }

    static func targetKey(_ vs: Int, _ target: Int) -> Int { vs << 6 | target }

    public func job(_ slot: Int) -> ReplicationJob? { slot < slots.count ? slots[slot] : nil }

    /// Enqueues a job; returns its slot, or nil when an equal ready job already waits.
    @discardableResult
    public mutating func enqueue(repository: Int, virtualStorage vs: Int, source: Int, target: Int, change: ReplicationChange, at now: SimTime) -> Int? {
        let key = ReadyKey(vs: Int32(vs), target: Int32(target), repository: repository, change: change)
        if readyIndex[key] != nil { return nil }
        let job = ReplicationJob(id: nextID, repository: repository, virtualStorage: vs, source: source, target: target, change: change,
                                 state: .ready, attemptsLeft: attempts, createdAt: now, dequeuedAt: now)
        nextID += 1
        let slot: Int
        if let s = free.popLast() { slot = s; slots[s] = job } else { slot = slots.count; slots.append(job) }
        byTarget[Self.targetKey(vs, target), default: []].append(slot)
        readyIndex[key] = slot
        count += 1
        return slot
    }

    /// Jobs waiting or failed for a target (its queue depth).
    public func depth(virtualStorage vs: Int, target: Int) -> Int {
        byTarget[Self.targetKey(vs, target)]?.count ?? 0
    }

    /// Takes up to `limit` jobs for one target, oldest first, one per (repository, change) and
    /// none whose repository lock is held.
    public mutating func dequeue(virtualStorage vs: Int, target: Int, limit: Int, at now: SimTime) -> [Int] {
        guard let list = byTarget[Self.targetKey(vs, target)] else { return [] }
        var taken: [Int] = []
        var takenKeys: [(Int, ReplicationChange)] = []
        for slot in list {
            guard taken.count < limit, var job = slots[slot] else { continue }
            guard job.state == .ready || job.state == .failed else { continue }
            let lock = LockKey(vs: Int32(vs), target: Int32(target), repository: job.repository)
            // The oldest job of a (lock, change) pair is the candidate; later ones wait for it.
            if takenKeys.contains(where: { $0.0 == job.repository && $0.1 == job.change }) { continue }
            takenKeys.append((job.repository, job.change))
            if locks.contains(lock) { continue }
            if job.state == .ready { readyIndex[ReadyKey(vs: Int32(vs), target: Int32(target), repository: job.repository, change: job.change)] = nil }
            job.state = .inProgress
            if job.change != .deleteReplica { job.attemptsLeft -= 1 }
            job.dequeuedAt = now
            slots[slot] = job
            locks.insert(lock)
            taken.append(slot)
        }
        return taken
    }

    /// Acknowledges an in-progress job. Returns how many jobs left the queue (the job itself
    /// and any it collapsed).
    @discardableResult
    public mutating func acknowledge(_ slot: Int, success: Bool) -> Int {
        guard var job = slots[slot], job.state == .inProgress else { preconditionFailure("acknowledging a job that is not in progress") }
        let tkey = Self.targetKey(job.virtualStorage, job.target)
        locks.remove(LockKey(vs: Int32(job.virtualStorage), target: Int32(job.target), repository: job.repository))
        if !success {
            if job.attemptsLeft > 0 || job.change == .deleteReplica {
                job.state = .failed
                slots[slot] = job
                return 0
            }
            deadJobs += 1
            remove(slot, targetKey: tkey)
            return 1
        }
        completed += 1
        var removed = 1
        remove(slot, targetKey: tkey)
        for other in byTarget[tkey] ?? [] {
            guard let o = slots[other], o.state == .ready, o.repository == job.repository, o.change == job.change,
                  o.source == job.source, o.createdAt < job.dequeuedAt else { continue }
            readyIndex[ReadyKey(vs: Int32(o.virtualStorage), target: Int32(o.target), repository: o.repository, change: o.change)] = nil
            remove(other, targetKey: tkey)
            collapsed += 1
            removed += 1
        }
        return removed
    }

    /// The Praefect running these in-progress jobs stopped at `now`: no heartbeat follows.
    public mutating func orphan(_ jobs: [Int], at now: SimTime) {
        for slot in jobs where slots[slot]?.state == .inProgress && slots[slot]?.lastHeartbeat == nil {
            slots[slot]!.lastHeartbeat = now
            orphaned.append(slot)
        }
    }

    /// `AcknowledgeStale` (gitaly `datastore/queue.go`, run every 30 s by `ProcessStale` in
    /// `replicator.go`): in-progress jobs whose last heartbeat is older than `staleAfter`
    /// become `failed`, or are deleted when no attempt is left, and their locks are released.
    /// Returns how many went stale.
    @discardableResult
    public mutating func failStale(at now: SimTime, staleAfter: SimTime) -> Int {
        var kept: [Int] = []
        var stale: [Int] = []
        for slot in orphaned {
            if let h = slots[slot]?.lastHeartbeat, now - h > staleAfter { stale.append(slot) } else { kept.append(slot) }
        }
        orphaned = kept
        for slot in stale {
            slots[slot]!.lastHeartbeat = nil
            acknowledge(slot, success: false)
        }
        staleJobs += stale.count
        return stale.count
    }

    mutating func remove(_ slot: Int, targetKey: Int) {
        slots[slot] = nil
        free.append(slot)
        byTarget[targetKey]?.removeAll { $0 == slot }
        count -= 1
    }
}
