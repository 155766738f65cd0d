#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SimKernel

/// Lognormal: ln X is normal with mean `mu` and standard deviation `sigma`.
public struct LogNormal: ContinuousDistribution, Equatable, CustomStringConvertible {
    public let mu: Double
    public let sigma: Double

    public init(mu: Double, sigma: Double) throws {
        try Check.finite("mu", mu)
        try Check.positive("sigma", sigma)
        self.mu = mu
        self.sigma = sigma
    }

    /// Inversion: exp(μ + σ Φ⁻¹(U)), one uniform per draw.
    public func sample(_ rng: inout RandomStream) -> Double {
        exp(mu + sigma * rng.nextStandardNormal())
    }

    public var mean: Double { exp(mu + sigma * sigma / 2) }
    public var variance: Double { expm1(sigma * sigma) * exp(2 * mu + sigma * sigma) }

    public func cdf(_ x: Double) -> Double {
        x <= 0 ? 0 : StandardNormal.cdf((log(x) - mu) / sigma)
    }

    public func quantile(_ p: Double) -> Double {
        Check.probability(p)
        if p == 0 { return 0 }
        if p == 1 { return .infinity }
        return exp(mu + sigma * StandardNormal.quantile(p))
    }

    /// ln f(x) = -ln(x σ √(2π)) - (ln x - μ)² / (2σ²) for x > 0.
    public func logDensity(_ x: Double) -> Double {
        guard x > 0 else { return -.infinity }
        let z = (log(x) - mu) / sigma
        return -log(x * sigma) - 0.5 * log(2 * Double.pi) - 0.5 * z * z
    }

    public var description: String { "LogNormal(mu: \(mu), sigma: \(sigma))" }
}
