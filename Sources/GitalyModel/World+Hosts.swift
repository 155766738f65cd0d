import SimKernel

/// A Gitaly node's moving parts: its host's up/down state, its cores, its concurrency limiters
/// and its bandwidth resources.
struct NodeState {
    /// Outages currently holding the node down (crash, update, zone outage, ...): it serves
    /// only when none does.
    var downCount = 0
    /// Bumped at every crash so that work started before it is recognised.
    var epoch: UInt32 = 0
    /// By epoch: when the node left it (went down). An RPC of epoch e that voted before
    /// `downSince[e]` changed the replica before the node stopped.
    var downSince: [SimTime] = []
    /// Cores and limiters hold slab slots (`World.inflight`), not RPCs.
    var cpu: Server<Int32>
    /// Per-repository limiters, keyed by class index × repositories + repository; an idle
    /// limiter is dropped so memory follows the live requests.
    var limiters: [Int: Server<Int32>] = [:]
    var diskRead: BandwidthPool.ResourceID
    var diskWrite: BandwidthPool.ResourceID
    var network: BandwidthPool.ResourceID
    /// The cores a move's copies get on this node, as bytes per second: packing on the
    /// source, resolving deltas on the destination (`World+Flows`).
    var packCPU: BandwidthPool.ResourceID
    var indexCPU: BandwidthPool.ResourceID
    /// Move copies reading from (sending) and writing to (receiving) this node.
    var copies: (sending: Int, receiving: Int) = (0, 0)
    var slowdownFactor = 1.0
    /// The release it runs (index into `Fleet.releases`), and what that release does to it.
    var release: Int
    var releaseErrorRatio = 0.0
    var latencyFactor = 1.0
    /// Client calls that ended on the node, and those that failed there (crash, deadline, a bad
    /// release): what a canary analysis reads (`World+Rollouts`).
    var callsServed = 0
    var callsFailed = 0
    var up: Bool { downCount == 0 }
}

/// Hosts: VMs and pods going down and coming back (crashes, evictions, restarts, rolling
/// updates), and what that does to the node's work.
extension World {
    /// How long a host takes to serve again after a crash: a VM reboots; a pod's container is
    /// restarted after the kubelet back-off, starts and passes its readiness delay.
    func crashRecovery(_ n: Int) -> SimTime {
        let h = fleet.nodes[n].host
        switch h.kind {
        case .vm: return .seconds(h.rebootSeconds)
        case .pod: return .seconds(h.restartDelaySeconds + h.startSeconds + h.readinessDelaySeconds)
        }
    }

    /// An eviction or a drained node: the pod stops, its volume moves, and it starts elsewhere.
    func evictionTime(_ n: Int) -> SimTime {
        let h = fleet.nodes[n].host
        return .seconds(h.stopSeconds + h.volumeAttachSeconds + h.startSeconds + h.readinessDelaySeconds)
    }

    /// Takes node `n` down for `duration` (nil: for good). A node serves only when no outage
    /// holds it; the first outage bumps its epoch, so in-flight work fails, and stops its flows.
    mutating func nodeDown(_ n: Int, for duration: SimTime?, _ s: inout EventScheduler<WorldEvent>) {
        let wasUp = nodes[n].up
        if wasUp { accrueLoad(s.now) }
        nodes[n].downCount += 1
        if let d = duration { s.schedule(after: d, .nodeDownEnd(node: Int32(n))) }
        guard wasUp else { return }
        nodes[n].downSince.append(s.now)
        nodes[n].epoch &+= 1
        nodesDown.add(1, at: s.now)
        cancelFlows(touching: n, &s)
        refreshPlainAvailability(node: n, s.now)
        refreshLoad(&s, force: true)
    }

    mutating func nodeDownEnd(_ n: Int, _ s: inout EventScheduler<WorldEvent>) {
        precondition(nodes[n].downCount > 0)
        if nodes[n].downCount == 1 { accrueLoad(s.now) }
        nodes[n].downCount -= 1
        guard nodes[n].up else { return }
        nodesDown.add(-1, at: s.now)
        refreshPlainAvailability(node: n, s.now)
        refreshLoad(&s, force: true)
    }

    /// A node went down or came back: writes to its primaries fail or work again, on plain
    /// storages and, before the health checks notice, through Praefect too.
    mutating func refreshPlainAvailability(node n: Int, _ now: SimTime) {
        recomputeWriteFailing(now)
    }

    /// A planned restart of a node's host (an upgrade, a VM resize): it stops and starts again,
    /// a pod also waiting for its readiness delay. Returns when it will serve again.
    @discardableResult
    public static func restartHost(_ sim: inout Simulation<World>, node n: Int) -> SimTime {
        let h = sim.model.fleet.nodes[n].host
        let outage: SimTime
        switch h.kind {
        case .vm: outage = .seconds(h.stopSeconds + h.startSeconds)
        case .pod: outage = .seconds(h.stopSeconds + h.startSeconds + h.readinessDelaySeconds)
        }
        sim.model.nodeDown(n, for: outage, &sim.scheduler)
        return sim.now + outage
    }
}
