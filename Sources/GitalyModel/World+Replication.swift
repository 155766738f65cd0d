import SimKernel

/// A replication worker of one Praefect on one virtual storage.
struct WorkerState {
    var praefect: Int
    var virtualStorage: Int
    var batch: [Int] = []
    var next = 0
    var busy = false
    var token: UInt32 = 0
}

/// Praefect's replication: the workers that drain the queue and the reconciler that fills it
/// (gitaly `internal/praefect/replicator.go`, `reconciler/reconciler.go`).
extension World {
    mutating func workerWake(_ w: Int, token: UInt32, _ s: inout EventScheduler<WorldEvent>) {
        guard token == workers[w].token, !workers[w].busy else { return }
        let p = workers[w].praefect
        let vs = workers[w].virtualStorage
        guard praefect!.up[p] else {
            // A stopped Praefect's workers look again when it could be back.
            return sleepWorker(w, until: s.now + .seconds(praefect!.spec.replication.idleBackoffMaxSeconds), &s)
        }
        if let (_, jobs) = praefect!.workerStep(praefect: p, virtualStorage: vs, at: s.now) {
            workers[w].batch = jobs
            workers[w].next = 0
            workers[w].busy = true
            runNextJob(w, &s)
        } else {
            sleepWorker(w, until: praefect!.nextWorkerWake(praefect: p, virtualStorage: vs), &s)
        }
    }

    mutating func sleepWorker(_ w: Int, until t: SimTime, _ s: inout EventScheduler<WorldEvent>) {
        workers[w].token &+= 1
        s.schedule(at: max(t, s.now), .workerWake(worker: Int32(w), token: workers[w].token))
    }

    /// Runs the worker's next job of its batch, one after the other (gitaly `replicator.go`).
    mutating func runNextJob(_ w: Int, _ s: inout EventScheduler<WorldEvent>) {
        while workers[w].next < workers[w].batch.count {
            let slot = workers[w].batch[workers[w].next]
            workers[w].next += 1
            if startJob(slot, worker: w, &s) { return }
        }
        // Batch done: the target re-enters at once; look for more work now.
        workers[w].busy = false
        workers[w].batch = []
        sleepWorker(w, until: s.now, &s)
    }

    /// Starts one replication job; returns true when it runs as a flow (the worker waits for
    /// it), false when it finished at once.
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
            praefect!.queue.acknowledge(slot, success: ok)
            return false
        case .update:
            break
        }
        // A job fails when either end is unreachable, or by the injected failure rate.
        let failed = !reachable(praefect: p, node: sourceNode) || !reachable(praefect: p, node: targetNode)
            || record.replicaGeneration(job.source) == RepositoryRecord.missing
            || !dataPresent[r].contains(slot: job.source)
            || replicationRandom.bernoulli(fleet.faults.replicationJobFailureProbability)
        if failed {
            praefect!.queue.acknowledge(slot, success: false)
            return false
        }
        let sourceGeneration = record.replicaGeneration(job.source)
        let targetGeneration = record.replicaGeneration(job.target)
        // The downgrade guard: a target at or past the source needs nothing.
        if targetGeneration >= sourceGeneration {
            praefect!.queue.acknowledge(slot, success: true)
            return false
        }
        // A missing replica is created from a snapshot of the whole repository; an outdated
        // one fetches what it lacks, charged as the writes' bytes since its generation.
        let writeBytes = (config.traffic?.profiles[RPCClass.write.index] ?? RPCProfile.defaultProfile(.write)).bytesWritten
        let bytes = targetGeneration == RepositoryRecord.missing ? record.sizeBytes : min(record.sizeBytes, Double(sourceGeneration - targetGeneration) * writeBytes)
        if !dataPresent[r].contains(slot: job.target) {
            let storage = fleet.virtualStorages[job.virtualStorage].members[job.target]
            guard storageUsedBytes[storage] + record.sizeBytes <= fleet.storages[storage].capacityBytes else {
                praefect!.queue.acknowledge(slot, success: false)
                return false
            }
            storageUsedBytes[storage] += record.sizeBytes
        }
        startFlow(bytes: bytes, from: sourceNode, to: targetNode,
                  owner: .replication(worker: w, job: slot, sourceGeneration: sourceGeneration, nodes: (sourceNode, targetNode)), &s)
        return true
    }

    mutating func replicationFlowEnded(worker w: Int, job slot: Int, sourceGeneration: Int64, success: Bool, _ s: inout EventScheduler<WorldEvent>) {
        if let job = praefect!.queue.job(slot) {
            let r = job.repository
            if success {
                if repositories[r].replicaGeneration(job.target) == RepositoryRecord.missing { enqueueVerification(r, job.target, due: s.now + verificationInterval) }
                repositories[r].replicated(to: job.target, sourceGeneration: sourceGeneration)
                dataPresent[r] |= .single(job.target)
                refreshAvailability(r, s.now)
            } else if !dataPresent[r].contains(slot: job.target) {
                storageUsedBytes[fleet.virtualStorages[job.virtualStorage].members[job.target]] -= repositories[r].sizeBytes
            }
            praefect!.queue.acknowledge(slot, success: success)
        }
        runNextJob(w, &s)
    }

    // MARK: Reconciler

    /// The reconciler (gitaly `reconciler/reconciler.go`): every interval, with at least two
    /// healthy storages, an `update` job for each assigned, healthy, outdated or missing
    /// replica from a random healthy up-to-date source, and a `delete_replica` job for one
    /// healthy unassigned replica at or below the lowest assigned generation.
    mutating func reconcile(_ s: inout EventScheduler<WorldEvent>) {
        guard let p = praefect else { return }
        s.schedule(after: .seconds(p.spec.reconcilerIntervalSeconds), .reconcile)
        for vs in fleet.virtualStorages.indices where fleet.virtualStorages[vs].viaPraefect {
            let healthy = p.consensusMasks[vs]
            guard healthy.nonzeroBitCount >= 2 else { continue }
            for r in repositoriesByStorage[vs] {
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
