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
}
