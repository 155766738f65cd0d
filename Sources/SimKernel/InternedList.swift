/// A list whose distinct values are kept once: each position holds a 4-byte index into them.
/// For per-repository values that few repositories differ in (a repository's parts, what its
/// write availability depends on): at ten million repositories a 32-byte value each is 320 MB,
/// an index 40.
public struct InternedList<Element: Hashable>: RandomAccessCollection {
    private var distinct: [Element] = []
    private var indexOf: [Element: UInt32] = [:]
    private var indices: [UInt32] = []

    public init() {}

    public var startIndex: Int { 0 }
    public var endIndex: Int { indices.count }

    public subscript(i: Int) -> Element {
        get { distinct[Int(indices[i])] }
        set { indices[i] = intern(newValue) }
    }

    /// How many distinct values the list has held.
    public var distinctCount: Int { distinct.count }

    public mutating func append(_ value: Element) {
        // Most values equal the one before: no hash for those.
        if let last = indices.last, distinct[Int(last)] == value {
            indices.append(last)
        } else {
            indices.append(intern(value))
        }
    }

    public mutating func reserveCapacity(_ count: Int) { indices.reserveCapacity(count) }

    private mutating func intern(_ value: Element) -> UInt32 {
        if let i = indexOf[value] { return i }
        precondition(distinct.count < Int(UInt32.max), "more than 2³² distinct values")
        distinct.append(value)
        indexOf[value] = UInt32(distinct.count - 1)
        return UInt32(distinct.count - 1)
    }
}

extension InternedList: Sendable where Element: Sendable {}
