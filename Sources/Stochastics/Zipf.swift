#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SimKernel

/// Zipf's law on ranks 1...n: P(k) = k^{-s} / H(n, s), with H(n, s) = Σ_{j=1}^{n} j^{-s}.
///
/// Method: exact inversion over a precomputed cumulative table, found by binary search.
/// We chose it over Hörmann and Derflinger's rejection-inversion ("Rejection-inversion to
/// generate variates from monotone discrete distributions", ACM TOMACS 6(3), 1996) because
/// (1) one draw consumes exactly one uniform and maps it monotonically to a rank, so common
/// random numbers hold rank by rank when two plans are compared, which rejection cannot
/// promise; (2) it is exact for every s >= 0, including s <= 1 where the continuous
/// approximation behind rejection-inversion is weakest; (3) repository counts per Gitaly
/// storage are thousands to a few million, so the table costs at most tens of megabytes and
/// a draw ~22 comparisons. `maximumCount` bounds the table.
public struct Zipf: Sendable, Equatable {
    /// The largest supported n: 2^24 ranks, a 128 MiB table.
    public static let maximumCount = 1 << 24

    public let count: Int
    public let exponent: Double
    /// H(n, s), the normalising constant.
    public let harmonicNumber: Double
    /// cumulative[k - 1] = P(X <= k); the last entry is exactly 1.
    let cumulative: [Double]

    public init(count n: Int, exponent s: Double) throws {
        guard n >= 1, n <= Self.maximumCount else {
            throw DistributionError.invalidParameter(
                name: "count", value: Double(n), reason: "must be between 1 and \(Self.maximumCount)")
        }
        try Check.nonNegative("exponent", s)
        count = n
        exponent = s
        // Neumaier's compensated sum keeps the running total exact to about one ulp even over
        // millions of terms of decreasing size.
        var table = [Double](repeating: 0, count: n)
        var sum = 0.0, compensation = 0.0
        for k in 1...n {
            let w = pow(Double(k), -s)
            let t = sum + w
            compensation += abs(sum) >= abs(w) ? (sum - t) + w : (w - t) + sum
            sum = t
            table[k - 1] = sum + compensation
        }
        let total = sum + compensation
        for i in table.indices { table[i] /= total }
        // Rounding could leave the last entry a hair below 1 and let a uniform fall past it.
        table[n - 1] = 1
        harmonicNumber = total
        cumulative = table
    }

    /// The smallest rank k with P(X <= k) > U, U uniform on [0, 1).
    public func sample(_ rng: inout RandomStream) -> Int {
        let u = rng.nextDouble()
        var lo = 0, hi = count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if cumulative[mid] > u { hi = mid } else { lo = mid + 1 }
        }
        return lo + 1
    }

    /// P(X = k); 0 outside 1...n.
    public func probability(_ k: Int) -> Double {
        guard k >= 1, k <= count else { return 0 }
        return pow(Double(k), -exponent) / harmonicNumber
    }

    /// P(X <= k).
    public func cdf(_ k: Int) -> Double {
        if k < 1 { return 0 }
        return k >= count ? 1 : cumulative[k - 1]
    }
}
