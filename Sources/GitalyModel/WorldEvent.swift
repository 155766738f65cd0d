import SimKernel

/// Everything that can happen in the world. Every case is handled by an exhaustive switch.
///
/// No payload is wider than 12 bytes, so an event takes 16 bytes and a queue entry (time,
/// sequence, event) 32: the event queue's sift moves are the benchmark's largest cost
/// (issue 3 profile), and an RPC carried inside events made every entry 56 bytes.
public enum WorldEvent: Sendable {
    case trafficArrival
    /// `cost`: a slot of `World.serviceCosts` (a replayed call's own record), or -1.
    case rpcArrival(repository: Int32, rpcClass: RPCClass, cost: Int32)
    /// The RPC in slab `slot` ends its service on `node`. The repository rides along only so
    /// that the trace code names it; the slab holds the rest.
    case rpcDone(node: Int32, slot: Int32, repository: Int32)
    /// The RPC in slab `slot` waited `max_queue_wait` in a limiter of `node`; `generation`
    /// tells whether the slot still holds that RPC.
    case limiterTimeout(node: Int32, slot: Int32, generation: UInt32)
    case flowsDue(version: UInt64)
    case healthRound(praefect: Int32)
    case healthApply(praefect: Int32)
    case workerWake(worker: Int32, token: UInt32)
    case reconcile
    case verify
    case nodeDownEnd(node: Int32)
    case scheduledFault(index: Int32)
    case faultEnd(FaultEnd)
    case randomFault(kind: FaultKind, target: Int32)
    case moveStep(move: Int32)
    case rollingUpdateStep
    case windowClose
    /// A replication job's fixed latency is over; `token` tells whether the worker still runs it.
    case replicationStep(worker: Int32, token: UInt32)
    /// `ProcessStale`: in-progress jobs without a heartbeat for a minute fail.
    case staleJobCheck
    /// The next call to the repository of in-flight move `move` (`call`), or only the draw of
    /// the one after (`World.inFlightCall`); `draw` numbers the chain's random substreams.
    case inFlightCall(move: Int32, draw: UInt32, call: Bool)
}

/// The end of a fault that is not a node outage.
public enum FaultEnd: Sendable {
    case diskSlowdown(node: Int32)
    case partition(praefect: Int32, node: Int32)
    case praefectLoss(praefect: Int32)
    case gitalyPartition(node: Int32, peer: Int32)
    case databaseOutage
}

extension WorldEvent: TraceableEvent {
    public var traceCode: UInt64 {
        switch self {
        case .trafficArrival: return 1
        case .rpcArrival(let r, let c, _): return 2 | UInt64(r) << 8 | UInt64(c.index) << 40
        case .rpcDone(let n, _, let r): return 3 | UInt64(n) << 8 | UInt64(UInt32(bitPattern: r)) << 24
        case .limiterTimeout(let n, let slot, let g): return 4 | UInt64(n) << 8 | UInt64(UInt32(bitPattern: slot)) << 24 ^ UInt64(g) << 40
        case .flowsDue(let v): return 5 | v << 8
        case .healthRound(let p): return 6 | UInt64(p) << 8
        case .healthApply(let p): return 7 | UInt64(p) << 8
        case .workerWake(let w, let t): return 8 | UInt64(w) << 8 | UInt64(t) << 32
        case .reconcile: return 9
        case .verify: return 19
        case .nodeDownEnd(let n): return 10 | UInt64(n) << 8
        case .scheduledFault(let i): return 11 | UInt64(i) << 8
        case .faultEnd(let e):
            switch e {
            case .diskSlowdown(let n): return 12 | UInt64(n) << 8
            case .partition(let p, let n): return 13 | UInt64(p) << 8 | UInt64(n) << 24
            case .praefectLoss(let p): return 14 | UInt64(p) << 8
            case .gitalyPartition(let a, let b): return 22 | UInt64(a) << 8 | UInt64(b) << 24
            case .databaseOutage: return 23
            }
        // Partitions, Praefect losses and zone outages pick their target when they fire, so they
        // are scheduled with target -1: its bit pattern keeps the code total.
        case .randomFault(let k, let t): return 15 | UInt64(FaultKind.allCases.firstIndex(of: k)!) << 8 | UInt64(UInt32(bitPattern: t)) << 16
        case .moveStep(let m): return 16 | UInt64(m) << 8
        case .rollingUpdateStep: return 17
        case .windowClose: return 18
        case .replicationStep(let w, let t): return 20 | UInt64(w) << 8 | UInt64(t) << 32
        case .staleJobCheck: return 21
        case .inFlightCall(let m, let k, let call): return 24 | UInt64(m) << 8 | UInt64(k) << 32 ^ (call ? 1 << 63 : 0)
        }
    }
}
