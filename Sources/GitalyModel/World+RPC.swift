import SimKernel

/// One RPC on its way to, or on, one Gitaly node. Once it reaches a node it lives in the
/// world's slab (`World.inflight`) and events and queues carry only its slot index.
public struct RPC: Sendable {
    public var arrivedAt: SimTime
    public var repository: Int32
    /// The pending mutator it belongs to, or -1 for an accessor.
    var transaction: Int32
    var epoch: UInt32
    public var rpcClass: RPCClass
    var member: Int8
    /// The slot of its recorded cost in `World.serviceCosts`, or -1 to cost it by its class.
    var cost: Int32 = -1
}

/// A mutator waiting for its primary and secondaries (gitaly `internal/grpc/proxy/handler.go`:
/// the client's status comes after every stream ended and the finalizer ran).
struct PendingMutator {
    var repository: Int
    var route: MutatorRoute
    var rpcClass: RPCClass
    var arrivedAt: SimTime
    var remaining: Int
    var primaryCommitted = false
    /// The primary passed its vote point before it failed: the transaction committed a
    /// subtransaction, so the finalizer treats the primary as changed.
    var primaryVoted = false
    var secondariesCommitted: MemberSet = 0

    /// Records one node's answer; true when it was the last one awaited. `voted`: the node
    /// passed its vote point (always true when `ok`).
    mutating func answer(member: Int, ok: Bool, voted: Bool) -> Bool {
        if ok {
            if member == route.primary { primaryCommitted = true } else { secondariesCommitted |= .single(member) }
        }
        if voted && member == route.primary { primaryVoted = true }
        remaining -= 1
        return remaining == 0
    }
}

/// An RPC held by a node (waiting in a limiter, waiting for a core, or on a core), in the
/// world's slab.
struct InflightRPC {
    var rpc: RPC
    /// The limiter ticket while the RPC waits in a limiter queue.
    var ticket: UInt64 = 0
    /// Bumped each time the slot is freed, so that a limiter timeout scheduled for an earlier
    /// occupant of the slot is recognised as stale.
    var generation: UInt32 = 0
    /// While the slot is free: the next free slot, or -1. The free list runs through the slab
    /// itself, so holding and releasing an RPC touch one array.
    var nextFree: Int32 = -1
    /// The RPC is in service and counted in `World.rpcsOnDisk`.
    var onDisk = false
    /// When the RPC casts its vote (Gitaly's reference-transaction hook), once it is on a core;
    /// `.max` while it waits. A node that goes down after this moment has changed its replica.
    var voteAt: SimTime = .max
    /// When the client gives up, once the RPC is on a core: its service ends then if it has
    /// not ended before (`.max` without a deadline).
    var deadlineAt: SimTime = .max

    /// Occupies the free slot with `rpc`; returns the next free slot.
    mutating func take(_ rpc: RPC) -> Int32 {
        self.rpc = rpc
        voteAt = .max
        deadlineAt = .max
        return nextFree
    }

    /// Frees the slot, chaining it before `next`; returns the RPC it held.
    mutating func free(next: Int32) -> RPC {
        generation &+= 1
        nextFree = next
        return rpc
    }
}

/// A concurrency limit without its source line, for the event loop.
struct LimitParams {
    var maxPerRepo: Int
    var maxQueueSize: Int?
    var maxQueueWait: SimTime?
}

/// Requests: routing through Praefect (or straight to a plain storage), Gitaly's concurrency
/// limiter, the node's cores, and the transaction and finalizer of mutators.
extension World {
    mutating func trafficArrival(_ s: inout EventScheduler<WorldEvent>) {
        guard trafficRatePerSecond > 0, !repositories.isEmpty else { return }
        if let quiet = config.quietAfterSeconds, s.now >= .seconds(quiet) { return }
        let r = repository(atPlace: trafficRandom.below(repositories.count))
        let c = TrafficSpec.pickClass(cumulative: trafficCumulativeMix, &trafficRandom)
        arrive(repository: r, rpcClass: c, cost: -1, &s)
        s.schedule(after: .nearest(seconds: trafficRandom.exponential(rate: trafficRatePerSecond)), .trafficArrival)
    }

    /// Schedules an RPC from outside (replayed or fitted traffic). With `cost`, the call is
    /// served as its record says (`RecordedCost`), the class model filling what is missing.
    public static func submit(_ sim: inout Simulation<World>, repository: Int, rpcClass: RPCClass, at time: SimTime, cost: RecordedCost? = nil) {
        let slot = cost.map { sim.model.allocateCost($0) } ?? -1
        sim.schedule(at: time, .rpcArrival(repository: Int32(repository), rpcClass: rpcClass, cost: slot))
    }

    /// The same for the repository at `place`, as traffic names repositories (`place(of:)`).
    /// The look-up is made here, where it is inlined: from another module, each call copied
    /// the whole world (3.7 kB) to hand it to `repository(atPlace:)`.
    public static func submit(_ sim: inout Simulation<World>, place: Int, rpcClass: RPCClass, at time: SimTime, cost: RecordedCost? = nil) {
        submit(&sim, repository: sim.model.repository(atPlace: place), rpcClass: rpcClass, at: time, cost: cost)
    }

    /// A Praefect picked by the load balancer: uniformly among the running ones.
    mutating func pickPraefect() -> Int? {
        let n = runningPraefects.count
        guard n > 0 else { return nil }
        return n == 1 ? runningPraefects[0] : runningPraefects[routingRandom.below(n)]
    }

    mutating func arrive(repository r: Int, rpcClass c: RPCClass, cost: Int32, _ s: inout EventScheduler<WorldEvent>) {
        let now = s.now
        var rpc = RPC(arrivedAt: now, repository: Int32(r), transaction: -1, epoch: 0, rpcClass: c, member: 0, cost: cost)
        let vsIndex = repositories[r].virtualStorage
        // Rails refuses pushes to a read-only repository before they reach Gitaly.
        if c.isMutator && readOnly[r] { return finish(rpc, .readOnly, now) }
        guard vsViaPraefect[vsIndex] else {
            // A plain storage: the request goes straight to its one node, and fails when the
            // repository is gone from it (a lost disk).
            if dataPresent[r] == 0 { return finish(rpc, .unavailable, now) }
            if c.isMutator { rpc.transaction = Int32(openTransaction(repository: r, route: MutatorRoute(primary: 0, secondaries: 0, replicationTargets: 0), rpcClass: c, now: now)) }
            // GitLab's push counter is a Redis key per repository that Rails raises when its
            // internal API allows a receive-pack and lowers at post-receive, whatever the
            // storage (gitlab `lib/gitlab/reference_counter.rb`, `lib/api/internal/base.rb`):
            // a move of a repository on a plain storage waits for it too.
            if c == .receivePack { inflightPushes[r] += 1 }
            return dispatch(rpc, node: node(vsIndex, 0), &s)
        }
        guard let p = pickPraefect(), databaseUp else { return finish(rpc, .unavailable, now) }
        let healthy = locallyHealthy(praefect: p, virtualStorage: vsIndex)
        if c == .maintenance {
            // Maintenance (housekeeping, OptimizeRepository) goes to every assigned replica that
            // is healthy in this Praefect's view, best effort, with no vote and no generation
            // change (gitaly `router_per_repository.go` `RouteRepositoryMaintenance`,
            // `coordinator.go` maintenance routing). The client's status waits for all of them.
            let targets = repositories[r].assigned & repositories[r].existing & healthy
            guard targets != 0 else { return finish(rpc, .noSuitableNode, now) }
            let primary = targets.trailingZeroBitCount
            let route = MutatorRoute(primary: primary, secondaries: targets & ~MemberSet.single(primary), replicationTargets: 0)
            rpc.transaction = Int32(openTransaction(repository: r, route: route, rpcClass: c, now: now))
            for slot in targets.slots {
                rpc.member = Int8(slot)
                dispatch(rpc, node: node(vsIndex, slot), &s)
            }
            return
        }
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

    /// Puts an RPC that a node holds into the slab and returns its slot.
    mutating func hold(_ rpc: RPC) -> Int32 {
        inflightHeld += 1
        let slot = firstFreeInflight
        guard slot >= 0 else {
            inflight.append(InflightRPC(rpc: rpc))
            return Int32(inflight.count - 1)
        }
        firstFreeInflight = inflight[Int(slot)].take(rpc)
        return slot
    }

    /// Takes an RPC out of the slab; the slot's generation moves on so that a timeout still
    /// pending for it is recognised as stale.
    mutating func release(slot: Int32) -> RPC {
        inflightHeld -= 1
        let rpc = inflight[Int(slot)].free(next: firstFreeInflight)
        firstFreeInflight = slot
        return rpc
    }

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
        if let limit = limitParams[n, rpc.rpcClass.index] {
            let key = limiterKey(rpc)
            var server = nodes[n].limiters[key] ?? Server(servers: limit.maxPerRepo, queueLimit: limit.maxQueueSize, maxQueueWait: limit.maxQueueWait)
            let slot = hold(rpc)
            let admission = server.arrive(slot, at: s.now)
            nodes[n].limiters[key] = server
            switch admission {
            case .started: return startOnCores(slot, node: n, &s)
            case .queued(let ticket):
                inflight[Int(slot)].ticket = ticket
                if let wait = server.maxQueueWait {
                    s.schedule(after: wait, .limiterTimeout(node: Int32(n), slot: slot, generation: inflight[Int(slot)].generation))
                }
                return
            case .rejected:
                nodes[n].limiters[key] = server.isIdle ? nil : server
                return nodeAnswered(release(slot: slot), ok: false, outcome: .resourceExhausted, s.now, &s)
            }
        }
        startOnCores(hold(rpc), node: n, &s)
    }

    mutating func startOnCores(_ slot: Int32, node n: Int, _ s: inout EventScheduler<WorldEvent>) {
        switch nodes[n].cpu.arrive(slot, at: s.now) {
        case .started:
            coresChanged(node: n, &s)
            startService(slot, node: n, &s)
        case .queued: break
        case .rejected: preconditionFailure("the core queue is unbounded")
        }
    }

    /// Where in its service a transactional RPC votes, as a share of its service time. ASSUMED
    /// 0.9: Gitaly's reference-transaction hook votes when the refs are about to be updated,
    /// after the pack was received and checked, so near the end of the call (gitaly
    /// `internal/gitaly/hook/referencetransaction.go`); fit it to the gap between
    /// `gitaly_praefect_transactions_delay` and the RPC's duration where both are scraped.
    static let votePointShare = 0.9

    /// The RPC in `slot` got a core: its service starts, and a mutator's vote point is set.
    @inline(__always)
    mutating func startService(_ slot: Int32, node n: Int, _ s: inout EventScheduler<WorldEvent>) {
        let rpc = inflight[Int(slot)].rpc
        // An RPC with disk I/O is counted on the disk until it ends (`World+Flows`, sharing
        // with flows); a replication job's CPU work has its bytes in its flow instead.
        if rpc.transaction > World.replicationWorkMarker {
            let io = ioSeconds[n, rpc.rpcClass.index]
            if io.read > 0 || io.written > 0 {
                inflight[Int(slot)].onDisk = true
                rpcDiskService(node: n, reads: io.read > 0, writes: io.written > 0, 1, &s)
            }
        }
        let deadline = deadlineAt(rpc)
        // Gitaly cancels a call whose client gave up (its git process is killed): one that got
        // its core too late ends at once, and one still in service at the deadline ends then.
        if deadline <= s.now {
            inflight[Int(slot)].deadlineAt = deadline
            return s.schedule(at: s.now, .rpcDone(node: Int32(n), slot: slot, repository: rpc.repository))
        }
        var t = serviceTime(rpc, node: n)
        // A release that serves slower (`ReleaseSpec.latencyFactor`).
        if nodes[n].latencyFactor != 1 { t = .nearest(seconds: t.seconds * nodes[n].latencyFactor) }
        if rpc.transaction >= 0 {
            inflight[Int(slot)].voteAt = s.now + SimTime(nanoseconds: Int64(Double(t.nanoseconds) * Self.votePointShare))
        }
        let end = s.now + t
        if deadline < end { inflight[Int(slot)].deadlineAt = deadline }
        s.schedule(at: min(end, deadline), .rpcDone(node: Int32(n), slot: slot, repository: rpc.repository))
    }

    /// When the client of `rpc` gives up (gRPC deadline), `.max` without one. Replication
    /// work on the cores has none.
    @inline(__always)
    func deadlineAt(_ rpc: RPC) -> SimTime {
        let d = deadlines[rpc.rpcClass.index]
        guard d < .max, rpc.transaction > World.replicationWorkMarker else { return .max }
        return rpc.arrivedAt + d
    }

    /// CPU time drawn exponential around the class mean (stretched beside move copies,
    /// `World+Flows`), plus the bytes the RPC reads and writes at the disk's current bandwidth. RPC I/O is charged as service time rather than
    /// as bandwidth flows, so that millions of small requests stay cheap; bulk transfers
    /// (replication, moves) are flows. A call with a recorded cost is costed from its record.
    @inline(__always)
    mutating func serviceTime(_ rpc: RPC, node n: Int) -> SimTime {
        if rpc.cost >= 0 { return .nearest(seconds: recordedServiceSeconds(serviceCosts[Int(rpc.cost)], rpc.rpcClass, node: n)) }
        let c = rpc.rpcClass
        let io = ioSeconds[n, c.index]
        var t = serviceRandom.exponential(rate: cpuRate[c.index])
        if nodes[n].copies != (0, 0) { t *= cpuStretch(node: n) }
        t += io.read
        t += io.written
        return .nearest(seconds: t)
    }

    /// Recomputes a node's per-class I/O seconds from its disk bandwidth, slowdown factor and
    /// the bulk flows on its disk (each one more job beside the RPC, `World+Flows`).
    /// A class that moves no bytes costs exactly 0 (adding it leaves a time unchanged).
    mutating func refreshIOSeconds(node n: Int) {
        let f = nodes[n].slowdownFactor
        let readers = Double(1 + flowsOnDisk[n].reading), writers = Double(1 + flowsOnDisk[n].writing)
        for c in profiles.indices {
            let p = profiles[c]
            ioSeconds[n, c] = (read: p.bytesRead > 0 ? p.bytesRead * readers / max(1, diskReadBytesPerSecond[n] * f) : 0,
                                                 written: p.bytesWritten > 0 ? p.bytesWritten * writers / max(1, diskWriteBytesPerSecond[n] * f) : 0)
        }
    }

    mutating func rpcDone(node n: Int, slot: Int32, _ s: inout EventScheduler<WorldEvent>) {
        // Free the core; the next waiting request starts, or fails at once if the node
        // crashed since it queued.
        if let (next, _) = nodes[n].cpu.release(at: s.now) {
            let waiting = inflight[Int(next)].rpc
            if waiting.epoch == nodes[n].epoch && nodes[n].up {
                startService(next, node: n, &s)
            } else {
                s.schedule(at: s.now, .rpcDone(node: Int32(n), slot: next, repository: waiting.repository))
            }
        } else {
            coresChanged(node: n, &s)
        }
        if inflight[Int(slot)].onDisk {
            inflight[Int(slot)].onDisk = false
            let io = ioSeconds[n, inflight[Int(slot)].rpc.rpcClass.index]
            rpcDiskService(node: n, reads: io.read > 0, writes: io.written > 0, -1, &s)
        }
        let voteAt = inflight[Int(slot)].voteAt
        let cancelledAt = inflight[Int(slot)].deadlineAt
        let rpc = release(slot: slot)
        let survived = rpc.epoch == nodes[n].epoch && nodes[n].up
        if rpc.transaction <= World.replicationWorkMarker { return replicationCPUDone(rpc, ok: survived, &s) }
        releaseLimiter(rpc, node: n, &s)
        nodes[n].callsServed += 1
        if survived && cancelledAt <= s.now {
            // Cancelled at the client's deadline: a call past its vote point changed its replica.
            nodes[n].callsFailed += 1
            return nodeAnswered(rpc, ok: false, voted: voteAt <= cancelledAt, outcome: .deadlineExceeded, s.now, &s)
        }
        // A bad release fails a share of its calls (`ReleaseSpec.errorRatio`), drawn from its own
        // stream so that a good release leaves every other draw as it was. ASSUMED: the call
        // fails before its vote point, so it changes nothing.
        if survived && nodes[n].releaseErrorRatio > 0 && releaseRandom.bernoulli(nodes[n].releaseErrorRatio) {
            nodes[n].callsFailed += 1
            return nodeAnswered(rpc, ok: false, voted: false, outcome: .unavailable, s.now, &s)
        }
        if !survived { nodes[n].callsFailed += 1 }
        // A node that went down (crash, SIGTERM of a pod) after its vote point has changed its
        // replica although the call failed.
        let e = Int(rpc.epoch)
        let voted = survived || (e < nodes[n].downSince.count && voteAt <= nodes[n].downSince[e])
        nodeAnswered(rpc, ok: survived, voted: voted, outcome: survived ? .ok : .unavailable, s.now, &s)
    }

    mutating func releaseLimiter(_ rpc: RPC, node n: Int, _ s: inout EventScheduler<WorldEvent>) {
        guard limitParams[n, rpc.rpcClass.index] != nil else { return }
        let key = limiterKey(rpc)
        guard var server = nodes[n].limiters[key] else { return }
        let next = server.release(at: s.now)
        nodes[n].limiters[key] = server.isIdle ? nil : server
        if let (job, _) = next { startOnCores(job, node: n, &s) }
    }

    /// A queued RPC's `max_queue_wait` is up. The slot's generation tells whether it still
    /// holds the RPC that queued: one that already ran and finished must not abandon whatever
    /// waits now in a limiter recreated for the same key (its tickets start again at 0).
    mutating func limiterTimeout(node n: Int, slot: Int32, generation: UInt32, _ s: inout EventScheduler<WorldEvent>) {
        let entry = inflight[Int(slot)]
        guard entry.generation == generation else { return }
        let key = limiterKey(entry.rpc)
        guard var server = nodes[n].limiters[key] else { return }
        let job = server.abandon(ticket: entry.ticket)
        nodes[n].limiters[key] = server.isIdle ? nil : server
        if let job { nodeAnswered(release(slot: job), ok: false, outcome: .resourceExhausted, s.now, &s) }
    }

    /// One node answered for an RPC. Accessors finish; mutators wait for every node and then
    /// run the finalizer.
    mutating func nodeAnswered(_ rpc: RPC, ok: Bool, voted: Bool = false, outcome: RPCOutcome, _ now: SimTime, _ s: inout EventScheduler<WorldEvent>) {
        guard rpc.transaction >= 0 else { return finish(rpc, outcome, now) }
        let t = Int(rpc.transaction)
        // Updated in place: the pending mutator is large, and most answers are not the last.
        guard transactions[t]!.answer(member: Int(rpc.member), ok: ok, voted: voted) else { return }
        let tx = transactions[t]!
        transactions[t] = nil
        freeTransactions.append(t)
        let r = tx.repository
        if tx.rpcClass == .receivePack && inflightPushes[r] > 0 { inflightPushes[r] -= 1 }
        let vsIndex = repositories[r].virtualStorage
        if tx.rpcClass == .maintenance {
            let all = tx.primaryCommitted && tx.secondariesCommitted == tx.route.secondaries
            return finish(rpc, all ? .ok : outcome, now)
        }
        guard vsViaPraefect[vsIndex] else {
            // A plain storage acknowledges what its one node wrote.
            if tx.primaryCommitted {
                let g = repositories[r].incrementGeneration(on: 1)
                if now < deadlineAt(rpc) { ledger.acknowledge(repository: r, generation: g) }
            }
            return finish(rpc, tx.primaryCommitted ? .ok : outcome, now)
        }
        // Without its database the finalizer records nothing and the client sees an error: the
        // nodes may hold the write, but it was never acknowledged.
        guard databaseUp else { return finish(rpc, .unavailable, now) }
        let result = Praefect.finalize(&repositories[r], route: tx.route, mode: vsConsistency[vsIndex],
                                       outcome: MutatorOutcome(primaryCommitted: tx.primaryCommitted, secondariesCommitted: tx.secondariesCommitted,
                                                                               primaryVoted: tx.primaryVoted))
        // A client that gave up never learns of the write: it is not acknowledged.
        if let g = result.generation, result.acknowledged, now < deadlineAt(rpc) { ledger.acknowledge(repository: r, generation: g) }
        for target in result.outdated.slots {
            praefect!.queue.enqueue(repository: r, virtualStorage: vsIndex, source: tx.route.primary, target: target, change: .update, at: now)
        }
        refreshAvailability(r, now)
        finish(rpc, result.acknowledged ? .ok : .unavailable, now)
    }

    /// The client has its answer, or gave up at its deadline: then DeadlineExceeded after
    /// exactly the deadline, whatever the nodes answered later (a call still queued when its
    /// client gave up is answered when it leaves the queue, counted with its deadline as latency).
    mutating func finish(_ rpc: RPC, _ outcome: RPCOutcome, _ now: SimTime) {
        if rpc.cost >= 0 { freeCost(rpc.cost) }
        rpcsCompleted += 1
        let deadline = deadlineAt(rpc)
        let (seen, latency) = now >= deadline ? (RPCOutcome.deadlineExceeded, deadline - rpc.arrivedAt) : (outcome, now - rpc.arrivedAt)
        outcomes[seen.rawValue] += 1
        window.record(rpc.rpcClass, outcome: seen, latencySeconds: latency.seconds)
    }

    mutating func closeWindow(_ s: inout EventScheduler<WorldEvent>) {
        if hasLoad {
            accrueLoad(s.now)
            drawLoadWindow()
            refreshLoad(&s)
        }
        windows.append(window)
        window = WindowStats(start: s.now)
        s.schedule(after: .seconds(config.windowSeconds), .windowClose)
    }
}

extension SimTime {
    /// Exactly `SimTime(seconds:)` (the nearest nanosecond, halves away from zero, saturating
    /// at `.max`), without its call to libm's `round`: the two conversions per RPC were 5% of
    /// the benchmark's instructions (issue 3 profile). Below 2^52 ns the fraction
    /// `x − trunc(x)` is exact (Sterbenz), so comparing it with 0.5 rounds as `rounded()`
    /// does; from 2^52 on every double is a whole number and the fraction is 0. Tested against
    /// `SimTime(seconds:)` on edge cases and random values.
    @inline(__always)
    static func nearest(seconds s: Double) -> SimTime {
        precondition(s.isFinite && s >= 0, "a duration must be finite and non-negative, got \(s)")
        let x = s * 1e9
        guard x < 9.2e18 else { return .max }
        var ns = Int64(x)
        if x - Double(ns) >= 0.5 { ns += 1 }
        return SimTime(nanoseconds: ns)
    }
}
