#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Bandwidth resources (disks, network links) shared by flows, each flow crossing one or more
/// resources and optionally carrying its own rate cap, at max-min fair rates.
///
/// Max-min fairness by progressive filling (Bertsekas and Gallager, "Data Networks", 2nd ed.,
/// 6.5.2): all unfrozen flows grow at the same pace until a resource saturates or a flow reaches
/// its cap; those flows freeze and the rest keep growing. Rates are recomputed whenever a flow
/// starts or ends or a capacity changes, and between recomputations every flow drains at a
/// constant rate, so its completion time is exact: remaining bytes / rate.
///
/// What a change costs. A flow only bottlenecks on a saturated resource, so a capped flow that
/// starts where every resource keeps room runs at its cap, and a flow that ends where every
/// resource had room (or a capacity that changes on one with room before and after) changes no
/// other rate: O(its resources). Otherwise only the flows connected to the change (through
/// shared resources, transitively) are refilled, with their saturation levels in a heap:
/// O(flows × resources per flow + resources × log). A fleet of hundreds of nodes with
/// hundreds of capped copies mostly pays for one copy's resources.
///
/// Flows drain lazily: each keeps its bytes left as of its last rate change and is brought up
/// to date only when its rate changes or it ends, and its finish time sits in a heap, so an
/// event costs O(flows whose rate changed × log flows), not a pass over every flow. (With a
/// few hundred copies in flight at GitLab.com scale, three such passes per event were a tenth
/// of the run.)
///
/// Protocol with the event loop: after any change, `nextCompletion()` gives the earliest
/// completion time and the pool's `version`; the model schedules an event carrying both. When
/// it fires with the current version, `finishDue(at:)` returns the finished flows; an event
/// carrying an older version is stale and ignored.
public struct BandwidthPool: Sendable {
    public struct ResourceID: Hashable, Sendable { public let index: Int }
    public struct FlowID: Hashable, Sendable, Comparable {
        public let slot: Int
        public let generation: UInt32
        public static func < (a: FlowID, b: FlowID) -> Bool { (a.slot, a.generation) < (b.slot, b.generation) }
    }

    struct Flow: Sendable {
        var resources: [Int]
        var cap: Double
        /// Bytes left at `since`, from when the flow drains at `rate`.
        var remaining: Double
        var total: Double
        var rate: Double = 0
        var since: SimTime
        var generation: UInt32
    }

    /// When a flow finishes at its rate, stamped: an entry whose stamp is not its slot's
    /// present one is stale (the rate changed, the flow ended).
    struct Finish: Comparable, Sendable {
        var time: SimTime
        var slot: Int
        var stamp: UInt32
        static func < (a: Finish, b: Finish) -> Bool { (a.time, a.slot, a.stamp) < (b.time, b.slot, b.stamp) }
    }

    public private(set) var capacities: [Double] = []
    public private(set) var names: [String] = []
    var flows: [Flow?] = []
    var generations: [UInt32] = []
    /// Per slot: bumped whenever its flow's finish time changes or it ends.
    var stamps: [UInt32] = []
    var finishes = MinHeap<Finish>()
    var freeSlots: [Int] = []
    public private(set) var lastUpdate: SimTime = .zero
    /// Bumped on every recomputation: completion events carry it to detect staleness.
    public private(set) var version: UInt64 = 0
    public private(set) var activeFlows = 0
    /// Bytes moved through each resource by flows as of their last update (`bytesThrough(_:)`
    /// adds what they moved since).
    var settledThrough: [Double] = []
    var scratch = Scratch()
    /// The active flows' slots crossing each resource (in no particular order).
    var flowsOn: [[Int]] = []
    /// Each resource's capacity less its flows' rates.
    var residual: [Double] = []

    public init() {}

    /// Adds a resource with a capacity in bytes per second.
    public mutating func addResource(named name: String, bytesPerSecond capacity: Double) -> ResourceID {
        precondition(capacity >= 0 && capacity.isFinite, "resource \(name): capacity must be finite and ≥ 0, got \(capacity)")
        capacities.append(capacity)
        names.append(name)
        settledThrough.append(0)
        flowsOn.append([])
        residual.append(capacity)
        return ResourceID(index: capacities.count - 1)
    }

    /// Changes a resource's capacity (a disk slowing down, a link degrading) at `now`. Rates
    /// are recomputed (and `version` bumped) only when the capacity really changed.
    public mutating func setCapacity(_ r: ResourceID, bytesPerSecond capacity: Double, at now: SimTime) {
        setCapacities((r, capacity), at: now)
    }

    /// Changes several capacities at `now` with one recomputation, and none when nothing
    /// changed: a model that refreshes shares on every request stays cheap while they hold.
    public mutating func setCapacities(_ changes: (ResourceID, Double)..., at now: SimTime) {
        // The changed resources go in a list kept between calls: a node's shares change on
        // every copy's start and end, and a fresh list was an allocation each time.
        scratch.changed.removeAll(keepingCapacity: true)
        var slackOnly = true
        for (r, capacity) in changes {
            precondition(capacity >= 0 && capacity.isFinite, "\(names[r.index]): capacity must be finite and ≥ 0, got \(capacity)")
            let old = capacities[r.index]
            if old != capacity {
                if scratch.changed.isEmpty { advance(to: now) }
                scratch.changed.append(r.index)
                // A resource with room before and after bottlenecks no flow either way.
                slackOnly = slackOnly && hasRoom(r.index, beyond: 0) && residual[r.index] + (capacity - old) > Self.saturation * capacity
                residual[r.index] += capacity - old
                capacities[r.index] = capacity
            }
        }
        if scratch.changed.isEmpty { return }
        if slackOnly { version &+= 1 } else { recompute(around: scratch.changed, flows: []) }
    }

    /// Starts a flow of `bytes` through `resources` (each used once), capped at `capBytesPerSecond`.
    public mutating func start(bytes: Double, through resources: [ResourceID], capBytesPerSecond cap: Double = .infinity, at now: SimTime) -> FlowID {
        precondition(bytes >= 0 && bytes.isFinite, "flow size must be finite and ≥ 0, got \(bytes)")
        precondition(cap > 0, "flow cap must be > 0, got \(cap)")
        precondition(!resources.isEmpty || cap.isFinite, "a flow needs a resource or a finite cap")
        // Pairwise: a flow crosses a few resources, and a set built at each start was a fortieth
        // of a GitLab.com-size drain.
        precondition(resources.indices.allSatisfy { i in !resources[..<i].contains { $0.index == resources[i].index } },
                     "a flow crosses each resource once")
        advance(to: now)
        let slot: Int
        if let s = freeSlots.popLast() { slot = s } else {
            slot = flows.count
            flows.append(nil)
            generations.append(0)
            stamps.append(0)
        }
        generations[slot] &+= 1
        flows[slot] = Flow(resources: resources.map(\.index), cap: cap, remaining: bytes, total: bytes, since: lastUpdate, generation: generations[slot])
        for r in resources { flowsOn[r.index].append(slot) }
        activeFlows += 1
        if cap.isFinite && resources.allSatisfy({ hasRoom($0.index, beyond: cap) }) {
            // Room for the flow at its cap on every resource it crosses: it runs at its cap and
            // every other flow keeps its rate (none is bottlenecked on a resource with room).
            flows[slot]!.rate = cap
            for r in resources { residual[r.index] -= cap }
            version &+= 1
            scheduleFinish(slot)
        } else {
            recompute(around: resources.map(\.index), flows: [slot])
        }
        return FlowID(slot: slot, generation: generations[slot])
    }

    /// Stops a flow before it finishes; returns the bytes it had left.
    @discardableResult
    public mutating func cancel(_ id: FlowID, at now: SimTime) -> Double {
        advance(to: now)
        guard flow(id) != nil else { return 0 }
        settle(id.slot)
        let f = flows[id.slot]!
        if remove(id.slot) { version &+= 1 } else { recompute(around: f.resources, flows: []) }
        return Swift.max(0, f.remaining)
    }

    public func isActive(_ id: FlowID) -> Bool { flow(id) != nil }
    public func rate(of id: FlowID) -> Double? { flow(id)?.rate }
    /// Bytes left as of the last update (call `advance(to:)` first for the present value).
    public func remaining(of id: FlowID) -> Double? {
        flow(id).map { Swift.max(0, $0.remaining - $0.rate * (lastUpdate - $0.since).seconds) }
    }

    /// Bytes moved through `r` so far (as of the last update).
    public func bytesThrough(_ r: ResourceID) -> Double {
        var bytes = settledThrough[r.index]
        for slot in flowsOn[r.index] {
            let f = flows[slot]!
            if f.rate > 0 { bytes += Swift.min(f.remaining, f.rate * (lastUpdate - f.since).seconds) }
        }
        return bytes
    }

    /// The earliest time a flow finishes at current rates, with the version it is valid for.
    public mutating func nextCompletion() -> (time: SimTime, version: UInt64)? {
        while let top = finishes.min, !isCurrent(top) { _ = finishes.pop() }
        guard let top = finishes.min else { return nil }
        return (Swift.max(top.time, lastUpdate), version)
    }

    /// Advances to `now` and removes every flow whose finish time has come, in slot order;
    /// rates are then recomputed for the flows that remain.
    public mutating func finishDue(at now: SimTime) -> [FlowID] {
        advance(to: now)
        var due: [Int] = []
        while let top = finishes.min, top.time <= now {
            _ = finishes.pop()
            if isCurrent(top) { due.append(top.slot) }
        }
        due.sort()
        var done: [FlowID] = []
        var freed: [Int] = []
        for slot in due {
            settle(slot)
            done.append(FlowID(slot: slot, generation: flows[slot]!.generation))
            let resources = flows[slot]!.resources
            if !remove(slot) { freed += resources }
        }
        if !freed.isEmpty { recompute(around: freed, flows: []) } else if !done.isEmpty { version &+= 1 }
        return done
    }

    /// Moves the pool's clock to `now`; flows drain lazily (`settle`).
    public mutating func advance(to now: SimTime) {
        precondition(now >= lastUpdate, "bandwidth pool moved back in time")
        lastUpdate = now
    }

    /// Drains a flow at its rate from its last update to the pool's clock.
    private mutating func settle(_ slot: Int) {
        let dt = (lastUpdate - flows[slot]!.since).seconds
        guard dt > 0 else { return }
        let rate = flows[slot]!.rate
        if rate > 0 {
            // In place: a copy of the flow would count a reference to its resource list up and down.
            let moved = Swift.min(flows[slot]!.remaining, rate * dt)
            flows[slot]!.remaining -= rate * dt
            for k in 0..<flows[slot]!.resources.count { settledThrough[flows[slot]!.resources[k]] += moved }
        }
        flows[slot]!.since = lastUpdate
    }

    /// Files a flow's finish time at its present rate; the flow was just settled (or started),
    /// so `since` is the pool's clock. A flow is done when
    /// what is left is within rounding of zero (one nanosecond of its rate, or a relative 1e-12
    /// of its size); otherwise it finishes when its bytes drain, rounded up to the next
    /// nanosecond so it has surely drained when the event fires. A flow that would need more
    /// than thirty years (a rate near zero) is filed when its rate next changes.
    private mutating func scheduleFinish(_ slot: Int) {
        stamps[slot] &+= 1
        let f = flows[slot]!
        let seconds = f.remaining <= Swift.max(f.rate * 1e-9, f.total * 1e-12) ? 0 : f.rate > 0 ? f.remaining / f.rate : .infinity
        guard seconds < Self.farFuture else { return }
        finishes.push(Finish(time: f.since + SimTime(nanoseconds: Int64((seconds * 1e9).rounded(.up))), slot: slot, stamp: stamps[slot]))
        // Stale entries are dropped as they surface; a heap mostly stale is rebuilt.
        if finishes.count > 4 * activeFlows + 64 {
            var current = MinHeap<Finish>()
            while let e = finishes.pop() { if isCurrent(e) { current.push(e) } }
            finishes = current
        }
    }

    /// 31.7 years in seconds: beyond every horizon, and within SimTime's 292 years.
    static let farFuture = 1e9

    private func isCurrent(_ e: Finish) -> Bool { flows[e.slot] != nil && stamps[e.slot] == e.stamp }

    /// Current utilisation of a resource, 0...1.
    public func utilisation(_ r: ResourceID) -> Double {
        let cap = capacities[r.index]
        guard cap > 0 else { return 0 }
        var used = 0.0
        for f in flows { if let f, f.resources.contains(r.index) { used += f.rate } }
        return used / cap
    }

    private func flow(_ id: FlowID) -> Flow? {
        guard id.slot < flows.count, let f = flows[id.slot], f.generation == id.generation else { return nil }
        return f
    }

    /// Below this share of its capacity left, a resource counts as saturated.
    static let saturation = 1e-9

    /// Whether `r` keeps room after `more` bytes per second: a resource with room bottlenecks
    /// no flow.
    func hasRoom(_ r: Int, beyond more: Double) -> Bool {
        residual[r] - more > Self.saturation * capacities[r]
    }

    /// Takes a flow out. Returns true when every other flow keeps its rate: every resource it
    /// crossed had room, so none bottlenecked a flow, and now has more. Otherwise the caller
    /// recomputes around its resources.
    private mutating func remove(_ slot: Int) -> Bool {
        let f = flows[slot]!
        var unchanged = true
        for r in f.resources {
            let i = flowsOn[r].firstIndex(of: slot)!
            flowsOn[r].swapAt(i, flowsOn[r].count - 1)
            flowsOn[r].removeLast()
            unchanged = unchanged && hasRoom(r, beyond: 0)
        }
        if unchanged { for r in f.resources { residual[r] += f.rate } }
        stamps[slot] &+= 1
        flows[slot] = nil
        freeSlots.append(slot)
        activeFlows -= 1
        return unchanged
    }

    /// Progressive filling over the flows connected to `resources` and `seeds` (through shared
    /// resources, transitively): every other flow keeps its rate, which the change cannot
    /// alter. The working arrays are kept between calls.
    ///
    /// All unfrozen flows share one level, their common rate. A resource saturates at the
    /// level (capacity − frozen flows' rates) / unfrozen flows on it, a capped flow at its cap;
    /// both sit in a min-heap, and the lowest one freezes its flows at that level. A freeze
    /// only raises the level at which the flow's other resources saturate, so a resource's
    /// entry is a lower bound: popped, its level is worked out afresh, and if it has risen it
    /// goes back in at the new level. Each flow freezes once and touches only counters:
    /// O(flows × resources per flow + pops × log), where filling pass by pass cost flows ×
    /// distinct levels.
    mutating func recompute(around resources: [Int], flows seeds: [Int]) {
        version &+= 1
        if scratch.unfrozenOn.count != capacities.count {
            scratch.unfrozenOn = [Int](repeating: 0, count: capacities.count)
            scratch.resourceSeen = [Bool](repeating: false, count: capacities.count)
        }
        if scratch.flowSeen.count < flows.count { scratch.flowSeen += [Bool](repeating: false, count: flows.count - scratch.flowSeen.count) }
        // The component: resources and flows reached from the change, breadth first.
        scratch.involved.removeAll(keepingCapacity: true)
        scratch.unfrozen.removeAll(keepingCapacity: true)
        for r in resources where !scratch.resourceSeen[r] { scratch.resourceSeen[r] = true; scratch.involved.append(r) }
        for slot in seeds where flows[slot] != nil && !scratch.flowSeen[slot] { scratch.flowSeen[slot] = true; scratch.unfrozen.append(slot) }
        var nextResource = 0, nextFlow = 0
        while nextResource < scratch.involved.count || nextFlow < scratch.unfrozen.count {
            while nextResource < scratch.involved.count {
                let r = scratch.involved[nextResource]
                nextResource += 1
                for slot in flowsOn[r] where !scratch.flowSeen[slot] { scratch.flowSeen[slot] = true; scratch.unfrozen.append(slot) }
            }
            while nextFlow < scratch.unfrozen.count {
                let slot = scratch.unfrozen[nextFlow]
                nextFlow += 1
                for r in flows[slot]!.resources where !scratch.resourceSeen[r] { scratch.resourceSeen[r] = true; scratch.involved.append(r) }
            }
        }
        // From here `flowSeen` marks the component's flows not yet frozen.
        scratch.levels.removeAll(keepingCapacity: true)
        for r in scratch.involved { scratch.resourceSeen[r] = false; residual[r] = capacities[r] }
        for slot in scratch.unfrozen {
            settle(slot)
            flows[slot]!.rate = 0
            for r in flows[slot]!.resources { scratch.unfrozenOn[r] += 1 }
            let cap = flows[slot]!.cap
            if cap.isFinite { scratch.levels.push(Level(level: cap, tag: -(slot + 1))) }
        }
        for r in scratch.involved where scratch.unfrozenOn[r] > 0 {
            scratch.levels.push(Level(level: residual[r] / Double(scratch.unfrozenOn[r]), tag: r))
        }
        var level = 0.0
        var left = scratch.unfrozen.count
        while left > 0 {
            guard let next = scratch.levels.pop() else { preconditionFailure("progressive filling ran out of levels with \(left) flows unfrozen") }
            if next.tag >= 0 {
                // A resource saturates: every flow still growing on it stops here.
                let r = next.tag
                guard scratch.unfrozenOn[r] > 0 else { continue }
                let now = Swift.max(level, residual[r] / Double(scratch.unfrozenOn[r]))
                if now > next.level {
                    scratch.levels.push(Level(level: now, tag: r))
                    continue
                }
                level = now
                for slot in flowsOn[r] where scratch.flowSeen[slot] { freeze(slot, at: level); left -= 1 }
            } else {
                // A flow reaches its cap.
                let slot = -next.tag - 1
                guard scratch.flowSeen[slot] else { continue }
                level = Swift.max(level, next.level)
                freeze(slot, at: level)
                left -= 1
            }
        }
        // Every flow froze, so every count is back at zero for the next call.
        for slot in scratch.unfrozen { scheduleFinish(slot) }
    }

    /// Fixes a flow's rate at `level`: its resources have that much less to share among fewer.
    private mutating func freeze(_ slot: Int, at level: Double) {
        scratch.flowSeen[slot] = false
        flows[slot]!.rate = level
        for r in flows[slot]!.resources {
            scratch.unfrozenOn[r] -= 1
            residual[r] -= level
        }
    }

    /// recompute()'s working arrays: unfrozen flows per resource (indexed by resource,
    /// meaningful only for `involved`), the unfrozen flows' slots and the saturation levels.
    struct Scratch: Sendable {
        var resourceSeen: [Bool] = []
        var flowSeen: [Bool] = []
        var unfrozenOn: [Int] = []
        var involved: [Int] = []
        var unfrozen: [Int] = []
        var levels = MinHeap<Level>()
        var changed: [Int] = []
    }

    /// A saturation level in the heap, ties broken by tag (a resource's index, or −(slot + 1)
    /// for a flow's cap) so the order of freezes is the same on every machine.
    struct Level: Comparable, Sendable {
        var level: Double
        var tag: Int
        static func < (a: Level, b: Level) -> Bool { a.level < b.level || (a.level == b.level && a.tag < b.tag) }
    }
}
