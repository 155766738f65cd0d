import SimKernel

/// Where a replication worker's current job is.
enum ReplicationJobPhase {
    case none
    /// The job's fixed latency (database, RPC set-up) is running.
    case latency
    /// CPU on the source and the target node.
    case cpu
    /// The bytes, as a bandwidth flow.
    case transfer
}

/// A replication worker of one Praefect on one virtual storage.
struct WorkerState {
    var praefect: Int
    var virtualStorage: Int
    var target = 0
    var batch: [Int] = []
    var next = 0
    var busy = false
    var token: UInt32 = 0
    /// Results of the batch's jobs so far, acknowledged together when the batch ends.
    var results: [(job: Int, success: Bool)] = []
    var job = -1
    var phase = ReplicationJobPhase.none
    /// Identifies the running job: events and CPU work of an abandoned job are ignored.
    var jobToken: UInt32 = 0
    var jobStartedAt = SimTime.zero
    var cpuPending = 0
    var cpuFailed = false
    var sourceGeneration: Int64 = 0
    var bytes = 0.0
    /// Space the running job took on its target for a replica that was not there: released if
    /// the job fails, kept if it succeeds.
    var reservedBytes = 0.0
    var jobNodes = (source: 0, target: 0)

    init(praefect: Int, virtualStorage: Int) {
        self.praefect = praefect
        self.virtualStorage = virtualStorage
    }
}

/// Praefect's replication: the workers that drain the queue and the reconciler that fills it
/// (gitaly `internal/praefect/replicator.go`, `reconciler/reconciler.go`).
extension World {
    /// A replication job's CPU on a node rides in the RPC slab with `transaction` at or below
    /// this marker: `marker − worker`.
    static let replicationWorkMarker: Int32 = -2
    /// `ProcessStale` runs every 30 s and fails in-progress jobs without a heartbeat for 1 min
    /// (gitaly `replicator.go`, `datastore/queue.go` `AcknowledgeStale`). PUBLIC (source).
    static let staleCheckPeriod = SimTime.seconds(30)
    static let staleJobAge = SimTime.seconds(60)

    mutating func workerWake(_ w: Int, token: UInt32, _ s: inout EventScheduler<WorldEvent>) {
        guard token == workers[w].token, !workers[w].busy else { return }
        let p = workers[w].praefect
        let vs = workers[w].virtualStorage
        guard praefect!.up[p], databaseUp else {
            // A stopped Praefect's workers (or all, without the database) look again later.
            return sleepWorker(w, until: s.now + .seconds(praefect!.spec.replication.idleBackoffMaxSeconds), &s)
        }
        if let (target, jobs) = praefect!.workerStep(praefect: p, virtualStorage: vs, at: s.now) {
            workers[w].target = target
            workers[w].batch = jobs
            workers[w].next = 0
            workers[w].results = []
            workers[w].busy = true
            runNextJob(w, &s)
        } else {
            sleepWorker(w, until: praefect!.nextWorkerWake(praefect: p, virtualStorage: vs, now: s.now), &s)
        }
    }

    mutating func sleepWorker(_ w: Int, until t: SimTime, _ s: inout EventScheduler<WorldEvent>) {
        workers[w].token &+= 1
        guard t < .max else { return }
        s.schedule(at: max(t, s.now), .workerWake(worker: Int32(w), token: workers[w].token))
    }

    /// Runs the worker's next job of its batch, one after the other; at the batch's end every
    /// job is acknowledged at once (gitaly `replicator.go`, `handleNode`), the target goes back
    /// to the end of the workers' queue, and idle workers look for work.
    mutating func runNextJob(_ w: Int, _ s: inout EventScheduler<WorldEvent>) {
        while workers[w].next < workers[w].batch.count {
            let slot = workers[w].batch[workers[w].next]
            workers[w].next += 1
            if startJob(slot, worker: w, &s) { return }
        }
        // Without the database the acknowledgement fails: the jobs stay in progress and go
        // stale (`ProcessStale`) once it is back.
        if databaseUp {
            for (job, success) in workers[w].results { praefect!.queue.acknowledge(job, success: success) }
        }
        workers[w].results = []
        workers[w].busy = false
        workers[w].batch = []
        let p = workers[w].praefect, vs = workers[w].virtualStorage
        praefect!.targetDone(praefect: p, virtualStorage: vs, target: workers[w].target)
        for other in workers.indices where !workers[other].busy && workers[other].praefect == p && workers[other].virtualStorage == vs {
            sleepWorker(other, until: s.now, &s)
        }
    }

    /// Starts one replication job; returns true when it runs (the worker waits for it), false
    /// when it finished at once.
    mutating func startJob(_ slot: Int, worker w: Int, _ s: inout EventScheduler<WorldEvent>) -> Bool {
        guard let job = praefect!.queue.job(slot) else { return false }
        praefect!.replicationJobsRun += 1
        replicationDelaySeconds.add((s.now - job.createdAt).seconds)
        let r = job.repository
        let record = repositories[r]
        let sourceNode = node(job.virtualStorage, job.source)
        let targetNode = node(job.virtualStorage, job.target)
        let p = workers[w].praefect
        switch job.change {
        case .deleteReplica:
            let ok = reachable(praefect: p, node: targetNode)
            if ok, record.existing.contains(slot: job.target), !record.assigned.contains(slot: job.target) {
                repositories[r].replicaLost(job.target)
                if dataPresent[r].contains(slot: job.target) {
                    dataPresent[r] &= ~MemberSet.single(job.target)
                    storageUsedBytes[fleet.virtualStorages[job.virtualStorage].members[job.target]] -= record.sizeBytes
                }
                refreshAvailability(r, s.now)
            }
            workers[w].results.append((slot, ok))
            return false
        case .update:
            break
        }
        // A job fails when either end is unreachable, or by the injected failure rate.
        let reachableEnds = reachable(praefect: p, node: sourceNode) && reachable(praefect: p, node: targetNode) && !gitalyCut[sourceNode, targetNode]
        // The source answers that the repository does not exist: Praefect deletes the source's
        // record at once (gitaly `replicator.go` on `ErrRepositoryNotFound` →
        // `datastore/repository_store.go` `DeleteInvalidRepository`), long before the verifier
        // would notice.
        if reachableEnds && record.existing.contains(slot: job.source) && !dataPresent[r].contains(slot: job.source) {
            repositories[r].replicaLost(job.source)
            refreshAvailability(r, s.now)
            workers[w].results.append((slot, false))
            return false
        }
        let failed = !reachableEnds
            || record.replicaGeneration(job.source) == RepositoryRecord.missing
            || replicationRandom.bernoulli(fleet.faults.replicationJobFailureProbability)
        if failed {
            workers[w].results.append((slot, false))
            return false
        }
        let sourceGeneration = record.replicaGeneration(job.source)
        let targetGeneration = record.replicaGeneration(job.target)
        // The downgrade guard: a target at or past the source needs nothing.
        if targetGeneration >= sourceGeneration {
            workers[w].results.append((slot, true))
            return false
        }
        // A missing replica is created from a snapshot of the whole repository; an outdated
        // one fetches what it lacks, charged as the writes' bytes since its generation.
        let writeBytes = (config.traffic?.profiles[RPCClass.write.index] ?? RPCProfile.defaultProfile(.write)).bytesWritten
        let bytes = targetGeneration == RepositoryRecord.missing ? record.sizeBytes : min(record.sizeBytes, Double(sourceGeneration - targetGeneration) * writeBytes)
        var reserved = 0.0
        if !dataPresent[r].contains(slot: job.target) {
            let storage = fleet.virtualStorages[job.virtualStorage].members[job.target]
            guard storageUsedBytes[storage] + record.sizeBytes <= fleet.storages[storage].capacityBytes else {
                workers[w].results.append((slot, false))
                return false
            }
            storageUsedBytes[storage] += record.sizeBytes
            reserved = record.sizeBytes
        }
        workers[w].reservedBytes = reserved
        let spec = praefect!.spec.replication
        workers[w].job = slot
        workers[w].jobToken &+= 1
        workers[w].jobStartedAt = s.now
        workers[w].sourceGeneration = sourceGeneration
        workers[w].bytes = bytes
        workers[w].jobNodes = (sourceNode, targetNode)
        workers[w].phase = .latency
        var latency = spec.jobLatencyMinimumSeconds
        if spec.jobLatencyExtraMeanSeconds > 0 { latency += replicationRandom.exponential(rate: 1 / spec.jobLatencyExtraMeanSeconds) }
        s.schedule(after: .nearest(seconds: latency), .replicationStep(worker: Int32(w), token: workers[w].jobToken))
        return true
    }

    /// The job's fixed latency is over: its CPU work starts on both nodes, sharing their cores
    /// with RPCs (skipped when both means are 0).
    mutating func replicationStep(_ w: Int, token: UInt32, _ s: inout EventScheduler<WorldEvent>) {
        guard workers[w].jobToken == token, workers[w].phase == .latency else { return }
        let spec = praefect!.spec.replication
        let ends = workers[w].jobNodes
        let work = [(ends.source, spec.jobSourceCPUSeconds), (ends.target, spec.jobTargetCPUSeconds)].filter { $0.1 > 0 }
        guard !work.isEmpty else { return startTransfer(w, &s) }
        guard nodes[ends.source].up && nodes[ends.target].up else { return replicationJobEnded(w, success: false, &s) }
        workers[w].phase = .cpu
        workers[w].cpuPending = work.count
        workers[w].cpuFailed = false
        let r = praefect!.queue.job(workers[w].job)!.repository
        for (n, mean) in work {
            let cpu = replicationRandom.exponential(rate: 1 / mean)
            let rpc = RPC(arrivedAt: workers[w].jobStartedAt, repository: Int32(r), transaction: World.replicationWorkMarker - Int32(w),
                          epoch: nodes[n].epoch, rpcClass: .maintenance, member: 0,
                          cost: allocateCost(RecordedCost(cpuSeconds: cpu, bytesRead: 0, bytesWritten: 0)))
            startOnCores(hold(rpc), node: n, &s)
        }
    }

    /// One node finished (or lost) a job's CPU work.
    mutating func replicationCPUDone(_ rpc: RPC, ok: Bool, _ s: inout EventScheduler<WorldEvent>) {
        freeCost(rpc.cost)
        let w = Int(World.replicationWorkMarker - rpc.transaction)
        guard workers[w].phase == .cpu, workers[w].jobStartedAt == rpc.arrivedAt else { return }
        workers[w].cpuPending -= 1
        if !ok { workers[w].cpuFailed = true }
        guard workers[w].cpuPending == 0 else { return }
        if workers[w].cpuFailed { return replicationJobEnded(w, success: false, &s) }
        startTransfer(w, &s)
    }

    mutating func startTransfer(_ w: Int, _ s: inout EventScheduler<WorldEvent>) {
        workers[w].phase = .transfer
        let ends = workers[w].jobNodes
        startFlow(bytes: workers[w].bytes, from: ends.source, to: ends.target,
                  owner: .replication(worker: w, job: workers[w].job, sourceGeneration: workers[w].sourceGeneration, nodes: (ends.source, ends.target)), &s)
    }

    mutating func replicationFlowEnded(worker w: Int, job slot: Int, sourceGeneration: Int64, success: Bool, _ s: inout EventScheduler<WorldEvent>) {
        guard workers[w].phase == .transfer, workers[w].job == slot else { return }
        replicationJobEnded(w, success: success, &s)
    }

    /// The running job ended: its effect on the metadata now, its acknowledgement with the batch.
    mutating func replicationJobEnded(_ w: Int, success copied: Bool, _ s: inout EventScheduler<WorldEvent>) {
        // `SetGeneration` writes the database: without it the copy does not count.
        let success = copied && databaseUp
        let slot = workers[w].job
        workers[w].phase = .none
        workers[w].job = -1
        replicationLatencySeconds.add((s.now - workers[w].jobStartedAt).seconds)
        if let job = praefect!.queue.job(slot) {
            let r = job.repository
            if success {
                if repositories[r].replicaGeneration(job.target) == RepositoryRecord.missing { enqueueVerification(r, job.target, due: s.now + verificationInterval) }
                repositories[r].replicated(to: job.target, sourceGeneration: workers[w].sourceGeneration)
                dataPresent[r] |= .single(job.target)
                refreshAvailability(r, s.now)
            } else if !dataPresent[r].contains(slot: job.target) {
                storageUsedBytes[fleet.virtualStorages[job.virtualStorage].members[job.target]] -= workers[w].reservedBytes
            }
            workers[w].reservedBytes = 0
            workers[w].results.append((slot, success))
        }
        runNextJob(w, &s)
    }

    /// Praefect `p` stopped: its workers drop their batches, whose jobs stay in progress
    /// without heartbeats until `ProcessStale` of a running Praefect fails them.
    mutating func abandonReplication(praefect p: Int, _ s: inout EventScheduler<WorldEvent>) {
        for w in workers.indices where workers[w].praefect == p && workers[w].busy {
            if workers[w].phase == .transfer {
                let job = workers[w].job
                for entry in flowOwners {
                    guard let (id, owner) = entry, case .replication(let ow, let oj, _, _) = owner, ow == w, oj == job else { continue }
                    pool.cancel(id, at: s.now)
                    _ = takeOwner(id)
                }
                scheduleFlowCheck(&s)
            }
            if workers[w].phase != .none, let job = praefect!.queue.job(workers[w].job),
               !dataPresent[job.repository].contains(slot: job.target) {
                storageUsedBytes[fleet.virtualStorages[job.virtualStorage].members[job.target]] -= workers[w].reservedBytes
            }
            workers[w].reservedBytes = 0
            praefect!.queue.orphan(workers[w].batch, at: s.now)
            workers[w].phase = .none
            workers[w].job = -1
            workers[w].jobToken &+= 1
            workers[w].busy = false
            workers[w].batch = []
            workers[w].results = []
            praefect!.targetDone(praefect: p, virtualStorage: workers[w].virtualStorage, target: workers[w].target)
        }
    }

    /// `ProcessStale`: every 30 s a running Praefect fails jobs without a heartbeat for 1 min.
    mutating func staleJobCheck(_ s: inout EventScheduler<WorldEvent>) {
        s.schedule(after: Self.staleCheckPeriod, .staleJobCheck)
        guard !runningPraefects.isEmpty, databaseUp else { return }
        praefect!.queue.failStale(at: s.now, staleAfter: Self.staleJobAge)
    }

    // MARK: Reconciler

    /// The reconciler (gitaly `reconciler/reconciler.go`): every interval, with at least two
    /// healthy storages, an `update` job for each assigned, healthy, outdated or missing
    /// replica from a random healthy up-to-date source, and a `delete_replica` job for one
    /// healthy unassigned replica at or below the lowest assigned generation. It runs in one
    /// Praefect at a time (an advisory lock; here the lowest-numbered running one) and judges
    /// health by that Praefect's local view (its `HealthChecker`). With `queue: memory` there is
    /// no database and Praefect runs no reconciler (gitaly `internal/cli/praefect/serve.go`
    /// starts it only with a database).
    mutating func reconcile(_ s: inout EventScheduler<WorldEvent>) {
        guard let p = praefect, p.spec.queue == .postgres else { return }
        s.schedule(after: .seconds(p.spec.reconcilerIntervalSeconds), .reconcile)
        guard let runner = runningPraefects.first, databaseUp else { return }
        for vs in fleet.virtualStorages.indices where fleet.virtualStorages[vs].viaPraefect {
            let healthy = localMask[runner, vs]
            guard healthy.nonzeroBitCount >= 2 else { continue }
            for r32 in repositoriesByStorage[vs] {
                let r = Int(r32)
                let record = repositories[r]
                let sources = record.upToDate & healthy
                guard sources != 0 else { continue }
                for target in (record.assigned & healthy & ~record.upToDate).slots {
                    let source = sources.slot(at: replicationRandom.below(sources.nonzeroBitCount))
                    praefect!.queue.enqueue(repository: r, virtualStorage: vs, source: source, target: target, change: .update, at: s.now)
                }
                let minimumAssigned = record.assigned.slots.map { record.replicaGeneration($0) }.min() ?? 0
                if let extra = (record.existing & ~record.assigned & healthy).slots.first(where: { record.replicaGeneration($0) <= minimumAssigned }) {
                    praefect!.queue.enqueue(repository: r, virtualStorage: vs, source: record.primary, target: extra, change: .deleteReplica, at: s.now)
                }
            }
        }
    }
}
