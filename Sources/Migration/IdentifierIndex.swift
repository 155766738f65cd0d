/// Identifiers to their positions in a list, built once: an open-addressing table of the 64-bit
/// ids and 32-bit positions, probed linearly from a multiplicative hash. A fleet's repositories
/// are looked up by id on every answer the engine and its drivers handle; Swift's `Dictionary`
/// hashes each key with a freshly seeded SipHash (a tenth of a GitLab.com-size run's time went
/// there), and this table costs 12 bytes a slot at a load of at most a half.
public struct IdentifierIndex<Tag: IdentifierTag>: Sendable {
    var keys: [Int64]
    var positions: [Int32]
    let shift: Int
    public private(set) var count = 0
    /// Positions fit in 32 bits (inventories are capped far below).
    public static var capacity: Int { Int(Int32.max) }
    static var empty: Int32 { -1 }

    /// The index of `ids`, the i-th id at position i; nil and the first repeated id when one
    /// appears twice.
    public init(_ ids: some Collection<Identifier<Tag>>) throws(Repeated) {
        precondition(ids.count < Self.capacity, "at most \(Self.capacity) identifiers")
        var bits = 4
        while (1 << bits) < 2 * max(1, ids.count) { bits += 1 }
        keys = [Int64](repeating: 0, count: 1 << bits)
        positions = [Int32](repeating: Self.empty, count: 1 << bits)
        shift = 64 - bits
        for (i, id) in ids.enumerated() {
            guard insert(id, at: Int32(i)) else { throw Repeated(id: id) }
        }
    }

    public struct Repeated: Error, Sendable { public let id: Identifier<Tag> }

    @inline(__always) func slot(of key: Int64) -> Int {
        Int(truncatingIfNeeded: (UInt64(bitPattern: key) &* 0x9E37_79B9_7F4A_7C15) >> UInt64(shift))
    }

    /// Adds `id` at `position`; false when it is already there.
    mutating func insert(_ id: Identifier<Tag>, at position: Int32) -> Bool {
        let mask = keys.count - 1
        var s = slot(of: id.rawValue)
        while positions[s] != Self.empty {
            if keys[s] == id.rawValue { return false }
            s = (s + 1) & mask
        }
        keys[s] = id.rawValue
        positions[s] = position
        count += 1
        return true
    }

    public subscript(_ id: Identifier<Tag>) -> Int? {
        let mask = keys.count - 1
        var s = slot(of: id.rawValue)
        while positions[s] != Self.empty {
            if keys[s] == id.rawValue { return Int(positions[s]) }
            s = (s + 1) & mask
        }
        return nil
    }
}
