import Foundation
import SimKernel

/// Faults other than a host going down: disk loss and slowdown, partitions, Praefect loss,
/// zone outages, from a schedule or from MTBF/MTTR.
extension World {
    /// The disk is gone: every replica on the node's storages loses its data, and the node is
    /// down until it is rebuilt with empty disks. Praefect's metadata still lists the replicas
    /// until the metadata verifier finds them missing; a plain storage has no such metadata.
    /// Copies that moves and replication jobs were making on the disk are gone with it.
    mutating func diskLoss(_ n: Int, for duration: SimTime?, _ s: inout EventScheduler<WorldEvent>) {
        nodeDown(n, for: duration, &s)
        for sid in fleet.nodes[n].storages {
            storageUsedBytes[sid] = 0
            forgetCopiesInFlight(to: sid, &s)
            for vs in fleet.virtualStorages.indices {
                guard let slot = fleet.virtualStorages[vs].members.firstIndex(of: sid) else { continue }
                for r in repositoriesByStorage[vs].lazy.map(Int.init) where dataPresent[r].contains(slot: slot) {
                    dataPresent[r] &= ~MemberSet.single(slot)
                    if !vsViaPraefect[vs] { repositories[r].replicaLost(slot) }
                    refreshAvailability(r, s.now)
                }
            }
        }
    }

    /// Storage `sid` lost its disk: a move's copy there is no longer one of its targets; a move
    /// past its copy whose other copies no longer suffice (`createSucceeds`) fails, as its
    /// checksum would. A replication job writing there has nothing left to release when it
    /// fails. O(moves in flight + workers); moves in index order, for determinism.
    mutating func forgetCopiesInFlight(to sid: Int, _ s: inout EventScheduler<WorldEvent>) {
        for m in activeMoves.sorted() {
            let members = fleet.virtualStorages[moves[m].destinationStorage].members
            guard let slot = self[worker: m].targets.slots.first(where: { members[$0] == sid }) else { continue }
            self[worker: m].targets &= ~MemberSet.single(slot)
            if moves[m].step == .checksum, !createSucceeds(m) { failMove(m, reason: "destination replica lost", &s) }
        }
        for w in workers.indices where workers[w].phase != .none {
            guard let job = praefect!.queue.job(workers[w].job), fleet.virtualStorages[job.virtualStorage].members[job.target] == sid else { continue }
            workers[w].reservedBytes = 0
        }
    }

    mutating func setDiskSlowdown(_ n: Int, factor: Double, _ s: inout EventScheduler<WorldEvent>) {
        accrueLoad(s.now)
        nodes[n].slowdownFactor = factor
        refreshDiskShares(node: n, s.now)
        // A load's calls read and write slower too, so they stay on the disk longer.
        refreshLoad(&s, force: true)
        scheduleFlowCheck(&s)
    }

    mutating func setPraefect(_ p: Int, up: Bool, _ s: inout EventScheduler<WorldEvent>) {
        accrueLoad(s.now)
        praefect!.up[p] = up
        if !up { abandonReplication(praefect: p, &s) }
        refreshHealth(s.now)
        copyPraefectMasks()
    }

    mutating func scheduledFault(_ i: Int, _ s: inout EventScheduler<WorldEvent>) {
        let f = fleet.faults.schedule[i]
        if f.kind == .rollingUpdate { return startRollout(f, &s) }
        apply(f.kind, target: f.target, praefectName: f.praefect, peer: f.peer, duration: f.durationSeconds.map(SimTime.seconds), factor: f.factor, &s)
    }

    /// Applies one fault. Durations are how long the cause lasts; a node then needs its host's
    /// recovery time on top.
    mutating func apply(_ kind: FaultKind, target: String, praefectName: String?, peer: String? = nil, duration: SimTime?, factor: Double, _ s: inout EventScheduler<WorldEvent>) {
        switch kind {
        case .nodeCrash:
            let n = fleet.node(named: target)!
            nodeDown(n, for: duration.map { $0 + crashRecovery(n) } ?? crashRecovery(n), &s)
        case .diskSlowdown:
            let n = fleet.node(named: target)!
            setDiskSlowdown(n, factor: factor, &s)
            if let d = duration { s.schedule(after: d, .faultEnd(.diskSlowdown(node: Int32(n)))) }
        case .diskLoss:
            let n = fleet.node(named: target)!
            diskLoss(n, for: duration.map { $0 + crashRecovery(n) }, &s)
        case .partition:
            let n = fleet.node(named: target)!
            let p = fleet.praefect(named: praefectName!)!
            partitioned[p, n] = true
            recomputeWriteFailing(s.now)
            if let d = duration { s.schedule(after: d, .faultEnd(.partition(praefect: Int32(p), node: Int32(n)))) }
        case .praefectLoss:
            let p = fleet.praefect(named: target)!
            setPraefect(p, up: false, &s)
            if let d = duration { s.schedule(after: d, .faultEnd(.praefectLoss(praefect: Int32(p)))) }
        case .zoneOutage:
            let z = fleet.zones.firstIndex(of: target)!
            for n in fleet.nodes.indices where fleet.nodes[n].zone == z {
                nodeDown(n, for: duration.map { $0 + crashRecovery(n) }, &s)
            }
            for p in fleet.praefects.indices where fleet.praefectZones[p] == z {
                setPraefect(p, up: false, &s)
                if let d = duration { s.schedule(after: d, .faultEnd(.praefectLoss(praefect: Int32(p)))) }
            }
        case .podEviction:
            let n = fleet.node(named: target)!
            nodeDown(n, for: evictionTime(n), &s)
        case .gitalyPartition:
            let a = fleet.node(named: target)!, b = fleet.node(named: peer!)!
            setGitalyCut(a, b, true)
            cancelFlows(between: a, b, &s)
            if let d = duration { s.schedule(after: d, .faultEnd(.gitalyPartition(node: Int32(a), peer: Int32(b)))) }
        case .databaseOutage:
            setDatabase(up: false, s.now)
            if let d = duration { s.schedule(after: d, .faultEnd(.databaseOutage)) }
        case .rollingUpdate:
            preconditionFailure("a rolling update is scheduled (startRollout), never random")
        }
    }

    /// Praefect's PostgreSQL goes away or comes back (outages may overlap). Everything Praefect
    /// keeps there stops with it (gitaly#3356 calls the connection a single point of failure):
    /// - routing: every call looks its repository up in the database (`GetRepositoryID`,
    ///   `GetConsistentStorages`, `GetPrimary`, gitaly `router_per_repository.go`), and the
    ///   consistent-storages cache is purged and off while its LISTEN connection is down
    ///   (`datastore/storage_provider.go`, `Disconnect`): reads and writes fail (`World+RPC`);
    /// - the finalizer cannot record generations or enqueue jobs: a write finishing then fails;
    /// - the replication queue: workers dequeue nothing, a job's `SetGeneration` fails, and
    ///   a batch's acknowledgement too, so its jobs go stale once the database is back;
    /// - health: each Praefect's checks still feed its local view (stored before the
    ///   database write, `nodes/health_manager.go`), but `node_status` is not updated, so the
    ///   consensus ages until the first round after the outage;
    /// - the reconciler, the verifier and `ProcessStale` do not run.
    mutating func setDatabase(up: Bool, _ now: SimTime) {
        accrueLoad(now)
        databaseDownCount += up ? -1 : 1
        recomputeWriteFailing(now)
    }

    mutating func faultEnd(_ e: FaultEnd, _ s: inout EventScheduler<WorldEvent>) {
        switch e {
        case .diskSlowdown(let n): setDiskSlowdown(Int(n), factor: 1, &s)
        case .partition(let p, let n):
            partitioned[Int(p), Int(n)] = false
            recomputeWriteFailing(s.now)
        case .praefectLoss(let p): setPraefect(Int(p), up: true, &s)
        case .gitalyPartition(let a, let b): setGitalyCut(Int(a), Int(b), false)
        case .databaseOutage: setDatabase(up: true, s.now)
        }
    }

    /// A partition between two Gitaly nodes: replication between them fails (the target fetches
    /// from the source, gitaly `replicate.go`); Praefect still reaches both, so votes and
    /// routing are untouched.
    mutating func setGitalyCut(_ a: Int, _ b: Int, _ cut: Bool) {
        gitalyCut[a, b] = cut
        gitalyCut[b, a] = cut
    }

    // MARK: Random faults (MTBF / MTTR)

    /// Schedules the first occurrence of each random fault: node faults per node, the others
    /// for the fleet, each after an exponential time with the MTBF as mean.
    mutating func scheduleRandomFaults(_ s: inout EventScheduler<WorldEvent>) {
        let f = fleet.faults
        for n in nodes.indices {
            if let r = f.nodeCrash { startFaultProcess(.nodeCrash, target: n, r, &s) }
            if let r = f.diskSlowdown { startFaultProcess(.diskSlowdown, target: n, r, &s) }
            if let r = f.diskLoss { startFaultProcess(.diskLoss, target: n, r, &s) }
        }
        for (kind, rate) in [(FaultKind.partition, f.partition), (.praefectLoss, f.praefectLoss), (.zoneOutage, f.zoneOutage), (.databaseOutage, f.databaseOutage)] {
            if let r = rate { startFaultProcess(kind, target: -1, r, &s) }
        }
    }

    static func faultProcessKey(_ kind: FaultKind, _ target: Int) -> Int { FaultKind.allCases.firstIndex(of: kind)! << 32 | (target + 1) }

    /// The first up-time of a fault process, from now.
    mutating func startFaultProcess(_ kind: FaultKind, target: Int, _ rate: FaultRate, _ s: inout EventScheduler<WorldEvent>) {
        faultProcesses[Self.faultProcessKey(kind, target)] = (rate: 1 / rate.mtbfSeconds, upSince: s.now, running: true)
        s.schedule(after: upTime(rate), .randomFault(kind: kind, target: Int32(target)))
    }

    /// An exponential up-time at the sampling rate: the real one times `faultRateScale`.
    mutating func upTime(_ rate: FaultRate) -> SimTime {
        faultRandom.exponentialTime(mean: .seconds(rate.mtbfSeconds / config.faultRateScale))
    }

    /// The likelihood ratio of this run's random faults under the real rates against the
    /// sampling rates, up to `now`. Each process's up-times are exponential: a finished one of
    /// length u contributes λe^{−λu} / (kλ e^{−kλu}), an unfinished one e^{−λu} / e^{−kλu}, so
    /// the log-ratio is −n ln k + (k − 1) Σ λ u over all up-time (n faults struck, k the scale).
    /// 1 without scaling. A run's indicator times this ratio is an unbiased estimate of the
    /// probability under the real rates (importance sampling; Rubino and Tuffin, "Rare Event
    /// Simulation using Monte Carlo Methods", 2009, ch. 2).
    public func faultLikelihoodRatio(at now: SimTime) -> Double {
        let k = config.faultRateScale
        guard k != 1 else { return 1 }
        var exposure = faultExposure
        // In key order: a dictionary's order changes from process to process, and so would the
        // sum's last bits.
        for key in faultProcesses.keys.sorted() {
            let p = faultProcesses[key]!
            if p.running && p.upSince < now { exposure += p.rate * (now - p.upSince).seconds }
        }
        return exp(-Double(randomFaultsOccurred) * log(k) + (k - 1) * exposure)
    }

    mutating func randomFault(_ kind: FaultKind, target: Int, _ s: inout EventScheduler<WorldEvent>) {
        let key = Self.faultProcessKey(kind, target)
        if var p = faultProcesses[key], p.running {
            // This up-time ends now: it struck (or, in the quiet phase, the process stops and
            // the up-time counts as unfinished).
            let quiet = config.quietAfterSeconds.map { s.now >= .seconds($0) } ?? false
            let end = quiet ? max(p.upSince, .seconds(config.quietAfterSeconds!)) : s.now
            faultExposure += p.rate * (end - p.upSince).seconds
            if quiet { p.running = false } else { randomFaultsOccurred += 1 }
            faultProcesses[key] = p
        }
        if let quiet = config.quietAfterSeconds, s.now >= .seconds(quiet) { return }
        let f = fleet.faults
        let rate: FaultRate?
        switch kind {
        case .nodeCrash: rate = f.nodeCrash
        case .diskSlowdown: rate = f.diskSlowdown
        case .partition: rate = f.partition
        case .praefectLoss: rate = f.praefectLoss
        case .zoneOutage: rate = f.zoneOutage
        case .databaseOutage: rate = f.databaseOutage
        case .diskLoss: rate = f.diskLoss
        case .podEviction, .gitalyPartition, .rollingUpdate: rate = nil
        }
        guard let rate else { return }
        let repair = faultRandom.exponentialTime(mean: .seconds(rate.mttrSeconds))
        // The next failure comes an exponential up-time after this one is over (an alternating
        // renewal process: MTBF is the mean time between a repair and the next failure).
        var outage = repair
        switch kind {
        case .nodeCrash, .diskSlowdown, .diskLoss, .podEviction, .gitalyPartition:
            // A node down (crashed, or rebuilt after losing its disk) also needs its host's restart.
            if kind == .nodeCrash || kind == .diskLoss { outage = repair + crashRecovery(target) }
            apply(kind, target: fleet.nodes[target].name, praefectName: nil, duration: repair, factor: 0.1, &s)
        case .partition:
            guard !fleet.praefects.isEmpty else { return }
            let p = faultRandom.below(fleet.praefects.count)
            apply(kind, target: fleet.nodes[faultRandom.below(fleet.nodes.count)].name, praefectName: fleet.praefects[p].name, duration: repair, factor: 1, &s)
        case .praefectLoss:
            guard !fleet.praefects.isEmpty else { return }
            apply(kind, target: fleet.praefects[faultRandom.below(fleet.praefects.count)].name, praefectName: nil, duration: repair, factor: 1, &s)
        case .zoneOutage:
            apply(kind, target: fleet.zones[faultRandom.below(fleet.zones.count)], praefectName: nil, duration: repair, factor: 1, &s)
        case .databaseOutage:
            apply(kind, target: "", praefectName: nil, duration: repair, factor: 1, &s)
        case .rollingUpdate:
            return
        }
        faultProcesses[key]?.upSince = s.now + outage
        s.schedule(after: outage + upTime(rate), .randomFault(kind: kind, target: Int32(target)))
    }

}
