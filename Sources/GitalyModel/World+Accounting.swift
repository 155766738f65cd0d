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

    /// `praefect accept-dataloss`: the chosen replica becomes authoritative; the writes it
    /// lacks are discarded for good and the other replicas are overwritten from it.
    public mutating func acceptDataloss(repository r: Int, authoritativeStorage storage: Int, at now: SimTime) {
        let vs = repositories[r].virtualStorage
        guard let slot = fleet.virtualStorages[vs].members.firstIndex(of: storage) else { preconditionFailure("storage \(storage) is not in the repository's virtual storage") }
        ledger.discard(repository: r, above: repositories[r].replicaGeneration(slot))
        repositories[r].setAuthoritative(slot)
        for target in (repositories[r].assigned & ~MemberSet.single(slot)).slots {
            praefect?.queue.enqueue(repository: r, virtualStorage: vs, source: slot, target: target, change: .update, at: now)
        }
        refreshAvailability(r, now)
    }

    /// `praefect set-replication-factor` for every repository of a virtual storage; the
    /// reconciler carries it out on its next runs.
    public mutating func setReplicationFactor(virtualStorage vs: Int, factor: Int) -> Result<Void, AdminError> {
        guard fleet.virtualStorages[vs].viaPraefect, factor >= 1, factor <= fleet.virtualStorages[vs].members.count else { return .failure(.replicationFactorOutOfRange) }
        for r in repositoriesByStorage[vs] { Praefect.setReplicationFactor(&repositories[r], factor: factor, random: &replicationRandom) }
        return .success(())
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

    /// The invariants every transition must keep (STYLE.md "Assertions"): generations never
    /// exceed the repository's (checked in `RepositoryRecord`), the primary is assigned, a
    /// repository is authoritative on exactly one GitLab storage outside a move, and no storage
    /// is over its capacity. Generations never decreasing is enforced where they change.
    public func checkInvariants() {
        for r in repositories.indices {
            repositories[r].checkInvariants()
            let vs = repositories[r].virtualStorage
            precondition(repositoriesByStorage[vs].contains(r), "repository \(r) is not listed on its storage \(vs)")
        }
        precondition(repositoriesByStorage.map(\.count).reduce(0, +) == repositories.count, "a repository is listed on two storages")
        for m in moves where m.phase != .done {
            let r = m.move.repository
            let expected = m.move.state == .replicated ? m.move.destinationStorage : m.move.sourceStorage
            precondition(repositories[r].virtualStorage == expected, "move \(m.move.id): repository \(r) is authoritative on the wrong storage")
        }
        for s in fleet.storages.indices {
            precondition(storageUsedBytes[s] <= fleet.storages[s].capacityBytes * (1 + 1e-9) + 1, "storage \(fleet.storages[s].name) is over its capacity")
            precondition(storageUsedBytes[s] >= -1, "storage \(fleet.storages[s].name) has negative use")
        }
        // An RPC a limiter admitted is on a core or queued for one, so it is counted there.
        var held = 0
        for n in nodes { held += n.cpu.busy + n.cpu.queueLength + n.limiters.values.reduce(0) { $0 + $1.queueLength } }
        precondition(held == inflightHeld, "\(inflightHeld) RPC slots are held but nodes account for \(held)")
    }
}
