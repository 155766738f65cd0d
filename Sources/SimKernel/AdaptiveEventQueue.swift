/// The kernel's pending-event set: a 4-ary heap while few events are pending, a radix heap when
/// many are, switching with hysteresis.
///
/// Measured on the hold model (BENCHMARKS.md, "event queue"): with 10 pending events a 4-ary
/// heap handles about 2.5 times as many events per second as the radix heap (a radix heap
/// re-sorts a few keys on almost every pop), while with 10^6 pending the radix heap is about
/// 2.5 times faster than the heaps (their sift-down misses the cache at every level). The two
/// cross between 10^4 and 10^5 pending events.
///
/// Switching keeps FIFO ties: a migration pops every event in order from one structure and
/// pushes it in that order into the other, and both keep equal times in insertion order. The
/// thresholds are far apart, so a migration's O(n) cost is spread over at least
/// `radixAbove − heapBelow` operations.
public struct AdaptiveEventQueue<Payload>: EventQueue {
    @usableFromInline var heap = QuaternaryHeapEventQueue<Payload>()
    @usableFromInline var radix = RadixEventQueue<Payload>()
    @usableFromInline var usingRadix = false
    /// Move to the radix heap when more than this many events are pending.
    public static var radixAbove: Int { 32_768 }
    /// Move back to the 4-ary heap when fewer than this many are pending.
    public static var heapBelow: Int { 8_192 }

    public init() {}

    @inlinable public var count: Int { usingRadix ? radix.count : heap.count }
    @inlinable public var isEmpty: Bool { count == 0 }
    /// True while the radix heap holds the events (for tests and benchmarks).
    public var isRadix: Bool { usingRadix }

    @inlinable public mutating func peekTime() -> SimTime? {
        usingRadix ? radix.peekTime() : heap.peekTime()
    }

    @inlinable public mutating func push(_ time: SimTime, _ payload: Payload) {
        if usingRadix {
            radix.push(time, payload)
        } else {
            heap.push(time, payload)
            if heap.count > Self.radixAbove { migrateToRadix() }
        }
    }

    @inlinable public mutating func pop() -> (time: SimTime, payload: Payload)? {
        if usingRadix {
            let e = radix.pop()
            if radix.count < Self.heapBelow { migrateToHeap() }
            return e
        }
        return heap.pop()
    }

    @usableFromInline mutating func migrateToRadix() {
        radix.removeAll()
        // Carry the floor over (the last time popped, the clock's "now"): later pushes may be
        // anywhere at or after it, not only after the earliest pending event.
        radix.reset(floor: heap.floor)
        while let (t, p) = heap.pop() { radix.push(t, p) }
        usingRadix = true
    }

    @usableFromInline mutating func migrateToHeap() {
        heap.removeAll()
        heap.reset(floor: radix.floor)
        while let (t, p) = radix.pop() { heap.push(t, p) }
        usingRadix = false
    }

    /// Checks the active structure and that the idle one is empty.
    public func checkInvariants() {
        if usingRadix {
            precondition(heap.isEmpty, "both structures hold events")
            radix.checkInvariants()
        } else {
            precondition(radix.isEmpty, "both structures hold events")
            heap.checkInvariants()
        }
    }

    public mutating func removeAll() {
        heap.removeAll()
        radix.removeAll()
        usingRadix = false
    }
}
