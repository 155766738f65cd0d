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
    /// Σ over repositories of the seconds a write to it would have failed, whatever the reason
    /// (read-only, a crashed primary before failover, an election, a partition); with several
    /// Praefects, weighted by the share of them a write would fail through.
    public var writeUnavailableRepositorySeconds: Double
    public var windows: [WindowStats]
    public var rpcsCompleted: Int
    public var outcomes: [RPCOutcome: Int]
    public var replicationJobsRun: Int
    public var replicationJobsDead: Int
    /// Job creation to start (`gitaly_praefect_replication_delay`); Praefect's
    /// `replicator_queue` apdex is satisfied at 300 s (GITALY_LOGS.md §5).
    public var replicationDelaySeconds: Tally
    /// Job start to end (`gitaly_praefect_replication_latency`).
    public var replicationLatencySeconds: Tally
    /// Jobs failed by `ProcessStale` after their Praefect stopped.
    public var replicationJobsStale: Int
    /// Per storage: the highest used / capacity seen during the run.
    public var peakStorageFill: [Double]
    /// Nodes running a bad release at the end (`ReleaseSpec.isBad`), and the most at once.
    public var nodesOnBadRelease: Int = 0
    public var nodesOnBadReleasePeak: Int = 0
    /// Canary analyses that rolled their release back.
    public var rolloutsRolledBack: Int = 0
}

/// What a repository's write availability depends on besides the fleet's health.
struct AvailabilityKey: Hashable, Sendable {
    var virtualStorage: Int32
    var primary: Int8
    var readOnly: Bool
    var upToDate: MemberSet
    var assigned: MemberSet
    /// Replicas whose data is really on disk.
    var present: MemberSet

    /// Four words instead of six fields: a key is hashed on every change of a repository's.
    func hash(into h: inout Hasher) {
        h.combine(UInt64(UInt32(bitPattern: virtualStorage)) | UInt64(UInt8(bitPattern: primary)) << 32 | (readOnly ? 1 << 40 : 0))
        h.combine(upToDate)
        h.combine(assigned)
        h.combine(present)
    }
}

/// Accounting: availability as clients see it, and the report.
extension World {
    /// What decides whether a write to a repository fails, apart from the fleet's health:
    /// repositories with the same key fail or succeed together, so the accounting keeps a count
    /// per key and never walks every repository when health changes.
    @inline(__always)
    func availabilityKey(_ r: Int) -> AvailabilityKey {
        let record = repositories[r]
        let vs = record.virtualStorage
        if vsViaPraefect[vs] {
            return AvailabilityKey(virtualStorage: Int32(vs), primary: Int8(record.primary), readOnly: readOnly[r],
                                   upToDate: record.upToDate, assigned: record.assigned, present: dataPresent[r])
        }
        return AvailabilityKey(virtualStorage: Int32(vs), primary: 0, readOnly: readOnly[r], upToDate: 0, assigned: 0, present: dataPresent[r])
    }

    /// Re-evaluates one repository after its metadata, read-only flag or data changed.
    /// Cheap when nothing that matters changed (every write calls it).
    mutating func refreshAvailability(_ r: Int, _ now: SimTime) {
        let (old, new) = availabilityKeys.replace(at: r, with: availabilityKey(r))
        guard old != new else { return }
        leaveKey(old)
        enterKey(new)
        updateWriteFailing(now)
    }

    /// A repository takes the key numbered `d` in `availabilityKeys`. A key no repository had
    /// is evaluated afresh; the others are kept current by `recomputeWriteFailing`.
    mutating func enterKey(_ d: UInt32) {
        let k = Int(d)
        while k >= repositoriesWithKey.count {
            repositoriesWithKey.append(0)
            failingWithKey.append(0)
        }
        if repositoriesWithKey[k] == 0 { failingWithKey[k] = failingPraefects(availabilityKeys.distinctValue(d)) }
        repositoriesWithKey[k] += 1
        failingWeight += failingWithKey[k]
    }

    mutating func leaveKey(_ d: UInt32) {
        let k = Int(d)
        failingWeight -= failingWithKey[k]
        repositoriesWithKey[k] -= 1
    }

    /// The weight every repository is counted with: the running Praefects a write can go
    /// through (a plain storage's repositories count that many times over, so the sum stays an
    /// integer and the result does not depend on dictionary order).
    var availabilityScale: Int { max(1, runningPraefects.count) }

    /// Through how many of the running Praefects a write to a repository with `key` fails now
    /// (scaled: a plain storage's repository counts `availabilityScale` when it fails). A write
    /// fails when the repository is read-only (Rails refuses it), when no Praefect runs, or when
    /// the Praefect the load balancer picks cannot route it: after the lazy election, the
    /// primary must be healthy in that Praefect's local view, up to date, reachable (a crashed
    /// node fails the call even before the health checks notice) and hold the data
    /// (gitaly `router_per_repository.go` `RouteRepositoryMutator`, `nodes/per_repository.go`).
    /// When the election has a choice, the write counts as served if any valid primary would
    /// serve it.
    func failingPraefects(_ key: AvailabilityKey) -> Int {
        let scale = availabilityScale
        if key.readOnly { return scale }
        let vs = Int(key.virtualStorage)
        guard vsViaPraefect[vs] else {
            return !nodes[node(vs, 0)].up || key.present == 0 ? scale : 0
        }
        if runningPraefects.isEmpty || !databaseUp { return scale }
        let candidates = Praefect.validPrimaries(upToDate: key.upToDate, assigned: key.assigned, consensusHealthy: consensusMask[vs])
        let primaries = candidates == 0 || candidates.contains(slot: Int(key.primary)) ? MemberSet.single(Int(key.primary)) : candidates
        var failing = 0
        for p in runningPraefects {
            var served = false
            for slot in (primaries & key.upToDate & key.present & localMask[p, vs]).slots where reachable(praefect: p, node: node(vs, slot)) {
                served = true
                break
            }
            if !served { failing += 1 }
        }
        return failing
    }

    /// Health, nodes, partitions or Praefects changed: every key is re-evaluated (there are
    /// few: repositories sharing a primary and a replica state share a key).
    mutating func recomputeWriteFailing(_ now: SimTime) {
        var total = 0
        for k in repositoriesWithKey.indices where repositoriesWithKey[k] > 0 {
            failingWithKey[k] = failingPraefects(availabilityKeys.distinctValue(UInt32(k)))
            total += repositoriesWithKey[k] * failingWithKey[k]
        }
        failingWeight = total
        updateWriteFailing(now)
    }

    mutating func updateWriteFailing(_ now: SimTime) {
        let v = Double(failingWeight) / Double(availabilityScale)
        if v != writeFailing.value { writeFailing.set(v, at: now) }
    }

    /// Repositories a write would fail on now, the share of Praefects counted for each
    /// (so one of three Praefects cut off from a primary counts a third).
    public var writeUnavailableShare: Double { writeFailing.value }
    public var writeUnavailableRepositories: Int { Int(writeFailing.value.rounded()) }

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
        // Listed by place, as traffic names them, so a layout changes no output; the walk
        // goes in the layout's order (out of it, a cache miss a repository).
        if !populationLayout.isEmpty { out.sort { place(of: $0.repository) < place(of: $1.repository) } }
        return out
    }

    public func report(at now: SimTime) -> WorldReport {
        var lost = 0
        for r in repositories.indices { lost += ledger.lost(repository: r, record: repositories[r], holding: dataPresent[r]) }
        var outcomeCounts: [RPCOutcome: Int] = [:]
        for o in RPCOutcome.allCases { outcomeCounts[o] = outcomes[o.rawValue] }
        return WorldReport(acknowledgedWrites: ledger.acknowledgedTotal, lostWrites: lost, discardedWrites: ledger.discardedTotal,
                           unavailableRepositories: dataloss(), writeUnavailableRepositorySeconds: writeFailing.integral(at: now),
                           windows: windows + [window], rpcsCompleted: rpcsCompleted, outcomes: outcomeCounts,
                           replicationJobsRun: praefect?.replicationJobsRun ?? 0, replicationJobsDead: praefect?.queue.deadJobs ?? 0, replicationDelaySeconds: replicationDelaySeconds,
                           replicationLatencySeconds: replicationLatencySeconds, replicationJobsStale: praefect?.queue.staleJobs ?? 0,
                           peakStorageFill: fleet.storages.indices.map { peakStorageUsedBytes[$0] / max(1, fleet.storages[$0].capacityBytes) },
                           nodesOnBadRelease: nodesOnBadRelease, nodesOnBadReleasePeak: max(badReleasePeak, nodesOnBadRelease),
                           rolloutsRolledBack: rolloutsRolledBack)
    }

}
