import SimKernel

/// Confidence intervals. Each returns nil when the input cannot support one (too few
/// observations, a level outside (0, 1)), rather than an interval that means nothing.
public enum Intervals {
    /// Student-t interval for the mean: x̄ ± t_{(1+level)/2, n-1} s / √n, assuming independent,
    /// roughly normal observations (or n large enough for the central limit theorem).
    /// Delegates to SimKernel's `Tally`, so batch means and tallies agree with this.
    public static func studentT(_ xs: [Double], level: Double) -> ConfidenceInterval? {
        guard xs.count >= 2, validLevel(level), !xs.contains(where: { !$0.isFinite }) else { return nil }
        var t = Tally()
        for x in xs { t.add(x) }
        return t.confidenceInterval(level: level)
    }

    /// Wilson's score interval for a proportion (E. B. Wilson, "Probable inference, the law of
    /// succession, and statistical inference", JASA 22, 1927): with p̂ = successes/trials and z
    /// the normal (1+level)/2 quantile, centre (p̂ + z²/2n) / (1 + z²/n) and half-width
    /// z / (1 + z²/n) · √(p̂(1-p̂)/n + z²/4n²). Unlike the Wald interval it stays inside [0, 1]
    /// and keeps its coverage near 0 and 1 (Brown, Cai and DasGupta, Stat. Sci. 16, 2001).
    /// The estimate reported is p̂.
    public static func wilson(successes: Int, trials: Int, level: Double) -> ConfidenceInterval? {
        guard trials >= 1, successes >= 0, successes <= trials, validLevel(level) else { return nil }
        let n = Double(trials)
        let p = Double(successes) / n
        let z = StandardNormal.quantile(0.5 + level / 2)
        let z2 = z * z
        let denominator = 1 + z2 / n
        let centre = (p + z2 / (2 * n)) / denominator
        let half = z / denominator * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot()
        // At 0 or n successes the exact end is 0 or 1; computing it as centre ∓ half would
        // leave a rounding residue of about 1e-17.
        let low = successes == 0 ? 0 : max(0, centre - half)
        let high = successes == trials ? 1 : min(1, centre + half)
        return ConfidenceInterval(estimate: p, low: low, high: high, level: level)
    }

    /// Bootstrap percentile interval for the q-quantile (Efron and Tibshirani, "An
    /// Introduction to the Bootstrap", 1993, ch. 13): `resamples` times, draw n observations
    /// with replacement and take the resample's q-quantile; the interval runs between the
    /// (1-level)/2 and (1+level)/2 quantiles of those estimates. Quantiles are Hyndman and
    /// Fan's definition 7 (linear interpolation between order statistics, R's default)
    /// throughout. All draws come from `rng`, n per resample, so the result is a function of
    /// the data and the stream's state.
    public static func bootstrapQuantile(
        _ xs: [Double], quantile q: Double, level: Double, resamples: Int, rng: inout RandomStream
    ) -> ConfidenceInterval? {
        guard !xs.isEmpty, q >= 0, q <= 1, validLevel(level), resamples >= 2,
              !xs.contains(where: { !$0.isFinite }) else { return nil }
        let sorted = xs.sorted()
        let n = sorted.count
        // A resample is a multiset of indices into `sorted`; counting how often each index
        // was drawn gives the resample's order statistics in O(n) without sorting it.
        var counts = [Int](repeating: 0, count: n)
        var estimates = [Double]()
        estimates.reserveCapacity(resamples)
        let h = Double(n - 1) * q
        let rankLow = Int(h.rounded(.down))
        let fraction = h - Double(rankLow)
        let rankHigh = min(n - 1, rankLow + 1)
        for _ in 0..<resamples {
            for i in counts.indices { counts[i] = 0 }
            for _ in 0..<n { counts[rng.below(n)] += 1 }
            var seen = 0
            var low = sorted[n - 1], high = sorted[n - 1]
            var foundLow = false
            for (i, c) in counts.enumerated() where c > 0 {
                seen += c
                if !foundLow && seen > rankLow { low = sorted[i]; foundLow = true }
                if seen > rankHigh { high = sorted[i]; break }
            }
            estimates.append(low + fraction * (high - low))
        }
        estimates.sort()
        return ConfidenceInterval(
            estimate: sampleQuantile(sorted: sorted, q),
            low: sampleQuantile(sorted: estimates, (1 - level) / 2),
            high: sampleQuantile(sorted: estimates, (1 + level) / 2),
            level: level)
    }

    /// Hyndman and Fan's sample quantile, definition 7: with h = (n-1) q, interpolate linearly
    /// between the order statistics at ⌊h⌋ and ⌊h⌋ + 1 (0-based). `sorted` must be ascending.
    public static func sampleQuantile(sorted: [Double], _ q: Double) -> Double {
        precondition(!sorted.isEmpty && q >= 0 && q <= 1, "sample quantile needs data and 0 <= q <= 1")
        let h = Double(sorted.count - 1) * q
        let j = Int(h.rounded(.down))
        let k = min(sorted.count - 1, j + 1)
        return sorted[j] + (h - Double(j)) * (sorted[k] - sorted[j])
    }

    static func validLevel(_ level: Double) -> Bool { level > 0 && level < 1 }
}
