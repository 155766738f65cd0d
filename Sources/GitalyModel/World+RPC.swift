import SimKernel

/// Requests: routing through Praefect (or straight to a plain storage), Gitaly's concurrency
/// limiter, the node's cores, and the transaction and finalizer of mutators.
extension World {
    mutating func trafficArrival(_ s: inout EventScheduler<WorldEvent>) {
        guard trafficRatePerSecond > 0, !repositories.isEmpty else { return }
        let r = trafficRandom.below(repositories.count)
        let c = TrafficSpec.pickClass(cumulative: trafficCumulativeMix, &trafficRandom)
        arrive(repository: r, rpcClass: c, &s)
        s.schedule(after: SimTime(seconds: trafficRandom.exponential(rate: trafficRatePerSecond)), .trafficArrival)
    }

    /// Schedules an RPC from outside (replayed or fitted traffic).
    public static func submit(_ sim: inout Simulation<World>, repository: Int, rpcClass: RPCClass, at time: SimTime) {
        sim.schedule(at: time, .rpcArrival(repository: Int32(repository), rpcClass: rpcClass))
    }

    /// A Praefect picked by the load balancer: uniformly among the running ones.
    mutating func pickPraefect() -> Int? {
        let n = runningPraefects.count
        guard n > 0 else { return nil }
        return n == 1 ? runningPraefects[0] : runningPraefects[routingRandom.below(n)]
    }

    mutating func arrive(repository r: Int, rpcClass c: RPCClass, _ s: inout EventScheduler<WorldEvent>) {
        let now = s.now
        var rpc = RPC(arrivedAt: now, repository: Int32(r), transaction: -1, epoch: 0, rpcClass: c, member: 0)
        let vsIndex = repositories[r].virtualStorage
        // Rails refuses pushes to a read-only repository before they reach Gitaly.
        if c.isMutator && readOnly[r] { return finish(rpc, .readOnly, now) }
        guard vsViaPraefect[vsIndex] else {
            // A plain storage: the request goes straight to its one node, and fails when the
            // repository is gone from it (a lost disk).
            if dataPresent[r] == 0 { return finish(rpc, .unavailable, now) }
            if c.isMutator { rpc.transaction = Int32(openTransaction(repository: r, route: MutatorRoute(primary: 0, secondaries: 0, replicationTargets: 0), rpcClass: c, now: now)) }
            return dispatch(rpc, node: node(vsIndex, 0), &s)
        }
        guard let p = pickPraefect() else { return finish(rpc, .unavailable, now) }
        let healthy = locallyHealthy(praefect: p, virtualStorage: vsIndex)
        if !c.isMutator {
            switch Praefect.routeAccessor(repositories[r], locallyHealthy: healthy, random: &routingRandom) {
            case .success(let slot):
                rpc.member = Int8(slot)
                dispatch(rpc, node: node(vsIndex, slot), &s)
            case .failure:
                finish(rpc, .noSuitableNode, now)
            }
            return
        }
        // Mutators need the primary, which the lazy elector settles first.
        if Praefect.electPrimary(&repositories[r], consensusHealthy: consensusMask[vsIndex], random: &electionRandom) {
            refreshAvailability(r, now)
        }
        switch Praefect.routeMutator(repositories[r], locallyHealthy: healthy, mode: vsConsistency[vsIndex]) {
        case .success(let route):
            let tx = openTransaction(repository: r, route: route, rpcClass: c, now: now)
            rpc.transaction = Int32(tx)
            if c == .receivePack { inflightPushes[r] += 1 }
            rpc.member = Int8(route.primary)
            dispatch(rpc, node: node(vsIndex, route.primary), &s)
            for slot in route.secondaries.slots {
                rpc.member = Int8(slot)
                dispatch(rpc, node: node(vsIndex, slot), &s)
            }
        case .failure(let e):
            switch e {
            case .repositoryReadOnly: finish(rpc, .readOnly, now)
            case .primaryNotHealthy, .noSuitableNode: finish(rpc, .unavailable, now)
            }
        }
    }

    mutating func openTransaction(repository: Int, route: MutatorRoute, rpcClass: RPCClass, now: SimTime) -> Int {
        let t = PendingMutator(repository: repository, route: route, rpcClass: rpcClass, arrivedAt: now, remaining: 1 + route.secondaries.nonzeroBitCount)
        if let slot = freeTransactions.popLast() { transactions[slot] = t; return slot }
        transactions.append(t)
        return transactions.count - 1
    }

    func limiterKey(_ rpc: RPC) -> Int { rpc.rpcClass.index * max(1, repositories.count) + Int(rpc.repository) }

    /// The RPC reaches a Gitaly node: the concurrency limiter of its class (per repository,
    /// `max_per_repo`), then a core.
    mutating func dispatch(_ rpc: RPC, node n: Int, _ s: inout EventScheduler<WorldEvent>) {
        var rpc = rpc
        guard nodes[n].up else { return nodeAnswered(rpc, ok: false, outcome: .unavailable, s.now, &s) }
        // Praefect routed to a replica whose data is gone: Gitaly answers NotFound.
        guard dataPresent[Int(rpc.repository)] & MemberSet.single(Int(rpc.member)) != 0 else {
            return nodeAnswered(rpc, ok: false, outcome: .notFound, s.now, &s)
        }
        rpc.epoch = nodes[n].epoch
        if let limit = limitParams[n * RPCClass.count + rpc.rpcClass.index] {
            let key = limiterKey(rpc)
            var server = nodes[n].limiters[key] ?? Server(servers: limit.maxPerRepo, queueLimit: limit.maxQueueSize, maxQueueWait: limit.maxQueueWait)
            let admission = server.arrive(rpc, at: s.now)
            nodes[n].limiters[key] = server
            switch admission {
            case .started: break
            case .queued(let ticket):
                if let wait = server.maxQueueWait { s.schedule(after: wait, .limiterTimeout(node: Int32(n), key: key, ticket: ticket)) }
                return
            case .rejected:
                nodes[n].limiters[key] = server.isIdle ? nil : server
                return nodeAnswered(rpc, ok: false, outcome: .resourceExhausted, s.now, &s)
            }
        }
        startOnCores(rpc, node: n, &s)
    }

    mutating func startOnCores(_ rpc: RPC, node n: Int, _ s: inout EventScheduler<WorldEvent>) {
        switch nodes[n].cpu.arrive(rpc, at: s.now) {
        case .started: s.schedule(after: serviceTime(rpc, node: n), .rpcDone(node: Int32(n), rpc: rpc))
        case .queued: break
        case .rejected: preconditionFailure("the core queue is unbounded")
        }
    }

    /// CPU time drawn exponential around the class mean, plus the bytes the RPC reads and
    /// writes at the disk's current bandwidth. RPC I/O is charged as service time rather than
    /// as bandwidth flows, so that millions of small requests stay cheap; bulk transfers
    /// (replication, moves) are flows.
    mutating func serviceTime(_ rpc: RPC, node n: Int) -> SimTime {
        let profile = profiles[rpc.rpcClass.index]
        let f = nodes[n].slowdownFactor
        var t = serviceRandom.exponential(rate: 1 / profile.cpuSecondsMean)
        if profile.bytesRead > 0 { t += profile.bytesRead / max(1, diskReadBytesPerSecond[n] * f) }
        if profile.bytesWritten > 0 { t += profile.bytesWritten / max(1, diskWriteBytesPerSecond[n] * f) }
        return SimTime(seconds: t)
    }

    mutating func rpcDone(node n: Int, rpc: RPC, _ s: inout EventScheduler<WorldEvent>) {
        // Free the core; the next waiting request starts, or fails at once if the node
        // crashed since it queued.
        if let (next, _) = nodes[n].cpu.release(at: s.now) {
            if next.epoch == nodes[n].epoch && nodes[n].up {
                s.schedule(after: serviceTime(next, node: n), .rpcDone(node: Int32(n), rpc: next))
            } else {
                s.schedule(at: s.now, .rpcDone(node: Int32(n), rpc: next))
            }
        }
        releaseLimiter(rpc, node: n, &s)
        let survived = rpc.epoch == nodes[n].epoch && nodes[n].up
        nodeAnswered(rpc, ok: survived, outcome: survived ? .ok : .unavailable, s.now, &s)
    }

    mutating func releaseLimiter(_ rpc: RPC, node n: Int, _ s: inout EventScheduler<WorldEvent>) {
        guard limitParams[n * RPCClass.count + rpc.rpcClass.index] != nil else { return }
        let key = limiterKey(rpc)
        guard var server = nodes[n].limiters[key] else { return }
        let next = server.release(at: s.now)
        nodes[n].limiters[key] = server.isIdle ? nil : server
        if let (job, _) = next { startOnCores(job, node: n, &s) }
    }

    mutating func limiterTimeout(node n: Int, key: Int, ticket: UInt64, _ s: inout EventScheduler<WorldEvent>) {
        guard var server = nodes[n].limiters[key] else { return }
        let job = server.abandon(ticket: ticket)
        nodes[n].limiters[key] = server.isIdle ? nil : server
        if let job { nodeAnswered(job, ok: false, outcome: .resourceExhausted, s.now, &s) }
    }

    /// One node answered for an RPC. Accessors finish; mutators wait for every node and then
    /// run the finalizer.
    mutating func nodeAnswered(_ rpc: RPC, ok: Bool, outcome: RPCOutcome, _ now: SimTime, _ s: inout EventScheduler<WorldEvent>) {
        guard rpc.transaction >= 0 else { return finish(rpc, outcome, now) }
        let t = Int(rpc.transaction)
        var tx = transactions[t]!
        if ok {
            if Int(rpc.member) == tx.route.primary { tx.primaryCommitted = true } else { tx.secondariesCommitted |= .single(Int(rpc.member)) }
        }
        tx.remaining -= 1
        guard tx.remaining == 0 else { transactions[t] = tx; return }
        transactions[t] = nil
        freeTransactions.append(t)
        let r = tx.repository
        if tx.rpcClass == .receivePack && inflightPushes[r] > 0 { inflightPushes[r] -= 1 }
        let vsIndex = repositories[r].virtualStorage
        guard vsViaPraefect[vsIndex] else {
            // A plain storage acknowledges what its one node wrote.
            if tx.primaryCommitted { ledger.acknowledge(repository: r, generation: repositories[r].incrementGeneration(on: 1)) }
            return finish(rpc, tx.primaryCommitted ? .ok : outcome, now)
        }
        let result = Praefect.finalize(&repositories[r], route: tx.route, mode: vsConsistency[vsIndex],
                                       outcome: MutatorOutcome(primaryCommitted: tx.primaryCommitted, secondariesCommitted: tx.secondariesCommitted))
        if let g = result.generation, result.acknowledged { ledger.acknowledge(repository: r, generation: g) }
        for target in result.outdated.slots {
            praefect!.queue.enqueue(repository: r, virtualStorage: vsIndex, source: tx.route.primary, target: target, change: .update, at: now)
        }
        refreshAvailability(r, now)
        finish(rpc, result.acknowledged ? .ok : .unavailable, now)
    }

    /// The client has its answer.
    mutating func finish(_ rpc: RPC, _ outcome: RPCOutcome, _ now: SimTime) {
        rpcsCompleted += 1
        outcomes[outcome.rawValue] += 1
        window.record(rpc.rpcClass, outcome: outcome, latencySeconds: (now - rpc.arrivedAt).seconds)
    }

    mutating func closeWindow(_ s: inout EventScheduler<WorldEvent>) {
        windows.append(window)
        window = WindowStats(start: s.now)
        s.schedule(after: .seconds(config.windowSeconds), .windowClose)
    }
}
