/// A growable first-in first-out queue on one contiguous buffer: pushes and pops are O(1) and
/// never allocate once the buffer has grown to the queue's high-water mark.
public struct RingBuffer<Element> {
    @usableFromInline var storage: ContiguousArray<Element?>
    @usableFromInline var head = 0
    @usableFromInline var _count: Int = 0
    @inlinable public var count: Int { _count }

    public init(capacity: Int = 16) {
        var c = 1
        while c < Swift.max(capacity, 1) { c <<= 1 }
        storage = ContiguousArray(repeating: nil, count: c)
    }

    @inlinable public var isEmpty: Bool { count == 0 }
    @inlinable public var first: Element? { count == 0 ? nil : storage[head] }
    @inlinable public var last: Element? { count == 0 ? nil : storage[(head + count - 1) & (storage.count - 1)] }

    @inlinable public mutating func append(_ x: Element) {
        if count == storage.count { grow() }
        storage[(head + count) & (storage.count - 1)] = x
        _count += 1
    }

    @inlinable @discardableResult public mutating func popFirst() -> Element? {
        if count == 0 { return nil }
        let x = storage[head]
        storage[head] = nil
        head = (head + 1) & (storage.count - 1)
        _count -= 1
        return x
    }

    /// The i-th element from the front.
    @inlinable public subscript(i: Int) -> Element {
        precondition(i >= 0 && i < count, "ring buffer index \(i) out of 0..<\(count)")
        return storage[(head + i) & (storage.count - 1)]!
    }

    @usableFromInline mutating func grow() {
        var bigger = ContiguousArray<Element?>(repeating: nil, count: storage.count * 2)
        for i in 0..<count { bigger[i] = storage[(head + i) & (storage.count - 1)] }
        storage = bigger
        head = 0
    }
}
