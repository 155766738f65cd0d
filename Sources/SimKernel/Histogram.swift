#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A log-linear histogram of non-negative values with bounded relative error, for latency
/// quantiles from p50 to p99.9 and beyond without keeping every sample.
///
/// Each power of two [2^e, 2^(e+1)) is split into `subBuckets` equal-width buckets (the layout of
/// HdrHistogram, Tene 2012), so a bucket is at most 1/subBuckets of its values wide and the
/// midpoint that a quantile reports is within half of that: 0.2% with the default 256.
/// Blocks of buckets are allocated only for the powers of two that values fall in.
public struct Histogram: Sendable, Equatable {
    public let subBuckets: Int
    /// Values are clamped into [2^minExponent, 2^maxExponent); zero is counted apart.
    public static let minExponent = -40, maxExponent = 64
    @usableFromInline var blocks: [[UInt64]?]
    public private(set) var count: UInt64 = 0
    public private(set) var zeros: UInt64 = 0
    public private(set) var min: Double = .infinity
    public private(set) var max: Double = 0

    public init(subBuckets: Int = 256) {
        precondition(subBuckets >= 2 && subBuckets.nonzeroBitCount == 1, "subBuckets must be a power of two ≥ 2")
        self.subBuckets = subBuckets
        blocks = Array(repeating: nil, count: Self.maxExponent - Self.minExponent)
    }

    public mutating func add(_ x: Double, count n: UInt64 = 1) {
        precondition(x >= 0 && x.isFinite, "histogram values must be finite and ≥ 0, got \(x)")
        count += n
        if x < min { min = x }
        if x > max { max = x }
        if x == 0 { zeros += n; return }
        let (e, s) = locate(x)
        if blocks[e] == nil { blocks[e] = Array(repeating: 0, count: subBuckets) }
        blocks[e]![s] += n
    }

    /// Block (power of two) and sub-bucket of a positive value.
    @usableFromInline func locate(_ x: Double) -> (Int, Int) {
        var e = Int(x.exponent)  // x = m × 2^e with m in [1, 2)
        var frac = x.significand - 1  // in [0, 1)
        if e < Self.minExponent { e = Self.minExponent; frac = 0 }
        if e >= Self.maxExponent { e = Self.maxExponent - 1; frac = 0.999_999 }
        let s = Swift.min(subBuckets - 1, Int(frac * Double(subBuckets)))
        return (e - Self.minExponent, s)
    }

    /// The midpoint of a bucket.
    @usableFromInline func value(block b: Int, sub s: Int) -> Double {
        let base = scalbn(1.0, Int32(b + Self.minExponent))
        return base * (1 + (Double(s) + 0.5) / Double(subBuckets))
    }

    /// The q-quantile, 0 ≤ q ≤ 1, by nearest rank: the smallest recorded value such that at
    /// least ⌈q·n⌉ values are at or below it, reported as its bucket's midpoint and clamped to
    /// the exact minimum and maximum. Nil when empty.
    public func quantile(_ q: Double) -> Double? {
        precondition(q >= 0 && q <= 1, "quantile needs 0 ≤ q ≤ 1, got \(q)")
        guard count > 0 else { return nil }
        let rank = Swift.max(1, UInt64((q * Double(count)).rounded(.up)))
        if rank <= zeros { return 0 }
        var seen = zeros
        for b in blocks.indices {
            guard let block = blocks[b] else { continue }
            for s in 0..<subBuckets where block[s] > 0 {
                seen += block[s]
                if seen >= rank { return Swift.min(max, Swift.max(min, value(block: b, sub: s))) }
            }
        }
        return max
    }

    /// Adds every count of `other` (same layout) into this histogram.
    public mutating func merge(_ other: Histogram) {
        precondition(other.subBuckets == subBuckets, "cannot merge histograms of different resolution")
        count += other.count
        zeros += other.zeros
        min = Swift.min(min, other.min)
        max = Swift.max(max, other.max)
        for b in other.blocks.indices {
            guard let ob = other.blocks[b] else { continue }
            if blocks[b] == nil { blocks[b] = ob; continue }
            for s in 0..<subBuckets { blocks[b]![s] += ob[s] }
        }
    }
}
