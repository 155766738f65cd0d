/// Reference event queues: the classic implicit d-ary heaps keyed by (time, sequence).
///
/// They store the insertion sequence explicitly, so they are an independent statement of the
/// ordering rule that `RadixEventQueue` keeps implicitly; the tests pop both side by side.
/// `BinaryHeapEventQueue` is the structure of ../shared/anchors/des/baseline-swift.
public typealias BinaryHeapEventQueue<Payload> = DaryHeapEventQueue<Payload, Arity2>
/// A 4-ary heap: half the depth of a binary heap, and its four children share a cache line
/// more often (LaMarca and Ladner, "The influence of caches on the performance of heaps", 1996).
public typealias QuaternaryHeapEventQueue<Payload> = DaryHeapEventQueue<Payload, Arity4>

public protocol HeapArity { static var d: Int { get } }
public enum Arity2: HeapArity { @inlinable public static var d: Int { 2 } }
public enum Arity4: HeapArity { @inlinable public static var d: Int { 4 } }

public struct DaryHeapEventQueue<Payload, Arity: HeapArity>: EventQueue {
    @usableFromInline struct Entry {
        @usableFromInline var time: Int64
        @usableFromInline var seq: UInt64
        @usableFromInline var payload: Payload
        @inlinable init(time: Int64, seq: UInt64, payload: Payload) { self.time = time; self.seq = seq; self.payload = payload }
        @inlinable func before(_ o: Entry) -> Bool { time < o.time || (time == o.time && seq < o.seq) }
    }
    @usableFromInline var items = ContiguousArray<Entry>()
    @usableFromInline var nextSeq: UInt64 = 0
    @usableFromInline var lastPopped: Int64 = 0

    public init() {}
    @inlinable public var count: Int { items.count }
    @inlinable public var isEmpty: Bool { items.isEmpty }
    @inlinable public mutating func peekTime() -> SimTime? { items.first.map { SimTime(nanoseconds: $0.time) } }

    @inlinable public mutating func push(_ time: SimTime, _ payload: Payload) {
        precondition(time.nanoseconds >= lastPopped, "event scheduled in the past: \(time)")
        let e = Entry(time: time.nanoseconds, seq: nextSeq, payload: payload)
        nextSeq &+= 1
        items.append(e)
        // Sift up with a hole: move parents down until e's place is found, then write e once.
        let d = Arity.d
        var i = items.count - 1
        while i > 0 {
            let p = (i - 1) / d
            if e.before(items[p]) { items[i] = items[p]; i = p } else { break }
        }
        items[i] = e
    }

    @inlinable public mutating func pop() -> (time: SimTime, payload: Payload)? {
        guard let tail = items.popLast() else { return nil }
        if items.isEmpty { lastPopped = tail.time; return (SimTime(nanoseconds: tail.time), tail.payload) }
        let top = items[0]
        // Sift the former last element down from the root, again with a hole.
        let d = Arity.d
        let n = items.count
        var i = 0
        while true {
            let first = d * i + 1
            if first >= n { break }
            var c = first
            let end = Swift.min(first + d, n)
            var k = first + 1
            while k < end { if items[k].before(items[c]) { c = k }; k += 1 }
            if items[c].before(tail) { items[i] = items[c]; i = c } else { break }
        }
        items[i] = tail
        lastPopped = top.time
        return (SimTime(nanoseconds: top.time), top.payload)
    }

    public mutating func removeAll() { items.removeAll(keepingCapacity: true) }

    /// Checks the heap order: no entry comes before its parent, none is below the floor. O(n).
    public func checkInvariants() {
        for i in items.indices {
            precondition(items[i].time >= lastPopped, "entry below the floor")
            if i > 0 { precondition(!items[i].before(items[(i - 1) / Arity.d]), "heap order broken at \(i)") }
        }
    }

    /// The last time popped: nothing earlier may be pushed.
    public var floor: SimTime { SimTime(nanoseconds: lastPopped) }

    /// Empties the queue and sets the floor below which nothing may be pushed.
    public mutating func reset(floor: SimTime) {
        items.removeAll(keepingCapacity: true)
        lastPopped = floor.nanoseconds
    }
}
