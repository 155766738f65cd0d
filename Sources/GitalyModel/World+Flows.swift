import SimKernel

/// What a bandwidth flow is for.
enum FlowOwner {
    case replication(worker: Int, job: Int, sourceGeneration: Int64, nodes: (Int, Int))
    case moveCopy(move: Int, slot: Int, nodes: (Int, Int))

    var isMoveCopy: Bool {
        if case .moveCopy = self { return true }
        return false
    }

    /// The nodes the flow reads from and writes to.
    var ends: (Int, Int) {
        switch self {
        case .replication(_, _, _, let e): return e
        case .moveCopy(_, _, let e): return e
        }
    }
}

/// Bulk transfers (replication jobs, move copies) as max-min fair flows over the nodes' disks
/// and network (`BandwidthPool`).
///
/// Flows and RPC I/O share a node's disk as processor sharing, both ways: an RPC's disk
/// seconds grow as if each flow on that disk were one more job beside it (its bytes at
/// B / (1 + flows)), and while j RPCs with disk I/O are in service the flows on that disk get
/// B · k / (k + j) between the k of them. A migration thus slows the fleet's RPCs and busy
/// nodes slow the migration (issue 7 item 4; gitalyctl's runbook names disk throughput on both
/// ends as the bottleneck, PRAEFECT.md §9). An RPC's share is fixed when its service starts.
///
/// A move's copy also takes CPU at both ends (`git pack-objects` on the source, `index-pack`
/// under `git fetch` on the destination), shared with RPCs the same way: the node's c cores
/// are split among the j RPCs holding a core and the k copies touching the node, each getting
/// min(1, c / (j + k)) of a core. The k copies get that as two pool resources (`packCPU`,
/// `indexCPU`) in bytes per second at the per-core rates of `GitLabSpec`; an RPC's CPU time
/// stretches by max(1, (j + k) / c). Replication jobs carry their CPU as work on the cores
/// instead (`World+Replication`).
extension World {
    /// A bulk transfer from one node to another: the source disk's reads, both network links,
    /// the link between their sites if they are at two, and the destination disk's writes,
    /// all shared max-min fairly with other flows, no faster than `cap`.
    mutating func startFlow(bytes: Double, from a: Int, to b: Int, capBytesPerSecond cap: Double = .infinity, owner: FlowOwner, _ s: inout EventScheduler<WorldEvent>) {
        var path = a == b ? [nodes[a].diskRead, nodes[b].diskWrite] : [nodes[a].diskRead, nodes[a].network, nodes[b].network, nodes[b].diskWrite]
        if let l = fleet.link(between: a, b) { path.append(siteLinks[l]) }
        if owner.isMoveCopy {
            path.append(nodes[a].packCPU)
            path.append(nodes[b].indexCPU)
            nodes[a].copies.sending += 1
            nodes[b].copies.receiving += 1
        }
        let id = pool.start(bytes: bytes, through: path, capBytesPerSecond: cap, at: s.now)
        while flowOwners.count <= id.slot { flowOwners.append(nil) }
        flowOwners[id.slot] = (id, owner)
        flowsOnDisk[a].reading += 1
        flowsOnDisk[b].writing += 1
        refreshDiskShares(node: a, s.now)
        if b != a { refreshDiskShares(node: b, s.now) }
        scheduleFlowCheck(&s)
    }

    /// Recomputes a node's disk shares after its flows, its RPCs in disk service or its
    /// slowdown changed: the RPC I/O seconds and the capacity its flows split.
    mutating func refreshDiskShares(node n: Int, _ now: SimTime) {
        refreshIOSeconds(node: n)
        refreshShares(node: n, now)
    }

    /// The capacities a node's flows split, from the RPCs now on its disk and cores: one
    /// recomputation of the pool, none when nothing changed.
    mutating func refreshShares(node n: Int, _ now: SimTime) {
        let f = nodes[n].slowdownFactor
        let k = flowsOnDisk[n], j = rpcsOnDisk[n]
        var readShare = k.reading > 0 ? Double(k.reading) / Double(k.reading + j.reading) : 1
        var writeShare = k.writing > 0 ? Double(k.writing) / Double(k.writing + j.writing) : 1
        // Calls carried as a load are on the disk in a Poisson number (`World+Load`).
        // Read through `load` rather than bound to a copy, which would retain each of its tables.
        if hasLoad {
            let c = fleet.nodes[n].cpuCores
            if k.reading > 0 { readShare = Double(k.reading) * load.expected(.readerInverse, node: n, k.reading + j.reading, cores: c) }
            if k.writing > 0 { writeShare = Double(k.writing) * load.expected(.writerInverse, node: n, k.writing + j.writing, cores: c) }
        }
        let cores = copyCores(node: n)
        pool.setCapacities((nodes[n].diskRead, fleet.nodes[n].disk.readBytesPerSecond * f * readShare),
                           (nodes[n].diskWrite, fleet.nodes[n].disk.writeBytesPerSecond * f * writeShare),
                           (nodes[n].packCPU, cores.sending * fleet.gitlab.moveSourceBytesPerCoreSecond),
                           (nodes[n].indexCPU, cores.receiving * fleet.gitlab.moveDestinationBytesPerCoreSecond), at: now)
    }

    /// The cores a node's sending and receiving copies get between them: each of the k copies
    /// min(1, c / (j + k)) of a core beside the j RPCs on its c cores. With no copy, what one
    /// would get (the resource is then unused).
    @inline(__always)
    mutating func copyCores(node n: Int) -> (sending: Double, receiving: Double) {
        let c = Double(fleet.nodes[n].cpuCores), j = nodes[n].cpu.busy
        let sending = nodes[n].copies.sending, receiving = nodes[n].copies.receiving
        let k = max(1, sending + receiving)
        // Beside a load, averaged over its Poisson number of busy cores (`World+Load`).
        let each = hasLoad ? load.expected(.coreShare, node: n, j + k, cores: fleet.nodes[n].cpuCores) : min(1, c / Double(j + k))
        return (Double(max(1, sending)) * each, Double(max(1, receiving)) * each)
    }

    /// How much longer an RPC's CPU work takes beside the node's copies: its core is one of
    /// j + k jobs sharing c cores (1 without copies or with cores to spare).
    @inline(__always)
    mutating func cpuStretch(node n: Int) -> Double {
        let k = nodes[n].copies.sending + nodes[n].copies.receiving
        guard k > 0 else { return 1 }
        let s = nodes[n].cpu.busy + k, c = Double(fleet.nodes[n].cpuCores)
        guard hasLoad else { return max(1, Double(s) / c) }
        return load.expected(.coreStretch, node: n, s, cores: fleet.nodes[n].cpuCores)
    }

    /// The RPCs holding a node's cores changed: the copies' CPU shares follow.
    mutating func coresChanged(node n: Int, _ s: inout EventScheduler<WorldEvent>) {
        guard nodes[n].copies.sending + nodes[n].copies.receiving > 0 else { return }
        refreshShares(node: n, s.now)
        scheduleFlowCheck(&s)
    }

    /// An RPC with disk I/O starts (+1) or ends (-1) its service on node `n`.
    mutating func rpcDiskService(node n: Int, reads: Bool, writes: Bool, _ delta: Int, _ s: inout EventScheduler<WorldEvent>) {
        if reads { rpcsOnDisk[n].reading += delta }
        if writes { rpcsOnDisk[n].writing += delta }
        // Only flows care about the RPC count: without them the capacities stay as they are.
        guard (reads && flowsOnDisk[n].reading > 0) || (writes && flowsOnDisk[n].writing > 0) else { return }
        refreshShares(node: n, s.now)
        scheduleFlowCheck(&s)
    }

    mutating func scheduleFlowCheck(_ s: inout EventScheduler<WorldEvent>) {
        guard let (t, v) = pool.nextCompletion(), v != lastFlowVersionScheduled else { return }
        lastFlowVersionScheduled = v
        s.schedule(at: max(t, s.now), .flowsDue(version: v))
    }

    mutating func flowsDue(version: UInt64, _ s: inout EventScheduler<WorldEvent>) {
        guard version == pool.version else { return }
        // Take every finished flow's owner out before any owner reacts: a reaction may start a
        // flow that reuses a finished flow's slot.
        let owners = pool.finishDue(at: s.now).compactMap { takeOwner($0) }
        for owner in owners { ownerEnded(owner, success: true, &s) }
        // The event for this version has fired: if rounding left a flow a hair short of done,
        // the same version needs a new event.
        if pool.version == version { lastFlowVersionScheduled = .max }
        scheduleFlowCheck(&s)
    }

    /// Removes and returns the owner of a flow, if that flow (slot and generation) is still
    /// the one recorded.
    mutating func takeOwner(_ id: BandwidthPool.FlowID) -> FlowOwner? {
        guard id.slot < flowOwners.count, let (recorded, owner) = flowOwners[id.slot], recorded == id else { return nil }
        flowOwners[id.slot] = nil
        let (a, b) = owner.ends
        flowsOnDisk[a].reading -= 1
        flowsOnDisk[b].writing -= 1
        if owner.isMoveCopy {
            nodes[a].copies.sending -= 1
            nodes[b].copies.receiving -= 1
        }
        refreshDiskShares(node: a, pool.lastUpdate)
        if b != a { refreshDiskShares(node: b, pool.lastUpdate) }
        return owner
    }

    mutating func ownerEnded(_ owner: FlowOwner, success: Bool, _ s: inout EventScheduler<WorldEvent>) {
        switch owner {
        case .replication(let w, let job, let g, _): replicationFlowEnded(worker: w, job: job, sourceGeneration: g, success: success, &s)
        case .moveCopy(let m, let slot, _): moveCopyEnded(m, slot: slot, success: success, &s)
        }
    }

    /// Stops a move's copies without telling the move (it is failing or its worker died).
    mutating func cancelMoveCopies(_ m: Int, _ s: inout EventScheduler<WorldEvent>) {
        guard moves[m].step == .copying else { return }
        for entry in flowOwners {
            guard let (id, owner) = entry, case .moveCopy(let mm, _, _) = owner, mm == m else { continue }
            pool.cancel(id, at: s.now)
            _ = takeOwner(id)
        }
        self[worker: m].pendingFlows = 0
        scheduleFlowCheck(&s)
    }

    /// A node went down: every flow through it stops and its owner sees a failure.
    mutating func cancelFlows(touching n: Int, _ s: inout EventScheduler<WorldEvent>) {
        cancelFlows(where: { $0 == n || $1 == n }, &s)
    }

    /// Two nodes were cut off from each other: flows between them fail.
    mutating func cancelFlows(between a: Int, _ b: Int, _ s: inout EventScheduler<WorldEvent>) {
        cancelFlows(where: { ($0 == a && $1 == b) || ($0 == b && $1 == a) }, &s)
    }

    mutating func cancelFlows(where hits: (Int, Int) -> Bool, _ s: inout EventScheduler<WorldEvent>) {
        var hit: [BandwidthPool.FlowID] = []
        for entry in flowOwners {
            guard let (id, owner) = entry else { continue }
            if hits(owner.ends.0, owner.ends.1) { hit.append(id) }
        }
        var owners: [FlowOwner] = []
        for id in hit {
            pool.cancel(id, at: s.now)
            if let owner = takeOwner(id) { owners.append(owner) }
        }
        for owner in owners { ownerEnded(owner, success: false, &s) }
        scheduleFlowCheck(&s)
    }
}
