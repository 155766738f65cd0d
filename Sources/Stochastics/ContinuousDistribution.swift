import SimKernel

/// A real-valued distribution that samples from our own `RandomStream`.
///
/// Every sampler here uses inversion (`quantile` of one uniform) wherever the inverse CDF has a
/// closed form, so one draw consumes exactly one number from the stream and two plans run with
/// the same seed see the same, monotonically related, values (common random numbers, Law,
/// "Simulation Modeling and Analysis", 5th ed., 11.2). `Gamma` is the documented exception.
public protocol ContinuousDistribution: Sendable {
    /// One draw, consuming numbers only from `rng`.
    func sample(_ rng: inout RandomStream) -> Double
    /// The expectation; `.infinity` where it does not exist.
    var mean: Double { get }
    /// The variance; `.infinity` where it does not exist.
    var variance: Double { get }
    /// P(X <= x).
    func cdf(_ x: Double) -> Double
    /// The generalised inverse inf { x : cdf(x) >= p } for p in [0, 1]; p = 0 gives the lower
    /// end of the support and p = 1 the upper end (often `.infinity`).
    func quantile(_ p: Double) -> Double
}

extension RandomStream {
    /// Uniform on the open interval (0, 1), never 0 nor 1, for inverse CDFs that diverge at
    /// both ends (the normal). 52 bits plus one half keep the result exactly representable:
    /// it lies in [2^-53, 1 - 2^-53].
    @inlinable mutating func nextStrictUnit() -> Double {
        (Double(next() >> 12) + 0.5) * 0x1.0p-52
    }

    /// A standard normal draw by inversion of one strict uniform (GSL's
    /// `gsl_cdf_ugaussian_Pinv`, Wichura's AS 241), so it consumes exactly one number.
    @inlinable mutating func nextStandardNormal() -> Double {
        StandardNormal.quantile(nextStrictUnit())
    }
}
