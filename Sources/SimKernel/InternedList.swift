/// A list whose distinct values are kept once: each position holds a 4-byte index into them.
/// For per-repository values that few repositories differ in (a repository's parts, what its
/// write availability depends on): at ten million repositories a 32-byte value each is 320 MB,
/// an index 40.
///
/// Inlinable throughout: generic, it was called unspecialized from the world's module, a few
/// percent of a ten-million drain.
public struct InternedList<Element: Hashable>: RandomAccessCollection {
    @usableFromInline var distinct: [Element] = []
    @usableFromInline var indexOf: [Element: UInt32] = [:]
    @usableFromInline var indices: [UInt32] = []

    public init() {}

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { indices.count }

    @inlinable public subscript(i: Int) -> Element {
        get { distinct[Int(indices[i])] }
        set { indices[i] = intern(newValue) }
    }

    /// How many distinct values the list has held.
    @inlinable public var distinctCount: Int { distinct.count }

    /// The distinct value numbered `d` (0 for the first held; `append` and `replace` hand the
    /// numbers out): a caller can keep figures per distinct value in an array, with no hashing
    /// of its own.
    @inlinable public func distinctValue(_ d: UInt32) -> Element { distinct[Int(d)] }

    /// Sets position i to `value`; returns the numbers of its value before and after.
    @inlinable @discardableResult
    public mutating func replace(at i: Int, with value: Element) -> (old: UInt32, new: UInt32) {
        let old = indices[i]
        let new = distinct[Int(old)] == value ? old : intern(value)
        indices[i] = new
        return (old, new)
    }

    /// Appends `value`; returns its number among the distinct values.
    @inlinable @discardableResult
    public mutating func append(_ value: Element) -> UInt32 {
        // Most values equal the one before: no hash for those.
        let d: UInt32
        if let last = indices.last, distinct[Int(last)] == value { d = last } else { d = intern(value) }
        indices.append(d)
        return d
    }

    /// Appends `value` `count` times.
    @inlinable public mutating func append(_ value: Element, count: Int) {
        guard count > 0 else { return }
        let d = append(value)
        indices.append(contentsOf: repeatElement(d, count: count - 1))
    }

    @inlinable public mutating func reserveCapacity(_ count: Int) { indices.reserveCapacity(count) }

    @usableFromInline mutating func intern(_ value: Element) -> UInt32 {
        if let i = indexOf[value] { return i }
        precondition(distinct.count < Int(UInt32.max), "more than 2³² distinct values")
        distinct.append(value)
        indexOf[value] = UInt32(distinct.count - 1)
        return UInt32(distinct.count - 1)
    }
}

extension InternedList: Sendable where Element: Sendable {}
