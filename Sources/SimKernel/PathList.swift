/// Strings kept as one byte buffer and the offset where each ends: a list of millions of
/// repository paths without a heap object for each (an inventory's, a world's).
public struct PathList: Sendable, Equatable, RandomAccessCollection {
    @usableFromInline var buffer: [UInt8] = []
    @usableFromInline var ends: [UInt32] = []

    public init() {}

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { ends.count }

    public subscript(i: Int) -> String { String(decoding: bytes(i), as: UTF8.self) }

    /// The UTF-8 bytes of path `i`.
    @inlinable public func bytes(_ i: Int) -> ArraySlice<UInt8> {
        buffer[(i == 0 ? 0 : Int(ends[i - 1]))..<Int(ends[i])]
    }

    public mutating func reserveCapacity(_ count: Int, bytes: Int) {
        ends.reserveCapacity(count)
        buffer.reserveCapacity(bytes)
    }

    public mutating func append(_ path: String) { append(bytes: path.utf8) }

    /// Inlinable, so a caller in another module appends its own collection's bytes specialized
    /// (generic, each byte went through the collection's witnesses).
    @inlinable
    public mutating func append<Bytes: Collection<UInt8>>(bytes: Bytes) {
        buffer.append(contentsOf: bytes)
        precondition(buffer.count <= Int(UInt32.max), "paths past 4 GB")
        ends.append(UInt32(buffer.count))
    }

    /// The first path with no bytes, if any.
    public var firstEmpty: Int? {
        var start: UInt32 = 0
        for (i, end) in ends.enumerated() {
            if end == start { return i }
            start = end
        }
        return nil
    }

    /// The first path holding `byte`, if any: one scan of the buffer, then its path found by
    /// bisection.
    public func firstHolding(_ byte: UInt8) -> Int? {
        guard let at = buffer.firstIndex(of: byte) else { return nil }
        var lo = 0, hi = ends.count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if Int(ends[mid]) > at { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }
}
