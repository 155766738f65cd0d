/// A monotone radix heap (Ahuja, Mehlhorn, Orlin and Tarjan, "Faster algorithms for the
/// shortest path problem", JACM 1990) over 64-bit nanosecond keys.
///
/// Why this structure: a discrete-event simulation only ever pops times that never decrease,
/// which is exactly the monotone case a radix heap exploits. Bucket `i` holds keys whose
/// highest bit that differs from the last popped key is bit `i-1`; bucket 0 holds keys equal to
/// it. Insertion is an append; a pop from an empty bucket 0 scans the lowest non-empty bucket
/// once and spreads it downward. Every key moves down at most 64 times, and every move is a
/// sequential scan, so with a million pending events it avoids the cache misses that make a
/// binary heap's sift-down slow (measured in BENCHMARKS.md).
///
/// FIFO ties without a sequence number: all events with the same key always sit in the same
/// bucket (the bucket depends only on the key and the last popped key), buckets are appended
/// to and redistributed in order, and bucket 0 is drained from its front. So events with equal
/// times leave in insertion order, as `BinaryHeapEventQueue` (which stores the sequence
/// explicitly) confirms in the tests.
///
/// A peek raises the floor to the earliest pending key (it spreads the lowest bucket), while
/// the clock stays at the last key popped: the scheduler peeks to stop at a limit, and then an
/// event from outside (a traffic arrival) may be pushed between the two. Those go to a small
/// heap of their own (`early`); every key in it is below the floor, and the floor never falls,
/// so they all leave before the buckets', in time order with FIFO ties.
public struct RadixEventQueue<Payload>: EventQueue {
    @usableFromInline struct Entry {
        @usableFromInline var key: UInt64
        @usableFromInline var payload: Payload
        @inlinable init(key: UInt64, payload: Payload) { self.key = key; self.payload = payload }
    }

    /// buckets[0] holds keys equal to `last`; buckets[i], i in 1...64, keys whose highest
    /// differing bit from `last` is i-1.
    @usableFromInline var buckets: [ContiguousArray<Entry>]
    /// Read position in bucket 0 (it is drained from the front to keep FIFO order).
    @usableFromInline var head0: Int = 0
    /// Bit i-1 set when bucket i (1...64) is non-empty.
    @usableFromInline var occupied: UInt64 = 0
    @usableFromInline var last: UInt64 = 0
    /// The last key popped (the clock): nothing earlier may be pushed. `last` is above it
    /// after a peek spread a bucket.
    @usableFromInline var popped: UInt64 = 0
    /// Events pushed below `last` and at or after `popped` (see above); usually empty.
    @usableFromInline var early = QuaternaryHeapEventQueue<Payload>()
    @usableFromInline var _count: Int = 0
    @inlinable public var count: Int { _count }

    public init() {
        buckets = Array(repeating: ContiguousArray<Entry>(), count: 65)
    }

    @inlinable public var isEmpty: Bool { count == 0 }

    @inlinable static func bucketIndex(_ key: UInt64, _ last: UInt64) -> Int {
        let x = key ^ last
        return x == 0 ? 0 : 64 - x.leadingZeroBitCount
    }

    @inlinable public mutating func peekTime() -> SimTime? {
        if count == 0 { return nil }
        if !early.isEmpty { return early.peekTime() }
        if head0 == buckets[0].count {
            buckets[0].removeAll(keepingCapacity: true)
            head0 = 0
            refill()
        }
        return SimTime(nanoseconds: Int64(bitPattern: last))
    }

    @inlinable public mutating func push(_ time: SimTime, _ payload: Payload) {
        let key = UInt64(bitPattern: time.nanoseconds)
        precondition(time.nanoseconds >= 0 && key >= popped, "event scheduled in the past: \(time) before \(SimTime(nanoseconds: Int64(bitPattern: popped)))")
        if key < last {
            early.push(time, payload)
            _count += 1
            return
        }
        let i = Self.bucketIndex(key, last)
        buckets[i].append(Entry(key: key, payload: payload))
        if i > 0 { occupied |= 1 &<< UInt64(i - 1) }
        _count += 1
    }

    @inlinable public mutating func pop() -> (time: SimTime, payload: Payload)? {
        if count == 0 { return nil }
        if !early.isEmpty, let e = early.pop() {
            _count -= 1
            popped = UInt64(bitPattern: e.time.nanoseconds)
            return e
        }
        if head0 == buckets[0].count {
            // Bucket 0 is drained: refill it from the lowest non-empty bucket.
            buckets[0].removeAll(keepingCapacity: true)
            head0 = 0
            refill()
        }
        let e = buckets[0][head0]
        head0 += 1
        _count -= 1
        popped = e.key
        return (SimTime(nanoseconds: Int64(bitPattern: e.key)), e.payload)
    }

    @inlinable mutating func refill() {
        let i = occupied.trailingZeroBitCount + 1
        // Swap the bucket out so that appending to lower buckets never aliases it.
        var moving = ContiguousArray<Entry>()
        swap(&moving, &buckets[i])
        occupied &= ~(1 &<< UInt64(i - 1))
        var m = UInt64.max
        moving.withUnsafeBufferPointer { b in
            for e in b where e.key < m { m = e.key }
        }
        last = m
        moving.withUnsafeBufferPointer { b in
            for e in b {
                let j = Self.bucketIndex(e.key, m)
                buckets[j].append(e)
                if j > 0 { occupied |= 1 &<< UInt64(j - 1) }
            }
        }
        moving.removeAll(keepingCapacity: true)
        swap(&moving, &buckets[i])
    }

    /// Checks the structure: every key sits in the bucket its distance from `last` names, no
    /// bucket's key is below `last`, every early key is from `popped` to below `last`, the
    /// occupancy bits and the count agree with the buckets. Tests call it after mutations; it
    /// costs O(n).
    public func checkInvariants() {
        early.checkInvariants()
        precondition(popped <= last, "the clock is past the floor")
        for e in early.items { precondition(UInt64(bitPattern: e.time) >= popped && UInt64(bitPattern: e.time) < last, "early key \(e.time) outside [clock, floor)") }
        var total = early.count + buckets[0].count - head0
        precondition(head0 <= buckets[0].count)
        for k in head0..<buckets[0].count { precondition(buckets[0][k].key == last, "bucket 0 holds a key other than the floor") }
        for i in 1...64 {
            precondition((occupied >> UInt64(i - 1)) & 1 == (buckets[i].isEmpty ? 0 : 1), "occupancy bit \(i) disagrees with its bucket")
            for e in buckets[i] {
                precondition(e.key > last && Self.bucketIndex(e.key, last) == i, "key \(e.key) is in bucket \(i)")
            }
            total += buckets[i].count
        }
        precondition(total == count, "count \(count) but buckets hold \(total)")
    }

    /// The last time popped: nothing earlier may be pushed.
    public var floor: SimTime { SimTime(nanoseconds: Int64(bitPattern: popped)) }

    /// Empties the queue and sets the floor (used when events migrate in from another queue).
    public mutating func reset(floor: SimTime) {
        removeAll()
        early.reset(floor: floor)
        last = UInt64(bitPattern: floor.nanoseconds)
        popped = last
    }

    public mutating func removeAll() {
        early.removeAll()
        for i in buckets.indices { buckets[i].removeAll(keepingCapacity: true) }
        head0 = 0
        occupied = 0
        _count = 0
    }
}
