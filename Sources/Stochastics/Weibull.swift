#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CGSL
import SimKernel

/// Weibull with `scale` λ and `shape` k: F(x) = 1 - exp(-(x/λ)^k) for x >= 0.
public struct Weibull: ContinuousDistribution, Equatable, CustomStringConvertible {
    public let scale: Double
    public let shape: Double

    public init(scale: Double, shape: Double) throws {
        try Check.positive("scale", scale)
        try Check.positive("shape", shape)
        self.scale = scale
        self.shape = shape
    }

    /// Inversion: λ (-ln U)^{1/k} with U on (0, 1], which is `quantile(1 - U)`.
    public func sample(_ rng: inout RandomStream) -> Double {
        scale * pow(-log(rng.nextOpenUnit()), 1 / shape)
    }

    /// λ Γ(1 + 1/k).
    public var mean: Double {
        GSL.ready()
        return scale * exp(gsl_sf_lngamma(1 + 1 / shape))
    }

    /// λ² (Γ(1 + 2/k) - Γ(1 + 1/k)²).
    public var variance: Double {
        GSL.ready()
        let g1 = exp(gsl_sf_lngamma(1 + 1 / shape))
        let g2 = exp(gsl_sf_lngamma(1 + 2 / shape))
        return scale * scale * (g2 - g1 * g1)
    }

    public func cdf(_ x: Double) -> Double { x <= 0 ? 0 : -expm1(-pow(x / scale, shape)) }

    public func quantile(_ p: Double) -> Double {
        Check.probability(p)
        return p == 1 ? .infinity : scale * pow(-log1p(-p), 1 / shape)
    }

    /// ln f(x) = ln(k/λ) + (k - 1) ln(x/λ) - (x/λ)^k for x > 0.
    public func logDensity(_ x: Double) -> Double {
        if x < 0 { return -.infinity }
        if x == 0 { return shape < 1 ? .infinity : (shape == 1 ? -log(scale) : -.infinity) }
        let z = x / scale
        return log(shape / scale) + (shape - 1) * log(z) - pow(z, shape)
    }

    public var description: String { "Weibull(scale: \(scale), shape: \(shape))" }
}
