import PropertyBased
import Testing
@testable import Planner

/// Goal: the planner's radix sort orders as a stable sort by (primary, secondary) does.
/// Method: random keys crowded into a few values (most keys tie on one key or both) with the
/// extremes of Int64 among them, ordered here by a comparison of (primary, secondary, position).
@Suite struct KeySortTests {
    static let values: [Int64] = [.min, .min + 1, -1 << 40, -2, -1, 0, 1, 2, 3, 1 << 11, 1 << 22, 1 << 40, .max - 1, .max]

    static func keys(seed: UInt64, count: Int) -> (primary: [Int64], secondary: [Int64]) {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        func next() -> UInt64 { state ^= state << 13; state ^= state >> 7; state ^= state << 17; return state }
        func key() -> Int64 { next() % 3 == 0 ? Int64(bitPattern: next()) : values[Int(next() % UInt64(values.count))] }
        return ((0..<count).map { _ in key() }, (0..<count).map { _ in key() })
    }

    static func expected(_ p: [Int64], _ s: [Int64]) -> [Int32] {
        p.indices.sorted { (p[$0], s[$0], $0) < (p[$1], s[$1], $1) }.map(Int32.init)
    }

    @Test func theRadixSortIsAStableSortByBothKeys() async {
        await propertyCheck(count: 12, input: Gen.int(in: 0...1_000_000)) { seed in
            let n = KeySort.radixFrom + seed % (2 * KeySort.radixFrom)
            let (p, s) = Self.keys(seed: UInt64(seed), count: n)
            let sorted = KeySort.positions(count: n, primary: { p[$0] }, secondary: { s[$0] })
            #expect(sorted == Self.expected(p, s), "seed \(seed), \(n) keys")
        }
    }

    @Test func fewKeysAreOrderedAlike() {
        for n in [0, 1, 2, 7, 100] {
            let (p, s) = Self.keys(seed: UInt64(n) + 1, count: n)
            #expect(KeySort.positions(count: n, primary: { p[$0] }, secondary: { s[$0] }) == Self.expected(p, s))
            #expect(KeySort.radix(count: n, primary: { p[$0] }, secondary: { s[$0] }) == Self.expected(p, s), "the radix sort at \(n)")
        }
    }
}
