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
/// constant rate, so its completion time is exact: remaining bytes / rate. Flows that share no
/// resource, directly or through other flows, do not affect each other's max-min rates, so a
/// change recomputes only the connected set of flows and resources it touches: a fleet of
/// hundreds of nodes with dozens of copies pays for one copy's neighbours, not for all.
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
        var remaining: Double
        var total: Double
        var rate: Double = 0
        var generation: UInt32
    }

    public private(set) var capacities: [Double] = []
    public private(set) var names: [String] = []
    var flows: [Flow?] = []
    var generations: [UInt32] = []
    var freeSlots: [Int] = []
    public private(set) var lastUpdate: SimTime = .zero
    /// Bumped on every recomputation: completion events carry it to detect staleness.
    public private(set) var version: UInt64 = 0
    public private(set) var activeFlows = 0
    /// Bytes moved through each resource so far.
    public private(set) var bytesThrough: [Double] = []
    var scratch = Scratch()
    /// The active flows' slots crossing each resource (in no particular order).
    var flowsOn: [[Int]] = []

    public init() {}

    /// Adds a resource with a capacity in bytes per second.
    public mutating func addResource(named name: String, bytesPerSecond capacity: Double) -> ResourceID {
        precondition(capacity >= 0 && capacity.isFinite, "resource \(name): capacity must be finite and ≥ 0, got \(capacity)")
        capacities.append(capacity)
        names.append(name)
        bytesThrough.append(0)
        flowsOn.append([])
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
        var changed: [Int] = []
        for (r, capacity) in changes {
            precondition(capacity >= 0 && capacity.isFinite, "\(names[r.index]): capacity must be finite and ≥ 0, got \(capacity)")
            if capacities[r.index] != capacity {
                if changed.isEmpty { advance(to: now) }
                changed.append(r.index)
                capacities[r.index] = capacity
            }
        }
        if !changed.isEmpty { recompute(around: changed, flows: []) }
    }

    /// Starts a flow of `bytes` through `resources` (each used once), capped at `capBytesPerSecond`.
    public mutating func start(bytes: Double, through resources: [ResourceID], capBytesPerSecond cap: Double = .infinity, at now: SimTime) -> FlowID {
        precondition(bytes >= 0 && bytes.isFinite, "flow size must be finite and ≥ 0, got \(bytes)")
        precondition(cap > 0, "flow cap must be > 0, got \(cap)")
        precondition(!resources.isEmpty || cap.isFinite, "a flow needs a resource or a finite cap")
        precondition(Set(resources.map(\.index)).count == resources.count, "a flow crosses each resource once")
        advance(to: now)
        let slot: Int
        if let s = freeSlots.popLast() { slot = s } else {
            slot = flows.count
            flows.append(nil)
            generations.append(0)
        }
        generations[slot] &+= 1
        flows[slot] = Flow(resources: resources.map(\.index), cap: cap, remaining: bytes, total: bytes, generation: generations[slot])
        for r in resources { flowsOn[r.index].append(slot) }
        activeFlows += 1
        recompute(around: resources.map(\.index), flows: [slot])
        return FlowID(slot: slot, generation: generations[slot])
    }

    /// Stops a flow before it finishes; returns the bytes it had left.
    @discardableResult
    public mutating func cancel(_ id: FlowID, at now: SimTime) -> Double {
        advance(to: now)
        guard let f = flow(id) else { return 0 }
        remove(id.slot)
        recompute(around: f.resources, flows: [])
        return Swift.max(0, f.remaining)
    }

    public func isActive(_ id: FlowID) -> Bool { flow(id) != nil }
    public func rate(of id: FlowID) -> Double? { flow(id)?.rate }
    /// Bytes left as of the last update (call `advance(to:)` first for the present value).
    public func remaining(of id: FlowID) -> Double? { flow(id).map { Swift.max(0, $0.remaining) } }

    /// The earliest time a flow finishes at current rates, with the version it is valid for.
    public func nextCompletion() -> (time: SimTime, version: UInt64)? {
        var best = Double.infinity
        for f in flows { if let f, f.rate > 0 { best = Swift.min(best, f.remaining / f.rate) } }
        guard best.isFinite else { return nil }
        // Round up to the next nanosecond so the flow has surely drained when the event fires.
        let ns = (Swift.max(0, best) * 1e9).rounded(.up)
        return (lastUpdate + SimTime(nanoseconds: Int64(ns)), version)
    }

    /// Advances to `now` and removes every flow that has drained, in slot order; rates are then
    /// recomputed for the flows that remain.
    public mutating func finishDue(at now: SimTime) -> [FlowID] {
        advance(to: now)
        var done: [FlowID] = []
        var freed: [Int] = []
        for slot in flows.indices {
            guard let f = flows[slot] else { continue }
            // A flow is done when what is left is within rounding of zero: one nanosecond of
            // its rate, or a relative 1e-12 of its size.
            if f.remaining <= Swift.max(f.rate * 1e-9, f.total * 1e-12) {
                done.append(FlowID(slot: slot, generation: f.generation))
                freed += f.resources
                remove(slot)
            }
        }
        if !done.isEmpty { recompute(around: freed, flows: []) }
        return done
    }

    /// Drains every flow at its current rate up to `now`.
    public mutating func advance(to now: SimTime) {
        precondition(now >= lastUpdate, "bandwidth pool moved back in time")
        let dt = (now - lastUpdate).seconds
        if dt > 0 {
            for slot in flows.indices {
                guard var f = flows[slot], f.rate > 0 else { continue }
                let moved = Swift.min(f.remaining, f.rate * dt)
                f.remaining -= f.rate * dt
                for r in f.resources { bytesThrough[r] += moved }
                flows[slot] = f
            }
        }
        lastUpdate = now
    }

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

    private mutating func remove(_ slot: Int) {
        for r in flows[slot]!.resources {
            let i = flowsOn[r].firstIndex(of: slot)!
            flowsOn[r].swapAt(i, flowsOn[r].count - 1)
            flowsOn[r].removeLast()
        }
        flows[slot] = nil
        freeSlots.append(slot)
        activeFlows -= 1
    }

    /// Progressive filling over the flows connected to `resources` and `seeds` (through shared
    /// resources, transitively): every other flow keeps its rate, which the change cannot
    /// alter. Every iteration freezes at least one flow, so it ends after at most as many
    /// iterations as there are flows. The working arrays are kept between calls.
    mutating func recompute(around resources: [Int], flows seeds: [Int]) {
        version &+= 1
        if scratch.residual.count != capacities.count {
            scratch.residual = capacities
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
        for r in scratch.involved { scratch.resourceSeen[r] = false; scratch.residual[r] = capacities[r] }
        // Slot order, as a whole-pool pass would take them.
        scratch.unfrozen.sort()
        for slot in scratch.unfrozen {
            scratch.flowSeen[slot] = false
            flows[slot]!.rate = 0
            for r in flows[slot]!.resources { scratch.unfrozenOn[r] += 1 }
        }
        var iterations = 0
        while !scratch.unfrozen.isEmpty {
            iterations += 1
            precondition(iterations <= flows.count + 1, "progressive filling did not converge")
            var delta = Double.infinity
            for r in scratch.involved where scratch.unfrozenOn[r] > 0 { delta = Swift.min(delta, scratch.residual[r] / Double(scratch.unfrozenOn[r])) }
            for slot in scratch.unfrozen { let f = flows[slot]!; delta = Swift.min(delta, f.cap - f.rate) }
            delta = Swift.max(0, delta)
            for slot in scratch.unfrozen {
                flows[slot]!.rate += delta
                for r in flows[slot]!.resources { scratch.residual[r] -= delta }
            }
            scratch.still.removeAll(keepingCapacity: true)
            for slot in scratch.unfrozen {
                let f = flows[slot]!
                let atCap = f.rate >= f.cap * (1 - 1e-12)
                let saturated = f.resources.contains { scratch.residual[$0] <= capacities[$0] * 1e-12 }
                if atCap || saturated {
                    for r in f.resources { scratch.unfrozenOn[r] -= 1 }
                } else {
                    scratch.still.append(slot)
                }
            }
            swap(&scratch.unfrozen, &scratch.still)
        }
        // Every flow froze, so every count is back at zero for the next call.
    }

    /// recompute()'s working arrays: residual capacity and unfrozen flows per resource (indexed
    /// by resource, meaningful only for `involved`), and the unfrozen flows' slots.
    struct Scratch: Sendable {
        var resourceSeen: [Bool] = []
        var flowSeen: [Bool] = []
        var residual: [Double] = []
        var unfrozenOn: [Int] = []
        var involved: [Int] = []
        var unfrozen: [Int] = []
        var still: [Int] = []
    }
}
