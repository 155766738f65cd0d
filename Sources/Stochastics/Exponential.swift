#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SimKernel

/// Exponential with `rate` λ: F(x) = 1 - e^{-λx} for x >= 0.
public struct Exponential: ContinuousDistribution, Equatable, CustomStringConvertible {
    public let rate: Double

    public init(rate: Double) throws {
        try Check.positive("rate", rate)
        self.rate = rate
    }

    /// Inversion: -ln(U)/λ with U on (0, 1], which is `quantile(1 - U)`.
    public func sample(_ rng: inout RandomStream) -> Double { rng.exponential(rate: rate) }

    public var mean: Double { 1 / rate }
    public var variance: Double { 1 / (rate * rate) }

    public func cdf(_ x: Double) -> Double { x <= 0 ? 0 : -expm1(-rate * x) }

    public func quantile(_ p: Double) -> Double {
        Check.probability(p)
        return p == 1 ? .infinity : -log1p(-p) / rate
    }

    /// ln f(x) = ln λ - λx on the support, -∞ outside it.
    public func logDensity(_ x: Double) -> Double { x < 0 ? -.infinity : log(rate) - rate * x }

    public var description: String { "Exponential(rate: \(rate))" }
}
