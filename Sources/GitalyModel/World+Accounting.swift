import SimKernel

/// What a run leaves behind, as the architecture's results list it.
public struct WorldReport: Sendable {
    public var acknowledgedWrites: Int
    /// Acknowledged writes that no surviving replica holds at the end.
    public var lostWrites: Int
    /// Acknowledged writes thrown away by accept-dataloss or a move's switch.
    public var discardedWrites: Int
    /// Repositories unavailable at the end, as `praefect dataloss` lists them.
    public var unavailableRepositories: [DatalossEntry]
    /// Σ over repositories of the seconds each was read-only or unavailable for writes.
    public var writeUnavailableRepositorySeconds: Double
    public var windows: [WindowStats]
    public var rpcsCompleted: Int
    public var outcomes: [RPCOutcome: Int]
    public var replicationJobsRun: Int
    public var replicationJobsDead: Int
    /// Job creation to start (`gitaly_praefect_replication_delay`); Praefect's
    /// `replicator_queue` apdex is satisfied at 300 s (GITALY_LOGS.md §5).
    public var replicationDelaySeconds: Tally
    /// Per storage: the highest used / capacity seen during the run.
    public var peakStorageFill: [Double]
}

/// Accounting and invariants.
extension World {
    /// Whether a repository can take writes: not read-only, and a valid primary exists (a plain
    /// storage: its node is up and the replica exists). Always inlined: called on its own from
    /// the mutating `refreshAvailability` (on every write), it copied a large block of the world
    /// first (callgrind: a memcpy per call, 2% of the benchmark's instructions).
    @inline(__always)
    func isWriteUnavailable(_ r: Int) -> Bool {
        if readOnly[r] { return true }
        let vs = repositories[r].virtualStorage
        if vsViaPraefect[vs] {
            return Praefect.isUnavailable(repositories[r], consensusHealthy: consensusMask[vs])
        }
        return !nodes[node(vs, 0)].up || dataPresent[r] == 0
    }

    /// Re-evaluates one repository and keeps the count of write-unavailable repositories,
    /// whose time integral is the write-unavailable repository-seconds.
    mutating func refreshAvailability(_ r: Int, _ now: SimTime) {
        let u = isWriteUnavailable(r)
        guard u != writeUnavailable[r] else { return }
        writeUnavailable[r] = u
        writeUnavailableCount.add(u ? 1 : -1, at: now)
    }

    public var writeUnavailableRepositories: Int { Int(writeUnavailableCount.value) }

    /// `praefect dataloss`: unavailable repositories with their primary, in-sync and outdated
    /// storages; with `partially`, also those with an assigned replica that is not a valid
    /// primary (gitaly `subcmd_dataloss.go`).
    public func dataloss(partially: Bool = false) -> [DatalossEntry] {
        var out: [DatalossEntry] = []
        for r in repositories.indices {
            let record = repositories[r]
            let vs = fleet.virtualStorages[record.virtualStorage]
            guard vs.viaPraefect else { continue }
            let healthy = praefect!.consensusMasks[record.virtualStorage]
            let unavailable = Praefect.isUnavailable(record, consensusHealthy: healthy)
            guard unavailable || (partially && Praefect.isPartiallyUnavailable(record, consensusHealthy: healthy)) else { continue }
            let name = { (slot: Int) in self.fleet.storages[vs.members[slot]].name }
            out.append(DatalossEntry(repository: r, relativePath: repositoryPaths[r], virtualStorage: vs.name, primary: name(record.primary),
                                     inSync: record.upToDate.slots.map(name), outdated: (record.assigned & ~record.upToDate).slots.map(name),
                                     unavailable: unavailable))
        }
        return out
    }

    public func report(at now: SimTime) -> WorldReport {
        var lost = 0
        for r in repositories.indices { lost += ledger.lost(repository: r, record: repositories[r], holding: dataPresent[r]) }
        var outcomeCounts: [RPCOutcome: Int] = [:]
        for o in RPCOutcome.allCases { outcomeCounts[o] = outcomes[o.rawValue] }
        return WorldReport(acknowledgedWrites: ledger.acknowledgedTotal, lostWrites: lost, discardedWrites: ledger.discardedTotal,
                           unavailableRepositories: dataloss(), writeUnavailableRepositorySeconds: writeUnavailableCount.integral(at: now),
                           windows: windows + [window], rpcsCompleted: rpcsCompleted, outcomes: outcomeCounts,
                           replicationJobsRun: praefect?.replicationJobsRun ?? 0, replicationJobsDead: praefect?.queue.deadJobs ?? 0, replicationDelaySeconds: replicationDelaySeconds,
                           peakStorageFill: fleet.storages.indices.map { peakStorageUsedBytes[$0] / max(1, fleet.storages[$0].capacityBytes) })
    }

}
