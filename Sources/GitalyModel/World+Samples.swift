import SimKernel

/// What the world shows its operators at one instant: the figures a rollout's gates watch and a
/// report plots (storage fill, moves by state, write-unavailable repositories, apdex and error
/// ratio of the last closed window, the replication queue and its lag).
public struct WorldSample: Sendable, Equatable {
    public var at: SimTime
    /// Per Gitaly storage (fleet order): used / capacity.
    public var storageFill: [Double]
    /// Moves by state, indexed by `MoveState.rawValue` (index 0 unused).
    public var movesByState: [Int]
    public var writeUnavailableRepositories: Int
    /// The last closed window's apdex and error ratio; nil when it saw no request.
    public var apdex: Double?
    public var errorRatio: Double?
    /// The calls behind them (the weights a gate's window sums, `Migration.Gate`).
    public var apdexCounted: Double
    public var requests: Double
    /// Jobs in Praefect's replication queue, and how long the oldest has waited
    /// (`gitaly_praefect_replication_queue_depth`, `_replication_delay`); 0 without Praefect.
    public var replicationQueueDepth: Int
    public var replicationLagSeconds: Double
    /// `repository_storages_weighted` per GitLab storage (fleet order).
    public var weights: [Int]
    /// Bytes of the repositories whose move has switched so far.
    public var movedBytes: Double

    /// The fullest storage's fill.
    public var storageFillMax: Double { storageFill.max() ?? 0 }
}

extension World {
    /// The world as monitoring would see it now. Costs O(storages + replication jobs): the
    /// moves by state are counted where moves change state (`advance`), not here.
    public func sample(at now: SimTime) -> WorldSample {
        let byState = movesInState
        let last = windows.last
        let queue = praefect?.queue
        return WorldSample(
            at: now,
            storageFill: fleet.storages.indices.map { storageUsedBytes[$0] / max(1, fleet.storages[$0].capacityBytes) },
            movesByState: byState,
            writeUnavailableRepositories: writeUnavailableRepositories,
            apdex: last?.apdex, errorRatio: last?.errorRatio,
            apdexCounted: last?.allCounted ?? 0, requests: last?.allRequests ?? 0,
            replicationQueueDepth: queue?.count ?? 0,
            replicationLagSeconds: queue?.oldestCreatedAt.map { (now - $0).seconds } ?? 0,
            weights: weights, movedBytes: movedBytes)
    }
}

extension ReplicationQueue {
    /// When the oldest job still queued was created, or nil when the queue is empty.
    var oldestCreatedAt: SimTime? {
        var oldest: SimTime?
        for case let job? in slots where oldest.map({ job.createdAt < $0 }) ?? true { oldest = job.createdAt }
        return oldest
    }
}
