import SimKernel

/// What a bandwidth flow is for.
enum FlowOwner {
    case replication(worker: Int, job: Int, sourceGeneration: Int64, nodes: (Int, Int))
    case moveCopy(move: Int, nodes: (Int, Int))
}

/// Bulk transfers (replication jobs, move copies) as max-min fair flows over the nodes' disks
/// and network (`BandwidthPool`).
extension World {
    /// A bulk transfer from one node to another: the source disk's reads, both network links
    /// and the destination disk's writes, all shared max-min fairly with other flows.
    mutating func startFlow(bytes: Double, from a: Int, to b: Int, owner: FlowOwner, _ s: inout EventScheduler<WorldEvent>) {
        let path = a == b ? [nodes[a].diskRead, nodes[b].diskWrite] : [nodes[a].diskRead, nodes[a].network, nodes[b].network, nodes[b].diskWrite]
        let id = pool.start(bytes: bytes, through: path, at: s.now)
        while flowOwners.count <= id.slot { flowOwners.append(nil) }
        flowOwners[id.slot] = (id, owner)
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
        return owner
    }

    mutating func ownerEnded(_ owner: FlowOwner, success: Bool, _ s: inout EventScheduler<WorldEvent>) {
        switch owner {
        case .replication(let w, let job, let g, _): replicationFlowEnded(worker: w, job: job, sourceGeneration: g, success: success, &s)
        case .moveCopy(let m, _): moveCopyEnded(m, success: success, &s)
        }
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
            let ends: (Int, Int)
            switch owner {
            case .replication(_, _, _, let e): ends = e
            case .moveCopy(_, let e): ends = e
            }
            if hits(ends.0, ends.1) { hit.append(id) }
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
