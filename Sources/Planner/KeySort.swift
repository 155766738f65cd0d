/// Orders positions by two 64-bit keys, first `primary` then `secondary`, then by position:
/// what a stable sort by (primary, secondary) gives. The planner sorts every unit by size twice
/// (the policy's order, then largest first to pack); at ten million units a comparison sort of
/// (size, id, position) took about 2.5 s a sort, a least-significant-digit radix sort a fraction
/// of that (BENCHMARKS.md). Keys compare as signed integers.
enum KeySort {
    /// Below this many, a comparison sort: a radix sort's counting tables cost more than it saves.
    static let radixFrom = 4096

    /// Positions 0..<count ordered by their keys (`primary(i)` and `secondary(i)` are position
    /// i's).
    static func positions(count n: Int, primary: (Int) -> Int64, secondary: (Int) -> Int64) -> [Int32] {
        precondition(n < Int(Int32.max))
        return n < radixFrom ? comparing(count: n, primary: primary, secondary: secondary) : radix(count: n, primary: primary, secondary: secondary)
    }

    static func comparing(count n: Int, primary: (Int) -> Int64, secondary: (Int) -> Int64) -> [Int32] {
        var keyed = (0..<n).map { i in (primary(i), secondary(i), Int32(i)) }
        keyed.sort { ($0.0, $0.1, $0.2) < ($1.0, $1.1, $1.2) }
        return keyed.map(\.2)
    }

    /// One key and its position: 16 bytes, not the 24 of both keys beside a position. At ten
    /// million the two lists a sort passes between are fresh pages the kernel zeroes, which cost
    /// more than the passes.
    struct Keyed {
        var key: UInt64
        var position: Int32
    }

    static let digitBits = 11
    static let buckets = 1 << digitBits
    /// Six 11-bit digits cover a 64-bit key.
    static let digitsPerKey = (64 + digitBits - 1) / digitBits

    /// Stable passes over the secondary key's digits, least significant first, then over the
    /// primary's (read position by position in the order the secondary left); a pass whose
    /// digit is the same for every key is skipped (the sign bits, the high bits of sizes and ids).
    static func radix(count n: Int, primary: (Int) -> Int64, secondary: (Int) -> Int64) -> [Int32] {
        // Signed order as unsigned: flip the sign bit.
        func unsigned(_ x: Int64) -> UInt64 { UInt64(bitPattern: x) ^ (1 << 63) }
        var from = [Keyed](unsafeUninitializedCapacity: n) { b, c in
            for i in 0..<n { b[i] = Keyed(key: unsigned(secondary(i)), position: Int32(i)) }
            c = n
        }
        var to = [Keyed](unsafeUninitializedCapacity: n) { _, c in c = n }
        passes(&from, &to)
        for k in 0..<n { from[k].key = unsigned(primary(Int(from[k].position))) }
        passes(&from, &to)
        return from.map(\.position)
    }

    /// Sorts `from` by its keys, stably, passing between it and `to`.
    static func passes(_ from: inout [Keyed], _ to: inout [Keyed]) {
        let n = from.count
        // Every pass's counts in one read.
        var counts = [Int](repeating: 0, count: digitsPerKey * buckets)
        for k in from {
            for d in 0..<digitsPerKey { counts[d * buckets + Int((k.key >> UInt64(d * digitBits)) & UInt64(buckets - 1))] += 1 }
        }
        var starts = [Int](repeating: 0, count: buckets)
        for pass in 0..<digitsPerKey {
            let table = pass * buckets
            if counts[table..<table + buckets].contains(n) { continue }
            var sum = 0
            for b in 0..<buckets { starts[b] = sum; sum += counts[table + b] }
            let shift = UInt64(pass * digitBits)
            from.withUnsafeBufferPointer { source in
                to.withUnsafeMutableBufferPointer { target in
                    starts.withUnsafeMutableBufferPointer { next in
                        for k in source {
                            let digit = Int((k.key >> shift) & UInt64(buckets - 1))
                            target[next[digit]] = k
                            next[digit] += 1
                        }
                    }
                }
            }
            swap(&from, &to)
        }
    }
}
